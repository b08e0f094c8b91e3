/**
 * The step snapshot's reads of the layers' variables (bnSnapshot.ts readVar): a read reuses the array of the read
 * before last when its variable holds new data, and reuses the previous read when it holds the same data. Over a
 * sequence of training and inference steps on the real wasm and cpu backends: every step's moving statistics equal an
 * independent float64 moving average (test/unit/reference.ts), `movingUpdated` says whether a training call came in
 * between, an earlier step's vectors never change afterwards, and a non-finite moving mean is found (NON_FINITE) in
 * the step it appears and gone in the step it is repaired.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installBnInstrument } from '../../src/worker/bnInstrument';
import { nonFiniteChannels } from '../../src/worker/bnWarnings';
import { assertClose, moments64, movingUpdate64, normalValues as values } from './reference';
import { shipWasm } from './shippedWasm';

describe('the snapshot reads of moving statistics, gamma and beta', function () {
  this.timeout(60_000);

  it('nonFiniteChannels: every NaN and ±Infinity, in order, and none in finite data (also -0, subnormals, ±max)', () => {
    assert.deepEqual(nonFiniteChannels(new Float32Array([0, -0, 1e-45, 3.4e38, -3.4e38, 5])), []);
    assert.deepEqual(nonFiniteChannels(new Float32Array([1, NaN, 2, Infinity, -Infinity, 0])), [1, 3, 4]);
    assert.deepEqual(nonFiniteChannels([NaN]), [0]);
    assert.deepEqual(nonFiniteChannels(null), []);
  });

  for (const backend of ['wasm', 'cpu'] as const)
    it(`${backend}: train, train, predict, train, predict, train, train: values against float64, movingUpdated, earlier steps unchanged`, async () => {
      shipWasm(tf);
      assert.ok(await tf.setBackend(backend));
      const inst = installBnInstrument(tf);
      try {
        const shape = [6, 3, 24];
        const n = shape.reduce((a, b) => a * b, 1);
        const bn = tf.layers.batchNormalization({ momentum: 0.5, inputShape: shape.slice(1) });
        let mm: Float64Array = new Float64Array(24);
        let mv: Float64Array = new Float64Array(24).fill(1);
        const kept: { mean: Float32Array; copy: number[] }[] = [];
        const plan = ['train', 'train', 'predict', 'train', 'predict', 'train', 'train'] as const;
        for (let k = 0; k < plan.length; k++) {
          const d = values(n, 3 * k, 1 + k / 4, 40 + k);
          const x = tf.tensor(d, shape);
          tf.dispose(bn.apply(x, { training: plan[k] === 'train' }) as tf.Tensor);
          x.dispose();
          if (plan[k] === 'train') {
            const m = moments64(d, shape);
            mm = movingUpdate64(mm, m.mean, 0.5);
            mv = movingUpdate64(mv, m.variance, 0.5);
          }
          const s = inst.snapshotLayers().find((l) => l.name === bn.name)!;
          assertClose(s.movingMean, mm, `step ${k} moving mean`);
          assertClose(s.movingVariance, mv, `step ${k} moving variance`);
          assert.equal(s.movingUpdated, plan[k] === 'train', `step ${k} movingUpdated`);
          kept.push({ mean: s.movingMean, copy: Array.from(s.movingMean) });
          for (const [j, e] of kept.entries())
            assert.deepEqual(Array.from(e.mean), e.copy, `step ${j}'s vector unchanged after step ${k}`);
        }
        // a moving mean made non-finite, then repaired: found in its step, gone in the next
        const setMovingMean = (v: number[]) => {
          const t = tf.tensor1d(v);
          bn.setWeights([...bn.getWeights().slice(0, 2), t, bn.getWeights()[3]]);
          t.dispose();
        };
        setMovingMean(Array.from(mm, (v, j) => (j === 5 ? NaN : j === 7 ? Infinity : v)));
        let s = inst.snapshotLayers().find((l) => l.name === bn.name)!;
        const w = s.warnings.find((x) => x.code === 'NON_FINITE');
        assert.ok(w, 'NON_FINITE after the moving mean got a NaN and an Infinity');
        assert.match(w.message, /5, 7/);
        setMovingMean(Array.from(mm));
        s = inst.snapshotLayers().find((l) => l.name === bn.name)!;
        assert.equal(
          s.warnings.some((x) => x.code === 'NON_FINITE'),
          false,
          'repaired',
        );
        assertClose(s.movingMean, mm, 'repaired moving mean');
        for (const v of bn.weights) v.dispose();
      } finally {
        inst.uninstall();
      }
    });
});
