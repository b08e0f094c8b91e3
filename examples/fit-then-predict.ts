// THE ANSWER. The moving statistics of a BatchNormalization layer change only in training mode, a little
// at a time: new = old - (old - batch) * (1 - momentum), with momentum 0.99.
//
// What to look at:
//   - step 1 (predict before fit): movingMean 0 / movingVariance 1, STALE_MOVING_STATS, statsUsed "moving";
//   - step 2 (fit, 5 epochs of one batch): `updates` 5 and movingUpdated true; lastTrainingCall.batchMean is
//     the exact batch mean tfjs normalised with; the moving mean moved only 1 - 0.99^5 ≈ 4.9% of the way to it;
//   - step 3 (predict): a different output than step 1, since the moving statistics moved;
//   - step 4 (apply with training: true): one more update (updates 1), statsUsed "batch": the output uses the
//     batch statistics (so it is ~0 mean, ~1 variance) and the moving statistics move one more 1%;
//   - step 5 (predict again): differs from step 3 again.
//
// What to compare: with Keras (`bn-inspect compare examples/fit-then-predict.ts --semantics tfjs,keras`) every
// step is the same: the layer is trainable, so both run it in training mode in fit. With PyTorch
// (`--semantics tfjs,pytorch`) the moving MEAN is the same but the moving VARIANCE differs from step 2 on:
// PyTorch updates it with the unbiased batch variance, × n/(n-1) = 3/2 here (3 rows per channel), and its
// momentum is written 0.01 (= 1 - 0.99). Add `trainable: false` to the layer and compare with Keras: then
// Keras never updates it (inference mode even in fit), tfjs still does.
import * as tf from '@tensorflow/tfjs';

const x = tf.randomNormal([3, 5], 0, 1, 'float32', 42).mul(5).add(0.3);
const y = tf.zeros([3, 5]);

const model = tf.sequential();
model.add(tf.layers.batchNormalization({ inputShape: [5], momentum: 0.99, epsilon: 1e-9 }));
model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });

const show = (label: string, t: tf.Tensor) =>
  console.log(label.padEnd(22), Array.from(t.dataSync().slice(0, 5), (v) => v.toFixed(4)).join(' '));

const before = model.predict(x) as tf.Tensor;
show('predict before fit:', before);

await model.fit(x, y, { epochs: 5, batchSize: 3, verbose: 0 });

const after = model.predict(x) as tf.Tensor;
show('predict after fit:', after);

const trained = model.apply(x, { training: true }) as tf.Tensor;
show('apply training=true:', trained);

const again = model.predict(x) as tf.Tensor;
show('predict again:', again);
