// Scripts the extension tests run (written into the workspace by the tests; kept as text so the
// project's type-check does not treat them as project sources).

/** a BN layer predicted in a loop: the step point on the predict line is reached once per iteration */
export const LOOP = `import * as tf from '@tensorflow/tfjs';

const model = tf.sequential();
model.add(tf.layers.batchNormalization({ inputShape: [4] }));
const x = tf.tensor2d([[1, 2, 3, 4], [2, 3, 4, 5]]);
for (let i = 0; i < 5; i++) {
  model.predict(x); // LOOP-PREDICT
}
console.log('loop done');
`;

/** a step point, then a loop that never ends */
export const ENDLESS = `import * as tf from '@tensorflow/tfjs';

const layer = tf.layers.batchNormalization({ inputShape: [3] });
const x = tf.tensor2d([[1, 2, 3]]);
layer.apply(x); // FIRST
let n = 0;
while (true) {
  n++;
}
`;

/** throws on a known line, after one step */
export const THROWS = `import * as tf from '@tensorflow/tfjs';

const layer = tf.layers.batchNormalization({ inputShape: [2] });
layer.apply(tf.tensor2d([[1, 2]]));
function boom(): never {
  throw new Error('boom from the fixture'); // THROW-LINE
}
boom();
`;

export const THROWS_FIXED = THROWS.replace(
  "  throw new Error('boom from the fixture'); // THROW-LINE",
  '  return undefined as never; // fixed',
);

/** output marker for the unsaved-edits test */
export const MARKED = (marker: string) => `import * as tf from '@tensorflow/tfjs';

const layer = tf.layers.batchNormalization({ inputShape: [2], momentum: 0.5 });
const x = tf.tensor2d([[1, 2], [3, 5]]);
layer.apply(x, { training: true }); // APPLY
console.log('${marker}');
`;

/** allocates without end (the worker's heap limit must end it) */
export const HOG = `import * as tf from '@tensorflow/tfjs';

const layer = tf.layers.batchNormalization({ inputShape: [2] });
layer.apply(tf.tensor2d([[1, 2]])); // BEFORE-HOG
const hoard: number[][] = [];
while (true) {
  hoard.push(new Array(1_000_000).fill(Math.random()));
}
`;

/** no step point at all */
export const NO_STEP_POINTS = `import * as tf from '@tensorflow/tfjs';

// model.predict(x) in a comment is not a step point
const s = 'model.fit(x, y) in a string is not one either';
console.log(s, tf.version_core);
`;

/** does not parse */
export const BROKEN = `import * as tf from '@tensorflow/tfjs';

const model = tf.sequential(;
model.predict(tf.zeros([1, 2]));
`;

/** a quick step, then a slow one (a busy wait of `ms`), then another */
export const SLOW = (ms: number) => `import * as tf from '@tensorflow/tfjs';

const layer = tf.layers.batchNormalization({ inputShape: [2] });
const x = tf.tensor2d([[1, 2], [3, 4]]);
layer.apply(x); // QUICK
const until = Date.now() + ${ms};
while (Date.now() < until) { /* slow */ }
layer.apply(x, { training: true }); // SLOW
layer.apply(x); // AFTER
`;

/** a module of the user's own, imported by IMPORTER (relative import, read from disk) */
export const HELPER_MODULE = `import * as tf from '@tensorflow/tfjs';

export function trainOnce(layer: tf.layers.Layer, x: tf.Tensor): void {
  layer.apply(x, { training: true }); // HELPER-APPLY
}
`;

export const IMPORTER = `import * as tf from '@tensorflow/tfjs';
import { trainOnce } from './helper-module';

const layer = tf.layers.batchNormalization({ inputShape: [2], momentum: 0.5 });
const x = tf.tensor2d([[1, 2], [3, 6]]);
layer.apply(x); // MAIN-FIRST
trainOnce(layer, x);
layer.apply(x); // MAIN-LAST
`;

/**
 * A frozen BN layer (trainable: false) fitted three times, then a predict: under tfjs fit updates its moving
 * statistics (two batches per fit: updates 2), under Keras it runs in inference mode (updates 0).
 */
export const FROZEN_FIT = `import * as tf from '@tensorflow/tfjs';

const model = tf.sequential();
model.add(tf.layers.dense({ inputShape: [3], units: 4, name: 'dense_in' }));
model.add(tf.layers.batchNormalization({ name: 'frozen_bn', trainable: false }));
model.add(tf.layers.dense({ units: 1, name: 'head' }));
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
const x = tf.randomNormal([8, 3], 0, 1, 'float32', 1);
const y = tf.randomNormal([8, 1], 0, 1, 'float32', 2);
for (let i = 0; i < 3; i++) {
  await model.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 }); // FIT
}
model.predict(x); // PREDICT
console.log('frozen fit done');
`;

/** a predict, then a fit whose last batch holds one sample (PyTorch throws there), then a predict */
export const LAST_BATCH_OF_ONE = `import * as tf from '@tensorflow/tfjs';

const model = tf.sequential();
model.add(tf.layers.dense({ inputShape: [3], units: 4 }));
model.add(tf.layers.batchNormalization({ name: 'bn' }));
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1);
const y = tf.randomNormal([5, 4], 0, 1, 'float32', 2);
model.predict(x); // FIRST-PREDICT
await model.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 }); // FIT-ONE
model.predict(x); // LAST-PREDICT
`;
