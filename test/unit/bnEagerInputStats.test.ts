/**
 * The statistics of inference-call inputs: the one-pass reduction on the wasm heap, 8 channels at a time
 * (channelMomentsWasmHeap.ts, below 64 channels too), and when the instrument computes them (bnInputStats.ts): at
 * call time after a step read the layer's single call since the previous step (predict, step, predict, step …),
 * at read-back from a kept input otherwise (several calls between two steps). Every figure is checked against a
 * float64 two-pass reference computed here, on the real tfjs wasm and cpu backends.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installBnInstrument } from '../../src/worker/bnInstrument';
import { channelMoments } from '../../src/worker/channelMoments';
import { channelMomentsOnWasmHeap } from '../../src/worker/channelMomentsWasmHeap';
import type { LayerSnapshot } from '../../src/shared/protocol';
import { shipWasm } from './shippedWasm';

/** deterministic normal-ish values: mean `m`, spread `sd` */
function values(n: number, m: number, sd: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  for (let i = 0; i < n; i++) out[i] = m + sd * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** float64 two-pass reference over every axis but the last, rounded to float32 as the result is */
function reference(d: ArrayLike<number>, c: number): { mean: number[]; variance: number[] } {
  const n = d.length / c;
  const mean = new Array<number>(c).fill(0);
  const variance = new Array<number>(c).fill(0);
  for (let i = 0; i < d.length; i++) mean[i % c] += d[i];
  for (let j = 0; j < c; j++) mean[j] /= n;
  for (let i = 0; i < d.length; i++) variance[i % c] += (d[i] - mean[i % c]) ** 2;
  for (let j = 0; j < c; j++) variance[j] /= n;
  return { mean: mean.map(Math.fround), variance: variance.map(Math.fround) };
}

function assertReference(
  got: { mean: ArrayLike<number>; variance: ArrayLike<number> },
  d: ArrayLike<number>,
  c: number,
  what: string,
): void {
  const ref = reference(d, c);
  assert.equal(got.mean.length, c, `${what}: channels`);
  for (let j = 0; j < c; j++) {
    const tolMean = 1e-7 * Math.max(1, Math.abs(ref.mean[j]));
    assert.ok(Math.abs(got.mean[j] - ref.mean[j]) <= tolMean, `${what}: mean[${j}] ${got.mean[j]} vs ${ref.mean[j]}`);
    const tolVar = 1e-6 * ref.variance[j] + (d.length === c ? 0 : 1e-30);
    assert.ok(
      Math.abs(got.variance[j] - ref.variance[j]) <= tolVar,
      `${what}: variance[${j}] ${got.variance[j]} vs ${ref.variance[j]}`,
    );
  }
}

const byName = (snaps: LayerSnapshot[], name: string): LayerSnapshot => {
  const s = snaps.find((l) => l.name === name);
  assert.ok(s, `layer ${name} listed`);
  return s;
};

describe('channel moments on the wasm heap, 8 channels at a time (below 64 channels too)', function () {
  this.timeout(60_000);
  before(async () => {
    shipWasm(tf);
    assert.ok(await tf.setBackend('wasm'));
    await tf.ready();
  });

  for (const [shape, m, sd] of [
    [[32, 32, 32, 16], 0.5, 2], // the benchmark CNN's BN input: 8 row blocks
    [[3, 5, 7, 4], -3, 0.25], // one group of 4
    [[2, 9, 9, 12], 1, 1], // a group of 8 and one of 4
    [[4, 16, 16, 8], 1000, 0.5], // far from 0: the shift by the first row keeps the variance exact
    [[1000, 20], 0, 3], // 20 channels: two groups of 8 and one of 4; rows across blocks of 1638
    [[5, 48], 7, 1e-3],
    [[1, 16], 7, 1], // one row: variance 0
  ] as [number[], number, number][]) {
    it(`${shape.join('x')} (mean ${m}, sd ${sd}): the float64 reference to float32 rounding`, () => {
      const c = shape[shape.length - 1];
      const n = shape.reduce((a, b) => a * b, 1);
      const d = values(n, m, sd, n + c);
      const x = tf.tensor(d, shape);
      const r = channelMomentsOnWasmHeap(tf, x, -1);
      assert.ok(r, 'applies: wasm, float32, channels last, a multiple of 4');
      assertReference(r, d, c, shape.join('x'));
      if (n === c) assert.ok(r.variance.every((v) => v === 0));
      x.dispose();
    });
  }

  it('infinite and NaN values give what two passes give (the JS reduction), 16 channels', () => {
    const c = 16;
    const d = values(6 * c, 1, 1, 3);
    d[0] = Infinity; // first row: not a usable shift
    d[1] = -Infinity;
    d[2 * c + 2] = Infinity; // a later row
    d[3 * c + 3] = NaN;
    d[4] = Infinity;
    d[5 * c + 4] = -Infinity;
    const x = tf.tensor(d, [6, c]);
    const r = channelMomentsOnWasmHeap(tf, x, -1)!;
    const js = channelMoments(d, [6, c], 1);
    for (let j = 0; j < c; j++) {
      assert.ok(Object.is(r.mean[j], js.mean[j]), `mean[${j}] ${r.mean[j]} vs ${js.mean[j]}`);
      if (j < 5) assert.ok(Object.is(r.variance[j], js.variance[j]), `variance[${j}]`);
    }
    x.dispose();
  });
});

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
          assertReference({ mean: s.lastCall!.batchMean, variance: s.lastCall!.batchVariance }, d, 16, `step ${k}`);
          x.dispose();
        }
        model.dispose();
      } finally {
        inst.uninstall();
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
        assertReference(
          { mean: s.lastCall!.batchMean, variance: s.lastCall!.batchVariance },
          xs[3],
          8,
          'last of three',
        );
        apply(xs[4]); // three calls in the last interval: still lazy
        assert.ok(inst.keptTensors() > 0, 'after an interval of several calls: kept');
        const s2 = byName(inst.snapshotLayers(), bn.name);
        assertReference({ mean: s2.lastCall!.batchMean, variance: s2.lastCall!.batchVariance }, xs[4], 8, 'alone');
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
