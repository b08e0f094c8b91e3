/**
 * Fixture scripts of the --semantics and compare CLI tests (cliSemantics.test.ts, cliCompare.test.ts) and the
 * float64 reference of what their BatchNormalization layers should hold.
 */
import * as assert from 'node:assert/strict';
import { moments64, movingUpdate64 } from './reference';

/** A frozen BN layer first in a model: predict (step 1), then fit 2 epochs of 2 batches of 4 (step 2). */
export const FROZEN_FIT = `import * as tf from '@tensorflow/tfjs';
const x = tf.randomNormal([8, 3], 2, 1.5, 'float32', 1);
const y = tf.randomNormal([8, 1], 0, 1, 'float32', 2);
console.log('x ' + JSON.stringify(Array.from(x.dataSync())));
const model = tf.sequential({
  layers: [
    tf.layers.batchNormalization({ inputShape: [3], name: 'frozen_bn', trainable: false }),
    tf.layers.dense({ units: 1, name: 'head' }),
  ],
});
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
model.predict(x);
await model.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
`;

/** the script's x (8 × 3), from the line it printed */
export function printedX(output: string): number[] {
  const line = output.split('\n').find((l) => l.startsWith('x '));
  assert.ok(line, 'the script printed x');
  const x = JSON.parse(line.slice(2)) as number[];
  assert.equal(x.length, 24);
  return x;
}

/**
 * float64 reference of the moving statistics after FROZEN_FIT's fit under rules that update the layer (tfjs,
 * pytorch): 2 epochs × batches rows 0–3, 4–7, momentum 0.99, variance × `factor` before the update
 */
export function movingAfterFit(x: number[], factor: number): { mean: Float64Array; variance: Float64Array } {
  let mean: ArrayLike<number> = [0, 0, 0];
  let variance: ArrayLike<number> = [1, 1, 1];
  for (let epoch = 0; epoch < 2; epoch++)
    for (const start of [0, 4]) {
      const m = moments64(x.slice(start * 3, (start + 4) * 3), [4, 3]);
      mean = movingUpdate64(mean, m.mean, 0.99);
      variance = movingUpdate64(
        variance,
        m.variance.map((v) => v * factor),
        0.99,
      );
    }
  return { mean: Float64Array.from(mean), variance: Float64Array.from(variance) };
}

export function close(actual: number[], expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++)
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])),
      `${what}[${i}]: ${actual[i]} vs reference ${expected[i]}`,
    );
}

/** Only trainable layers (Dense → BN → Dense, fit then predict): tfjs and keras rules agree on every call. */
export const TRAINABLE_ONLY = `import * as tf from '@tensorflow/tfjs';
const x = tf.randomNormal([12, 4], 1, 2, 'float32', 3);
const y = tf.randomNormal([12, 1], 0, 1, 'float32', 4);
const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [4], units: 5 }),
    tf.layers.batchNormalization({ name: 'mid_bn' }),
    tf.layers.dense({ units: 1 }),
  ],
});
model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 });
model.predict(x);
`;

/** predict, then fit on 9 samples in batches of 4, 4, 1 (PyTorch throws on the last), then predict again */
export const LAST_BATCH_OF_ONE = `import * as tf from '@tensorflow/tfjs';
const x = tf.randomNormal([9, 3], 0, 2, 'float32', 5);
const y = tf.randomNormal([9, 1], 0, 1, 'float32', 6);
const model = tf.sequential({
  layers: [tf.layers.batchNormalization({ inputShape: [3], name: 'bn' }), tf.layers.dense({ units: 1 })],
});
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
model.predict(x);
await model.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 });
model.predict(x);
`;

/** 14 frozen BN layers in a row, fitted: above the text output's 12-layer limit for full blocks */
export const MANY_FROZEN = `import * as tf from '@tensorflow/tfjs';
const x = tf.randomNormal([8, 2], 0, 1, 'float32', 7);
const layers: tf.layers.Layer[] = [tf.layers.dense({ inputShape: [2], units: 2 })];
for (let i = 0; i < 14; i++) layers.push(tf.layers.batchNormalization({ name: 'bn' + i, trainable: false }));
const model = tf.sequential({ layers });
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
await model.fit(x, x, { epochs: 1, batchSize: 8, verbose: 0 });
`;

/** the script's path depends on the rules: a `// @step` only when the frozen layer's moving mean stayed 0 (keras) */
export const BRANCH_ON_RULES = `import * as tf from '@tensorflow/tfjs';
const x = tf.randomNormal([8, 3], 2, 1.5, 'float32', 1);
const y = tf.randomNormal([8, 1], 0, 1, 'float32', 2);
const model = tf.sequential({
  layers: [
    tf.layers.batchNormalization({ inputShape: [3], name: 'frozen_bn', trainable: false }),
    tf.layers.dense({ units: 1, name: 'head' }),
  ],
});
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
if (model.getLayer('frozen_bn').getWeights()[2].dataSync()[0] === 0) {
  // @step
  console.log('the moving mean did not move');
}
model.predict(x);
`;
