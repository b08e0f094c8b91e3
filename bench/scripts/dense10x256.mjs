// Goal script (issue 11): dense 10 x (Dense 256 -> BN -> ReLU), input 512, batch 64, 4 training steps in one fit
// (256 samples, batchSize 64, one epoch). The goal is on the WHOLE PROCESS time (spawn to exit), which the harness
// measures; the script prints its fit time as the others do.
import * as tf from '@tensorflow/tfjs';
import { runBenchScript } from './benchScript.mjs';

const layers = [];
for (let i = 0; i < 10; i++) {
  layers.push(
    tf.layers.dense({
      units: 256,
      ...(i === 0 ? { inputShape: [512] } : {}),
      kernelInitializer: tf.initializers.glorotUniform({ seed: 100 + i }),
    }),
  );
  layers.push(tf.layers.batchNormalization());
  layers.push(tf.layers.activation({ activation: 'relu' }));
}
layers.push(
  tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 99 }) }),
);
const model = tf.sequential({ layers });
model.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
const x = tf.randomNormal([256, 512], 0, 1, 'float32', 1);
const y = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: 256 }, (_, i) => i % 10),
    'int32',
  ),
  10,
);

await runBenchScript(tf, {
  name: 'dense10x256',
  train: async () => {
    const times = [];
    let last = performance.now();
    await model.fit(x, y, {
      epochs: 1,
      batchSize: 64,
      shuffle: false,
      verbose: 0,
      callbacks: {
        onBatchEnd: async () => {
          const now = performance.now();
          times.push(now - last);
          last = now;
        },
      },
    });
    return { times };
  },
});
