/**
 * The Winograd F(2x2, 3x3) Conv2D / FusedConv2D on wasm (kernels/winogradConv.ts, the SIMD transforms of
 * simdWinograd.ts): results against a float64 direct convolution (plain loops) within the Winograd algorithm's
 * rounding bound (computed here from the textbook transforms in float64, independent of the kernel), the input
 * gradient of a training step (a Conv2D with explicit padding) against the float64 reference too, the path taken
 * exactly where it applies (counted), several chunk sizes (partial chunks, partial 4-tile blocks), no tensor left.
 * One suite over 250 lines: its cases share the float64 reference and its rounding scale.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';
import { backendMemory, simdKernelsFor, type SimdKernels } from '../../src/worker/kernels/simdKernelModule';
import { winogradSettings } from '../../src/worker/kernels/winogradConv';
import { F2x2_3x3, F4x4_3x3, type WinogradMatrices } from '../../src/worker/kernels/simdWinograd';
import { simdHelperFor, simdHelperSettings } from '../../src/worker/kernels/simdHelper';
import { shipWasm } from './shippedWasm';

// the wasm build the engine ships: single-threaded, or threaded with BN_INSPECTOR_WASM_THREADS=2 (then its helper
// thread takes half of each convolution's units)
const threads = shipWasm(tf);

type Pads = [number, number, number, number]; // top, bottom, left, right
type PadAttr = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];
interface Case {
  x: [number, number, number, number];
  co: number;
  pad: PadAttr;
  bias?: boolean;
  /** the Winograd path applies */
  wino: boolean;
  stride?: number;
  k?: number;
  activation?: 'relu';
}
const CASES: Case[] = [
  { x: [1, 4, 4, 4], co: 8, pad: 'same', wino: true },
  { x: [2, 5, 7, 4], co: 8, pad: 'same', bias: true, wino: true }, // odd height and width: half tiles
  { x: [2, 6, 5, 8], co: 16, pad: 'valid', bias: true, wino: true },
  {
    x: [3, 9, 11, 12],
    co: 24,
    pad: [
      [0, 0],
      [2, 1],
      [0, 2],
      [0, 0],
    ],
    bias: true,
    wino: true,
  },
  { x: [2, 8, 8, 16], co: 16, pad: 2, wino: true },
  { x: [4, 16, 16, 16], co: 16, pad: 'same', bias: true, wino: true },
  { x: [1, 3, 3, 4], co: 8, pad: 'valid', wino: true }, // one output pixel
  { x: [2, 8, 8, 16], co: 16, pad: 'same', stride: 2, wino: false },
  { x: [2, 8, 8, 6], co: 16, pad: 'same', wino: false }, // Ci % 4 (an RGB stem's forward: XNNPACK was faster)
  { x: [2, 8, 8, 16], co: 12, pad: 'same', wino: false }, // Co % 8
  { x: [2, 8, 8, 16], co: 16, pad: 'same', activation: 'relu', bias: true, wino: false },
  { x: [2, 8, 8, 16], co: 16, pad: 'same', k: 5, wino: false },
];

function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.731 + seed * 1.37) * (1 + (i % 3)));
}
function padsOf(p: PadAttr, k: number): Pads {
  if (p === 'same') return [(k - 1) >> 1, k >> 1, (k - 1) >> 1, k >> 1];
  if (p === 'valid') return [0, 0, 0, 0];
  if (typeof p === 'number') return [p, p, p, p];
  return [p[1][0], p[1][1], p[2][0], p[2][1]];
}

/** float64 direct convolution (stride 1, 3x3): out, and per output the Winograd rounding scale (see below) */
function reference(
  x: Float32Array,
  [B, H, W, Ci]: number[],
  w: Float32Array,
  Co: number,
  [pt, pb, pl, pr]: Pads,
  bias: Float32Array | null,
  wm: WinogradMatrices,
): { out: Float64Array; scale: Float64Array; OH: number; OW: number } {
  const OH = H + pt + pb - 2,
    OW = W + pl + pr - 2;
  const out = new Float64Array(B * OH * OW * Co);
  const xAt = (b: number, ih: number, iw: number, c: number) =>
    ih < 0 || ih >= H || iw < 0 || iw >= W ? 0 : x[((b * H + ih) * W + iw) * Ci + c];
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let co = 0; co < Co; co++) {
          let s = bias ? bias[co] : 0;
          for (let kh = 0; kh < 3; kh++)
            for (let kw = 0; kw < 3; kw++)
              for (let c = 0; c < Ci; c++)
                s += xAt(b, oh + kh - pt, ow + kw - pl, c) * w[((kh * 3 + kw) * Ci + c) * Co + co];
          out[((b * OH + oh) * OW + ow) * Co + co] = s;
        }
  // The algorithm's rounding scale, from the textbook matrices of F(m x m, 3 x 3): per output pixel (a, b) of its
  // tile, Σ_ci Σ_ξ |Aᵀ[a][i]|·|Aᵀ[b][j]| · (|Bᵀ|·|d|·|B|)_ξ · (|G|·|g|·|Gᵀ|)_ξ (+ |bias|): every rounded intermediate is
  // at most this in magnitude, so the float32 result is within (Ci + 24)·2^-24 of it (dot products of Ci terms; at
  // most 6 terms in each 1-D transform, two in each 2-D one; one rounding for the filter's)
  const abs = (a: number[][]) => a.map((r) => r.map(Math.abs));
  const [BT, G, AT] = [abs(wm.BT), abs(wm.G), abs(wm.AT)];
  const m = wm.m,
    n = m + 2;
  const scale = new Float64Array(out.length);
  const u = new Float64Array(n * n * Ci * Co);
  for (let c = 0; c < Ci; c++)
    for (let co = 0; co < Co; co++)
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < 3; p++)
            for (let q = 0; q < 3; q++) s += G[i][p] * Math.abs(w[((p * 3 + q) * Ci + c) * Co + co]) * G[j][q];
          u[((n * i + j) * Ci + c) * Co + co] = s;
        }
  for (let b = 0; b < B; b++)
    for (let ty = 0; m * ty < OH; ty++)
      for (let tx = 0; m * tx < OW; tx++)
        for (let c = 0; c < Ci; c++) {
          const v = new Float64Array(n * n);
          for (let i = 0; i < n; i++)
            for (let j = 0; j < n; j++) {
              let s = 0;
              for (let p = 0; p < n; p++)
                for (let q = 0; q < n; q++)
                  s += BT[i][p] * Math.abs(xAt(b, m * ty - pt + p, m * tx - pl + q, c)) * BT[j][q];
              v[n * i + j] = s;
            }
          for (let a = 0; a < m; a++)
            for (let e = 0; e < m; e++) {
              const oh = m * ty + a,
                ow = m * tx + e;
              if (oh >= OH || ow >= OW) continue;
              for (let co = 0; co < Co; co++) {
                let s = 0;
                for (let i = 0; i < n; i++)
                  for (let j = 0; j < n; j++)
                    s += AT[a][i] * AT[e][j] * v[n * i + j] * u[((n * i + j) * Ci + c) * Co + co];
                scale[((b * OH + oh) * OW + ow) * Co + co] += s;
              }
            }
        }
  if (bias) for (let i = 0; i < scale.length; i++) scale[i] += Math.abs(bias[i % Co]);
  return { out, scale, OH, OW };
}

describe('kernels: 3x3 stride-1 Conv2D / FusedConv2D by Winograd F(2x2, 3x3) and F(4x4, 3x3) on wasm', function () {
  this.timeout(120000);
  const saved = { ...winogradSettings };
  let calls = 0;
  let k: SimdKernels;
  let orig: Pick<SimdKernels, 'winoIn2' | 'winoIn4'>;
  before(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    unregisterMissingKernels(tf);
    registerMissingKernels(tf, { backends: ['wasm'] });
    k = simdKernelsFor(backendMemory(tf.backend())!) as SimdKernels;
    orig = { winoIn2: k.winoIn2, winoIn4: k.winoIn4 };
    for (const name of ['winoIn2', 'winoIn4'] as const)
      k[name] = (...a) => {
        calls++;
        return orig[name](...a);
      };
    winogradSettings.minOutputPixels = 0; // the small cases too
  });
  after(() => {
    Object.assign(k, orig);
    Object.assign(winogradSettings, saved);
    unregisterMissingKernels(tf);
  });

  for (const [tile, chunkTiles] of [
    [2, 256],
    [2, 5],
    [2, 1],
    [4, 256],
    [4, 5],
    [4, 1],
  ] as const)
    it(`F(${tile}x${tile}, 3x3): every case within the Winograd rounding bound of the float64 reference; the path exactly where it applies (chunks of ${chunkTiles} tiles)`, () => {
      winogradSettings.chunkTiles = chunkTiles;
      winogradSettings.tile = tile;
      const wm = tile === 4 ? F4x4_3x3 : F2x2_3x3;
      for (const c of CASES) {
        const kk = c.k ?? 3;
        const [, , , Ci] = c.x;
        const xv = values(
            c.x.reduce((a, b) => a * b, 1),
            1,
          ),
          wv = values(kk * kk * Ci * c.co, 2),
          bv = c.bias ? values(c.co, 3) : null;
        const before = tf.memory().numTensors;
        calls = 0;
        const x = tf.tensor4d(xv, c.x),
          w = tf.tensor4d(wv, [kk, kk, Ci, c.co]);
        const bias = bv ? tf.tensor1d(bv) : undefined;
        const y = tf.fused.conv2d({
          x,
          filter: w,
          strides: c.stride ?? 1,
          pad: c.pad as never,
          bias,
          activation: c.activation ?? 'linear',
        });
        const got = y.dataSync() as Float32Array;
        const shape = y.shape;
        tf.dispose([x, w, y, ...(bias ? [bias] : [])]);
        assert.equal(tf.memory().numTensors, before, `${JSON.stringify(c)}: tensors left`);
        assert.equal(calls > 0, c.wino, `${JSON.stringify(c)}: Winograd path ${calls} calls`);
        if (!c.wino) continue;
        const ref = reference(xv, c.x, wv, c.co, padsOf(c.pad, 3), bv, wm);
        assert.deepEqual(shape, [c.x[0], ref.OH, ref.OW, c.co]);
        const bound = (Ci + 24) * 2 ** -24;
        let e = 0;
        for (let i = 0; i < ref.out.length; i++)
          e = Math.max(e, Math.abs(got[i] - ref.out[i]) / (ref.scale[i] + 1e-30));
        assert.ok(e <= bound, `${JSON.stringify(c)}: ${e} of the rounding scale from the reference (bound ${bound})`);
      }
    });

  for (const tile of [2, 4] as const)
    it(`F(${tile}x${tile}, 3x3): a training step's input gradient (Conv2D with the rotated filter, explicit padding), against float64`, () => {
      winogradSettings.chunkTiles = 256;
      winogradSettings.tile = tile;
      for (const [shape, co, pad] of [
        [[2, 6, 7, 8], 16, 'same'],
        [[2, 11, 10, 8], 8, 'same'],
        [[1, 9, 8, 4], 8, 'valid'],
      ] as Array<[[number, number, number, number], number, 'same' | 'valid']>) {
        const [B, H, W, Ci] = shape;
        const xv = values(B * H * W * Ci, 4),
          wv = values(9 * Ci * co, 5);
        const x = tf.tensor4d(xv, shape),
          w = tf.tensor4d(wv, [3, 3, Ci, co]);
        const [pt, , pl] = padsOf(pad, 3);
        const OH = pad === 'same' ? H : H - 2,
          OW = pad === 'same' ? W : W - 2;
        const dyv = values(B * OH * OW * co, 6);
        const dy = tf.tensor4d(dyv, [B, OH, OW, co]);
        calls = 0;
        const dx = tf.grad((t: tf.Tensor) => tf.conv2d(t as tf.Tensor4D, w, 1, pad))(x, dy);
        const got = dx.dataSync();
        assert.ok(calls > 0, `${JSON.stringify(shape)} ${pad}: the input gradient did not take the Winograd path`);
        // the rounding scale: dx is the convolution of dy (padded by 2 - pad, as conv2dBackprop.ts pads it) with the
        // filter rotated 180° and its channels swapped, which the kernel runs by Winograd
        const wr = new Float32Array(9 * co * Ci);
        for (let kh = 0; kh < 3; kh++)
          for (let kw = 0; kw < 3; kw++)
            for (let c = 0; c < Ci; c++)
              for (let o = 0; o < co; o++)
                wr[((kh * 3 + kw) * co + o) * Ci + c] = wv[(((2 - kh) * 3 + 2 - kw) * Ci + c) * co + o];
        const { scale } = reference(
          dyv,
          [B, OH, OW, co],
          wr,
          Ci,
          [2 - pt, H - OH + pt, 2 - pl, W - OW + pl],
          null,
          tile === 4 ? F4x4_3x3 : F2x2_3x3,
        );
        // the values: dx[b, ih, iw, c] = Σ dy[b, oh, ow, o] · w[kh, kw, c, o] over oh = ih - kh + pt, ow = iw - kw + pl
        let e = 0;
        for (let b = 0; b < B; b++)
          for (let ih = 0; ih < H; ih++)
            for (let iw = 0; iw < W; iw++)
              for (let c = 0; c < Ci; c++) {
                let s = 0;
                for (let kh = 0; kh < 3; kh++)
                  for (let kw = 0; kw < 3; kw++) {
                    const oh = ih - kh + pt,
                      ow = iw - kw + pl;
                    if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                    for (let o = 0; o < co; o++)
                      s += dyv[((b * OH + oh) * OW + ow) * co + o] * wv[((kh * 3 + kw) * Ci + c) * co + o];
                  }
                const i = ((b * H + ih) * W + iw) * Ci + c;
                e = Math.max(e, Math.abs(got[i] - s) / (scale[i] + 1e-30));
              }
        assert.ok(e <= (co + 24) * 2 ** -24, `${JSON.stringify(shape)} ${pad}: dx ${e} from the reference`);
        tf.dispose([x, w, dy, dx]);
      }
    });

  for (const tile of [2, 4] as const)
    it(`F(${tile}x${tile}, 3x3): the filter gradient by Winograd against float64`, () => {
      winogradSettings.chunkTiles = 5;
      winogradSettings.tile = tile;
      const wm = tile === 4 ? F4x4_3x3 : F2x2_3x3;
      const abs = (a: number[][]) => a.map((r) => r.map(Math.abs));
      const [BT, G, AT] = [abs(wm.BT), abs(wm.G), abs(wm.AT)];
      const m = wm.m,
        n = m + 2;
      let dyCalls = 0;
      const saved = { winoDy2: k.winoDy2, winoDy4: k.winoDy4 };
      for (const name of ['winoDy2', 'winoDy4'] as const)
        k[name] = (...a) => {
          dyCalls++;
          return saved[name](...a);
        };
      try {
        for (const [shape, co, pad] of [
          [[2, 6, 7, 8], 16, 'same'],
          [[3, 9, 8, 4], 8, 'valid'],
          [[1, 13, 11, 12], 24, 'same'],
          [[2, 8, 9, 3], 8, 'same'], // an RGB stem: x padded to 4 channels (filterGradSimd.ts, paddedFilterSimd)
        ] as Array<[[number, number, number, number], number, 'same' | 'valid']>) {
          const [B, H, W, Ci] = shape;
          const [pt, pb, pl, pr] = padsOf(pad, 3);
          const OH = H + pt + pb - 2,
            OW = W + pl + pr - 2;
          const xv = values(B * H * W * Ci, 9),
            dyv = values(B * OH * OW * co, 10);
          const x = tf.tensor4d(xv, shape),
            dy = tf.tensor4d(dyv, [B, OH, OW, co]);
          dyCalls = 0;
          const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
            strides: 1,
            pad,
            dataFormat: 'NHWC',
            dilations: 1,
            filterShape: [3, 3, Ci, co],
          } as never) as tf.Tensor;
          const got = dw.dataSync();
          tf.dispose([x, dy, dw]);
          assert.ok(dyCalls > 0, `${JSON.stringify(shape)} ${pad}: Winograd filter gradient ${dyCalls} calls`);
          const xAt = (b: number, ih: number, iw: number, c: number) =>
            ih < 0 || ih >= H || iw < 0 || iw >= W ? 0 : xv[((b * H + ih) * W + iw) * Ci + c];
          const dyAt = (b: number, oh: number, ow: number, o: number) =>
            oh >= OH || ow >= OW ? 0 : dyv[((b * OH + oh) * OW + ow) * co + o];
          // the rounding scale Σ_tiles Σ_ij |G[i][p]|·|G[j][q]|·(|Bᵀ|·|d|·|B|)_ij·(|A|·|e|·|Aᵀ|)_ij, and the values
          let e = 0;
          let tiles = 0;
          for (let c = 0; c < Ci; c++)
            for (let o = 0; o < co; o++) {
              const scale = new Float64Array(9);
              const ref = new Float64Array(9);
              tiles = 0;
              for (let b = 0; b < B; b++)
                for (let ty = 0; m * ty < OH; ty++)
                  for (let tx = 0; m * tx < OW; tx++) {
                    tiles++;
                    for (let i = 0; i < n; i++)
                      for (let j = 0; j < n; j++) {
                        let vs = 0,
                          es = 0;
                        for (let p = 0; p < n; p++)
                          for (let q = 0; q < n; q++)
                            vs += BT[i][p] * Math.abs(xAt(b, m * ty - pt + p, m * tx - pl + q, c)) * BT[j][q];
                        for (let a = 0; a < m; a++)
                          for (let d = 0; d < m; d++)
                            es += AT[a][i] * Math.abs(dyAt(b, m * ty + a, m * tx + d, o)) * AT[d][j];
                        for (let p = 0; p < 3; p++)
                          for (let q = 0; q < 3; q++) scale[3 * p + q] += G[i][p] * G[j][q] * vs * es;
                      }
                  }
              for (let b = 0; b < B; b++)
                for (let oh = 0; oh < OH; oh++)
                  for (let ow = 0; ow < OW; ow++)
                    for (let p = 0; p < 3; p++)
                      for (let q = 0; q < 3; q++)
                        ref[3 * p + q] += xAt(b, oh - pt + p, ow - pl + q, c) * dyAt(b, oh, ow, o);
              for (let t = 0; t < 9; t++)
                e = Math.max(
                  e,
                  Math.abs(got[(t * Ci + c) * co + o] - ref[t]) / ((tiles + 24) * 2 ** -24 * scale[t] + 1e-30),
                );
            }
          assert.ok(
            e <= 1,
            `${JSON.stringify(shape)} ${pad}: dW ${e} of the Winograd bound from the float64 reference`,
          );
        }
      } finally {
        Object.assign(k, saved);
      }
    });

  it(`${threads > 1 ? 'threaded build: the helper thread computes half of the units, bit for bit what the calling thread alone gives' : 'single-threaded build: no helper thread'}`, async () => {
    winogradSettings.chunkTiles = 16;
    winogradSettings.tile = 'auto';
    const h = simdHelperFor(backendMemory(tf.backend()));
    assert.equal(h !== null, threads > 1, 'a helper where the memory is shared');
    if (h === null) return;
    const minFlops = simdHelperSettings.minFlops;
    simdHelperSettings.minFlops = 0;
    for (let i = 0; !h.worthIt(1) && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(h.worthIt(1), 'the helper is ready');
    const job = h.winograd;
    let jobs = 0;
    h.winograd = (...a) => (jobs++, job(...a));
    try {
      for (const c of CASES.filter((q) => q.wino && q.x[0] * q.x[1] * q.x[2] >= 64)) {
        const [, , , Ci] = c.x;
        const run = () => {
          const x = tf.tensor4d(
              values(
                c.x.reduce((a, b) => a * b, 1),
                7,
              ),
              c.x,
            ),
            w = tf.tensor4d(values(9 * Ci * c.co, 8), [3, 3, Ci, c.co]);
          const y = tf.conv2d(x, w, 1, c.pad as never);
          tf.dispose([x, w]);
          // x and w freed, their memory taken by new tensors and overwritten, before y is read
          const junk = [0, 1].map(() => tf.fill(c.x, 1e6 + 1));
          const v = y.dataSync().slice();
          tf.dispose([y, ...junk]);
          return v;
        };
        simdHelperSettings.minFlops = 0;
        const before = jobs;
        const split = run();
        assert.ok(jobs > before, `${JSON.stringify(c)}: no job on the helper`);
        simdHelperSettings.minFlops = Infinity;
        const alone = run();
        assert.deepEqual(split, alone, `${JSON.stringify(c)}: helper + calling thread vs calling thread alone`);
      }
    } finally {
      simdHelperSettings.minFlops = minFlops;
      h.winograd = job;
    }
  });
});
