/**
 * The FusedBatchNorm gradient (batchNormGradient.ts) as one kernel on wasm, for channels-last statistics:
 *
 *   BnInspectorBatchNormGrad(x, mean, variance, [scale], dy) -> [dx, dmean, dvariance, dscale, doffset]
 *     Σdy and Σdy·(x − mean) per channel in one pass (colDyDev: float32 difference and product, float64 sums),
 *     then r = 1/sqrt(variance + ε), g = r·scale, per channel, and dx = dy·g (the SIMD mul, one more pass):
 *     dmean = −g·Σdy   dvariance = −½·r²·g·Σdy(x − mean)   dscale = r·Σdy(x − mean)   doffset = Σdy
 *
 * The same formulas as the tf-op version beside it, rounded the same way per element (the per-channel factors in
 * float64, then float32); one kernel call instead of about ten, two passes over x-sized data instead of five.
 * Applies where x is float32 with C channels last, C a multiple of 4, R·C ≥ 4096, and every statistic has C
 * values; the caller keeps the tf-op version for anything else.
 */
import type { KernelFunc, TInfo } from './kernelOps';
import type { SimdOf } from './wasmElementwise';
import { heapSums } from './wasmFast';

export const BN_GRAD_KERNEL = 'BnInspectorBatchNormGrad';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** [R, C] where the kernel applies to x and its statistics, else null */
export function batchNormGradShape(
  x: { shape: readonly number[]; dtype: string },
  stats: ({ shape: readonly number[]; dtype: string } | null | undefined)[],
): [number, number] | null {
  const rank = x.shape.length;
  if (x.dtype !== 'float32' || rank < 2) return null;
  const C = x.shape[rank - 1];
  const R = size(x.shape) / C;
  if (C % 4 !== 0 || R < 2 || R * C < 4096) return null;
  for (const s of stats) {
    if (s == null) continue;
    if (s.dtype !== 'float32' || s.shape.length > rank || size(s.shape) !== C || s.shape[s.shape.length - 1] !== C)
      return null;
  }
  return [R, C];
}

export function batchNormGradKernel(simdOf: SimdOf): KernelFunc {
  return ({ inputs, backend, attrs = {} }) => {
    const { x, mean, variance, scale, dy } = inputs;
    const simd = simdOf(backend);
    const shape = batchNormGradShape(x, [mean, variance, scale]);
    if (simd === null || shape === null || size(dy.shape) !== size(x.shape))
      throw new Error(`${BN_GRAD_KERNEL}: unsupported input ${x.dtype} [${x.shape}]`);
    const [R, C] = shape;
    const eps = Number(attrs.varianceEpsilon);
    const dx = backend.makeOutput([...x.shape], 'float32') as TInfo;
    const outs = [0, 1, 2, 3].map(() => backend.makeOutput([C], 'float32') as TInfo); // dmean dvariance dscale doffset
    const g = backend.makeOutput([C], 'float32') as TInfo;
    try {
      const view = (t: TInfo) => backend.typedArrayFromHeap(t) as Float32Array;
      // Σdy, then Σdy(x − mean): C float64 each
      const sums = heapSums(backend, 2 * C, (acc) =>
        simd.colDyDev(acc, acc + 8 * C, view(dy).byteOffset, view(x).byteOffset, view(mean).byteOffset, R, 4 * C),
      );
      const vv = view(variance);
      const sv = scale ? view(scale) : null;
      const gv = view(g);
      const [dm, dv, ds, doff] = outs.map(view);
      const f = Math.fround;
      for (let c = 0; c < C; c++) {
        const sumDy = f(sums[c]);
        const sumDyX = f(sums[C + c]);
        const r = f(1 / Math.sqrt(f(vv[c] + eps)));
        const gc = sv ? f(r * sv[c]) : r;
        gv[c] = gc;
        dm[c] = -f(gc * sumDy);
        dv[c] = f(f(f(r * r) * f(gc * -0.5)) * sumDyX);
        ds[c] = f(r * sumDyX);
        doff[c] = sumDy;
      }
      const out = view(dx).byteOffset;
      simd.mul(out, view(dy).byteOffset, view(g).byteOffset, R, 4 * C, 4 * C, 0);
      return [dx, ...outs];
    } finally {
      backend.disposeData(g.dataId);
    }
  };
}
