// FIT WITH A LAST BATCH OF ONE: 9 samples, batchSize 4 -> batches of 4, 4 and 1.
//
// What to look at, at the fit step:
//   - updates 3 (one per batch); lastTrainingCall.inputShape [1, 3]: the last batch had one sample;
//   - lastTrainingCall.batchVariance is all 0 (one sample has no spread) and the BATCH_OF_ONE warning;
//   - that zero variance was averaged into movingVariance, pulling it down by 1% (momentum 0.99).
import * as tf from '@tensorflow/tfjs';

const x = tf.randomNormal([9, 3], 0, 2, 'float32', 5);
const y = tf.randomNormal([9, 1], 0, 1, 'float32', 6);
const model = tf.sequential({
  layers: [tf.layers.batchNormalization({ inputShape: [3] }), tf.layers.dense({ units: 1 })],
});
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
await model.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 });
console.log('fitted on 9 samples in batches of 4, 4, 1');
