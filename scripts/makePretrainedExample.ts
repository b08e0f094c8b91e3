// Makes examples/pretrained/ (model.json + weights.bin): a small conv net with three BatchNormalization
// layers, "pretrained" on a synthetic image distribution, so that its moving statistics are that
// distribution's (not 0 / 1). examples/pretrained-finetune.ts loads it and fine-tunes it on a shifted one.
//
//   npm run build && node dist/cli.js run scripts/makePretrainedExample.ts
//
// It runs in the engine (bn-inspect): a script written for tfjs-node, saved with tfjs-node's
// `model.save('file://…')` (the engine's port of it, src/worker/nodeFileSystemIo.ts), trained on the
// engine's wasm backend (plain Node's tfjs has no wasm Conv2D gradient, and its cpu backend takes minutes).
// Deterministic: seeded initializers, data from a seeded PRNG, fit without shuffling: the same bytes every run.
import * as tf from '@tensorflow/tfjs-node';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'pretrained');
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

/** standard normal from a uniform PRNG (Box-Muller) */
function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * n images of SIZE×SIZE×3: class 0 horizontal stripes, 1 vertical stripes, 2 a centred blob, each channel
 * `offset[c] + gain[c] * pattern + noise`. The same function (copied) in examples/pretrained-finetune.ts
 * makes the shifted distribution.
 */
function images(n: number, seed: number, offset: number[], gain: number[], noise: number) {
  const rand = prng(seed);
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
          x[((i * SIZE + r) * SIZE + q) * 3 + c] = offset[c] + gain[c] * p + noise * gauss(rand);
      }
  }
  return { x: tf.tensor4d(x, [n, SIZE, SIZE, 3]), y: tf.tensor2d(y, [n, CLASSES]) };
}

function build() {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const conv = (name: string, filters: number, strides: number, seed: number, extra = {}) =>
    tf.layers.conv2d({
      name,
      filters,
      kernelSize: 3,
      strides,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(seed),
      ...extra,
    });
  const bn = (name: string) => tf.layers.batchNormalization({ name, momentum: 0.9 });
  return tf.sequential({
    name: 'pretrained_cnn',
    layers: [
      conv('conv1', 8, 1, 11, { inputShape: [SIZE, SIZE, 3] }),
      bn('bn1'),
      tf.layers.reLU({ name: 'relu1' }),
      conv('conv2', 16, 2, 12),
      bn('bn2'),
      tf.layers.reLU({ name: 'relu2' }),
      conv('conv3', 16, 1, 13),
      bn('bn3'),
      tf.layers.reLU({ name: 'relu3' }),
      tf.layers.globalAveragePooling2d({ name: 'pool' }),
      tf.layers.dense({ name: 'head', units: CLASSES, activation: 'softmax', kernelInitializer: init(14) }),
    ],
  });
}

const model = build();
model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
// distribution A: the "pretraining" data
const train = images(320, 1, [0.2, -0.1, 0.4], [1.0, 0.8, 1.2], 0.3);
const h = await model.fit(train.x, train.y, { epochs: 4, batchSize: 32, shuffle: false, verbose: 0 });
const test = images(96, 2, [0.2, -0.1, 0.4], [1.0, 0.8, 1.2], 0.3);
const [, acc] = model.evaluate(test.x, test.y, { batchSize: 96 }) as tf.Scalar[];
console.log(
  `trained: loss ${(h.history.loss.at(-1) as number).toFixed(4)}, held-out accuracy ${(await acc.data())[0].toFixed(3)}`,
);

await model.save(`file://${OUT}`);
for (const name of ['bn1', 'bn2', 'bn3']) {
  const [, , mean, variance] = model.getLayer(name).getWeights();
  const m = Array.from(await mean.data(), (v) => v.toFixed(3)).slice(0, 4);
  const v = Array.from(await variance.data(), (v) => v.toFixed(3)).slice(0, 4);
  console.log(`${name}: movingMean [${m.join(', ')}, …] movingVariance [${v.join(', ')}, …]`);
}
console.log(`wrote ${join(OUT, 'model.json')} and weights.bin`);
