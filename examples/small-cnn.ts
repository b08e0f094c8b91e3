// A SMALL CNN WITH BatchNormalization LAYERS, trained for a few batches (rank-4 input, axis -1 = channels).
//
// What to look at:
//   - every trainOnBatch step: each BN layer shows calls 1, updates 1, movingUpdated true, and
//     lastTrainingCall.inputShape [16, h, w, channels]: the batch statistics are taken over batch, height
//     and width (every axis but the channel axis);
//   - the moving statistics creep toward the batch statistics by 1% a step (momentum 0.99);
//   - the final predict: lastCall.training false, statsUsed "moving", lastTrainingCall kept from the last batch.
// Runs on the default wasm backend (the engine adds the convolution gradients that backend lacks).
import * as tf from '@tensorflow/tfjs';

const model = tf.sequential({
  layers: [
    tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, padding: 'same', useBias: false }),
    tf.layers.batchNormalization({ name: 'bn1' }),
    tf.layers.activation({ activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false }),
    tf.layers.batchNormalization({ name: 'bn2' }),
    tf.layers.activation({ activation: 'relu' }),
    tf.layers.globalAveragePooling2d({}),
    tf.layers.dense({ units: 4, activation: 'softmax' }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });

const images = tf.randomUniform([16, 16, 16, 3], 0, 1, 'float32', 7);
const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4);

for (let batch = 1; batch <= 4; batch++) {
  const loss = await model.trainOnBatch(images, labels);
  console.log(`batch ${batch}: loss ${(loss as number).toFixed(4)}`);
}

const probs = model.predict(images.slice([0], [2])) as tf.Tensor;
console.log('predicted classes:', Array.from((probs.argMax(-1).dataSync() as Int32Array)).join(' '));
