/**
 * _FusedMatMul on wasm (a dense layer's forward pass: x·W + bias, optionally an activation) by the SIMD product
 * of denseMatMul.ts, which reads the fresh weights of every training step in place where the stock kernel has
 * XNNPACK pack them first. The activations applied here: linear, relu, relu6; any other (and prelu weights, a
 * bias that is not a vector of N or 1 values, other dtypes) goes to the stock kernel, as do the products
 * preferSimd leaves to stock.
 */
import type { KernelFunc, TInfo } from './kernelOps';
import { preferSimd, productDims, simdMatMul } from './denseMatMul';
import type { SimdOf } from './wasmElementwise';

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

export function fastFusedMatMul(stock: KernelFunc, simdOf: SimdOf): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs = {} } = args;
    const { a, b, bias, preluActivationWeights } = inputs;
    const activation = (attrs.activation ?? 'linear') as string;
    const transposeA = !!attrs.transposeA;
    const transposeB = !!attrs.transposeB;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || preluActivationWeights != null) return stock(args);
    if (activation !== 'linear' && activation !== 'relu' && activation !== 'relu6') return stock(args);
    const dims = productDims(a, b, transposeA, transposeB);
    if (dims === null) return stock(args);
    if (bias != null && (bias.dtype !== 'float32' || bias.shape.length !== 1 || ![1, dims.N].includes(bias.shape[0])))
      return stock(args);
    const simd = simdOf(backend);
    const packable = dims.outer.every((d) => d === 1) && !transposeA && !transposeB;
    if (simd === null || !preferSimd(dims.M, dims.K, dims.N, packable)) return stock(args);
    const out = simdMatMul(simd, backend, a, b, { transposeA, transposeB, bias });
    if (activation !== 'linear') {
      const v = backend.typedArrayFromHeap(out) as Float32Array;
      const n = size(out.shape);
      const n4 = n >> 2;
      const hi = activation === 'relu6' ? 6 : Infinity;
      if (activation === 'relu') simd.relu(v.byteOffset, v.byteOffset, n4, 0);
      else simd.clip(v.byteOffset, v.byteOffset, n4, 0, 6);
      // the last n mod 4 (NaN stays NaN, as in the SIMD max / min)
      for (let i = n4 * 4; i < n; i++) if (!Number.isNaN(v[i])) v[i] = Math.min(Math.max(v[i], 0), hi);
    }
    return out as TInfo;
  };
}
