/**
 * Faster versions of stock tfjs-backend-wasm 4.22 kernels that a training step calls and that are slow:
 *
 *  - Tile: the stock C++ kernel costs ~40 ms to tile a [1,1,1,16] BN factor to [32,32,32,16] (it runs in
 *    every BatchNormalization gradient); block copies (copyWithin) take well under 1 ms.
 *  - BatchMatMul: only the batch-1, non-transposed case reaches XNNPACK; a transposed operand or a batch
 *    takes a naive loop 10-30x slower (dense-layer gradients are x^T·dy and dy·W^T). Here a transposed
 *    operand is transposed explicitly first and a batch is split into XNNPACK calls.
 *  - Identity: the stock kernel copies the tensor; the cpu backend and the wasm Reshape kernel share
 *    the data (refcount), which is what this does.
 *
 * Every function takes the stock kernel so it can fall back to it.
 */
import type { TInfo } from './conv2dBackprop';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyBackend = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Attrs = Record<string, any>;
export interface KernelArgs {
  inputs: Record<string, TInfo>;
  backend: AnyBackend;
  attrs?: Attrs;
}
export type KernelFunc = (args: KernelArgs) => TInfo | TInfo[];

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

type Typed = Float32Array | Int32Array | Uint8Array;

/**
 * tile(src of inShape, reps) into out: recursive over axes; the innermost row is written once, every
 * repetition is a block copy of what was already written.
 */
export function tileInto(src: Typed, inShape: number[], reps: number[], out: Typed): void {
  const r = inShape.length;
  if (r === 0) {
    out[0] = src[0];
    return;
  }
  const outShape = inShape.map((d, i) => d * reps[i]);
  const inStride = new Array<number>(r);
  const outStride = new Array<number>(r);
  inStride[r - 1] = 1;
  outStride[r - 1] = 1;
  for (let i = r - 2; i >= 0; i--) {
    inStride[i] = inStride[i + 1] * inShape[i + 1];
    outStride[i] = outStride[i + 1] * outShape[i + 1];
  }
  const fill = (dim: number, inOff: number, outOff: number): void => {
    const n = inShape[dim];
    if (dim === r - 1) {
      for (let j = 0; j < n; j++) out[outOff + j] = src[inOff + j];
    } else {
      for (let j = 0; j < n; j++) fill(dim + 1, inOff + j * inStride[dim], outOff + j * outStride[dim]);
    }
    const block = n * outStride[dim];
    const rep = reps[dim];
    if (rep <= 1 || block === 0) return;
    if (block === 1) {
      out.fill(out[outOff] as never, outOff + 1, outOff + rep);
      return;
    }
    // doubling copies: 1, 2, 4, ... blocks
    let done = 1;
    while (done < rep) {
      const k = Math.min(done, rep - done);
      out.copyWithin(outOff + done * block, outOff, outOff + k * block);
      done += k;
    }
  };
  if (size(outShape) > 0) fill(0, 0, 0);
}

export function fastTile(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs = {} } = args;
    const x = inputs.x;
    if (x.dtype === 'string' || x.dtype === 'complex64') return stock(args);
    const reps: number[] = attrs.reps;
    const outShape = x.shape.map((d, i) => d * reps[i]);
    const out = backend.makeOutput(outShape, x.dtype) as TInfo;
    const src = backend.typedArrayFromHeap(x) as Typed; // after the allocation: the heap may have moved
    const dst = backend.typedArrayFromHeap(out) as Typed;
    tileInto(src, x.shape, reps, dst);
    return out;
  };
}

export function fastIdentity(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x;
    if (x.dtype === 'string') return stock(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

/** below this many multiply-adds per matrix the stock kernel is used as is (call overheads dominate) */
const MIN_MACS = 16 * 1024;

/**
 * BatchMatMul: XNNPACK (the stock non-transposed batch-1 path) for every case.
 * `stockTranspose` is the backend's Transpose kernel.
 */
export function fastBatchMatMul(stock: KernelFunc, stockTranspose: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs = {} } = args;
    const { a, b } = inputs;
    const transposeA = !!attrs.transposeA;
    const transposeB = !!attrs.transposeB;
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock(args);
    const ar = a.shape.length;
    const br = b.shape.length;
    const M = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
    const K = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
    const Kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
    const N = transposeB ? b.shape[br - 2] : b.shape[br - 1];
    const batchA = size(a.shape.slice(0, -2));
    const batchB = size(b.shape.slice(0, -2));
    const batch = Math.max(batchA, batchB);
    if (K !== Kb) return stock(args); // the stock kernel reports the error
    // the output shape, with broadcast outer dims (the stock kernel allocates only max(batchA, batchB)
    // matrices, too few for e.g. [3,1,M,K] x [1,3,K,N])
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const outer = broadcastOuter(outerA, outerB);
    const outShape = [...outer, M, N];
    const nOut = size(outer);
    const stockIsRight = nOut === batch;
    if (stockIsRight && ((batch === 1 && !transposeA && !transposeB) || M * K * N < MIN_MACS || M * N * K === 0))
      return stock(args);
    if (M * N === 0 || K === 0) return stock(args); // degenerate: let tfjs report/handle it
    const temps: TInfo[] = [];
    try {
      // NN operands, 3D
      let a3: TInfo = { dataId: a.dataId, shape: transposeA ? [batchA, K, M] : [batchA, M, K], dtype: a.dtype };
      if (transposeA) {
        a3 = stockTranspose({ inputs: { x: a3 }, backend, attrs: { perm: [0, 2, 1] } }) as TInfo;
        temps.push(a3);
      }
      let b3: TInfo = { dataId: b.dataId, shape: transposeB ? [batchB, N, K] : [batchB, K, N], dtype: b.dtype };
      if (transposeB) {
        b3 = stockTranspose({ inputs: { x: b3 }, backend, attrs: { perm: [0, 2, 1] } }) as TInfo;
        temps.push(b3);
      }
      const nn = (x: TInfo, y: TInfo): TInfo =>
        stock({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } }) as TInfo;
      if (nOut === 1) {
        const r = nn({ ...a3, shape: [M, K] }, { ...b3, shape: [K, N] });
        return { ...r, shape: outShape };
      }
      if (batchB === 1 && batchA === nOut) {
        // one matrix for every batch entry of a: [batch*M, K] x [K, N]
        const r = nn({ ...a3, shape: [nOut * M, K] }, { ...b3, shape: [K, N] });
        return { ...r, shape: outShape };
      }
      const idxA = batchIndex(outer, outerA);
      const idxB = batchIndex(outer, outerB);
      const out = backend.makeOutput(outShape, 'float32') as TInfo;
      for (let i = 0; i < nOut; i++) {
        const ai = batchA === 1 ? { ...a3, shape: [M, K] } : slice(backend, a3, idxA[i] * M * K, [M, K]);
        const bi = batchB === 1 ? { ...b3, shape: [K, N] } : slice(backend, b3, idxB[i] * K * N, [K, N]);
        const r = nn(ai, bi);
        const rv = backend.typedArrayFromHeap(r) as Float32Array;
        const ov = backend.typedArrayFromHeap(out) as Float32Array;
        ov.set(rv, i * M * N);
        backend.disposeData(r.dataId);
        if (batchA !== 1) backend.disposeData(ai.dataId);
        if (batchB !== 1) backend.disposeData(bi.dataId);
      }
      return out;
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}

function slice(backend: AnyBackend, t: TInfo, offset: number, shape: number[]): TInfo {
  const n = size(shape);
  const out = backend.makeOutput(shape, t.dtype) as TInfo;
  const src = backend.typedArrayFromHeap({ ...t, shape: [size(t.shape)] }) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  dst.set(src.subarray(offset, offset + n));
  return out;
}

/** for each flat index of the broadcast `outer` shape, the flat index into `own` (broadcast dims -> 0) */
function batchIndex(outer: number[], own: number[]): number[] {
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

function broadcastOuter(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** below this many elements the stock reduction is used */
const MIN_REDUCE = 4096;

/** column sums of x viewed as [R, C], four row streams at a time, float64 partial sums */
export function columnSums(x: Float32Array, R: number, C: number): Float64Array {
  const a = new Float64Array(C * 4);
  let o = 0;
  let r = 0;
  const C2 = 2 * C,
    C3 = 3 * C,
    C4 = 4 * C;
  for (; r + 4 <= R; r += 4) {
    for (let c = 0; c < C; c++) {
      a[c] += x[o + c];
      a[C + c] += x[o + C + c];
      a[C2 + c] += x[o + C2 + c];
      a[C3 + c] += x[o + C3 + c];
    }
    o += C4;
  }
  for (; r < R; r++) {
    for (let c = 0; c < C; c++) a[c] += x[o + c];
    o += C;
  }
  const out = new Float64Array(C);
  for (let c = 0; c < C; c++) out[c] = a[c] + a[C + c] + a[C2 + c] + a[C3 + c];
  return out;
}

/**
 * Sum / Mean over the leading axes of a float32 tensor (BatchNormalization reduces NHWC over [0, 1, 2]):
 * the stock kernel transposes the whole input to put those axes last, then reduces; here one pass of
 * column sums (float64 partial sums, so also more accurate). Any other reduction goes to the stock kernel.
 */
export function fastLeadingReduce(stock: KernelFunc, mean: boolean): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs = {} } = args;
    const x = inputs.x;
    const rank = x.shape.length;
    if (x.dtype !== 'float32' || rank < 2) return stock(args);
    const raw: number[] =
      attrs.axis == null ? x.shape.map((_, i) => i) : Array.isArray(attrs.axis) ? attrs.axis : [attrs.axis];
    const axes = [...new Set(raw.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
    const k = axes.length;
    if (k === 0 || k >= rank || axes.some((a, i) => a !== i)) return stock(args);
    const R = size(x.shape.slice(0, k));
    const C = size(x.shape.slice(k));
    if (R < 2 || R * C < MIN_REDUCE) return stock(args);
    const outShape = attrs.keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
    const out = backend.makeOutput(outShape, 'float32') as TInfo;
    const sums = columnSums(backend.typedArrayFromHeap(x) as Float32Array, R, C);
    const ov = backend.typedArrayFromHeap(out) as Float32Array;
    for (let c = 0; c < C; c++) ov[c] = mean ? sums[c] / R : sums[c];
    return out;
  };
}
