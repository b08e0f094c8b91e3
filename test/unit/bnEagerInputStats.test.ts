/**
 * When the instrument computes the statistics of inference-call inputs (bnInputStats.ts): at call time after a
 * step read the layer's single call since the previous step (predict, step, predict, step …), at read-back from a
 * kept input otherwise (several calls between two steps). Every figure is checked against a float64 two-pass
 * reference (test/unit/reference.ts), on the real tfjs wasm and cpu backends. The reduction itself:
 * channelMomentsRows.test.ts.
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

    it('predict, step, predict, step: from the second step on computed at call time (no input kept), exact', () => {
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
          // the first predict is kept for read-back (it and the layer's initial statistics); later ones are reduced at once
          if (k === 0) assert.ok(inst.keptTensors() > 0, 'first call: its input kept');
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
            // the first call is kept for read-back; from the second on due at call time: the kernel's pass
            const fused = backend === 'wasm' && k > 0;
            assert.equal(
              answeredInputMoments() - answered,
              fused ? 1 : 0,
              `${shape} call ${k}: answered by the kernel`,
            );
            if (k === 0) assert.ok(inst.keptTensors() > 0, `${shape}: first call, its input kept`);
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

    it('several calls between two steps: back to read-back from a kept input; the step reads the last one', () => {
      const inst = installBnInstrument(tf);
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
        inst.snapshotLayers(); // one call read: the next is computed at call time
        apply(xs[1]);
        assert.equal(inst.keptTensors(), 0, 'computed at call time');
        apply(xs[2]); // replaces an unread call: lazy again
        assert.ok(inst.keptTensors() > 0, 'the second call between two steps: its input kept');
        apply(xs[3]);
        const s = byName(inst.snapshotLayers(), bn.name);
        assert.equal(s.calls, 3);
        assertChannelMoments(
          { mean: s.lastCall!.batchMean, variance: s.lastCall!.batchVariance },
          xs[3],
          8,
          'last of three',
        );
        apply(xs[4]); // three calls in the last interval: still lazy
        assert.ok(inst.keptTensors() > 0, 'after an interval of several calls: kept');
        const s2 = byName(inst.snapshotLayers(), bn.name);
        assertChannelMoments({ mean: s2.lastCall!.batchMean, variance: s2.lastCall!.batchVariance }, xs[4], 8, 'alone');
        assert.equal(inst.keptTensors(), 0);
        for (const w of bn.weights) w.dispose();
      } finally {
        inst.uninstall();
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
