// FINE-TUNING A PRETRAINED MODEL WITH ITS BATCHNORM FROZEN: the frozen layers' statistics drift anyway.
//
// examples/pretrained/ (model.json + weights.bin, made by scripts/makePretrainedExample.ts) is a small conv
// net trained on one image distribution; its three BatchNormalization layers hold that distribution's moving
// statistics. This script loads it the tfjs-node way, tf.loadLayersModel('file://…'), sets trainable = false on
// its BatchNormalization layers, and fine-tunes it with fit on a shifted distribution (other brightness and
// contrast per channel: another camera).
//
// What to look at:
//   - step 1 (the line after "// @step", before any training): bn1, bn2, bn3 with the pretrained moving
//     statistics (not 0 / 1) and trainable = false: the baseline;
//   - step 2 (fit): the three layers are still trainable = false, yet updates > 0, "moving stats CHANGED" and
//     the TRAINABLE_FALSE_STILL_UPDATES warning: in tfjs, trainable = false freezes gamma and beta only, and fit
//     calls the layers in training mode, so the moving mean and variance move toward the new distribution's.
//     The drift from the baseline (the start of the run: the pretrained statistics as loaded) says how far:
//     the pretrained statistics are gone;
//   - step 3 (predict): normalised with the drifted moving statistics.
//
// Run from any folder: the model's path is built from this file's location, not the working directory
// (a relative 'file://./x' path resolves against the working directory, as in tfjs-node). Written for tfjs:
// with tfjs-node installed, import '@tensorflow/tfjs-node' instead and the same script runs in plain Node.
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

// the model next to this file, whatever the working directory (a URL's pathname is percent-encoded: decoded)
const modelPath = decodeURIComponent(new URL('./pretrained/model.json', import.meta.url).pathname);
const model = await tf.loadLayersModel(`file://${modelPath}`);
const bnLayers = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
for (const l of bnLayers) l.trainable = false;
model.compile({ optimizer: tf.train.adam(0.005), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

// the shifted distribution: pretrained on offsets [0.2, -0.1, 0.4] and gains [1, 0.8, 1.2]
const shifted = images(128, 3, [1.2, 0.6, -0.5], [0.5, 0.4, 0.6], 0.3);
const test = images(48, 4, [1.2, 0.6, -0.5], [0.5, 0.4, 0.6], 0.3);

// @step
console.log(`loaded ${model.name}: frozen ${bnLayers.map((l) => l.name).join(', ')}`);
await model.fit(shifted.x, shifted.y, { epochs: 2, batchSize: 32, shuffle: false, verbose: 0 });
const predicted = model.predict(test.x) as tf.Tensor;
const accuracy = tf.metrics.categoricalAccuracy(test.y, predicted).mean().dataSync()[0];
console.log(`accuracy on the shifted distribution after fine-tuning: ${accuracy.toFixed(3)}`);
