// FINE-TUNING WITH A FROZEN BatchNormalization LAYER: where tfjs and TF2 Keras differ.
//
// A "pretrained" base (Dense -> BN) is fitted on data A (mean ≈ 2). Then the base is frozen
// (`trainable = false`) and a new head is fitted on data B (mean ≈ -3), the usual transfer-learning recipe.
//
// What to look at, at the step of the second `fit`:
//   - the base's BN layer has trainable = false, yet `updates` > 0 and movingUpdated is true: its moving
//     mean drifts from data A's statistics toward data B's. The TRAINABLE_FALSE_STILL_UPDATES warning says so;
//   - lastTrainingCall.statsUsed is "batch": during fit the frozen layer normalises with batch statistics;
//   - gamma and beta did not change (those ARE frozen).
// In TF2 Keras, `trainable = False` puts a BN layer in inference mode: moving statistics frozen and used.
// In tfjs 4.22 only the `training` flag decides, and fit passes training: true to every layer. To get the
// Keras behaviour in tfjs, keep the frozen base out of fit: compute its features with predict (inference
// mode) and fit the head alone on them (the last step of this script does that: updates 0).
//
// What to compare: `bn-inspect compare examples/fine-tune-frozen.ts --semantics tfjs,keras` (or "Compare…" in
// the panel). Up to the pretraining fit both agree; at the fine-tuning fit, base_bn differs: tfjs updated it with
// data B's batch statistics, Keras kept data A's (frozen, inference mode although training = true).
import * as tf from '@tensorflow/tfjs';

const dataA = tf.randomNormal([64, 4], 2, 1, 'float32', 1);
const dataB = tf.randomNormal([64, 4], -3, 0.5, 'float32', 2);
const targetA = tf.randomUniform([64, 1], 0, 1, 'float32', 3);
const targetB = tf.randomUniform([64, 1], 0, 1, 'float32', 4);

// the "pretrained" base
const input = tf.input({ shape: [4] });
const hidden = tf.layers.dense({ units: 8, name: 'base_dense' }).apply(input) as tf.SymbolicTensor;
const normed = tf.layers.batchNormalization({ name: 'base_bn' }).apply(hidden) as tf.SymbolicTensor;
const base = tf.model({ inputs: input, outputs: normed, name: 'base' });
const pretrain = tf.sequential({ layers: [base, tf.layers.dense({ units: 1 })] });
pretrain.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
await pretrain.fit(dataA, targetA, { epochs: 3, batchSize: 16, verbose: 0 });

// freeze the base (every layer of it, as Keras's base.trainable = False does), add a new head, fine-tune on data B
base.trainable = false;
for (const layer of base.layers) layer.trainable = false;
const fineTune = tf.sequential({ layers: [base, tf.layers.dense({ units: 1, name: 'new_head' })] });
fineTune.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
await fineTune.fit(dataB, targetB, { epochs: 3, batchSize: 16, verbose: 0 });

const bn = base.getLayer('base_bn');
const movingMean = () => Array.from(bn.getWeights()[2].dataSync().slice(0, 4), (v) => v.toFixed(3)).join(' ');
console.log('base_bn trainable:', bn.trainable, '· moving mean after fine-tuning (first 4):', movingMean());

// the Keras-like way in tfjs: features from the frozen base in inference mode, then fit the head alone
const features = base.predict(dataB) as tf.Tensor;
const head = tf.sequential({ layers: [tf.layers.dense({ inputShape: [8], units: 1, name: 'head_only' })] });
head.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
await head.fit(features, targetB, { epochs: 3, batchSize: 16, verbose: 0 });
console.log('moving mean after fitting the head alone (unchanged):', movingMean());
