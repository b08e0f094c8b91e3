/**
 * No tensor leak from the BatchNormalization instrument: 1,000 steps of (call + snapshotLayers()),
 * `tf.memory().numTensors` flat, on the wasm and the cpu backend (inference statistics reduced in JS and,
 * on wasm with 4k channels, by the SIMD kernel on the heap; kept for read-back or reduced at call time).
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installBnInstrument, type BnInstrument } from '../../src/worker/bnInstrument';

const STEPS = 1000;

/** run `step` STEPS times, each followed by a snapshot; numTensors must not move after a warm-up */
async function assertFlat(inst: BnInstrument, step: (i: number) => void | Promise<void>, steps = STEPS): Promise<void> {
  const counts: number[] = [];
  for (let i = 0; i < steps; i++) {
    await step(i);
    const snaps = inst.snapshotLayers();
    assert.ok(snaps.length > 0);
    assert.equal(inst.keptTensors(), 0, `step ${i}: everything read back`);
    counts.push(tf.memory().numTensors);
  }
  const warm = counts[4];
  for (const at of [9, Math.floor(steps / 4), Math.floor(steps / 2), steps - 1])
    assert.equal(counts[at], warm, `numTensors after step ${at + 1} (${counts[at]}) vs after step 5 (${warm})`);
  assert.equal(Math.max(...counts.slice(4)), Math.min(...counts.slice(4)), 'flat at every step');
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`no tensor leak on the ${backend} backend`, function () {
    this.timeout(300000);
    let inst: BnInstrument;
    let x: tf.Tensor;
    let model: tf.LayersModel;
    let start: number;

    before(async () => {
      assert.ok(await tf.setBackend(backend));
      await tf.ready();
      start = tf.memory().numTensors;
      // small inputs are kept for read-back, the large one (69,120 values) is reduced at call time
      inst = installBnInstrument(tf, { lazyBudgetElements: 50_000 });
      x = tf.randomNormal([8, 6], 0, 3, 'float32', 1);
      // two BN layers, one inside a nested model
      const inner = tf.sequential({
        layers: [tf.layers.batchNormalization({ inputShape: [6] }), tf.layers.dense({ units: 4 })],
      });
      model = tf.sequential({ layers: [inner, tf.layers.batchNormalization({}), tf.layers.dense({ units: 1 })] });
      model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    });
    after(() => {
      model.dispose();
      x.dispose();
      inst.snapshotLayers();
      inst.uninstall();
      assert.equal(tf.memory().numTensors, start, 'everything released at the end');
    });

    it(`${STEPS} steps of predict + snapshotLayers`, async () => {
      await assertFlat(inst, () => tf.dispose(model.predict(x) as tf.Tensor));
    });

    it(`${STEPS} steps of apply(x, {training: true}) + snapshotLayers`, async () => {
      await assertFlat(inst, () => tf.dispose(model.apply(x, { training: true }) as tf.Tensor));
    });

    it('200 steps alternating trainOnBatch and predict (lastCall and lastTrainingCall apart)', async () => {
      const y = tf.zeros([8, 1]);
      await assertFlat(
        inst,
        async (i) => {
          if (i % 2 === 0) await model.trainOnBatch(x, y);
          else tf.dispose(model.predict(x) as tf.Tensor);
        },
        200,
      );
      y.dispose();
    });

    it('60 steps with a large input (statistics reduced at call time)', async () => {
      const bn = tf.layers.batchNormalization({});
      const big = tf.randomNormal([3, 48, 48, 10], 0, 1, 'float32', 2);
      await assertFlat(inst, (i) => tf.dispose(bn.apply(big, { training: i % 2 === 0 }) as tf.Tensor), 60);
      bn.dispose();
      big.dispose();
    });

    it('60 steps with 8-channel inputs (the SIMD reduction on wasm), kept for read-back and over the budget', async () => {
      const bn = tf.layers.batchNormalization({});
      const small = tf.randomNormal([2, 8, 8, 8], 0, 1, 'float32', 3); // 1,024 values: kept
      const big = tf.randomNormal([3, 48, 48, 8], 0, 1, 'float32', 4); // 55,296 values: reduced at call time
      await assertFlat(inst, (i) => tf.dispose(bn.apply(i % 3 === 0 ? big : small) as tf.Tensor), 60);
      bn.dispose();
      tf.dispose([small, big]);
    });
  });
}
