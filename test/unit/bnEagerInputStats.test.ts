/**
 * When the instrument computes the statistics of inference-call inputs (bnInputStats.ts): at call time on the wasm
 * and cpu backends, every call (one or several between two steps), in the FusedBatchNorm kernel's normalising pass
 * with the engine's kernels on wasm; at read-back from a kept input where a backend's values are not at hand (the
 * `keepInputs` option gives that path here). Every figure is checked against a float64 two-pass reference
 * (test/unit/reference.ts), on the real tfjs wasm and cpu backends. The reduction itself: channelMomentsRows.test.ts.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installBnInstrument } from '../../src/worker/bnInstrument';
import type { LayerSnapshot } from '../../src/shared/protocol';
import { assertChannelMoments, normalValues as values } from './reference';
import { shipWasm } from './shippedWasm';
import { answeredInputMoments } from '../../src/worker/fusedInputMoments';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';

const byName = (snaps: LayerSnapshot[], name: string): LayerSnapshot => {
  const s = snaps.find((l) => l.name === name);
  assert.ok(s, `layer ${name} listed`);
  return s;
};

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`inference-call input statistics at call time or at read-back (${backend})`, function () {
    this.timeout(120_000);
    before(async () => {
      shipWasm(tf);
      assert.ok(await tf.setBackend(backend));
      await tf.ready();
    });

    it('predict, step, predict, step: computed at call time (no input kept), exact', () => {
      const inst = installBnInstrument(tf);
      try {
        const shape = [8, 6, 6, 16];
        const model = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: shape.slice(1) })] });
        const name = model.layers[0].name;
        for (let k = 0; k < 4; k++) {
          const d = values(
            shape.reduce((a, b) => a * b, 1),
            k,
            1 + k,
            10 + k,
          );
          const x = tf.tensor(d, shape);
          tf.dispose(model.predict(x) as tf.Tensor);
          // before the first step only the layer's moving statistics before its first call are kept
          if (k === 0) assert.equal(inst.keptTensors(), 4, 'first call: the initial and pre-call moving statistics');
          else assert.equal(inst.keptTensors(), 0, `predict ${k}: reduced at call time, nothing kept`);
          const s = byName(inst.snapshotLayers(), name);
          assert.equal(s.lastCall!.statsUsed, 'moving');
          assertChannelMoments(
            { mean: s.lastCall!.batchMean, variance: s.lastCall!.batchVariance },
            d,
            16,
            `step ${k}`,
          );
          x.dispose();
        }
        model.dispose();
      } finally {
        inst.uninstall();
      }
    });

    it(`with the engine's kernels: computed in the normalising pass (wasm; cpu: apart), exact, the output unchanged`, () => {
      registerMissingKernels(tf);
      const inst = installBnInstrument(tf);
      try {
        // 4608 values: the engine's FusedBatchNorm (from 4096); 64 x 256: a dense layer's
        for (const shape of [
          [8, 6, 6, 16],
          [64, 256],
        ]) {
          const bn = tf.layers.batchNormalization({ inputShape: shape.slice(1) });
          const model = tf.sequential({ layers: [bn] });
          const n = shape.reduce((a, b) => a * b, 1);
          const C = shape[shape.length - 1];
          for (let k = 0; k < 3; k++) {
            const d = values(n, k, 1 + k, 10 + k);
            const x = tf.tensor(d, shape);
            const answered = answeredInputMoments();
            const y = bn.apply(x) as tf.Tensor;
            // the normalisation itself, uninstrumented (the same kernel, no request)
            const plain = tf.batchNorm(
              x,
              bn.getWeights()[2],
              bn.getWeights()[3],
              bn.getWeights()[1],
              bn.getWeights()[0],
              1e-3,
            );
            const [a, b] = [y.dataSync(), plain.dataSync()];
            for (let i = 0; i < n; i++)
              assert.ok(Object.is(a[i], b[i]), `${shape} call ${k} i=${i}: ${a[i]} vs ${b[i]}`);
            // every call: the kernel's pass on wasm
            const fused = backend === 'wasm';
            assert.equal(
              answeredInputMoments() - answered,
              fused ? 1 : 0,
              `${shape} call ${k}: answered by the kernel`,
            );
            if (k === 0) assert.equal(inst.keptTensors(), 4, `${shape}: first call, the moving statistics before it`);
            else assert.equal(inst.keptTensors(), 0, `${shape} call ${k}: nothing kept`);
            const s = byName(inst.snapshotLayers(), bn.name);
            assertChannelMoments(
              { mean: s.lastCall!.batchMean, variance: s.lastCall!.batchVariance },
              d,
              C,
              `${shape} ${k}`,
            );
            tf.dispose([x, y, plain]);
          }
          model.dispose();
        }
      } finally {
        inst.uninstall();
        unregisterMissingKernels(tf);
      }
    });

    it('several calls between two steps: each reduced at call time, the step reads the last; with keepInputs only the last input held, read back', () => {
      for (const keepInputs of [false, true]) {
        const inst = installBnInstrument(tf, { keepInputs });
        try {
          const shape = [4, 5, 5, 8];
          const bn = tf.layers.batchNormalization({});
          const n = shape.reduce((a, b) => a * b, 1);
          const xs = [0, 1, 2, 3, 4].map((k) => values(n, -k, 2, 50 + k));
          const apply = (d: Float32Array) => {
            const x = tf.tensor(d, shape);
            tf.dispose(bn.apply(x) as tf.Tensor);
            x.dispose();
          };
          apply(xs[0]);
          inst.snapshotLayers();
          for (const k of [1, 2, 3]) {
            apply(xs[k]);
            // keepInputs: the call's input (the one it replaces released); else nothing
            assert.equal(inst.keptTensors(), keepInputs ? 1 : 0, `keepInputs ${keepInputs}, call ${k}`);
          }
          const s = byName(inst.snapshotLayers(), bn.name);
          assert.equal(s.calls, 3);
          assertChannelMoments(
            { mean: s.lastCall!.batchMean, variance: s.lastCall!.batchVariance },
            xs[3],
            8,
            `keepInputs ${keepInputs}: last of three`,
          );
          assert.equal(inst.keptTensors(), 0, 'read back: released');
          apply(xs[4]);
          const s2 = byName(inst.snapshotLayers(), bn.name);
          assertChannelMoments(
            { mean: s2.lastCall!.batchMean, variance: s2.lastCall!.batchVariance },
            xs[4],
            8,
            `keepInputs ${keepInputs}: alone`,
          );
          assert.equal(inst.keptTensors(), 0);
          for (const w of bn.weights) w.dispose();
        } finally {
          inst.uninstall();
        }
      }
    });

    it('two calls between every two steps (predict of two batches): both reduced at call time (the normalising pass on wasm), the step reads the second batch', () => {
      if (backend === 'wasm') registerMissingKernels(tf);
      const inst = installBnInstrument(tf);
      try {
        const shape = [16, 256]; // a dense layer's input, two batches of 16 per predict
        const bn = tf.layers.batchNormalization({ inputShape: [256] });
        const model = tf.sequential({ layers: [bn] });
        const n = 32 * 256;
        const answered = answeredInputMoments();
        for (let k = 0; k < 3; k++) {
          const d = values(n, k, 1 + k, 20 + k);
          const x = tf.tensor(d, [32, 256]);
          tf.dispose(model.predict(x, { batchSize: 16 }) as tf.Tensor);
          x.dispose();
          if (k > 0) assert.equal(inst.keptTensors(), 0, `interval ${k}: nothing kept`);
          const s = byName(inst.snapshotLayers(), bn.name);
          assert.equal(s.calls, 2);
          assert.deepEqual(s.lastCall!.inputShape, shape);
          // the last call's input: the second batch of 16 rows
          assertChannelMoments(
            { mean: s.lastCall!.batchMean, variance: s.lastCall!.batchVariance },
            d.subarray(16 * 256),
            256,
            `interval ${k}`,
          );
        }
        if (backend === 'wasm')
          assert.equal(answeredInputMoments() - answered, 6, 'every call in the normalising pass');
        model.dispose();
      } finally {
        inst.uninstall();
        if (backend === 'wasm') unregisterMissingKernels(tf);
      }
    });

    it("a step's vectors are fresh copies: writing into one changes neither another nor the next step", () => {
      const inst = installBnInstrument(tf);
      try {
        const shape = [6, 8];
        const model = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [8] })] });
        const name = model.layers[0].name;
        const x = tf.tensor(values(48, 2, 1, 7), shape);
        tf.dispose(model.predict(x) as tf.Tensor);
        const a = byName(inst.snapshotLayers(), name);
        const mm = Array.from(a.movingMean);
        const bm = Array.from(a.lastCall!.batchMean);
        a.movingMean.fill(123);
        a.lastCall!.batchMean.fill(-5);
        assert.deepEqual(Array.from(a.movingVariance), new Array(8).fill(1));
        tf.dispose(model.predict(x) as tf.Tensor);
        const b = byName(inst.snapshotLayers(), name);
        assert.deepEqual(Array.from(b.movingMean), mm, 'read again from the layer');
        assert.equal(b.movingUpdated, false, 'compared with what the layer held, not with the edited copy');
        assert.deepEqual(Array.from(b.lastCall!.batchMean), bm);
        x.dispose();
        model.dispose();
      } finally {
        inst.uninstall();
      }
    });
  });
}
