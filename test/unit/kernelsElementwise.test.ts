/**
 * The element-wise wasm kernels of src/worker/kernels (wasmElementwise.ts: the ReLU6 gradient's GreaterEqual,
 * LessEqual, Greater, Less, LogicalAnd, Select; wasmBatchNorm.ts: FusedBatchNorm; wasmArithmetic.ts: Add, Sub,
 * Multiply, Relu, Square) and the SIMD column sums
 * behind Sum / Mean over leading axes:
 * every result checked element by element against plain JS comparisons / float64 sums (independent of tfjs)
 * and against the stock tfjs cpu kernels, on lengths that are and are not multiples of the SIMD width (16), with
 * NaN, ±0, ±Infinity and values equal to the scalar.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';
import { backendMemory, simdKernelsFor } from '../../src/worker/kernels/simdKernelModule';
import { channelMomentsOnWasmHeap } from '../../src/worker/channelMomentsWasmHeap';
import { requestInputMoments, withdrawInputMoments } from '../../src/worker/fusedInputMoments';
import { assertChannelMoments } from './reference';
import { shipWasm } from './shippedWasm';

// the wasm build the engine ships: threaded (all cores), or single-threaded with BN_INSPECTOR_WASM_THREADS=1
shipWasm(tf);

const SIZES = [1024, 1029, 4099, 16 * 300 + 15];
const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 6, 0.5, -0.5];

/** deterministic values: mostly in [-8, 8] (so both sides of 0 and 6), some specials, some exactly 0 and 6 */
function values(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.sin(i * 12.9898 + seed * 78.233) * 43758.5453;
    const u = r - Math.floor(r);
    v[i] = i % 37 === 0 ? SPECIAL[(i / 37) % SPECIAL.length] : Math.round((u * 16 - 8) * 4) / 4;
  }
  return v;
}

async function onBackend<T>(name: string, f: () => T): Promise<T> {
  await tf.setBackend(name);
  await tf.ready();
  return f();
}

const OPS = {
  GreaterEqual: { f: tf.greaterEqual, ref: (a: number, b: number) => a >= b },
  LessEqual: { f: tf.lessEqual, ref: (a: number, b: number) => a <= b },
  Greater: { f: tf.greater, ref: (a: number, b: number) => a > b },
  Less: { f: tf.less, ref: (a: number, b: number) => a < b },
} as const;

describe('kernels: element-wise wasm kernels (ReLU6 gradient, BN normalisation) and SIMD column sums', function () {
  this.timeout(120000);
  let before0 = 'wasm';
  before(async () => {
    before0 = tf.getBackend() ?? 'wasm';
    unregisterMissingKernels(tf);
    const cpu = tf.engine().findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (cpu) cpu.firstUse = false;
  });
  after(async () => {
    unregisterMissingKernels(tf);
    await tf.setBackend(before0);
    await tf.ready();
  });

  it('the SIMD module instantiates on the wasm backend here (so the SIMD paths below are the ones tested)', async () => {
    await onBackend('wasm', () => {
      const m = backendMemory(tf.backend());
      assert.ok(m instanceof WebAssembly.Memory, 'the backend memory is found');
      assert.ok(simdKernelsFor(m) !== null, 'WebAssembly SIMD available');
    });
  });

  it('relu and clip with lo = +0 (pseudo-max + 0, pseudo-min): the values of max(x, lo) then min(·, hi) with NaN kept and max(-0, +0) = +0, for every special value and hi', async () => {
    await onBackend('wasm', () => {
      const backend = tf.backend() as unknown as {
        makeOutput(s: number[], d: string): { dataId: object };
        typedArrayFromHeap(t: object): Float32Array;
        disposeData(id: object): void;
      };
      const k = simdKernelsFor(backendMemory(tf.backend())!)!;
      const specials = [0, -0, NaN, Infinity, -Infinity, 6, -6, 1e-45, -1e-45, 1e-38, -1e-38, 3.4e38, -3.4e38, 0.5];
      const n = 4096;
      const src = Float32Array.from({ length: n }, (_, i) =>
        i < 4 * specials.length ? specials[i % specials.length] : Math.sin(i * 1.7) * 9 * (i % 5 === 0 ? 1e-39 : 1),
      );
      const xT = { ...backend.makeOutput([n], 'float32'), shape: [n], dtype: 'float32' };
      const oT = { ...backend.makeOutput([n], 'float32'), shape: [n], dtype: 'float32' };
      try {
        // the reference: f32x4.max / min's rules in JS (NaN wins, -0 < +0), then float32
        const maxRef = (a: number, b: number) =>
          a !== a || b !== b ? NaN : a === 0 && b === 0 ? (Object.is(a, -0) ? b : a) : Math.max(a, b);
        const minRef = (a: number, b: number) =>
          a !== a || b !== b ? NaN : a === 0 && b === 0 ? (Object.is(a, -0) ? a : b) : Math.min(a, b);
        backend.typedArrayFromHeap(xT).set(src);
        const fmt = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
        const check = (what: string, ref: (v: number) => number) => {
          const got = backend.typedArrayFromHeap(oT);
          for (let i = 0; i < n; i++) {
            const want = Math.fround(ref(src[i]));
            assert.ok(Object.is(got[i], want), `${what}: x = ${fmt(src[i])} gave ${fmt(got[i])}, want ${fmt(want)}`);
          }
        };
        const x = backend.typedArrayFromHeap(xT).byteOffset;
        const o = () => backend.typedArrayFromHeap(oT).byteOffset;
        k.relu(o(), x, n / 4, 0);
        check('relu', (v) => maxRef(v, 0));
        for (const hi of [6, 1, 1e-45, Infinity, 3.4e38]) {
          k.clip(o(), x, n / 4, 0, hi);
          check(`clip(0, ${hi})`, (v) => minRef(maxRef(v, 0), Math.fround(hi)));
        }
        // the general body where lo is not +0 (or hi not > 0)
        for (const [lo, hi] of [
          [-0, 6],
          [-1, 1],
          [0, -0],
          [0, NaN],
          [-Infinity, 0],
        ]) {
          k.clip(o(), x, n / 4, lo, hi);
          check(`clip(${Object.is(lo, -0) ? '-0' : lo}, ${Object.is(hi, -0) ? '-0' : hi})`, (v) =>
            minRef(maxRef(v, Math.fround(lo)), Math.fround(hi)),
          );
        }
      } finally {
        backend.disposeData(xT.dataId);
        backend.disposeData(oT.dataId);
      }
    });
  });

  it('colSums / colSqDev / colDyDev: bit for bit the row-order float64 sums, from a non-zero start, across blocks and a last 4 channels', async () => {
    await onBackend('wasm', () => {
      const k = simdKernelsFor(backendMemory(tf.backend())!)!;
      const b = tf.backend() as unknown as { dataIdMap: { get(id: object): { memoryOffset: number } } };
      const at = (t: tf.Tensor) => b.dataIdMap.get(t.dataId).memoryOffset;
      // rows of 16 KiB and more (one row a block), blocks of a few rows, of many; 8-channel groups and a last 4
      for (const [R, C] of [
        [3, 4100],
        [37, 12],
        [1000, 144],
        [4099, 8],
        [130, 4],
        [65, 1028],
      ] as const) {
        const xv = Float32Array.from(
          values(R * C, C),
          (v, i) => (isFinite(v) ? v : 0.1) * (1 + (i % 7)) + 1000 * (i % 3),
        );
        const mv = Float32Array.from({ length: C }, (_, c) => 1000 + Math.sin(c));
        const start = Float64Array.from({ length: C }, (_, c) => c * 0.3 - 2);
        const x = tf.tensor(xv, [R, C]);
        const m = tf.tensor(mv, [C]);
        const sums = tf.zeros([2 * C + 2]); // a float64 accumulator per channel, 8-byte aligned inside it
        const sq = tf.zeros([2 * C + 2]);
        const dyv = Float32Array.from(values(R * C, C + 1), (v) => (isFinite(v) ? v : -0.25));
        const dy = tf.tensor(dyv, [R, C]);
        const dys = tf.zeros([2 * C + 2]);
        const dyx = tf.zeros([2 * C + 2]);
        const aligned = (t: tf.Tensor) => (at(t) + 7) & ~7;
        const heap = () => backendMemory(tf.backend())!.buffer;
        new Float64Array(heap(), aligned(sums), C).set(start);
        new Float64Array(heap(), aligned(sq), C).set(start);
        new Float64Array(heap(), aligned(dys), C).set(start);
        new Float64Array(heap(), aligned(dyx), C).set(start);
        k.colSums(aligned(sums), at(x), R, 4 * C);
        k.colSqDev(aligned(sq), at(x), at(m), R, 4 * C);
        k.colDyDev(aligned(dys), aligned(dyx), at(dy), at(x), at(m), R, 4 * C);
        const gotSums = new Float64Array(heap(), aligned(sums), C).slice();
        const gotSq = new Float64Array(heap(), aligned(sq), C).slice();
        const gotDy = new Float64Array(heap(), aligned(dys), C).slice();
        const gotDyX = new Float64Array(heap(), aligned(dyx), C).slice();
        for (let c = 0; c < C; c++) {
          let s1 = start[c],
            s2 = start[c],
            s3 = start[c],
            s4 = start[c];
          for (let r = 0; r < R; r++) {
            const v = xv[r * C + c];
            s1 += v;
            const d = Math.fround(v - mv[c]);
            s2 += Math.fround(d * d);
            s3 += dyv[r * C + c];
            s4 += Math.fround(dyv[r * C + c] * d);
          }
          assert.ok(Object.is(gotSums[c], s1), `[${R}, ${C}] colSums[${c}] ${gotSums[c]} vs ${s1}`);
          assert.ok(Object.is(gotSq[c], s2), `[${R}, ${C}] colSqDev[${c}] ${gotSq[c]} vs ${s2}`);
          assert.ok(Object.is(gotDy[c], s3), `[${R}, ${C}] colDyDev dy[${c}] ${gotDy[c]} vs ${s3}`);
          assert.ok(Object.is(gotDyX[c], s4), `[${R}, ${C}] colDyDev dy·d[${c}] ${gotDyX[c]} vs ${s4}`);
        }
        tf.dispose([x, m, sums, sq, dy, dys, dyx]);
      }
    });
  });

  for (const [name, { f, ref }] of Object.entries(OPS)) {
    it(`${name}: against a scalar and a same-shape tensor, float32 and int32, vs plain JS and stock cpu`, async () => {
      for (const n of SIZES)
        for (const dtype of ['float32', 'int32'] as const)
          for (const scalarValue of dtype === 'float32' ? [0, 6, -0, NaN] : [0, 6]) {
            const av = dtype === 'float32' ? values(n, n) : Int32Array.from(values(n, n), (v) => (isFinite(v) ? v : 3));
            const bv =
              dtype === 'float32' ? values(n, n + 1) : Int32Array.from(values(n, n + 1), (v) => (isFinite(v) ? v : -2));
            const run = (backend: string) =>
              onBackend(backend, () => {
                const a = tf.tensor(av, [n], dtype);
                const s = tf.scalar(scalarValue, dtype);
                const b = tf.tensor(bv, [n], dtype);
                const s4 = tf.tensor([scalarValue], [1], dtype); // a one-element second operand of rank 1
                const outs = [f(a, s), f(a, b), f(a, s4)];
                const res = outs.map((o) => {
                  assert.equal(o.dtype, 'bool');
                  return Array.from(o.dataSync());
                });
                tf.dispose([a, s, b, s4, ...outs]);
                return res;
              });
            const stock = await run('cpu');
            await onBackend('wasm', () => registerMissingKernels(tf, { backends: ['wasm'] }));
            const got = await run('wasm');
            const what = `${name} n=${n} ${dtype} s=${scalarValue}`;
            const expectScalar = Array.from(av, (x) => +ref(x, scalarValue));
            const expectTensor = Array.from(av, (x, i) => +ref(x, bv[i]));
            assert.deepEqual(got[0], expectScalar, `${what} vs scalar`);
            assert.deepEqual(got[1], expectTensor, `${what} vs tensor`);
            assert.deepEqual(got[2], expectScalar, `${what} vs [1]`);
            assert.deepEqual(got, stock, `${what}: stock cpu`);
          }
    });
  }

  it('LogicalAnd and Select (where) of the ReLU6 gradient, vs plain JS and stock cpu', async () => {
    for (const n of SIZES) {
      const xv = values(n, 3);
      const dyv = values(n, 4);
      const run = (backend: string) =>
        onBackend(backend, () => {
          const x = tf.tensor(xv, [n]);
          const dy = tf.tensor(dyv, [n]);
          const lo = tf.greaterEqual(x, 0);
          const hi = tf.lessEqual(x, 6);
          const mask = tf.logicalAnd(lo, hi);
          const zeros = tf.zerosLike(dy);
          const sel = tf.where(mask, dy, zeros);
          const sel2 = tf.where(hi, x, dy); // the other operand non-zero too: no shortcut through zeros
          const res = { mask: Array.from(mask.dataSync()), sel: sel.dataSync().slice(), sel2: sel2.dataSync().slice() };
          tf.dispose([x, dy, lo, hi, mask, zeros, sel, sel2]);
          return res;
        });
      const stock = await run('cpu');
      await onBackend('wasm', () => registerMissingKernels(tf, { backends: ['wasm'] }));
      const got = await run('wasm');
      const mask = Array.from(xv, (x) => +(x >= 0 && x <= 6));
      assert.deepEqual(got.mask, mask, `mask n=${n}`);
      // bit-exact selection (Object.is: -0 and NaN kept as they are)
      for (let i = 0; i < n; i++) {
        assert.ok(Object.is(got.sel[i], mask[i] ? dyv[i] : 0), `select n=${n} i=${i}: ${got.sel[i]}`);
        assert.ok(Object.is(got.sel2[i], xv[i] <= 6 ? xv[i] : dyv[i]), `select2 n=${n} i=${i}`);
      }
      assert.deepEqual(got.mask, stock.mask, 'stock cpu mask');
      assert.deepEqual(Array.from(got.sel), Array.from(stock.sel), 'stock cpu select');
      assert.deepEqual(Array.from(got.sel2), Array.from(stock.sel2), 'stock cpu select 2');
    }
  });

  it('Sum / Mean over leading axes with channels a multiple of 4 (SIMD, float64 sums): within float32 rounding', async () => {
    await onBackend('wasm', () => registerMissingKernels(tf, { backends: ['wasm'] }));
    for (const shape of [
      [8, 16, 16, 36],
      [4099, 8],
      [2, 64, 64, 4],
    ]) {
      const C = shape[shape.length - 1];
      const R = shape.reduce((a, b) => a * b, 1) / C;
      // a large common offset: float32 running sums would lose ~1e-5 relative here, float64 ones do not
      const xv = Float32Array.from(values(R * C, 9), (v) => (isFinite(v) ? 1000 + v : 1000));
      const ref = new Float64Array(C);
      for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) ref[c] += xv[r * C + c];
      await onBackend('wasm', () => {
        const x = tf.tensor(xv, shape);
        const axes = shape.slice(0, -1).map((_, i) => i);
        const s = tf.sum(x, axes);
        const m = tf.mean(x, axes);
        const sv = s.dataSync(),
          mv = m.dataSync();
        for (let c = 0; c < C; c++) {
          assert.ok(
            Math.abs(sv[c] - ref[c]) <= 1.2e-7 * Math.abs(ref[c]),
            `sum ${shape} c=${c}: ${sv[c]} vs ${ref[c]}`,
          );
          assert.ok(
            Math.abs(mv[c] - ref[c] / R) <= 1.2e-7 * Math.abs(ref[c] / R),
            `mean ${shape} c=${c}: ${mv[c]} vs ${ref[c] / R}`,
          );
        }
        tf.dispose([x, s, m]);
      });
    }
  });

  it('FusedBatchNorm (tf.batchNorm): per-channel or single-value parameters, vs float64 reference and stock cpu', async () => {
    const cases: Array<{ shape: number[]; offset: boolean; scale: boolean; scalarMean?: boolean; big?: boolean }> = [
      { shape: [8, 16, 16, 36], offset: true, scale: true },
      { shape: [4099, 8], offset: false, scale: true },
      { shape: [2, 32, 32, 4], offset: true, scale: false, scalarMean: true },
      { shape: [8, 8, 8, 16], offset: true, scale: true, big: true }, // mean ~1000: (x - mean) first
      { shape: [4, 8, 8, 6], offset: true, scale: true }, // 6 channels: the stock kernel
    ];
    for (const c of cases) {
      const C = c.shape[c.shape.length - 1];
      const n = c.shape.reduce((a, b) => a * b, 1);
      const xv = Float32Array.from(values(n, 11), (v) => (isFinite(v) ? v : 1) + (c.big ? 1000 : 0));
      const mv = c.scalarMean
        ? Float32Array.of(0.25)
        : Float32Array.from({ length: C }, (_, i) => (c.big ? 1000 : 0) + Math.sin(i));
      const vv = Float32Array.from({ length: C }, (_, i) => 0.5 + (i % 5) * 0.3);
      const ov = Float32Array.from({ length: C }, (_, i) => Math.cos(i) * 2);
      const sv = Float32Array.from({ length: C }, (_, i) => 0.5 + (i % 3));
      const eps = 1e-3;
      const run = (backend: string) =>
        onBackend(backend, () => {
          const t = [tf.tensor(xv, c.shape), tf.tensor(mv, [mv.length]), tf.tensor(vv, [C])];
          const off = c.offset ? tf.tensor(ov, [C]) : undefined;
          const sc = c.scale ? tf.tensor(sv, [C]) : undefined;
          const y = tf.batchNorm(t[0], t[1], t[2], off, sc, eps);
          const r = y.dataSync().slice() as Float32Array;
          tf.dispose([...t, y, ...(off ? [off] : []), ...(sc ? [sc] : [])]);
          return r;
        });
      const stock = await run('cpu');
      await onBackend('wasm', () => registerMissingKernels(tf, { backends: ['wasm'] }));
      const got = await run('wasm');
      for (let i = 0; i < n; i++) {
        const ch = i % C;
        const m = c.scalarMean ? mv[0] : mv[ch];
        const s = (c.scale ? sv[ch] : 1) / Math.sqrt(vv[ch] + eps);
        const ref = (xv[i] - m) * s + (c.offset ? ov[ch] : 0);
        // float32: x - mean exact-ish, then two roundings of terms of this size
        const tol = 4 * 2 ** -24 * (Math.abs(xv[i] - m) * s + Math.abs(c.offset ? ov[ch] : 0) + Math.abs(m) * s);
        assert.ok(Math.abs(got[i] - ref) <= tol, `${JSON.stringify(c)} i=${i}: ${got[i]} vs ${ref}`);
        assert.ok(
          Math.abs(got[i] - stock[i]) <= 2 * tol,
          `${JSON.stringify(c)} i=${i}: ${got[i]} vs stock ${stock[i]}`,
        );
      }
    }
  });

  it('FusedBatchNorm answers an input-moments request in its pass: the same output bit for bit, exact moments', async () => {
    // channel counts 4, 8, 12 (8 + 4), 16, 20, 256; rows across several blocks of the walk (2048 rows at 16 channels)
    const shapes = [
      [1100, 4],
      [4099, 8],
      [700, 12],
      [4, 32, 32, 16],
      [513, 20],
      [64, 256],
      [2, 5, 5, 6],
    ];
    await onBackend('wasm', () => registerMissingKernels(tf, { backends: ['wasm'] }));
    for (const shape of shapes) {
      const C = shape[shape.length - 1];
      const n = shape.reduce((a, b) => a * b, 1);
      // per-channel offsets (a channel mix-up shows), one channel ~1000 (the shift matters), no non-finite values
      const xv = Float32Array.from(
        values(n, 5),
        (v, i) => (isFinite(v) ? v : 1) + (i % C) * 0.5 + (i % C === 1 ? 1000 : 0),
      );
      const param = (f: (i: number) => number) =>
        tf.tensor(
          Float32Array.from({ length: C }, (_, i) => f(i)),
          [C],
        );
      const p = [
        param((i) => Math.sin(i)),
        param((i) => 0.5 + (i % 5) * 0.3),
        param((i) => Math.cos(i)),
        param((i) => 0.5 + (i % 3)),
      ];
      const x = tf.tensor(xv, shape);
      const plain = tf.batchNorm(x, p[0], p[1], p[2], p[3], 1e-3);
      const other = tf.tensor(xv, shape); // not the data asked about: not answered
      const r = requestInputMoments(other.dataId);
      const y = tf.batchNorm(x, p[0], p[1], p[2], p[3], 1e-3);
      assert.equal(r.result, null, `${shape}: a request for other data is left alone`);
      withdrawInputMoments(r);
      const q = requestInputMoments(x.dataId);
      const yq = tf.batchNorm(x, p[0], p[1], p[2], p[3], 1e-3);
      withdrawInputMoments(q);
      const after = requestInputMoments(x.dataId);
      withdrawInputMoments(after);
      tf.dispose(tf.batchNorm(x, p[0], p[1], p[2], p[3], 1e-3));
      assert.equal(after.result, null, `${shape}: a withdrawn request is not answered`);
      const [a, b, c] = [plain, y, yq].map((t) => t.dataSync());
      for (let i = 0; i < n; i++)
        assert.ok(Object.is(a[i], c[i]) && Object.is(a[i], b[i]), `${shape} i=${i}: ${c[i]} vs ${a[i]}`);
      if (C % 4 !== 0) {
        assert.equal(q.result, null, `${shape}: ${C} channels, the stock kernel, no answer`);
      } else {
        assert.ok(q.result, `${shape}: answered`);
        assertChannelMoments(q.result, xv, C, `${shape}`);
        const apart = channelMomentsOnWasmHeap(tf, x, -1)!;
        for (let j = 0; j < C; j++)
          assert.ok(
            Object.is(apart.mean[j], q.result.mean[j]) && Object.is(apart.variance[j], q.result.variance[j]),
            `${shape} channel ${j}: the same bits as the moments apart`,
          );
      }
      tf.dispose([x, other, plain, y, yq, ...p]);
    }
  });

  it('Add, Sub, Multiply (equal shapes, channel vectors both ways, one-element operands), Relu, Square, ClipByValue: exact', async () => {
    const ops = {
      add: { f: tf.add, js: (a: number, b: number) => Math.fround(a + b) },
      sub: { f: tf.sub, js: (a: number, b: number) => Math.fround(a - b) },
      mul: { f: tf.mul, js: (a: number, b: number) => Math.fround(a * b) },
    };
    const shapes: Array<[number[], number[]]> = [
      [
        [8, 16, 16, 12],
        [8, 16, 16, 12],
      ],
      [[4099], [4099]], // not a multiple of 4: a JS tail
      [[8, 16, 16, 12], [12]],
      [[12], [8, 16, 16, 12]],
      [
        [1, 1, 1, 12],
        [8, 16, 16, 12],
      ],
      [
        [8, 16, 16, 12],
        [1, 1, 1, 12],
      ],
      [[4099, 3], []], // scalar, tail
      [[], [4099, 3]],
      [[1], [2, 2051]],
      [[8, 16, 16, 6], [6]], // 6 channels: the stock kernel
    ];
    for (const [name, { f, js }] of Object.entries(ops))
      for (const [sa, sb] of shapes) {
        const na = sa.reduce((p, d) => p * d, 1),
          nb = sb.reduce((p, d) => p * d, 1);
        const av = values(na, na + 3),
          bv = values(nb, nb + 5);
        const run = (backend: string) =>
          onBackend(backend, () => {
            const a = tf.tensor(av, sa),
              b = tf.tensor(bv, sb);
            const y = f(a, b);
            const r = { shape: y.shape, v: y.dataSync().slice() as Float32Array };
            tf.dispose([a, b, y]);
            return r;
          });
        const stock = await run('cpu');
        await onBackend('wasm', () => registerMissingKernels(tf, { backends: ['wasm'] }));
        const got = await run('wasm');
        const what = `${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`;
        assert.deepEqual(got.shape, stock.shape, what);
        const n = got.v.length;
        const rank = got.shape.length;
        const C = rank ? got.shape[rank - 1] : 1;
        for (let i = 0; i < n; i++) {
          const ai = na === 1 ? 0 : na === n ? i : i % C;
          const bi = nb === 1 ? 0 : nb === n ? i : i % C;
          const ref = js(av[ai], bv[bi]);
          assert.ok(Object.is(got.v[i], ref) || (got.v[i] === 0 && ref === 0), `${what} i=${i}: ${got.v[i]} vs ${ref}`);
          assert.ok(Object.is(got.v[i], stock.v[i]) || (got.v[i] === 0 && stock.v[i] === 0), `${what}: stock cpu`);
        }
      }
    for (const op of ['relu', 'square', 'clip'] as const)
      for (const n of SIZES.concat([4099, 8192])) {
        const xv = values(n, 21);
        const run = (backend: string) =>
          onBackend(backend, () => {
            const x = tf.tensor(xv, [n]);
            const y = op === 'relu' ? tf.relu(x) : op === 'square' ? tf.square(x) : tf.clipByValue(x, 0, 6);
            const r = y.dataSync().slice() as Float32Array;
            tf.dispose([x, y]);
            return r;
          });
        const stock = await run('cpu');
        await onBackend('wasm', () => registerMissingKernels(tf, { backends: ['wasm'] }));
        const got = await run('wasm');
        for (let i = 0; i < n; i++) {
          const v = xv[i];
          const ref =
            op === 'relu'
              ? v < 0
                ? 0
                : v
              : op === 'square'
                ? Math.fround(v * v)
                : v !== v
                  ? v
                  : Math.min(Math.max(v, 0), 6);
          // -0 and 0 alike (relu of -0)
          assert.ok(Object.is(got[i], ref) || (got[i] === 0 && ref === 0), `${op} n=${n} i=${i}: ${got[i]} vs ${ref}`);
          assert.ok(Object.is(got[i], stock[i]) || (got[i] === 0 && stock[i] === 0), `${op} n=${n} i=${i}: stock`);
        }
      }
  });
});
