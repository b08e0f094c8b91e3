// NESTED MODELS AND BARE LAYERS: every BatchNormalization layer is found, wherever it lives.
//
// What to look at:
//   - `path`: the inner model's BN shows ["outer", "inner", "inner_bn"], the outer one ["outer", "outer_bn"],
//     the bare layer just ["bare_bn"]: enclosing models, outermost first;
//   - layers are listed in creation order, each with its own calls / updates per step;
//   - step 1 (outer.predict): both model BNs called once in inference mode; the bare layer not yet built;
//   - step 2 (outer.apply training: true): both model BNs update; step 3 (bare.apply training: true):
//     only the bare layer updates.
import * as tf from '@tensorflow/tfjs';

const inner = tf.sequential({
  name: 'inner',
  layers: [
    tf.layers.dense({ inputShape: [6], units: 4, name: 'inner_dense' }),
    tf.layers.batchNormalization({ name: 'inner_bn' }),
  ],
});

const input = tf.input({ shape: [6] });
const features = inner.apply(input) as tf.SymbolicTensor;
const normed = tf.layers.batchNormalization({ name: 'outer_bn' }).apply(features) as tf.SymbolicTensor;
const outer = tf.model({ inputs: input, outputs: normed, name: 'outer' });

const bare = tf.layers.batchNormalization({ name: 'bare_bn', momentum: 0.9 });

const x = tf.randomNormal([8, 6], 1, 2, 'float32', 11);
outer.predict(x);
outer.apply(x, { training: true });
bare.apply(x, { training: true });
console.log('layers in outer:', outer.layers.map((l) => l.name).join(', '));
