/**
 * Matrix products on the tfjs wasm backend's heap by the SIMD kernel gemm4x8 (simdKernelModule.ts), which reads
 * both operands where they lie. Why: XNNPACK's fully-connected operator packs the second operand afresh for
 * every new tensor, and training makes fresh weights (and fresh transposed temporaries) at every step: a
 * 64x256 · 256x256 product of a dense layer took ~1.4-1.7 ms stock, ~0.4 ms here (gemm4x8 alone runs at
 * ~24 GFLOP/s on this machine, measured). All three products of a dense layer run without copying its weights:
 *   - NN  x·W            A(i, k) = x[i][k], B = W in place
 *   - TN  dW = xᵀ·dy     A(i, k) = x[k][i] (read down the columns), B = dy in place
 *   - NT  dx = dy·Wᵀ     computed as dxᵀ = W·dyᵀ: A = W in place, dyᵀ copied (M x N floats, few), the
 *                        result transposed back (or Wᵀ copied instead where that is the smaller copy)
 *   - TT                 Cᵀ = B·A, both in place, the result transposed back
 * Rows beyond a multiple of 4 and columns beyond a multiple of 8 run through zero-padded copies of those rows
 * / columns (a few K-long rows), so any shape works. Accumulation is float32 in order of k, as XNNPACK's.
 *
 *   const out = simdMatMul(simd, backend, a, b, { transposeA, transposeB, bias });   // TInfo [..batch, M, N]
 *
 * One unit (over 250 lines): one product, from the choice of operand arrangement through the blocked kernel
 * calls to their padded edges, all sharing one scratch layout on the heap; plus the shape helpers it needs.
 */
import type { AnyBackend, TInfo } from './kernelOps';
import type { SimdKernels } from './simdKernelModule';

const size = (shape: number[]): number => shape.reduce((x, y) => x * y, 1);

/** 'auto': where measured faster than stock (preferSimd); 'always' / 'never': for tests and benchmarks */
export const denseMatMulSettings: { mode: 'auto' | 'always' | 'never'; panelFloats: number } = {
  mode: 'auto',
  /** floats of A and C one call of gemm4x8 covers (see gemm) */
  panelFloats: 32 * 1024,
};
const settings = denseMatMulSettings;

/**
 * Whether this product runs here rather than in the stock kernel (stock: XNNPACK after explicit transposes,
 * fastBatchMatMul.ts). Measured (.tmpbench/mmCross.ts: fresh operands every call, stock and here alternately,
 * 5-9 rounds, load average 4-9 on the 2 shared cores): faster here, by the minimum, for every shape tried: M
 * from 4 to 8192 rows, K and N from 8 to 1024, all operand orders (the dense goal's, MobileNetV2's classifier
 * and its 1x1 conv input gradients, the bench CNN's head), on both wasm builds (single-threaded: 64x256·256x256
 * 1.7 ms stock -> 0.4 ms, 8192x24·24x144 6.3 -> 3.6 ms, 1024x256·256x256 about even; threaded: 2-40x, the
 * stock operators waiting on their busy thread pool); even within noise only for 1280x8·8x10 (0.09 vs 0.10 ms).
 * Not measured: an idle machine with the threaded build, where XNNPACK's two threads could win for large M.
 */
export function preferSimd(M: number, K: number, N: number, packable = false): boolean {
  if (denseMatMulSettings.mode !== 'auto') return denseMatMulSettings.mode === 'always';
  // fewer than 4 rows (a 4-row block computed for 1-3) of a product whose right operand the stock kernel packs once
  // and keeps (`packable`: batch 1, neither operand transposed): a single-sample predict with the same weights again
  // (1x256·256x256: 0.036 ms stock, 0.058 here, measured). Always stock for those shapes, never by what ran before:
  // with the fused multiply-add (relaxed SIMD) the two paths round differently, and a choice by history (an earlier
  // version: stock only for weights seen before) gave one model two different gradients in two identical calls.
  if (packable && M < 4) return false;
  return M * K * N > 0;
}

/** an operand as the kernel reads it, in float32 elements: A(i, k) = heap[at + i·lane + k·step] */
interface Strided {
  at: number;
  lane: number;
  step: number;
}

export interface ProductOptions {
  transposeA: boolean;
  transposeB: boolean;
  /** a float32 vector of N (or 1) values added to every row */
  bias?: TInfo | null;
}

/** the product's dimensions, or null where the operands do not fit (the stock kernel then reports it) */
export function productDims(
  a: TInfo,
  b: TInfo,
  transposeA: boolean,
  transposeB: boolean,
): { M: number; K: number; N: number; outer: number[]; outerA: number[]; outerB: number[] } | null {
  const ar = a.shape.length;
  const br = b.shape.length;
  if (ar < 2 || br < 2) return null;
  const M = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const K = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const Kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const N = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  if (K !== Kb) return null;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outer = broadcastOuter(outerA, outerB);
  if (outer === null) return null;
  return { M, K, N, outer, outerA, outerB };
}

/**
 * a·b (each optionally transposed; leading dims broadcast) + bias, float32, into a new tensor [...outer, M, N].
 * The caller has checked dtypes and the bias's length (N or 1).
 */
export function simdMatMul(simd: SimdKernels, backend: AnyBackend, a: TInfo, b: TInfo, opts: ProductOptions): TInfo {
  const dims = productDims(a, b, opts.transposeA, opts.transposeB);
  if (dims === null) throw new Error(`simdMatMul: operands [${a.shape}] and [${b.shape}] do not fit`);
  const { M, K, N, outer, outerA, outerB } = dims;
  const { transposeA, transposeB } = opts;
  const nOut = size(outer);
  const out = backend.makeOutput([...outer, M, N], 'float32') as TInfo;
  if (M * N === 0) return out;
  // the right operand in place unless b is transposed; then either b's transpose is copied (cost K·N), or the
  // product is turned around (Cᵀ = bᵀᵀ·aᵀ: b read in place as the left operand; a's transpose copied unless a
  // is transposed already, and the result transposed back: cost M·K + M·N)
  const turn = transposeB && (transposeA || M * (K + N) < K * N);
  const copyB = transposeB && !turn;
  const copyA = turn && !transposeA;
  // scratch: the copied operand, the turned result, the padded tails
  // one right operand for every left one, a not transposed: one product of nOut·M rows
  const fold = nOut > 1 && size(outerB) === 1 && !transposeA && !turn;
  const mm = turn ? N : fold ? nOut * M : M; // rows of the product the kernel computes
  const nn = turn ? M : N;
  const tailFloats = K * 8 + 4 * K + (mm + 4) * 8 + 4 * (nn + 8) + (nn + 8);
  const scratchFloats = (copyB ? K * N : 0) + (copyA ? K * M : 0) + (turn ? M * N : 0) + tailFloats;
  const scratch = backend.makeOutput([scratchFloats], 'float32') as TInfo;
  try {
    // views after every allocation: malloc may grow (and move) the heap
    const f32 = new Float32Array((backend.typedArrayFromHeap(out) as Float32Array).buffer);
    const at = (t: TInfo): number => (backend.typedArrayFromHeap(t) as Float32Array).byteOffset >> 2;
    const aAt = at(a),
      bAt = at(b),
      oAt = at(out);
    let s = at(scratch);
    const take = (n: number): number => {
      const p = s;
      s += n;
      return p;
    };
    const bCopy = copyB ? take(K * N) : 0;
    const aCopy = copyA ? take(K * M) : 0;
    const turned = turn ? take(M * N) : 0;
    const tails = { bt: take(K * 8), at: take(4 * K), ct: take((mm + 4) * 8), cr: take(4 * (nn + 8)) };
    const biasAt = opts.bias ? at(opts.bias) : -1;
    const biasLen = opts.bias ? size(opts.bias.shape) : 0;
    // every row of C starts as this one: the bias (not turned) or zeros, zero-padded to a multiple of 8
    const start = take(nn + 8);
    f32.fill(0, start, start + nn + 8);
    if (biasAt >= 0 && !turn) for (let j = 0; j < N; j++) f32[start + j] = f32[biasAt + (biasLen === 1 ? 0 : j)];
    const idxA = batchIndex(outer, outerA);
    const idxB = batchIndex(outer, outerB);
    const reps = fold ? 1 : nOut;
    const rows = fold ? nOut * M : M;
    for (let r = 0; r < reps; r++) {
      const ap = aAt + idxA[r] * M * K;
      const bp = bAt + idxB[r] * K * N;
      const cp = oAt + r * M * N;
      if (!turn) {
        // C[M, N] = bias + A·B
        const A: Strided = transposeA ? { at: ap, lane: 1, step: M } : { at: ap, lane: K, step: 1 };
        let B = bp;
        if (copyB) {
          transposeInto(simd, f32, bp, N, K, bCopy); // b is [N, K]
          B = bCopy;
        }
        gemm(simd, f32, { at: cp, row: N }, A, { at: B, row: N }, rows, K, N, start, tails);
      } else {
        // Cᵀ[N, M] = b·aᵀ: left operand b [N, K] in place, right operand aᵀ [K, M]
        let right = ap; // a transposed is [K, M] already
        if (copyA) {
          transposeInto(simd, f32, ap, M, K, aCopy); // a is [M, K]
          right = aCopy;
        }
        const left = { at: bp, lane: K, step: 1 };
        gemm(simd, f32, { at: turned, row: M }, left, { at: right, row: M }, N, K, M, start, tails);
        transposeInto(simd, f32, turned, N, M, cp);
        if (biasAt >= 0) addBias(f32, cp, M, N, biasAt, biasLen);
      }
    }
    return out;
  } finally {
    backend.disposeData(scratch.dataId);
  }
}

/** scratch for the tails, in float32 elements: B's last columns [K, 8], A's last rows [4, K], two C blocks */
interface Tails {
  bt: number;
  at: number;
  ct: number;
  cr: number;
}

/**
 * C[M, N] = I + A[M, K]·B[K, N] (C, B row-major with the given row lengths; A strided; I one row of
 * 8·⌈N/8⌉ floats, zero past N, at `init`): gemm4x8 on the full 4 x 8 blocks in place, the last M mod 4 rows and
 * N mod 8 columns through zero-padded copies.
 */
function gemm(
  simd: SimdKernels,
  f32: Float32Array,
  C: { at: number; row: number },
  A: Strided,
  B: { at: number; row: number },
  M: number,
  K: number,
  N: number,
  init: number,
  t: Tails,
): void {
  const m4 = M >> 2,
    mt = M & 3,
    n8 = N >> 3,
    nt = N & 7;
  // panels of rows whose parts of A and C (~128 KB) stay in L2 while the kernel walks every column block
  const panel = Math.max(1, Math.floor(settings.panelFloats / (4 * (K + N))));
  for (let p = 0; p < m4 && n8 > 0; p += panel) {
    const c = (C.at + p * 4 * C.row) * 4;
    const a = (A.at + p * 4 * A.lane) * 4;
    const rows = Math.min(panel, m4 - p);
    simd.gemm4x8(c, a, B.at * 4, rows, K, n8, A.lane * 4, A.step * 4, B.row * 4, C.row * 4, init * 4, 0);
  }
  const tailInit = (init + n8 * 8) * 4;
  if (nt > 0) {
    // B's last nt columns, zero-padded to 8
    const j0 = n8 * 8;
    f32.fill(0, t.bt, t.bt + K * 8);
    for (let k = 0; k < K; k++) {
      const src = B.at + k * B.row + j0;
      const dst = t.bt + k * 8;
      for (let j = 0; j < nt; j++) f32[dst + j] = f32[src + j];
    }
    if (m4 > 0) {
      simd.gemm4x8(t.ct * 4, A.at * 4, t.bt * 4, m4, K, 1, A.lane * 4, A.step * 4, 32, 32, tailInit, 0);
      for (let i = 0; i < m4 * 4; i++)
        for (let j = 0; j < nt; j++) f32[C.at + i * C.row + j0 + j] = f32[t.ct + i * 8 + j];
    }
  }
  if (mt > 0) {
    // A's last mt rows, zero-padded to 4, as a [4, K] block; their C rows [4, 8·⌈N/8⌉]
    const i0 = m4 * 4;
    const cols = (n8 + (nt > 0 ? 1 : 0)) * 8;
    for (let i = 0; i < 4; i++) {
      const src = A.at + (i0 + i) * A.lane;
      for (let k = 0; k < K; k++) f32[t.at + i * K + k] = i < mt ? f32[src + k * A.step] : 0;
    }
    if (n8 > 0) simd.gemm4x8(t.cr * 4, t.at * 4, B.at * 4, 1, K, n8, K * 4, 4, B.row * 4, cols * 4, init * 4, 0);
    if (nt > 0) simd.gemm4x8((t.cr + n8 * 8) * 4, t.at * 4, t.bt * 4, 1, K, 1, K * 4, 4, 32, cols * 4, tailInit, 0);
    for (let i = 0; i < mt; i++)
      for (let j = 0; j < N; j++) f32[C.at + (i0 + i) * C.row + j] = f32[t.cr + i * cols + j];
  }
}

/**
 * dst[c][r] = src[r][c] for a [rows, cols] src: transpose4x4 on the 4 x 4 blocks, the edges in JS (src, dst: float
 * offsets in f32, the heap)
 */
export function transposeInto(
  simd: SimdKernels,
  f32: Float32Array,
  src: number,
  rows: number,
  cols: number,
  dst: number,
): void {
  const r4 = rows >> 2,
    c4 = cols >> 2;
  if (r4 > 0 && c4 > 0) simd.transpose4x4(dst * 4, src * 4, r4, c4, cols * 4, rows * 4);
  for (let r = 0; r < rows; r++) {
    const s = src + r * cols;
    for (let c = r < r4 * 4 ? c4 * 4 : 0; c < cols; c++) f32[dst + c * rows + r] = f32[s + c];
  }
}

function addBias(f32: Float32Array, at: number, rows: number, n: number, biasAt: number, biasLen: number): void {
  for (let r = 0; r < rows; r++) {
    const o = at + r * n;
    for (let j = 0; j < n; j++) f32[o + j] += f32[biasAt + (biasLen === 1 ? 0 : j)];
  }
}

/** for each flat index of the broadcast `outer` shape, the flat index into `own` (broadcast dims -> 0) */
export function batchIndex(outer: number[], own: number[]): number[] {
  const n = size(outer);
  const res = new Array<number>(n);
  const off = outer.length - own.length;
  for (let f = 0; f < n; f++) {
    let rem = f;
    let idx = 0;
    let mul = 1;
    for (let d = outer.length - 1; d >= 0; d--) {
      const i = rem % outer[d];
      rem = Math.floor(rem / outer[d]);
      const od = d - off;
      if (od >= 0) {
        if (own[od] !== 1) idx += i * mul;
        mul *= own[od];
      }
    }
    res[f] = idx;
  }
  return res;
}

/** the broadcast of two leading shapes, or null where they do not broadcast */
export function broadcastOuter(a: number[], b: number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}
