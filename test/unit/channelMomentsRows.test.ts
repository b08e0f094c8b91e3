/**
 * The row-by-row SIMD reduction on the wasm heap (channelMomentsWasmHeap.ts, from 64 channels on: the statistics of
 * an inference call's input in a step's snapshot), one pass of float64 sums shifted by the first row: mean and
 * biased variance checked against a float64 two-pass reference computed here, on the real tfjs wasm backend.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { channelMoments } from '../../src/worker/channelMoments';
import { channelMomentsOnWasmHeap } from '../../src/worker/channelMomentsWasmHeap';
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
function reference(d: Float32Array, c: number): { mean: number[]; variance: number[] } {
  const n = d.length / c;
  const mean = new Array<number>(c).fill(0);
  const variance = new Array<number>(c).fill(0);
  for (let i = 0; i < d.length; i++) mean[i % c] += d[i];
  for (let j = 0; j < c; j++) mean[j] /= n;
  for (let i = 0; i < d.length; i++) variance[i % c] += (d[i] - mean[i % c]) ** 2;
  for (let j = 0; j < c; j++) variance[j] /= n;
  return { mean: mean.map(Math.fround), variance: variance.map(Math.fround) };
}

describe('channel moments on the wasm heap, one pass 8 channels at a time (every channel count)', function () {
  this.timeout(60_000);
  before(async () => {
    shipWasm(tf); // the build the engine ships (threaded: a shared memory)
    assert.ok(await tf.setBackend('wasm'));
    await tf.ready();
  });

  for (const [shape, m, sd] of [
    [[64, 256], 0.5, 2],
    [[3, 5, 7, 64], -3, 0.25],
    [[2, 4, 4, 2048], 10, 3],
    [[9, 1028], 1e4, 1], // far from 0: the second pass keeps the variance exact where one pass would cancel
    [[1, 64], 7, 1], // one row: variance 0
  ] as [number[], number, number][]) {
    it(`${shape.join('x')} (mean ${m}, sd ${sd}): the float64 reference to float32 rounding`, () => {
      const c = shape[shape.length - 1];
      const n = shape.reduce((a, b) => a * b, 1);
      const d = values(n, m, sd, n + c);
      const x = tf.tensor(d, shape);
      const r = channelMomentsOnWasmHeap(tf, x, -1);
      assert.ok(r, 'applies: wasm, float32, channels last, a multiple of 4');
      const ref = reference(d, c);
      for (let j = 0; j < c; j++) {
        const tolMean = 1e-7 * Math.max(1, Math.abs(ref.mean[j]));
        assert.ok(Math.abs(r.mean[j] - ref.mean[j]) <= tolMean, `mean[${j}] ${r.mean[j]} vs ${ref.mean[j]}`);
        const tolVar = 1e-6 * Math.max(1e-30, ref.variance[j]) + (shape[0] === 1 ? 0 : 1e-30);
        assert.ok(
          Math.abs(r.variance[j] - ref.variance[j]) <= tolVar,
          `variance[${j}] ${r.variance[j]} vs ${ref.variance[j]}`,
        );
      }
      if (n === c) assert.ok(r.variance.every((v) => v === 0));
      x.dispose();
    });
  }

  it('a first row far from the rest (the one pass shifts by it): still the float64 reference', () => {
    const c = 64;
    const d = values(40 * c, 0, 1, 11);
    for (let j = 0; j < c; j++) d[j] = 1e6 * (j % 2 ? 1 : -1);
    const x = tf.tensor(d, [40, c]);
    const r = channelMomentsOnWasmHeap(tf, x, -1)!;
    const ref = reference(d, c);
    for (let j = 0; j < c; j++) {
      assert.ok(Math.abs(r.mean[j] - ref.mean[j]) <= 1e-7 * Math.abs(ref.mean[j]), `mean[${j}]`);
      assert.ok(Math.abs(r.variance[j] - ref.variance[j]) <= 1e-6 * ref.variance[j], `variance[${j}]`);
    }
    x.dispose();
  });

  it('infinite and NaN values give what two passes give (the JS reduction): ±Infinity, NaN', () => {
    const c = 64;
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
    for (let j = 0; j < 5; j++) {
      assert.ok(Object.is(r.mean[j], js.mean[j]), `mean[${j}] ${r.mean[j]} vs ${js.mean[j]}`);
      assert.ok(Object.is(r.variance[j], js.variance[j]), `variance[${j}] ${r.variance[j]} vs ${js.variance[j]}`);
    }
    x.dispose();
  });

  it('leaves the tensor and the backend as they were (its scratch is freed: the heap does not grow)', () => {
    const d = values(4 * 2048, 1, 1, 5);
    const x = tf.tensor(d, [4, 2048]);
    const wasm = (tf.backend() as any).wasm;
    const memory = (wasm.asm.memory ?? wasm.wasmMemory) as WebAssembly.Memory; // single-threaded / threaded build
    channelMomentsOnWasmHeap(tf, x, -1);
    const heapBytes = memory.buffer.byteLength;
    const tensors = tf.memory().numTensors;
    // 32 KiB of scratch a call: 4000 calls would need 128 MiB more if it were not freed
    for (let i = 0; i < 4000; i++) channelMomentsOnWasmHeap(tf, x, -1);
    assert.equal(memory.buffer.byteLength, heapBytes);
    assert.deepEqual(Array.from(x.dataSync()), Array.from(d));
    assert.equal(tf.memory().numTensors, tensors);
    x.dispose();
  });
});
