/**
 * Truth tests of the BatchNormalization instrument: real tfjs 4.22 on the wasm and the cpu backend,
 * every captured number checked against an independent float64 reference (./reference.ts) computed
 * from the input data read back once; where capture mode holds the exact tensors tfjs used, the moving
 * update is also reproduced bit-for-bit in float32 from the captured batch statistics.
 *
 * One suite file per area (the instrument): its cases share the models, backends and the float64 reference.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installBnInstrument, type BnInstrument } from '../../src/worker/bnInstrument';
import { UNINSTRUMENTED } from '../../src/worker/bnState';
import { channelMoments } from '../../src/worker/channelMoments';
import { channelMomentsOnWasmHeap } from '../../src/worker/channelMomentsWasmHeap';
import { activeWasmThreads } from '../../src/worker/wasmThreaded';
import { shipWasm } from './shippedWasm';
import type { LayerSnapshot } from '../../src/shared/protocol';
import { packStep, unpackStep } from '../../src/shared/snapshotCodec';
import {
  assertClose,
  assertSame,
  filled,
  maxAbs,
  moments64,
  movingUpdate64,
  normalize64,
  normalizeFlatCycle64,
  sliceRows,
} from './reference';

// ---- deterministic data (float32 values; the reference reads the same values) ------------------
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function randn(shape: number[], seed: number, std = 5, mean = 0.3): Float32Array {
  const r = mulberry32(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12),
      v = r();
    // a different mean per channel (last axis) makes channel mix-ups visible
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v) * std + mean * (1 + (i % shape[shape.length - 1]));
  }
  return out;
}

const read = (t: tf.Tensor): Float32Array => new Float32Array(t.dataSync());
const f32 = Math.fround;

/** the float32 moving update exactly as tfjs-layers does it: sub, mul by (1 - momentum), sub */
function movingUpdate32(old: ArrayLike<number>, batch: ArrayLike<number>, momentum: number): Float32Array {
  const decay = f32(1 - momentum);
  const out = new Float32Array(old.length);
  for (let i = 0; i < old.length; i++) out[i] = f32(old[i] - f32(f32(old[i] - batch[i]) * decay));
  return out;
}

function byName(snaps: LayerSnapshot[], name: string): LayerSnapshot {
  const s = snaps.find((l) => l.name === name);
  assert.ok(s, `layer ${name} listed (listed: ${snaps.map((l) => l.name).join(', ')})`);
  return s;
}
const codes = (s: LayerSnapshot) => s.warnings.map((w) => w.code);

// 'wasm' is the build the engine ships: threaded on a multi-core machine (BN_INSPECTOR_WASM_THREADS=1: single)
const wasmThreads = shipWasm(tf);
for (const backend of ['wasm', 'cpu'] as const) {
  const label = backend === 'wasm' ? `wasm (${wasmThreads} XNNPACK thread${wasmThreads > 1 ? 's' : ''})` : backend;
  describe(`bnInstrument on the ${label} backend`, function () {
    let inst: BnInstrument;

    before(async () => {
      assert.ok(await tf.setBackend(backend));
      await tf.ready();
      assert.equal(tf.getBackend(), backend);
      if (backend === 'wasm')
        assert.equal(activeWasmThreads(tf), wasmThreads, 'the backend runs the threads asked for');
      inst = installBnInstrument(tf);
    });
    after(() => inst.uninstall());
    afterEach(() => {
      inst.snapshotLayers(); // per-step counters of a failed test must not leak into the next one
    });

    it('capture mode is active (the exact tensors tfjs computed are kept)', () => {
      const bn = tf.layers.batchNormalization({});
      const x = tf.tensor2d(randn([4, 3], 1), [4, 3]);
      tf.dispose(bn.apply(x, { training: true }) as tf.Tensor);
      assert.equal(inst.captureMode(), 'capture', inst.captureNote() ?? '');
      assert.equal(inst.captureNote(), null);
      inst.snapshotLayers();
      x.dispose();
      bn.dispose();
    });

    it('a step is packed into the buffer its snapshot was made in (first and later steps); it decodes the same', () => {
      const x = tf.tensor2d(randn([8, 4], 5), [8, 4]);
      const model = tf.sequential({
        layers: [tf.layers.batchNormalization({ inputShape: [4] }), tf.layers.batchNormalization({})],
      });
      const asArrays = (v: unknown) =>
        JSON.parse(JSON.stringify(v, (_k, e) => (e instanceof Float32Array ? Array.from(e) : e)));
      for (let step = 0; step < 3; step++) {
        tf.dispose(model.apply(x, { training: step === 1 }) as tf.Tensor);
        const layers = inst.snapshotLayers().filter((l) => model.layers.some((m) => m.name === l.name));
        const snap = { index: step + 1, line: 1, column: 1, file: '/tmp/s.ts', hit: 1, layers };
        const expected = asArrays(snap);
        const buf = packStep(snap);
        assert.equal(buf, layers[0].movingMean.buffer, `step ${step + 1}: packed in place`);
        assert.deepEqual(asArrays(unpackStep(buf)), expected, `step ${step + 1}`);
      }
      x.dispose();
      model.dispose();
    });

    it('predict on a fresh layer: moving statistics used and unchanged, STALE_MOVING_STATS', () => {
      const shape = [6, 4];
      const data = randn(shape, 2);
      const x = tf.tensor(data, shape);
      const model = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [4], epsilon: 1e-3 })] });
      const bnName = model.layers[0].name;
      const before = tf.memory().numTensors; // includes the 2 build-time clones the first snapshot releases
      const y = model.predict(x) as tf.Tensor;
      const s = byName(inst.snapshotLayers(), bnName);

      assert.deepEqual(s.path, [model.name, bnName]);
      assert.equal(s.axis, -1);
      assert.equal(s.channels, 4);
      assert.equal(s.momentum, 0.99);
      assert.equal(s.epsilon, 1e-3);
      assert.equal(s.trainable, true);
      assert.equal(s.calls, 1);
      assert.equal(s.updates, 0);
      assert.equal(s.movingUpdated, false);
      assertSame(s.movingMean, filled(4, 0), 'moving mean');
      assertSame(s.movingVariance, filled(4, 1), 'moving variance');
      assertSame(s.gamma!, filled(4, 1), 'gamma');
      assertSame(s.beta!, filled(4, 0), 'beta');
      assert.ok(s.lastCall);
      assert.equal(s.lastCall.training, false);
      assert.equal(s.lastCall.statsUsed, 'moving');
      assert.deepEqual(s.lastCall.inputShape, shape);
      const ref = moments64(data, shape);
      assertClose(s.lastCall.batchMean, ref.mean, 'inference batch mean', { scale: maxAbs(data) });
      assertClose(s.lastCall.batchVariance, ref.variance, 'inference batch variance', { scale: maxAbs(data) ** 2 });
      assert.equal(s.lastTrainingCall, null);
      assert.deepEqual(codes(s), ['STALE_MOVING_STATS']);
      assert.match(s.warnings[0].message, /never been updated/);
      // the output really is normalised with the moving statistics
      assertClose(
        read(y),
        normalize64(data, shape, -1, filled(4, 0), filled(4, 1), 1e-3, null, null),
        'predict output',
        {
          scale: maxAbs(data),
        },
      );
      // vectors are fresh copies
      assert.ok(s.movingMean instanceof Float32Array && s.lastCall.batchMean instanceof Float32Array);
      y.dispose();
      assert.equal(inst.keptTensors(), 0, 'everything read back');
      assert.equal(tf.memory().numTensors, before - 2, 'no tensor left behind by the call or the snapshot');
      // a second predict: still stale, still not updated
      tf.dispose(model.predict(x) as tf.Tensor);
      const s2 = byName(inst.snapshotLayers(), bnName);
      assert.equal(s2.calls, 1);
      assert.equal(s2.movingUpdated, false);
      assert.deepEqual(codes(s2), ['STALE_MOVING_STATS']);
      // a step without a call: counters reset, no warning
      const s3 = byName(inst.snapshotLayers(), bnName);
      assert.equal(s3.calls, 0);
      assert.deepEqual(codes(s3), []);
      assert.ok(s3.lastCall && s3.lastCall.statsUsed === 'moving', 'lastCall persists across steps');
      x.dispose();
      model.dispose();
    });

    it('apply without training, with training: false and with training: true (the exact batch statistics)', () => {
      const shape = [5, 3];
      const data = randn(shape, 3);
      const x = tf.tensor(data, shape);
      const momentum = 0.9;
      const bn = tf.layers.batchNormalization({ momentum, epsilon: 1e-3, inputShape: [3] });
      const model = tf.sequential({ layers: [bn] });
      const scale = maxAbs(data);
      const ref = moments64(data, shape);

      for (const kwargs of [undefined, { training: false }]) {
        const y = model.apply(x, kwargs) as tf.Tensor;
        const s = byName(inst.snapshotLayers(), bn.name);
        assert.equal(s.calls, 1);
        assert.equal(s.updates, 0);
        assert.equal(s.movingUpdated, false);
        assert.equal(s.lastCall!.training, false);
        assert.equal(s.lastCall!.statsUsed, 'moving');
        assert.equal(s.lastTrainingCall, null);
        assertClose(
          read(y),
          normalize64(data, shape, -1, filled(3, 0), filled(3, 1), 1e-3, null, null),
          'inference output',
          { scale },
        );
        y.dispose();
      }

      const y = model.apply(x, { training: true }) as tf.Tensor;
      const s = byName(inst.snapshotLayers(), bn.name);
      assert.equal(s.calls, 1);
      assert.equal(s.updates, 1);
      assert.equal(s.movingUpdated, true);
      assert.deepEqual(codes(s), []);
      const tc = s.lastTrainingCall!;
      assert.equal(tc, tc && s.lastTrainingCall);
      assert.equal(tc.training, true);
      assert.equal(tc.statsUsed, 'batch');
      assert.deepEqual(tc.inputShape, shape);
      assertClose(tc.batchMean, ref.mean, 'batch mean', { scale });
      assertClose(tc.batchVariance, ref.variance, 'batch variance', { scale: scale * scale });
      assert.deepEqual(s.lastCall, tc, 'lastCall is the training call');
      // exactly what tf.moments gives (same kernels): what the layer normalised with
      const m = tf.moments(x, [0]);
      assertSame(tc.batchMean, read(m.mean), 'captured mean == tf.moments');
      assertSame(tc.batchVariance, read(m.variance), 'captured variance == tf.moments');
      tf.dispose([m.mean, m.variance]);
      // moving update: float64 reference, and bit-exact from the captured statistics
      assertClose(s.movingMean, movingUpdate64(filled(3, 0), ref.mean, momentum), 'moving mean', { scale });
      assertClose(s.movingVariance, movingUpdate64(filled(3, 1), ref.variance, momentum), 'moving variance', {
        scale: scale * scale,
      });
      assertSame(
        s.movingMean,
        movingUpdate32(filled(3, 0), tc.batchMean, momentum),
        'moving mean from captured, float32',
      );
      assertSame(
        s.movingVariance,
        movingUpdate32(filled(3, 1), tc.batchVariance, momentum),
        'moving variance from captured, float32',
      );
      // output normalised with the batch statistics
      assertClose(read(y), normalize64(data, shape, -1, ref.mean, ref.variance, 1e-3, null, null), 'training output', {
        scale: 1,
      });
      y.dispose();

      // then predict: lastCall becomes the inference call, lastTrainingCall stays (pitfall 3)
      tf.dispose(model.predict(x) as tf.Tensor);
      const s2 = byName(inst.snapshotLayers(), bn.name);
      assert.equal(s2.lastCall!.training, false);
      assert.equal(s2.lastTrainingCall!.training, true);
      assertSame(s2.lastTrainingCall!.batchMean, tc.batchMean, 'lastTrainingCall kept');
      assert.equal(s2.movingUpdated, false);
      assert.deepEqual(codes(s2), [], 'updated once: not stale');
      x.dispose();
      model.dispose();
    });

    it('fit, batchSize 3 over 10 samples: every batch checked, last batch of one, updates = batches', async () => {
      const shape = [10, 4];
      const data = randn(shape, 4);
      const x = tf.tensor(data, shape);
      const yT = tf.tensor(randn([10, 1], 5), [10, 1]);
      const momentum = 0.8;
      const bn = tf.layers.batchNormalization({ inputShape: [4], momentum });
      const model = tf.sequential({ layers: [bn, tf.layers.dense({ units: 1 })] });
      model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
      const scale = maxAbs(data);
      const batches = [
        [0, 3],
        [3, 6],
        [6, 9],
        [9, 10],
      ];
      let mm64 = filled(4, 0),
        mv64 = filled(4, 1);
      let prevMM: Float32Array = new Float32Array(4),
        prevMV: Float32Array = new Float32Array(4).fill(1);
      inst.snapshotLayers();
      let batchNo = 0;
      await model.fit(x, yT, {
        batchSize: 3,
        epochs: 2,
        shuffle: false,
        verbose: 0,
        callbacks: {
          onBatchEnd: async () => {
            const [from, to] = batches[batchNo++ % 4];
            const b = sliceRows(data, shape, from, to);
            const ref = moments64(b.data, b.shape);
            mm64 = movingUpdate64(mm64, ref.mean, momentum);
            mv64 = movingUpdate64(mv64, ref.variance, momentum);
            const s = byName(inst.snapshotLayers(), bn.name);
            const what = `batch ${batchNo} [${from}, ${to})`;
            assert.equal(s.calls, 1, what);
            assert.equal(s.updates, 1, what);
            assert.equal(s.movingUpdated, true, what);
            const tc = s.lastTrainingCall!;
            assert.deepEqual(tc.inputShape, b.shape, what);
            assert.equal(tc.statsUsed, 'batch');
            assertClose(tc.batchMean, ref.mean, `${what} batch mean`, { scale });
            assertClose(tc.batchVariance, ref.variance, `${what} batch variance`, { scale: scale * scale });
            assertClose(s.movingMean, mm64, `${what} moving mean`, { scale, rtol: 5e-5 });
            assertClose(s.movingVariance, mv64, `${what} moving variance`, { scale: scale * scale, rtol: 5e-5 });
            assertSame(
              s.movingMean,
              movingUpdate32(prevMM, tc.batchMean, momentum),
              `${what} moving mean from captured`,
            );
            assertSame(
              s.movingVariance,
              movingUpdate32(prevMV, tc.batchVariance, momentum),
              `${what} moving variance from captured`,
            );
            prevMM = s.movingMean;
            prevMV = s.movingVariance;
            if (to - from === 1) {
              assert.deepEqual(codes(s), ['BATCH_OF_ONE'], what);
              assertSame(tc.batchVariance, filled(4, 0), 'a batch of one has variance 0');
              assertSame(tc.batchMean, data.slice(9 * 4, 10 * 4), 'a batch of one has the sample as mean');
            } else {
              assert.deepEqual(codes(s), [], what);
            }
          },
        },
      });
      assert.equal(batchNo, 8);

      // one fit as one step: 3 epochs x 4 batches
      await model.fit(x, yT, { batchSize: 3, epochs: 3, shuffle: false, verbose: 0 });
      for (let e = 0; e < 3; e++)
        for (const [from, to] of batches) {
          const b = sliceRows(data, shape, from, to);
          const ref = moments64(b.data, b.shape);
          mm64 = movingUpdate64(mm64, ref.mean, momentum);
          mv64 = movingUpdate64(mv64, ref.variance, momentum);
        }
      const s = byName(inst.snapshotLayers(), bn.name);
      assert.equal(s.calls, 12);
      assert.equal(s.updates, 12);
      assert.equal(s.movingUpdated, true);
      assert.deepEqual(codes(s), ['BATCH_OF_ONE']);
      assert.match(s.warnings[0].message, /variance is 0/);
      assert.deepEqual(s.lastTrainingCall!.inputShape, [1, 4]);
      assertSame(s.lastTrainingCall!.batchVariance, filled(4, 0), 'last batch variance');
      assertClose(s.movingMean, mm64, 'moving mean after 20 updates', { scale, rtol: 1e-4 });
      assertClose(s.movingVariance, mv64, 'moving variance after 20 updates', { scale: scale * scale, rtol: 1e-4 });
      assert.deepEqual(s.path, [model.name, bn.name]);
      x.dispose();
      yT.dispose();
      model.dispose();
    });

    it('frozen layer (trainable: false) + fit: moving statistics still updated, gamma/beta frozen, TRAINABLE_FALSE_STILL_UPDATES', async () => {
      const shape = [8, 3];
      const data = randn(shape, 6);
      const x = tf.tensor(data, shape);
      const yT = tf.tensor(randn([8, 2], 7), [8, 2]);
      const bn = tf.layers.batchNormalization({ inputShape: [3], trainable: false });
      const model = tf.sequential({ layers: [bn, tf.layers.dense({ units: 2 })] });
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
      await model.fit(x, yT, { batchSize: 4, epochs: 1, shuffle: false, verbose: 0 });
      const scale = maxAbs(data);
      let mm = filled(3, 0),
        mv = filled(3, 1);
      for (const [from, to] of [
        [0, 4],
        [4, 8],
      ]) {
        const b = sliceRows(data, shape, from, to);
        const ref = moments64(b.data, b.shape);
        mm = movingUpdate64(mm, ref.mean, 0.99);
        mv = movingUpdate64(mv, ref.variance, 0.99);
      }
      const s = byName(inst.snapshotLayers(), bn.name);
      assert.equal(s.trainable, false);
      assert.equal(s.updates, 2);
      assert.equal(s.movingUpdated, true);
      assert.deepEqual(codes(s), ['TRAINABLE_FALSE_STILL_UPDATES']);
      assert.match(s.warnings[0].message, /TF2 Keras/);
      assertClose(s.movingMean, mm, 'frozen moving mean', { scale });
      assertClose(s.movingVariance, mv, 'frozen moving variance', { scale: scale * scale });
      assertSame(s.gamma!, filled(3, 1), 'gamma frozen');
      assertSame(s.beta!, filled(3, 0), 'beta frozen');
      assert.equal(s.lastTrainingCall!.statsUsed, 'batch');

      // frozen after compile (layer.trainable = false): same story; inference calls do not warn
      const bn2 = tf.layers.batchNormalization({ inputShape: [3] });
      const model2 = tf.sequential({ layers: [bn2, tf.layers.dense({ units: 2 })] });
      model2.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      const origWarn = console.warn;
      console.warn = () => {}; // "Discrepancy between trainable weights…"
      try {
        bn2.trainable = false;
        await model2.fit(x, yT, { batchSize: 8, epochs: 1, verbose: 0 });
      } finally {
        console.warn = origWarn;
      }
      const s2 = byName(inst.snapshotLayers(), bn2.name);
      assert.equal(s2.trainable, false);
      assert.deepEqual(codes(s2), ['TRAINABLE_FALSE_STILL_UPDATES']);
      assertSame(s2.gamma!, filled(3, 1), 'gamma frozen after compile');
      const ref = moments64(data, shape);
      assertClose(s2.movingMean, movingUpdate64(filled(3, 0), ref.mean, 0.99), 'moving mean', { scale });
      tf.dispose(model2.predict(x) as tf.Tensor);
      const s3 = byName(inst.snapshotLayers(), bn2.name);
      assert.deepEqual(codes(s3), []);
      assert.equal(s3.movingUpdated, false);
      x.dispose();
      yT.dispose();
      model.dispose();
      model2.dispose();
    });

    it('rank-4 input, channels last (NHWC, axis -1): apply training, predict, fit through a dense head', async () => {
      const shape = [3, 4, 5, 2];
      const data = randn(shape, 8, 2, 1);
      const x = tf.tensor(data, shape);
      const bn = tf.layers.batchNormalization({ inputShape: [4, 5, 2], momentum: 0.5 });
      const model = tf.sequential({ layers: [bn, tf.layers.flatten(), tf.layers.dense({ units: 1 })] });
      const scale = maxAbs(data);
      const ref = moments64(data, shape, -1);
      assert.equal(ref.n, 60);
      const y = bn.apply(x, { training: true }) as tf.Tensor;
      const s = byName(inst.snapshotLayers(), bn.name);
      assert.equal(s.channels, 2);
      assertClose(s.lastTrainingCall!.batchMean, ref.mean, 'NHWC batch mean', { scale });
      assertClose(s.lastTrainingCall!.batchVariance, ref.variance, 'NHWC batch variance', { scale: scale * scale });
      assertClose(s.movingMean, movingUpdate64(filled(2, 0), ref.mean, 0.5), 'NHWC moving mean', { scale });
      assertClose(read(y), normalize64(data, shape, -1, ref.mean, ref.variance, 1e-3, null, null), 'NHWC output', {
        scale: 1,
      });
      y.dispose();
      // one image in training mode is not a batch of one: 20 values per channel
      const x1 = x.slice([0, 0, 0, 0], [1, 4, 5, 2]);
      tf.dispose(model.apply(x1, { training: true }) as tf.Tensor);
      const s1 = byName(inst.snapshotLayers(), bn.name);
      assert.deepEqual(codes(s1), []);
      const d1 = sliceRows(data, shape, 0, 1);
      assertClose(s1.lastTrainingCall!.batchVariance, moments64(d1.data, d1.shape).variance, 'one image variance', {
        scale: scale * scale,
      });
      // predict: normalised with the moving statistics
      const yp = model.predict(x) as tf.Tensor;
      const sp = byName(inst.snapshotLayers(), bn.name);
      assert.equal(sp.lastCall!.statsUsed, 'moving');
      assertClose(sp.lastCall!.batchMean, ref.mean, 'NHWC inference stats', { scale });
      yp.dispose();
      // fit through the head
      model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      const yT = tf.zeros([3, 1]);
      const before = byName(inst.snapshotLayers(), bn.name);
      await model.fit(x, yT, { batchSize: 3, epochs: 1, verbose: 0 });
      const sf = byName(inst.snapshotLayers(), bn.name);
      assert.equal(sf.updates, 1);
      assertClose(sf.movingMean, movingUpdate64(before.movingMean, ref.mean, 0.5), 'NHWC moving mean after fit', {
        scale,
      });
      assertClose(
        sf.movingVariance,
        movingUpdate64(before.movingVariance, ref.variance, 0.5),
        'NHWC moving var after fit',
        {
          scale: scale * scale,
        },
      );
      tf.dispose([x, x1, yT]);
      model.dispose();
    });

    it('inference statistics reduced at read-back (kept input) and at call time (over the budget), SIMD and JS, agree with the reference', () => {
      // a second and a third instrument, over the suite's one: inputs kept under a small budget, and the JS reduction only
      const small = installBnInstrument(tf, { lazyBudgetElements: 1000, keepInputs: true });
      const js = installBnInstrument(tf, { simd: false });
      try {
        const cases: [number[], number, number, number][] = [
          // shape, axis, std, mean (channel k gets mean * (k + 1)): channels last with 4k channels take the SIMD path on wasm
          [[3, 64, 64, 8], -1, 2, 0.5],
          [[2, 4, 4, 8], -1, 2, 0.5],
          [[5, 3, 12], -1, 2, 0.5], // 15 rows: the odd last row
          [[1, 1, 1, 4], -1, 2, 0.5], // one row
          [[7, 64], -1, 3, -1],
          [[4, 16, 16, 8], -1, 0.5, 1000], // large mean, small spread: the two-pass variance stays right
          [[6, 2048], -1, 1, 0.1], // many channels
          [[9, 10], -1, 2, 0.5], // channels not a multiple of 4: JS
          [[2, 5, 3, 3], 1, 2, 0.5],
          [[40, 6], 0, 2, 0.5],
        ];
        for (const [shape, axis, std, mean] of cases) {
          const bn = tf.layers.batchNormalization({ axis });
          const data = randn(shape, 17, std, mean);
          const x = tf.tensor(data, shape);
          bn.build(shape);
          for (const i of [small, js, inst]) i.snapshotLayers(); // listed: the build-time clones are read; only call records are kept from now on
          tf.dispose(bn.apply(x) as tf.Tensor);
          const lazy = data.length <= 1000;
          assert.equal(small.keptTensors() > 0, lazy, `${shape}: kept for read-back only under the budget`);
          assert.equal(inst.keptTensors(), 0, 'by default reduced at call time (the values are at hand)');
          const ref = moments64(data, shape, axis);
          for (const [who, i] of [
            ['eager/lazy', small],
            ['JS', js],
            ['default', inst],
          ] as const) {
            const s = byName(i.snapshotLayers(), bn.name);
            const what = `${who} inference stats of [${shape}] axis ${axis}`;
            assert.equal(s.lastCall!.batchMean.length, shape[axis < 0 ? axis + shape.length : axis]);
            // float64 two-pass reduction rounded once to float32: within one float32 rounding (2^-24) of the reference
            assertClose(s.lastCall!.batchMean, ref.mean, `${what}: mean`, { scale: 0, atol: 0, rtol: 1e-7 });
            assertClose(s.lastCall!.batchVariance, ref.variance, `${what}: variance`, {
              scale: 0,
              atol: 0,
              rtol: 1e-7,
            });
            assert.equal(i.keptTensors(), 0);
          }
          x.dispose();
          for (const w of bn.weights) w.dispose(); // built directly, never used symbolically: Layer.dispose() refuses
        }

        // a layer called again: the input it replaces leaves the budget first, so the new one is kept too
        const shape = [4, 4, 5, 8]; // 640 elements: two do not fit in 1000
        const bn = tf.layers.batchNormalization({});
        bn.build(shape);
        for (const i of [small, js, inst]) i.snapshotLayers();
        const d1 = randn(shape, 30, 1, 2),
          d2 = randn(shape, 31, 3, -1);
        const [x1, x2] = [tf.tensor(d1, shape), tf.tensor(d2, shape)];
        tf.dispose(bn.apply(x1) as tf.Tensor);
        assert.ok(small.keptTensors() > 0, 'first input kept');
        tf.dispose(bn.apply(x2) as tf.Tensor);
        assert.ok(small.keptTensors() > 0, 'second input kept as well: the first was released before');
        const s = byName(small.snapshotLayers(), bn.name);
        assertClose(s.lastCall!.batchMean, moments64(d2, shape).mean, 'second call mean', {
          scale: 0,
          atol: 0,
          rtol: 1e-7,
        });
        assertClose(s.lastCall!.batchVariance, moments64(d2, shape).variance, 'second call variance', {
          scale: 0,
          atol: 0,
          rtol: 1e-7,
        });
        for (const i of [js, inst]) i.snapshotLayers();
        tf.dispose([x1, x2]);
        for (const w of bn.weights) w.dispose();
      } finally {
        js.uninstall();
        small.uninstall();
      }
    });

    it(`the SIMD reduction on the wasm heap: where it applies, exact to float32 rounding, and right after the heap grows`, () => {
      const shape = [3, 7, 5, 16];
      const data = randn(shape, 40, 4, 200);
      const x = tf.tensor(data, shape);
      const ref = moments64(data, shape);
      const direct = channelMomentsOnWasmHeap(tf, x, -1);
      if (backend !== 'wasm') {
        assert.equal(direct, null, 'only on the wasm backend');
      } else {
        assert.ok(direct, 'applies: wasm, float32, channels last, 16 channels');
        assertClose(direct.mean, ref.mean, 'SIMD mean', { scale: 0, atol: 0, rtol: 1e-7 });
        assertClose(direct.variance, ref.variance, 'SIMD variance', { scale: 0, atol: 0, rtol: 1e-7 });
        const viaJs = channelMoments(data, shape, 3);
        assertClose(direct.mean, viaJs.mean, 'SIMD vs JS mean', { scale: 0, atol: 0, rtol: 1.2e-7 });
        assertClose(direct.variance, viaJs.variance, 'SIMD vs JS variance', { scale: 0, atol: 0, rtol: 1.2e-7 });
        const odd = tf.tensor(data.slice(0, 6 * 16), [6, 16]).slice([0, 0], [6, 12]); // 12 channels
        assert.ok(channelMomentsOnWasmHeap(tf, odd, -1), '12 channels');
        const d12 = read(odd);
        assertClose(
          channelMomentsOnWasmHeap(tf, odd, -1)!.variance,
          moments64(d12, [6, 12]).variance,
          '12 channels variance',
          { scale: 0, atol: 0, rtol: 1e-7 },
        );
        const six = tf.tensor(data.slice(0, 60), [10, 6]);
        assert.equal(channelMomentsOnWasmHeap(tf, six, -1), null, '6 channels: JS');
        assert.equal(channelMomentsOnWasmHeap(tf, x, 1), null, 'channel axis not last: JS');
        const ints = tf.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 4], 'int32');
        assert.equal(channelMomentsOnWasmHeap(tf, ints, -1), null, 'int32: JS');
        tf.dispose([odd, six, ints]);
      }
      // an input kept for read-back while tfjs grows its heap, then reduced where it now lies
      const bn = tf.layers.batchNormalization({});
      tf.dispose(bn.apply(x) as tf.Tensor);
      assert.ok(inst.keptTensors() > 0);
      const heap = () =>
        (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.buffer.byteLength ?? 0;
      const before = heap();
      const big = tf.zeros([Math.ceil(before / 4) + (1 << 20)]); // more than the whole heap: it must grow
      if (backend === 'wasm') assert.ok(heap() > before, `heap grew (${before} -> ${heap()})`);
      const s = byName(inst.snapshotLayers(), bn.name);
      assertClose(s.lastCall!.batchMean, ref.mean, 'mean after heap growth', { scale: 0, atol: 0, rtol: 1e-7 });
      assertClose(s.lastCall!.batchVariance, ref.variance, 'variance after heap growth', {
        scale: 0,
        atol: 0,
        rtol: 1e-7,
      });
      tf.dispose([big, x]);
      bn.dispose();
    });

    it('axis 1 (channels first, NCHW): statistics per axis-1 channel (and the tfjs output bug #1106)', () => {
      const shape = [2, 3, 4, 4];
      const data = randn(shape, 9, 3, 0);
      // give each axis-1 channel its own offset
      for (let i = 0; i < data.length; i++) data[i] += 10 * (Math.floor(i / 16) % 3);
      const x = tf.tensor(data, shape);
      const bn = tf.layers.batchNormalization({ axis: 1, inputShape: [3, 4, 4], epsilon: 1e-5 });
      const model = tf.sequential({ layers: [bn] });
      const scale = maxAbs(data);
      const ref = moments64(data, shape, 1);
      const y = model.apply(x, { training: true }) as tf.Tensor;
      const s = byName(inst.snapshotLayers(), bn.name);
      assert.equal(s.axis, 1);
      assert.equal(s.channels, 3);
      assertClose(s.lastTrainingCall!.batchMean, ref.mean, 'NCHW batch mean', { scale });
      assertClose(s.lastTrainingCall!.batchVariance, ref.variance, 'NCHW batch variance', { scale: scale * scale });
      assertClose(s.movingMean, movingUpdate64(filled(3, 0), ref.mean, 0.99), 'NCHW moving mean', { scale });
      assertClose(s.movingVariance, movingUpdate64(filled(3, 1), ref.variance, 0.99), 'NCHW moving variance', {
        scale: scale * scale,
      });
      // The statistics are per axis-1 channel, but tfjs 4.22 normalises the output as if the data were
      // channels-last (its FusedBatchNorm kernels cycle the statistics by flat index): measured, not wished.
      const out = read(y);
      assertClose(out, normalizeFlatCycle64(data, ref.mean, ref.variance, 1e-5), 'NCHW output (flat-index broadcast)', {
        scale: 1,
      });
      const right = normalize64(data, shape, 1, ref.mean, ref.variance, 1e-5, null, null);
      assert.ok(
        out.some((v, i) => Math.abs(v - right[i]) > 1),
        'tfjs#1106 still there: the output is not the per-channel normalisation',
      );
      y.dispose();
      const yp = model.predict(x) as tf.Tensor;
      const sp = byName(inst.snapshotLayers(), bn.name);
      assertClose(sp.lastCall!.batchMean, ref.mean, 'NCHW inference batch mean', { scale });
      assertClose(read(yp), normalizeFlatCycle64(data, s.movingMean, s.movingVariance, 1e-5), 'NCHW predict', {
        scale: 1,
      });
      yp.dispose();
      x.dispose();
      model.dispose();
    });

    it('nested models: path of enclosing models, outermost first, never the internal "<name>_model"', () => {
      const shape = [4, 3];
      const data = randn(shape, 10);
      const x = tf.tensor(data, shape);
      const bnA = tf.layers.batchNormalization({ inputShape: [3], name: `bnA_${backend}` });
      const backbone = tf.sequential({ name: `backbone_${backend}`, layers: [bnA] });
      const inp = tf.input({ shape: [3] });
      const h = backbone.apply(inp) as tf.SymbolicTensor;
      const bnB = tf.layers.batchNormalization({ name: `bnB_${backend}` });
      const out = tf.layers.dense({ units: 2 }).apply(bnB.apply(h) as tf.SymbolicTensor) as tf.SymbolicTensor;
      const outer = tf.model({ inputs: inp, outputs: out, name: `outer_${backend}` });
      // known from its creation (tf.model), before any use
      const s0 = inst.snapshotLayers();
      assert.deepEqual(byName(s0, bnA.name).path, [outer.name, backbone.name, bnA.name]);
      assert.deepEqual(byName(s0, bnB.name).path, [outer.name, bnB.name]);
      assert.equal(byName(s0, bnA.name).lastCall, null, 'built, never called');
      assert.equal(byName(s0, bnA.name).calls, 0);
      const y = outer.apply(x, { training: true }) as tf.Tensor;
      const snaps = inst.snapshotLayers();
      const a = byName(snaps, bnA.name),
        b = byName(snaps, bnB.name);
      assert.deepEqual(a.path, [outer.name, backbone.name, bnA.name]);
      assert.deepEqual(b.path, [outer.name, bnB.name]);
      for (const s of snaps)
        for (const p of s.path) assert.ok(!p.endsWith('_model'), `internal model in path ${s.path}`);
      // bnA saw the model input: its statistics are the input's
      const ref = moments64(data, shape);
      assertClose(a.lastTrainingCall!.batchMean, ref.mean, 'nested batch mean', { scale: maxAbs(data) });
      assert.equal(a.updates, 1);
      assert.equal(b.updates, 1);
      // a sequential wrapping the same backbone: the one used last gives the path
      const outerSeq = tf.sequential({
        name: `outerSeq_${backend}`,
        layers: [backbone, tf.layers.dense({ units: 1 })],
      });
      tf.dispose(outerSeq.predict(x) as tf.Tensor);
      assert.deepEqual(byName(inst.snapshotLayers(), bnA.name).path, [outerSeq.name, backbone.name, bnA.name]);
      tf.dispose(outer.predict(x) as tf.Tensor);
      assert.deepEqual(byName(inst.snapshotLayers(), bnA.name).path, [outer.name, backbone.name, bnA.name]);
      y.dispose();
      x.dispose();
      outer.dispose();
    });

    it('paths follow models that change between steps (add, pop, dispose), and stay the same when nothing changed', () => {
      // the paths of the previous step are reused while no model changed (layerPaths.ts): every change must show
      const x = tf.tensor(randn([2, 3], 12), [2, 3]);
      const bn = tf.layers.batchNormalization({ inputShape: [3], name: `bnP_${backend}` });
      const backbone = tf.sequential({ name: `backboneP_${backend}`, layers: [bn] });
      const head = tf.sequential({ name: `headP_${backend}` });
      const pathNow = () => byName(inst.snapshotLayers(), bn.name).path;
      tf.dispose(backbone.predict(x) as tf.Tensor);
      assert.deepEqual(pathNow(), [backbone.name, bn.name]);
      tf.dispose(backbone.predict(x) as tf.Tensor);
      assert.deepEqual(pathNow(), [backbone.name, bn.name], 'nothing changed');
      head.add(backbone);
      head.add(tf.layers.dense({ units: 1 }));
      assert.deepEqual(pathNow(), [head.name, backbone.name, bn.name], 'added to a model (not yet used)');
      tf.dispose(head.predict(x) as tf.Tensor);
      assert.deepEqual(pathNow(), [head.name, backbone.name, bn.name]);
      head.pop();
      head.pop();
      assert.deepEqual(pathNow(), [backbone.name, bn.name], 'popped out of it');
      const outer = tf.sequential({ name: `outerP_${backend}`, layers: [backbone] });
      tf.dispose(outer.predict(x) as tf.Tensor);
      assert.deepEqual(pathNow(), [outer.name, backbone.name, bn.name]);
      outer.dispose(); // disposes backbone and bn too: the layer is no longer listed
      assert.ok(!inst.snapshotLayers().some((l) => l.name === bn.name));
      head.dispose();
      x.dispose();
    });

    it('a layer marked UNINSTRUMENTED (the benchmark twin) is neither listed nor recorded; its output is unchanged', () => {
      const x = tf.tensor(randn([4, 3], 13), [4, 3]);
      const left = tf.layers.batchNormalization({});
      (left as unknown as Record<symbol, boolean>)[UNINSTRUMENTED] = true;
      const seen = tf.layers.batchNormalization({});
      const a = left.apply(x, { training: true }) as tf.Tensor;
      const b = seen.apply(x, { training: true }) as tf.Tensor;
      assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()), 'the same normalisation');
      const snaps = inst.snapshotLayers();
      assert.ok(!snaps.some((l) => l.name === left.name), 'not listed');
      assert.equal(byName(snaps, seen.name).updates, 1);
      tf.dispose([a, b, x]);
      left.dispose();
      seen.dispose();
    });

    it('a bare layer.apply: path [name]; a layer never built is not listed', () => {
      const shape = [3, 2];
      const data = randn(shape, 11);
      const x = tf.tensor(data, shape);
      const unbuilt = tf.layers.batchNormalization({});
      const bare = tf.layers.batchNormalization({ momentum: 0.5 });
      assert.ok(
        !inst.snapshotLayers().some((l) => l.name === bare.name || l.name === unbuilt.name),
        'not built: not listed',
      );
      const y = bare.apply(x, { training: true }) as tf.Tensor;
      const snaps = inst.snapshotLayers();
      const s = byName(snaps, bare.name);
      assert.ok(!snaps.some((l) => l.name === unbuilt.name));
      assert.deepEqual(s.path, [bare.name]);
      const ref = moments64(data, shape);
      assertClose(s.lastTrainingCall!.batchMean, ref.mean, 'bare batch mean', { scale: maxAbs(data) });
      assertClose(s.movingVariance, movingUpdate64(filled(2, 1), ref.variance, 0.5), 'bare moving var', {
        scale: maxAbs(data) ** 2,
      });
      y.dispose();
      x.dispose();
      bare.dispose();
    });

    it('layers are listed in creation order; disposed ones are dropped with their kept tensors', () => {
      const x = tf.tensor(randn([2, 2], 12), [2, 2]);
      const first = tf.layers.batchNormalization({ name: `first_${backend}` });
      const second = tf.layers.batchNormalization({ name: `second_${backend}` });
      // built in the opposite order
      tf.dispose(second.apply(x) as tf.Tensor);
      tf.dispose(first.apply(x, { training: true }) as tf.Tensor);
      const names = inst.snapshotLayers().map((l) => l.name);
      assert.ok(
        names.indexOf(first.name) >= 0 && names.indexOf(first.name) < names.indexOf(second.name),
        names.join(', '),
      );
      const kept = inst.keptTensors();
      first.dispose();
      second.dispose();
      const after = inst.snapshotLayers().map((l) => l.name);
      assert.ok(!after.includes(first.name) && !after.includes(second.name));
      assert.ok(inst.keptTensors() <= kept);
      // model.dispose() drops its layers too
      const m = tf.sequential({
        layers: [tf.layers.batchNormalization({ inputShape: [2], name: `inModel_${backend}` })],
      });
      tf.dispose(m.apply(x, { training: true }) as tf.Tensor);
      assert.ok(inst.snapshotLayers().some((l) => l.name === `inModel_${backend}`));
      m.dispose();
      assert.ok(!inst.snapshotLayers().some((l) => l.name === `inModel_${backend}`));
      x.dispose();
    });

    it('a model round-tripped through tf.loadLayersModel(tf.io.fromMemory(...))', async () => {
      const shape = [6, 3];
      const data = randn(shape, 13);
      const x = tf.tensor(data, shape);
      const src = tf.sequential({
        name: `saved_${backend}`,
        layers: [tf.layers.batchNormalization({ inputShape: [3], momentum: 0.5, name: `savedBn_${backend}` })],
      });
      tf.dispose(src.apply(x, { training: true }) as tf.Tensor);
      const trained = byName(inst.snapshotLayers(), `savedBn_${backend}`);
      let artifacts: tf.io.ModelArtifacts | null = null;
      await src.save(
        tf.io.withSaveHandler(async (a) => {
          artifacts = a;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      src.dispose();
      assert.ok(artifacts);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const y = loaded.predict(x) as tf.Tensor;
      const snaps = inst.snapshotLayers();
      const mine = snaps.filter((l) => l.name === `savedBn_${backend}`);
      assert.equal(mine.length, 1, 'the disposed original is gone, the loaded layer is listed');
      const s = mine[0];
      assert.deepEqual(s.path, [loaded.name, s.name]);
      assert.equal(loaded.name, `saved_${backend}`);
      assert.equal(s.momentum, 0.5);
      assertSame(s.movingMean, trained.movingMean, 'loaded moving mean');
      assertSame(s.movingVariance, trained.movingVariance, 'loaded moving variance');
      assert.equal(s.calls, 1);
      assert.equal(s.movingUpdated, false, 'loading is not an update');
      assert.deepEqual(codes(s), [], 'trained statistics were loaded: not stale');
      assertClose(
        read(y),
        normalize64(data, shape, -1, s.movingMean, s.movingVariance, 1e-3, s.gamma, s.beta),
        'loaded predict',
        {
          scale: 1,
        },
      );
      // training the loaded one updates it
      tf.dispose(loaded.apply(x, { training: true }) as tf.Tensor);
      const s2 = byName(inst.snapshotLayers(), s.name);
      assert.equal(s2.updates, 1);
      assertClose(
        s2.movingMean,
        movingUpdate64(s.movingMean, moments64(data, shape).mean, 0.5),
        'loaded moving mean update',
        {
          scale: maxAbs(data),
        },
      );
      y.dispose();
      x.dispose();
      loaded.dispose();
    });

    it('scale: false, center: false -> gamma and beta null; a call that throws keeps nothing', () => {
      const x = tf.tensor(randn([4, 2], 14), [4, 2]);
      const bn = tf.layers.batchNormalization({ scale: false, center: false });
      tf.dispose(bn.apply(x) as tf.Tensor);
      const s = byName(inst.snapshotLayers(), bn.name);
      assert.equal(s.gamma, null);
      assert.equal(s.beta, null);
      const kept = inst.keptTensors();
      const n = tf.memory().numTensors;
      // tfjs 4.22 reads gamma/beta unconditionally in training mode: it throws
      assert.throws(() => bn.apply(x, { training: true }));
      assert.equal(inst.keptTensors(), kept);
      assert.equal(tf.memory().numTensors, n);
      const s2 = byName(inst.snapshotLayers(), bn.name);
      assert.equal(s2.calls, 0);
      assert.equal(s2.updates, 0);
      x.dispose();
      bn.dispose();
    });

    it('NON_FINITE: a NaN in a training batch poisons the moving statistics', () => {
      const data = randn([3, 2], 15);
      data[2] = NaN; // channel 0
      const x = tf.tensor(data, [3, 2]);
      const bn = tf.layers.batchNormalization({});
      tf.dispose(bn.apply(x, { training: true }) as tf.Tensor);
      const s = byName(inst.snapshotLayers(), bn.name);
      assert.ok(Number.isNaN(s.movingMean[0]) && Number.isFinite(s.movingMean[1]));
      assert.deepEqual(codes(s), ['NON_FINITE']);
      assert.match(s.warnings[0].message, /moving mean \(channel 0\)/);
      // still NaN next step without a call: NaN stays NaN, which is not an update
      const s2 = byName(inst.snapshotLayers(), bn.name);
      assert.equal(s2.movingUpdated, false);
      assert.deepEqual(codes(s2), ['NON_FINITE']);
      x.dispose();
      bn.dispose();
    });

    it('a variable written between two steps is read again: new values, the same values, Infinity and back', () => {
      // a snapshot reuses what it read of a variable whose data is unchanged (bnSnapshot.ts, VarRead): every kind
      // of write between two steps must still show, with the findings that depend on the values
      const bn = tf.layers.batchNormalization({});
      const x = tf.tensor(randn([4, 2], 16), [4, 2]);
      const predictStep = () => {
        tf.dispose(bn.apply(x) as tf.Tensor);
        return byName(inst.snapshotLayers(), bn.name);
      };
      const set = (gamma: number[], beta: number[], mm: number[], mv: number[]) =>
        tf.tidy(() => bn.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta), tf.tensor1d(mm), tf.tensor1d(mv)]));
      const s1 = predictStep();
      assert.deepEqual(codes(s1), ['STALE_MOVING_STATS']);
      const s2 = predictStep(); // nothing written: the same values, read without a read-back
      assert.deepEqual(
        [Array.from(s2.movingMean), Array.from(s2.movingVariance)],
        [
          [0, 0],
          [1, 1],
        ],
      );
      assert.equal(s2.movingUpdated, false);
      assert.notEqual(s2.movingMean, s1.movingMean, 'each step its own vectors');

      set([2, 3], [-1, 0.5], [0.25, -4], [9, 0.5]);
      const s3 = predictStep();
      assert.deepEqual(
        [s3.gamma, s3.beta, s3.movingMean, s3.movingVariance].map((v) => Array.from(v!)),
        [
          [2, 3],
          [-1, 0.5],
          [0.25, -4],
          [9, 0.5],
        ],
      );
      assert.equal(s3.movingUpdated, true);
      assert.deepEqual(codes(s3), [], 'no longer the initial statistics');

      set([2, 3], [-1, 0.5], [0.25, -4], [9, 0.5]); // new data, the same values: not an update
      const s4 = predictStep();
      assert.equal(s4.movingUpdated, false);
      assert.deepEqual(Array.from(s4.movingVariance), [9, 0.5]);

      set([2, 3], [-1, 0.5], [0.25, -4], [9, Infinity]);
      const s5 = predictStep();
      assert.equal(s5.movingUpdated, true);
      assert.deepEqual(codes(s5), ['NON_FINITE']);
      assert.match(s5.warnings[0].message, /moving variance \(channel 1\)/);
      assert.deepEqual(codes(predictStep()), ['NON_FINITE'], 'unchanged data: the same finding');

      set([1, 1], [0, 0], [0, 0], [1, 1]); // back to the initial statistics
      const s6 = predictStep();
      assert.equal(s6.movingUpdated, true);
      assert.deepEqual(codes(s6), ['STALE_MOVING_STATS']);
      x.dispose();
      bn.dispose();
    });
    // ---- the two StackOverflow scenarios of ../../../shared/reference/tfjs-probe/a5_stackoverflow.mjs ----
    it('a5 scenario 1: frozen BN (epsilon 1e-9), predict ten times: identical outputs, why', () => {
      const x = tf.tidy(() => tf.randomNormal([3, 5], 0, 1, 'float32', 1).mul(5).add(0.3));
      const data = read(x);
      const shape = [3, 5];
      const model = tf.sequential({
        layers: [tf.layers.batchNormalization({ inputShape: [5], trainable: false, epsilon: 1e-9 })],
      });
      const name = model.layers[0].name;
      const ref = moments64(data, shape);
      const outs: Float32Array[] = [];
      for (let i = 0; i < 10; i++) {
        const o = model.predict(x) as tf.Tensor;
        outs.push(read(o));
        o.dispose();
        const s = byName(inst.snapshotLayers(), name);
        assert.equal(s.trainable, false);
        assert.equal(s.calls, 1);
        assert.equal(s.updates, 0);
        assert.equal(s.movingUpdated, false);
        assert.equal(s.lastCall!.training, false);
        assert.equal(s.lastCall!.statsUsed, 'moving');
        assert.equal(s.lastTrainingCall, null);
        assertSame(s.movingMean, filled(5, 0), 'moving mean stays 0');
        assertSame(s.movingVariance, filled(5, 1), 'moving variance stays 1');
        assert.deepEqual(codes(s), ['STALE_MOVING_STATS']);
        assertClose(s.lastCall!.batchMean, ref.mean, 'the input batch mean', { scale: maxAbs(data) });
        assertClose(s.lastCall!.batchVariance, ref.variance, 'the input batch variance', { scale: maxAbs(data) ** 2 });
      }
      for (const o of outs) assertSame(o, outs[0], 'ten predicts bit-identical');
      assertClose(outs[0], data, 'output == input (moving mean 0, variance 1, epsilon 1e-9)', { scale: maxAbs(data) });
      // apply with training: true on the trainable:false layer: batch statistics used, moving updated
      const o = model.apply(x, { training: true }) as tf.Tensor;
      const s = byName(inst.snapshotLayers(), name);
      assert.equal(s.updates, 1);
      assert.equal(s.movingUpdated, true);
      assert.deepEqual(codes(s), ['TRAINABLE_FALSE_STILL_UPDATES']);
      assertClose(s.movingMean, movingUpdate64(filled(5, 0), ref.mean, 0.99), 'moving mean 0.01 * mean', {
        scale: maxAbs(data),
      });
      assertClose(s.movingVariance, movingUpdate64(filled(5, 1), ref.variance, 0.99), 'moving var', {
        scale: maxAbs(data) ** 2,
      });
      const om = moments64(read(o), shape);
      assertClose(om.mean, filled(5, 0), 'training output mean 0', { atol: 1e-5 });
      assertClose(om.variance, filled(5, 1), 'training output variance 1', { atol: 1e-5 });
      o.dispose();
      x.dispose();
      model.dispose();
    });

    it('a5 scenario 2: fit(x, x, batchSize 3, epochs 10) with a dummy loss, then predict, apply(training), predict', async () => {
      const x = tf.tidy(() => tf.randomNormal([10, 5], 0, 1, 'float32', 2).mul(5).add(0.3));
      const data = read(x);
      const shape = [10, 5];
      const scale = maxAbs(data);
      const model = tf.sequential({
        layers: [tf.layers.batchNormalization({ inputShape: [5], momentum: 0.99, epsilon: 1e-9 })],
      });
      model.compile({ optimizer: 'sgd', loss: (_yTrue: tf.Tensor, yPred: tf.Tensor) => tf.mean(tf.mul(yPred, 0), -1) });
      const name = model.layers[0].name;
      // shuffle: false so the reference knows the batches (the probe shuffled; the statistics are the same kind)
      await model.fit(x, x, { batchSize: 3, epochs: 10, shuffle: false, verbose: 0 });
      let mm = filled(5, 0),
        mv = filled(5, 1);
      for (let e = 0; e < 10; e++)
        for (const [from, to] of [
          [0, 3],
          [3, 6],
          [6, 9],
          [9, 10],
        ]) {
          const b = sliceRows(data, shape, from, to);
          const r = moments64(b.data, b.shape);
          mm = movingUpdate64(mm, r.mean, 0.99);
          mv = movingUpdate64(mv, r.variance, 0.99);
        }
      const s = byName(inst.snapshotLayers(), name);
      assert.equal(s.calls, 40);
      assert.equal(s.updates, 40, '10 epochs x ceil(10/3) = 4 batches');
      assert.equal(s.movingUpdated, true);
      assert.deepEqual(codes(s), ['BATCH_OF_ONE']);
      assertClose(s.movingMean, mm, 'moving mean after fit', { scale, rtol: 1e-4 });
      assertClose(s.movingVariance, mv, 'moving variance after fit', { scale: scale * scale, rtol: 1e-4 });
      assertSame(s.gamma!, filled(5, 1), 'dummy loss: gamma unchanged');
      assertSame(s.lastTrainingCall!.batchVariance, filled(5, 0), 'last batch of one');

      const ref = moments64(data, shape);
      const p1 = model.predict(x) as tf.Tensor;
      const sp1 = byName(inst.snapshotLayers(), name);
      assert.equal(sp1.calls, 1);
      assert.equal(sp1.updates, 0);
      assert.equal(sp1.movingUpdated, false);
      assert.equal(sp1.lastCall!.statsUsed, 'moving');
      assert.deepEqual(sp1.lastTrainingCall!.inputShape, [1, 5], 'lastTrainingCall is still fit’s last batch');
      assert.deepEqual(codes(sp1), []);
      assertClose(
        read(p1),
        normalize64(data, shape, -1, sp1.movingMean, sp1.movingVariance, 1e-9, null, null),
        'predict #1',
        { scale: 1 },
      );

      const o = model.apply(x, { training: true }) as tf.Tensor;
      const sa = byName(inst.snapshotLayers(), name);
      assert.equal(sa.updates, 1);
      assert.equal(sa.movingUpdated, true);
      assertClose(sa.lastTrainingCall!.batchMean, ref.mean, 'apply batch mean', { scale });
      assertClose(sa.movingMean, movingUpdate64(sp1.movingMean, ref.mean, 0.99), 'moving = 0.99 old + 0.01 mean', {
        scale,
      });
      assertClose(sa.movingVariance, movingUpdate64(sp1.movingVariance, ref.variance, 0.99), 'moving variance', {
        scale: scale * scale,
      });
      assertClose(
        read(o),
        normalize64(data, shape, -1, ref.mean, ref.variance, 1e-9, null, null),
        'apply(training) output',
        { scale: 1 },
      );
      o.dispose();

      const p2 = model.predict(x) as tf.Tensor;
      const sp2 = byName(inst.snapshotLayers(), name);
      assert.equal(sp2.movingUpdated, false);
      assert.equal(sp2.lastCall!.training, false);
      assert.deepEqual(sp2.lastTrainingCall!.inputShape, [10, 5]);
      const a1 = read(p1),
        a2 = read(p2);
      assert.ok(
        a1.some((v, i) => v !== a2[i]),
        'predict #2 differs from #1',
      );
      tf.dispose([p1, p2, x]);
      model.dispose();
    });

    it('keeps no tensor once a step is read back, apart from records replaced later', () => {
      const x = tf.tensor(randn([4, 3], 16), [4, 3]);
      const model = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [3] })] });
      tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
      tf.dispose(model.predict(x) as tf.Tensor);
      assert.ok(inst.keptTensors() > 0);
      inst.snapshotLayers();
      assert.equal(inst.keptTensors(), 0);
      x.dispose();
      model.dispose();
    });
  });
}

describe('bnInstrument recompute mode (the fallback where the moments export cannot be patched)', function () {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`gives the same batch statistics as capture mode, bit for bit (${backend})`, async () => {
      assert.ok(await tf.setBackend(backend));
      await tf.ready();
      const shape = [7, 3, 3, 4];
      const data = randn(shape, 21);
      const x = tf.tensor(data, shape);
      const results: { mean: Float32Array; variance: Float32Array; mm: Float32Array; lastMean: Float32Array }[] = [];
      for (const forceRecompute of [false, true]) {
        const inst = installBnInstrument(tf, { forceRecompute });
        assert.equal(inst.captureMode(), forceRecompute ? 'recompute' : 'capture');
        const bn = tf.layers.batchNormalization({ momentum: 0.7 });
        tf.dispose(bn.apply(x, { training: true }) as tf.Tensor);
        tf.dispose(bn.apply(x.slice([0], [2]), { training: false }) as tf.Tensor);
        const s = byName(inst.snapshotLayers(), bn.name);
        results.push({
          mean: s.lastTrainingCall!.batchMean,
          variance: s.lastTrainingCall!.batchVariance,
          mm: s.movingMean,
          lastMean: s.lastCall!.batchMean,
        });
        assert.equal(inst.captureMode(), forceRecompute ? 'recompute' : 'capture');
        assert.equal(inst.captureNote() === null, !forceRecompute);
        bn.dispose();
        inst.uninstall();
      }
      const [cap, rec] = results;
      assertSame(rec.mean, cap.mean, 'training batch mean');
      assertSame(rec.variance, cap.variance, 'training batch variance');
      assertSame(rec.mm, cap.mm, 'moving mean');
      assertSame(rec.lastMean, cap.lastMean, 'inference batch mean');
      const ref = moments64(data, shape);
      assertClose(rec.mean, ref.mean, 'recomputed mean vs float64', { scale: maxAbs(data) });
      assertClose(rec.variance, ref.variance, 'recomputed variance vs float64', { scale: maxAbs(data) ** 2 });
      x.dispose();
    });
  }
});

describe('bnInstrument uninstall', function () {
  it('restores every patched function and releases every kept tensor', async () => {
    await tf.setBackend('cpu');
    await tf.ready();
    const BN = (tf.serialization.SerializationMap.getMap().classNameMap as Record<string, unknown[]>)
      .BatchNormalization[0] as {
      prototype: Record<string, unknown>;
    };
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- tfjs-core's own CJS exports object, the one the instrument patches
    const core = require('@tensorflow/tfjs-core');
    const classMap = tf.serialization.SerializationMap.getMap().classNameMap as Record<string, unknown>;
    const before = {
      call: BN.prototype.call,
      build: BN.prototype.build,
      moments: core.moments,
      model: tf.model,
      sequential: tf.sequential,
      fit: (tf.LayersModel.prototype as unknown as Record<string, unknown>).fit,
      seqAdd: (tf.Sequential.prototype as unknown as Record<string, unknown>).add,
      ownApply: Object.prototype.hasOwnProperty.call(tf.LayersModel.prototype, 'apply'),
      sequentialEntry: classMap.Sequential,
    };
    const n0 = tf.memory().numTensors;
    const inst = installBnInstrument(tf);
    assert.notEqual(BN.prototype.call, before.call);
    assert.notEqual(core.moments, before.moments);
    const x = tf.ones([2, 2]);
    const m = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [2] })] });
    tf.dispose(m.apply(x, { training: true }) as tf.Tensor);
    assert.ok(inst.keptTensors() > 0);
    inst.uninstall();
    assert.equal(inst.keptTensors(), 0);
    assert.equal(BN.prototype.call, before.call);
    assert.equal(BN.prototype.build, before.build);
    assert.equal(core.moments, before.moments);
    assert.equal(tf.moments, before.moments);
    assert.equal(tf.model, before.model);
    assert.equal(tf.sequential, before.sequential);
    assert.equal((tf.LayersModel.prototype as unknown as Record<string, unknown>).fit, before.fit);
    assert.equal((tf.Sequential.prototype as unknown as Record<string, unknown>).add, before.seqAdd);
    assert.equal(Object.prototype.hasOwnProperty.call(tf.LayersModel.prototype, 'apply'), before.ownApply);
    assert.equal(classMap.Sequential, before.sequentialEntry);
    m.dispose();
    x.dispose();
    // the model's weights (2 BN variables + gamma/beta) are gone; nothing of the instrument remains
    assert.equal(tf.memory().numTensors, n0);
  });
});

describe('bnInstrument in an esbuild CJS bundle (the worker build: platform node, mainFields main,module)', function () {
  it('captures the exact batch statistics there too', async function () {
    const esbuild = await import('esbuild');
    const root = resolve(__dirname, '../..');
    const dir = mkdtempSync(join(tmpdir(), 'bn-bundle-'));
    try {
      const entry = `
        import * as tf from '@tensorflow/tfjs';
        import { installBnInstrument } from './src/worker/bnInstrument';
        (async () => {
          await tf.setBackend('cpu'); await tf.ready();
          const inst = installBnInstrument(tf);
          const x = tf.tensor2d([[1, 2], [3, 5], [8, 13]]);
          const m = tf.sequential({ name: 'm', layers: [tf.layers.batchNormalization({ inputShape: [2], name: 'bn' })] });
          m.apply(x, { training: true });
          const s = inst.snapshotLayers()[0];
          process.stdout.write(JSON.stringify({ mode: inst.captureMode(), path: s.path,
            mean: Array.from(s.lastTrainingCall.batchMean), variance: Array.from(s.lastTrainingCall.batchVariance) }));
        })();`;
      const out = join(dir, 'bundle.js');
      await esbuild.build({
        stdin: { contents: entry, resolveDir: root, loader: 'ts', sourcefile: 'entry.ts' },
        bundle: true,
        platform: 'node',
        format: 'cjs',
        mainFields: ['main', 'module'],
        outfile: out,
        logLevel: 'silent',
      });
      writeFileSync(join(dir, 'package.json'), '{}');
      const res = JSON.parse(
        execFileSync(process.execPath, [out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
      );
      assert.equal(res.mode, 'capture');
      assert.deepEqual(res.path, ['m', 'bn']);
      assertClose(res.mean, [4, 20 / 3], 'bundle batch mean');
      assertClose(
        res.variance,
        [(9 + 1 + 16) / 3, ((20 / 3 - 2) ** 2 + (20 / 3 - 5) ** 2 + (13 - 20 / 3) ** 2) / 3],
        'bundle batch variance',
        {
          scale: 10,
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
