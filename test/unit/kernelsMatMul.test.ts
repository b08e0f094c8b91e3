/**
 * The wasm BatchMatMul / _FusedMatMul products by the SIMD kernel gemm4x8 (src/worker/kernels/denseMatMul.ts):
 * every operand order (NN, TN, NT both ways, TT), batches and broadcast batches, a bias, relu / relu6, sizes that
 * are not multiples of 4 or 8 (the padded tails) against a float64 reference (plain loops) and the stock tfjs
 * cpu kernels; the SIMD kernel counted where it must run; a dense model's gradients against stock cpu; no leak.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { denseMatMulSettings, preferSimd } from '../../src/worker/kernels/denseMatMul';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';
import { backendMemory, simdKernelsFor, type SimdKernels } from '../../src/worker/kernels/simdKernelModule';
import { shipWasm } from './shippedWasm';

const threads = shipWasm(tf);

interface Case {
  a: number[];
  b: number[];
  tA?: boolean;
  tB?: boolean;
  /** bias length (N or 1): _FusedMatMul only */
  bias?: number;
  activation?: 'linear' | 'relu' | 'relu6';
  /** stock cpu computes only max(batchA, batchB) matrices (tfjs 4.22): compared with the reference alone */
  stockShort?: boolean;
}
const CASES: Case[] = [
  { a: [16, 40], b: [40, 24] }, // NN, whole blocks
  { a: [64, 256], b: [256, 256] }, // the dense goal's shape
  { a: [5, 7], b: [7, 11] }, // tails in both directions
  { a: [3, 9], b: [9, 5] }, // only tails
  { a: [1, 1], b: [1, 1] },
  { a: [6, 13], b: [6, 17], tA: true }, // TN: a is [K, M]
  { a: [64, 33], b: [64, 20], tA: true }, // dW = xᵀ·dy
  { a: [12, 30], b: [9, 30], tB: true }, // NT, the product turned around (M·(K+N) < K·N)
  { a: [40, 6], b: [7, 6], tB: true }, // NT, b's transpose copied (K·N smaller)
  { a: [64, 256], b: [256, 256], tB: true }, // dx = dy·Wᵀ of the dense goal
  { a: [7, 5], b: [6, 7], tA: true, tB: true }, // TT
  { a: [3, 5, 9], b: [3, 9, 10] }, // batched
  { a: [3, 9, 5], b: [3, 10, 9], tA: true, tB: true },
  { a: [4, 6, 12], b: [12, 9] }, // one right operand: folded into 24 rows
  { a: [4, 6, 12], b: [1, 12, 9], tB: false },
  { a: [2, 1, 5, 8], b: [1, 3, 8, 6], stockShort: true }, // broadcast leading dims
  { a: [1, 5, 8], b: [3, 6, 8], tB: true }, // left operand broadcast
];
const FUSED_CASES: Case[] = [
  { a: [1, 64, 256], b: [1, 256, 256], bias: 256 }, // a dense layer's forward pass (tfjs makes both 3D)
  { a: [1, 13, 21], b: [1, 21, 19], bias: 19, activation: 'relu' },
  { a: [1, 6, 10], b: [1, 10, 12], bias: 1, activation: 'relu6' },
  { a: [1, 9, 10], b: [1, 12, 10], tB: true, bias: 12 },
  { a: [1, 10, 9], b: [1, 10, 12], tA: true, activation: 'relu' },
  { a: [2, 5, 7], b: [2, 7, 3], bias: 3, activation: 'linear' },
];

function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.731 + seed * 1.37) * (1 + (i % 3)));
}

const size = (s: number[]): number => s.reduce((x, y) => x * y, 1);

/** float64: out = act(op(a)·op(b) + bias) with broadcast leading dims; abs = Σ|terms| per output */
function reference(c: Case, av: Float32Array, bv: Float32Array, biasv: Float32Array | null) {
  const ra = c.a.length,
    rb = c.b.length;
  const M = c.tA ? c.a[ra - 1] : c.a[ra - 2];
  const K = c.tA ? c.a[ra - 2] : c.a[ra - 1];
  const N = c.tB ? c.b[rb - 2] : c.b[rb - 1];
  const oa = c.a.slice(0, -2),
    ob = c.b.slice(0, -2);
  const n = Math.max(oa.length, ob.length);
  const pa = [...Array<number>(n - oa.length).fill(1), ...oa],
    pb = [...Array<number>(n - ob.length).fill(1), ...ob];
  const outer = pa.map((d, i) => Math.max(d, pb[i]));
  const nOut = size(outer);
  const out = new Float64Array(nOut * M * N),
    abs = new Float64Array(nOut * M * N);
  for (let f = 0; f < nOut; f++) {
    // the flat index of each operand's matrix
    let rem = f,
      ia = 0,
      ib = 0,
      ma = 1,
      mb = 1;
    for (let d = n - 1; d >= 0; d--) {
      const i = rem % outer[d];
      rem = Math.floor(rem / outer[d]);
      ia += (pa[d] === 1 ? 0 : i) * ma;
      ib += (pb[d] === 1 ? 0 : i) * mb;
      ma *= pa[d];
      mb *= pb[d];
    }
    const A = (i: number, k: number) => av[ia * M * K + (c.tA ? k * M + i : i * K + k)];
    const B = (k: number, j: number) => bv[ib * K * N + (c.tB ? j * K + k : k * N + j)];
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        const b0 = biasv ? biasv[biasv.length === 1 ? 0 : j] : 0;
        let s = b0,
          t = Math.abs(b0);
        for (let k = 0; k < K; k++) {
          s += A(i, k) * B(k, j);
          t += Math.abs(A(i, k) * B(k, j));
        }
        if (c.activation === 'relu') s = Math.max(s, 0);
        if (c.activation === 'relu6') s = Math.min(Math.max(s, 0), 6);
        out[(f * M + i) * N + j] = s;
        abs[(f * M + i) * N + j] = t;
      }
  }
  return { out, abs, K, shape: [...outer, M, N] };
}

async function onBackend<T>(name: string, f: () => T | Promise<T>): Promise<T> {
  await tf.setBackend(name);
  await tf.ready();
  return await f();
}

/** runs `f` counting the SIMD kernel's calls */
function counting<T>(f: () => T): { value: T; calls: number } {
  const k = simdKernelsFor(backendMemory(tf.backend())!) as SimdKernels;
  const orig = k.gemm4x8;
  let calls = 0;
  k.gemm4x8 = (...a) => {
    calls++;
    return orig(...a);
  };
  try {
    return { value: f(), calls };
  } finally {
    k.gemm4x8 = orig;
  }
}

describe(`kernels: BatchMatMul / _FusedMatMul by the SIMD product on wasm (${threads > 1 ? `wasm (${threads} XNNPACK threads)` : 'wasm'})`, function () {
  this.timeout(120000);
  let before0 = 'wasm';
  before(() => {
    before0 = tf.getBackend() ?? 'wasm';
    unregisterMissingKernels(tf);
    const cpu = tf.engine().findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (cpu) cpu.firstUse = false;
  });
  after(async () => {
    unregisterMissingKernels(tf);
    denseMatMulSettings.mode = 'auto';
    await tf.setBackend(before0);
    await tf.ready();
  });

  for (const fused of [false, true]) {
    const op = fused ? '_FusedMatMul' : 'BatchMatMul';
    it(`${op}: every case within float32 summation error of the float64 reference and of stock cpu, by gemm4x8`, async () => {
      for (const c of fused ? FUSED_CASES : CASES) {
        const av = values(size(c.a), 1),
          bv = values(size(c.b), 2);
        const biasv = c.bias ? values(c.bias, 3) : null;
        const attrs = {
          transposeA: !!c.tA,
          transposeB: !!c.tB,
          ...(fused ? { activation: c.activation ?? 'linear', leakyreluAlpha: 0.2 } : {}),
        };
        const run = () => {
          const a = tf.tensor(av, c.a),
            b = tf.tensor(bv, c.b);
          const bias = biasv ? tf.tensor(biasv, [biasv.length]) : null;
          const y = tf
            .engine()
            .runKernel(op, { a, b, ...(bias ? { bias } : {}) } as never, attrs as never) as tf.Tensor;
          const v = { shape: y.shape, data: y.dataSync().slice() as Float32Array };
          tf.dispose([a, b, y, ...(bias ? [bias] : [])]);
          return v;
        };
        const stock = await onBackend('cpu', run);
        const got = await onBackend('wasm', () => {
          registerMissingKernels(tf, { backends: ['wasm'] });
          denseMatMulSettings.mode = 'always';
          const before = tf.memory().numTensors;
          const dataIds = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
          const r = counting(run);
          assert.equal(tf.memory().numTensors, before, 'no tensor leak');
          assert.equal((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), dataIds, 'no heap leak');
          return r;
        });
        const ref = reference(c, av, bv, biasv);
        const what = `${op} ${JSON.stringify(c)}`;
        assert.deepEqual(got.value.shape, ref.shape, what);
        assert.deepEqual(stock.shape, ref.shape, what);
        assert.ok(got.calls > 0, `${what}: gemm4x8 ran`);
        // float32 summation of K + 1 terms in any order is within (K + 1)·2^-24·Σ|terms| of the exact sum (the
        // textbook bound); a wrong kernel is off by the terms themselves
        const bound = (ref.K + 1) * 2 ** -24;
        let e = 0,
          es = 0;
        for (let i = 0; i < ref.out.length; i++) {
          const t = ref.abs[i] + 1e-30;
          e = Math.max(e, Math.abs(got.value.data[i] - ref.out[i]) / t);
          es = Math.max(es, Math.abs(got.value.data[i] - stock.data[i]) / t);
        }
        assert.ok(e <= bound, `${what}: ${e} of Σ|terms| from the reference (bound ${bound})`);
        if (!c.stockShort) assert.ok(es <= 2 * bound, `${what}: ${es} of Σ|terms| from stock cpu`);
      }
    });
  }

  for (const init of ['C itself (initRow = cRow)', 'one row for all (initRow = 0)'] as const)
    it(`a 4 x 8 block of gemm4x8 exactly: strides, initial values from ${init}, nothing written outside`, async () => {
      await onBackend('wasm', () => {
        const be = tf.backend() as unknown as {
          makeOutput(s: number[], d: string): { dataId: object };
          typedArrayFromHeap(t: object): Float32Array;
          disposeData(id: object): void;
        };
        const k = simdKernelsFor(backendMemory(be)!) as SimdKernels;
        const K = 3;
        const fromC = init.startsWith('C');
        // A(i, k) = a[i·5 + k·1] with a lane of 5 (rows padded), B's rows 16 apart (2 column blocks, one used),
        // C's rows 16 apart, the one initial row after C
        const t = be.makeOutput([4 * 5 + K * 16 + 4 * 16 + 8], 'float32');
        const v = be.typedArrayFromHeap(t);
        const a = 0,
          b = 20,
          c = 20 + K * 16,
          row = c + 4 * 16;
        for (let i = 0; i < v.length; i++) v[i] = -1000 - i;
        for (let i = 0; i < 4; i++) for (let kk = 0; kk < K; kk++) v[a + i * 5 + kk] = i + 1 + kk * 10;
        for (let kk = 0; kk < K; kk++) for (let j = 0; j < 8; j++) v[b + kk * 16 + j] = (j + 1) * (kk + 2);
        for (let i = 0; i < 4; i++) for (let j = 0; j < 8; j++) v[c + i * 16 + j] = i * 100 + j;
        for (let j = 0; j < 8; j++) v[row + j] = 7 * j - 3;
        const o = v.byteOffset;
        const [i0, iRow] = fromC ? [c, 16] : [row, 0];
        k.gemm4x8(o + c * 4, o + a * 4, o + b * 4, 1, K, 1, 5 * 4, 4, 16 * 4, 16 * 4, o + i0 * 4, iRow * 4);
        for (let i = 0; i < 4; i++)
          for (let j = 0; j < 16; j++) {
            let want = -1000 - (c + i * 16 + j);
            if (j < 8) {
              want = fromC ? i * 100 + j : 7 * j - 3;
              for (let kk = 0; kk < K; kk++) want += (i + 1 + kk * 10) * (j + 1) * (kk + 2);
            }
            assert.equal(v[c + i * 16 + j], want, `C[${i}][${j}]`);
          }
        for (let j = 0; j < 8; j++) assert.equal(v[row + j], 7 * j - 3, 'the initial row unchanged');
        be.disposeData(t.dataId);
      });
    });

  it('transpose4x4 exactly: 4 x 4 blocks with row strides, nothing written outside', async () => {
    await onBackend('wasm', () => {
      const be = tf.backend() as unknown as {
        makeOutput(s: number[], d: string): { dataId: object };
        typedArrayFromHeap(t: object): Float32Array;
        disposeData(id: object): void;
      };
      const k = simdKernelsFor(backendMemory(be)!) as SimdKernels;
      // src: 8 x 12 floats inside rows of 13; dst: 12 x 8 inside rows of 10
      const t = be.makeOutput([8 * 13 + 12 * 10], 'float32');
      const v = be.typedArrayFromHeap(t);
      const src = 0,
        dst = 8 * 13;
      for (let i = 0; i < v.length; i++) v[i] = i < dst ? i : -i;
      k.transpose4x4(v.byteOffset + dst * 4, v.byteOffset + src * 4, 2, 3, 13 * 4, 10 * 4);
      for (let r = 0; r < 12; r++)
        for (let c = 0; c < 10; c++) {
          const want = c < 8 ? src + c * 13 + r : -(dst + r * 10 + c);
          assert.equal(v[dst + r * 10 + c], want, `dst[${r}][${c}]`);
        }
      for (let i = 0; i < dst; i++) assert.equal(v[i], i, 'src unchanged');
      be.disposeData(t.dataId);
    });
  });

  it('auto: the dense goal shapes run by gemm4x8', () => {
    denseMatMulSettings.mode = 'auto';
    for (const [M, K, N] of [
      [64, 512, 256],
      [64, 256, 256],
      [256, 64, 256],
    ])
      assert.ok(preferSimd(M, K, N), `${M}x${K}x${N}`);
  });

  it('auto: 1-3 rows of a plain product (a single-sample predict) go to the stock kernel, which keeps the weights packed; the path never depends on what ran before', async () => {
    await onBackend('wasm', () => {
      registerMissingKernels(tf, { backends: ['wasm'] });
      denseMatMulSettings.mode = 'auto';
      const w = tf.tensor(values(24 * 16, 4), [1, 24, 16]);
      const product = (rows: number) => {
        const x = tf.tensor(values(rows * 24, rows), [1, rows, 24]);
        const r = counting(() => {
          const y = tf.engine().runKernel('_FusedMatMul', { a: x, b: w } as never, { activation: 'linear' } as never);
          return (y as tf.Tensor).dataSync().slice();
        });
        x.dispose();
        return r.calls;
      };
      assert.equal(product(1), 0, 'new weights, one row: stock');
      assert.equal(product(1), 0, 'the same weights again, one row: stock');
      assert.equal(product(3), 0, 'three rows: stock');
      assert.ok(product(4) > 0, 'four rows: here');
      w.dispose();
    });
  });

  it('a dense model (Dense/BN/ReLU, odd sizes, fused relu): gradients on wasm + gemm4x8 match stock cpu', async () => {
    const build = () => {
      const L = tf.layers;
      return tf.sequential({
        layers: [
          L.dense({ inputShape: [19], units: 37 }),
          L.batchNormalization(),
          L.activation({ activation: 'relu' }),
          L.dense({ units: 24, activation: 'relu' }),
          L.dense({ units: 64 }),
          L.batchNormalization(),
          L.activation({ activation: 'relu' }),
          L.dense({ units: 10 }),
        ],
      });
    };
    const B = 13,
      classes = 10;
    const xv = Float32Array.from({ length: B * 19 }, (_, i) => Math.sin(i * 0.37) * 2);
    const yv = new Float32Array(B * classes);
    for (let b = 0; b < B; b++) yv[b * classes + (b % classes)] = 1;
    const grads = (model: tf.LayersModel) => {
      const x = tf.tensor2d(xv, [B, 19]);
      const y = tf.tensor2d(yv, [B, classes]);
      const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
      const { value, grads: g } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        vars,
      );
      const out = { loss: value.dataSync()[0], grads: vars.map((v) => g[v.name].dataSync().slice() as Float32Array) };
      tf.dispose([x, y, value, ...Object.values(g)]);
      return out;
    };
    const weights = (model: tf.LayersModel) =>
      model.weights.map((w, k) => {
        const positive = /gamma|variance/.test(w.name);
        const shape = w.shape as number[];
        const v = Float32Array.from(
          { length: size(shape) },
          (_, i) => (positive ? 1 : 0) + Math.sin(i * 0.71 + k * 1.3) * (positive ? 0.2 : 0.3),
        );
        return tf.tensor(v, shape);
      });
    const ref = await onBackend('cpu', () => {
      unregisterMissingKernels(tf);
      const model = build();
      model.setWeights(weights(model));
      const r = grads(model);
      model.dispose();
      return r;
    });
    for (const mode of ['always', 'auto'] as const) {
      const got = await onBackend('wasm', () => {
        registerMissingKernels(tf, { backends: ['wasm'] });
        denseMatMulSettings.mode = mode;
        const model = build();
        model.setWeights(weights(model));
        const before = tf.memory().numTensors;
        const r = counting(() => grads(model));
        assert.equal(tf.memory().numTensors, before, 'no tensor leak');
        model.dispose();
        return r;
      });
      if (mode === 'always') assert.ok(got.calls >= 4 * 3, `gemm4x8 ran for every product: ${got.calls}`);
      assert.ok(Math.abs(got.value.loss - ref.loss) <= 1e-5 * Math.max(1, Math.abs(ref.loss)), `${mode}: loss`);
      const maxAbs = (v: Float32Array) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      const scale = Math.max(...ref.grads.map(maxAbs));
      got.value.grads.forEach((g, i) => {
        const r = ref.grads[i];
        let d = 0;
        for (let k = 0; k < g.length; k++) d = Math.max(d, Math.abs(g[k] - r[k]));
        // float32 rounding of both sides: well below 1e-5 of the largest gradient (a wrong product is O(1) off)
        assert.ok(d <= 1e-5 * scale, `${mode}: gradient #${i} differs by ${d / scale} of the largest`);
      });
    }
  });
});
