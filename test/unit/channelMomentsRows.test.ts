/**
 * The SIMD reduction on the wasm heap (channelMomentsWasmHeap.ts: the statistics of an inference call's input), one
 * pass 8 channels at a time of float64 sums shifted by the first row, for every channel count: mean and biased
 * variance checked against a float64 two-pass reference (test/unit/reference.ts), on the real tfjs wasm backend.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { channelMoments } from '../../src/worker/channelMoments';
import { channelMomentsOnWasmHeap } from '../../src/worker/channelMomentsWasmHeap';
import { assertChannelMoments, channelMomentsRef32 as reference, normalValues as values } from './reference';
import { shipWasm } from './shippedWasm';

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

  // 64 channels: mean and variance of the first 5 channels; 16 channels: every mean, the first 5 variances
  for (const [c, meanChannels] of [
    [64, 5],
    [16, 16],
  ] as const)
    it(`infinite and NaN values give what two passes give (the JS reduction): ±Infinity, NaN, ${c} channels`, () => {
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
      for (let j = 0; j < meanChannels; j++) {
        assert.ok(Object.is(r.mean[j], js.mean[j]), `mean[${j}] ${r.mean[j]} vs ${js.mean[j]}`);
        if (j < 5)
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
      assertChannelMoments(r, d, c, shape.join('x'));
      if (n === c) assert.ok(r.variance.every((v) => v === 0));
      x.dispose();
    });
  }
});
