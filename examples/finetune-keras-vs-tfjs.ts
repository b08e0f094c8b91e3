// FINE-TUNING WHERE KERAS AND TFJS DIVERGE: the same script, the same pretrained weights, two different models
// after fit. Open it in the inspector and press "Compare…" (or run
// `bn-inspect compare examples/finetune-keras-vs-tfjs.ts --semantics tfjs,keras`).
//
// examples/pretrained/ is a small conv net with three BatchNormalization layers (bn1, bn2, bn3) trained on one
// image distribution (scripts/makePretrainedExample.ts). Here its BN layers are frozen (`trainable = false`), the
// usual transfer-learning recipe, and it is fine-tuned for eight epochs on a second camera's images (other
// brightness and contrast), then evaluated on BOTH cameras.
//
// What to look at and compare, step by step (tfjs on the left, Keras on the right):
//   - step 1 (evaluate before training, inference mode everywhere): the same pretrained moving statistics and
//     the same accuracy on both sides;
//   - step 2 (fit): tfjs runs the frozen layers in training mode (fit passes training = true, tfjs ignores
//     trainable): bn1..bn3 are updated with the new camera's batch statistics, 32 times. Keras runs a
//     trainable = false BN layer in inference mode even inside fit: the pretrained statistics stay, and the
//     layers normalise with them. The compare view marks the moving mean and variance of every BN layer as
//     different and says why; the loss and the gradients differ too (printed below), so the dense layers
//     learn different weights;
//   - step 3 (evaluate on the first camera) and step 4 (on the second): the accuracies printed differ. Under
//     tfjs the moving statistics now describe the second camera, and the first camera's accuracy drops; under
//     Keras they still describe the first.
// Under PyTorch rules (`--semantics tfjs,pytorch`) both update, and the moving variance differs by the
// unbiased correction n/(n-1) (n = 32 × 16 × 16 values per channel, so barely), and PyTorch's momentum is 0.01.
import * as tf from '@tensorflow/tfjs';

const SIZE = 16;
const CLASSES = 3;

/** mulberry32: a small seeded PRNG (uniform in [0, 1)) */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** the generator's images (scripts/makePretrainedExample.ts): stripes or a blob, per-channel offset and gain */
function images(n: number, seed: number, offset: number[], gain: number[], noise: number) {
  const rand = prng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const x = new Float32Array(n * SIZE * SIZE * 3);
  const y = new Float32Array(n * CLASSES);
  for (let i = 0; i < n; i++) {
    const cls = Math.floor(rand() * CLASSES);
    const phase = rand() * 2 * Math.PI;
    y[i * CLASSES + cls] = 1;
    for (let r = 0; r < SIZE; r++)
      for (let q = 0; q < SIZE; q++) {
        const p =
          cls === 0
            ? Math.sin((2 * Math.PI * r) / 4 + phase)
            : cls === 1
              ? Math.sin((2 * Math.PI * q) / 4 + phase)
              : 2 * Math.exp(-((r - 7.5) ** 2 + (q - 7.5) ** 2) / 18) - 1;
        for (let c = 0; c < 3; c++)
          x[((i * SIZE + r) * SIZE + q) * 3 + c] = offset[c] + gain[c] * p + noise * gauss();
      }
  }
  return { x: tf.tensor4d(x, [n, SIZE, SIZE, 3]), y: tf.tensor2d(y, [n, CLASSES]) };
}

const modelPath = decodeURIComponent(new URL('./pretrained/model.json', import.meta.url).pathname);
const model = await tf.loadLayersModel(`file://${modelPath}`);
for (const l of model.layers) if (l.getClassName() === 'BatchNormalization') l.trainable = false;
model.compile({ optimizer: tf.train.adam(0.005), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

// the first camera (what the model was pretrained on) and a second one
const cameraA = images(96, 5, [0.2, -0.1, 0.4], [1, 0.8, 1.2], 0.3);
const cameraB = images(128, 3, [1.2, 0.6, -0.5], [0.5, 0.4, 0.6], 0.3);
const testB = images(96, 4, [1.2, 0.6, -0.5], [0.5, 0.4, 0.6], 0.3);

const [, before] = model.evaluate(cameraA.x, cameraA.y, { batchSize: 32 }) as tf.Scalar[];
console.log(`accuracy on the first camera before fine-tuning: ${before.dataSync()[0].toFixed(3)}`);
const history = await model.fit(cameraB.x, cameraB.y, { epochs: 8, batchSize: 32, shuffle: false, verbose: 0 });
console.log(`fine-tuning loss (last epoch): ${(history.history.loss[7] as number).toFixed(4)}`);
const [, accA] = model.evaluate(cameraA.x, cameraA.y, { batchSize: 32 }) as tf.Scalar[];
console.log(`accuracy on the first camera after fine-tuning:  ${accA.dataSync()[0].toFixed(3)}`);
const [, accB] = model.evaluate(testB.x, testB.y, { batchSize: 32 }) as tf.Scalar[];
console.log(`accuracy on the second camera after fine-tuning: ${accB.dataSync()[0].toFixed(3)}`);
