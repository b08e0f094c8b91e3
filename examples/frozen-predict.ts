// THE QUESTION. A BatchNormalization layer built with `trainable: false`, inside a sequential model;
// `predict` on the same x ten times in a loop gives ten identical outputs. Why?
//
// What to look at, step after step (one step per predict):
//   - movingMean stays [0, 0, …] and movingVariance [1, 1, …]: `updates` is 0 and `movingUpdated` false;
//   - lastCall.training is false and statsUsed is "moving": predict runs the layer in INFERENCE mode,
//     so it normalises x with the moving statistics and never changes them (trainable plays no part);
//   - lastCall.batchMean / batchVariance show what x really looks like (mean ≈ 0.3, variance ≈ 25),
//     which is NOT what the layer normalises with: the STALE_MOVING_STATS warning says so.
// The output is (x - 0) / sqrt(1 + 1e-9) * gamma + beta ≈ x, the same every time.
// The moving statistics change only in training mode: see fit-then-predict.ts.
//
// What to compare (the panel's "Compare…", or `bn-inspect compare examples/frozen-predict.ts --semantics
// tfjs,keras`): every step is the same under tfjs, Keras and PyTorch rules ("Same values"). predict is inference
// mode in every framework, so trainable = false is NOT why the statistics stay put: make the layer trainable and
// nothing changes (the card says so in words). Where trainable does matter: fine-tune-frozen.ts.
import * as tf from '@tensorflow/tfjs';

const x = tf.randomNormal([3, 5], 0, 1, 'float32', 42).mul(5).add(0.3);

const model = tf.sequential();
model.add(tf.layers.batchNormalization({ inputShape: [5], trainable: false, epsilon: 1e-9 }));

for (let i = 1; i <= 10; i++) {
  const y = model.predict(x) as tf.Tensor;
  console.log(`predict ${i}:`, Array.from(y.dataSync().slice(0, 5), (v) => v.toFixed(4)).join(' '));
  y.dispose();
}
console.log('x row 0:   ', Array.from(x.dataSync().slice(0, 5), (v) => v.toFixed(4)).join(' '));
