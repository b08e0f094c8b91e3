/**
 * Faster versions of stock tfjs-backend-wasm 4.22 kernels that a training step calls and that are slow:
 *
 *  - Tile: the stock C++ kernel costs ~40 ms to tile a [1,1,1,16] BN factor to [32,32,32,16] (it runs in
 *    every BatchNormalization gradient); block copies (copyWithin) take well under 1 ms.
 *  - Identity: the stock kernel copies the tensor; the cpu backend and the wasm Reshape kernel share
 *    the data (refcount), which is what this does.
 *  - Sum / Mean over leading axes (BN moments and gradients): the stock kernel transposes first; here column
 *    sums in float64, by the SIMD colSums of simdKernelModule.ts where the channels are a multiple of 4.
 *  - BatchMatMul: see fastBatchMatMul.ts.
 *
 * Every function takes the stock kernel so it can fall back to it.
 */
import type { AnyBackend, KernelFunc, TInfo } from './kernelOps';
import type { SimdKernels } from './simdKernelModule';
import type { SimdOf } from './wasmElementwise';

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
 * `n` float64 sums that `fill` accumulates into a zeroed scratch on the heap (its byte offset given), copied out:
 * the per-channel sums of the SIMD reductions (colSums, colSqDev, momentsGrad, colDyDev)
 */
export function heapSums(backend: AnyBackend, n: number, fill: (accOffset: number) => void): Float64Array {
  const acc = backend.makeOutput([2 * n], 'float32') as TInfo; // n float64
  try {
    const a = backend.typedArrayFromHeap(acc) as Float32Array;
    a.fill(0);
    fill(a.byteOffset);
    const out = new Float64Array(n);
    new Uint8Array(out.buffer).set(new Uint8Array(a.buffer, a.byteOffset, 8 * n));
    return out;
  } finally {
    backend.disposeData(acc.dataId);
  }
}

/** columnSums by the SIMD colSums (simdKernelModule.ts) into a float64 accumulator on the heap; C % 4 === 0 */
function columnSumsSimd(backend: AnyBackend, simd: SimdKernels, x: TInfo, R: number, C: number): Float64Array {
  // x's view after the scratch's allocation: the heap may have moved
  return heapSums(backend, C, (acc) =>
    simd.colSums(acc, (backend.typedArrayFromHeap(x) as Float32Array).byteOffset, R, 4 * C),
  );
}

/**
 * Sum / Mean over the leading axes of a float32 tensor (BatchNormalization reduces NHWC over [0, 1, 2]):
 * the stock kernel transposes the whole input to put those axes last, then reduces; here one pass of
 * column sums (float64 partial sums, so also more accurate). Any other reduction goes to the stock kernel.
 */
export function fastLeadingReduce(stock: KernelFunc, mean: boolean, simdOf: SimdOf): KernelFunc {
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
    const simd = simdOf(backend);
    const sums =
      simd !== null && C % 4 === 0
        ? columnSumsSimd(backend, simd, x, R, C)
        : columnSums(backend.typedArrayFromHeap(x) as Float32Array, R, C);
    const ov = backend.typedArrayFromHeap(out) as Float32Array;
    for (let c = 0; c < C; c++) ov[c] = mean ? sums[c] / R : sums[c];
    return out;
  };
}
