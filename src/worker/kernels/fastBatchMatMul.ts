/**
 * A faster BatchMatMul for tfjs-backend-wasm 4.22: only the batch-1, non-transposed case reaches XNNPACK; a
 * transposed operand or a batch takes a naive loop 10-30x slower (dense-layer gradients are x^T·dy and
 * dy·W^T), and XNNPACK packs the second operand afresh for every new tensor (training's fresh weights and
 * gradients: most of a dense layer's product). Where preferSimd says so (measured) the product runs by the SIMD
 * kernel of denseMatMul.ts, operands read in place; otherwise a transposed operand is transposed explicitly
 * first and a batch is split into XNNPACK calls; small products keep the stock kernel.
 */
import type { AnyBackend, KernelFunc, TInfo } from './kernelOps';
import { batchIndex, broadcastOuter, preferSimd, simdMatMul } from './denseMatMul';
import type { SimdOf } from './wasmElementwise';

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** below this many multiply-adds per matrix the stock kernel is used as is (call overheads dominate) */
const MIN_MACS = 16 * 1024;

/**
 * BatchMatMul: the SIMD product (denseMatMul.ts) where preferred, else XNNPACK (the stock non-transposed
 * batch-1 path) for every case. `stockTranspose` is the backend's Transpose kernel.
 */
export function fastBatchMatMul(stock: KernelFunc, stockTranspose: KernelFunc, simdOf: SimdOf): KernelFunc {
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
    if (outer === null) return stock(args); // the stock kernel reports the error
    const simd = M * N * K > 0 ? simdOf(backend) : null;
    // the stock kernel keeps XNNPACK's packed right operand only for a plain (batch 1, NN) product
    const packable = batch === 1 && !transposeA && !transposeB;
    if (simd !== null && preferSimd(M, K, N, packable))
      return simdMatMul(simd, backend, a, b, { transposeA, transposeB });
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
