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
 *
 * With attrs.batchMoments (mean and variance are the batch moments of x itself, BnInspectorMoments' outputs: every
 * training-mode BatchNormalization), dx also carries the paths through them, the whole input gradient in the same
 * second pass (bnDx), and dmean, dvariance are zeros:
 *     dx = dy·g + (x − mean)·(2·dvariance / R) + dmean / R
 * (what the moments' gradient would add: dvariance·2(x − mean)/R + (dmean − Σ of that)/R, the sum zero but for
 * rounding). The moments' gradient then has nothing to add (fusedMoments.ts), nor the tape a sum to make: two passes
 * over x-sized data for the layer's whole gradient instead of five. Not bit for bit tfjs's chain (other groupings):
 * within float32 rounding of it (tests).
 *
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
    const folded = attrs.batchMoments === true;
    const dx = backend.makeOutput([...x.shape], 'float32') as TInfo;
    const outs = [0, 1, 2, 3].map(() => backend.makeOutput([C], 'float32') as TInfo); // dmean dvariance dscale doffset
    const p = backend.makeOutput([4 * C], 'float32') as TInfo; // mean | g | a | b (bnDx), g alone for the mul
    try {
      const view = (t: TInfo) => backend.typedArrayFromHeap(t) as Float32Array;
      // Σdy, then Σdy(x − mean): C float64 each
      const sums = heapSums(backend, 2 * C, (acc) =>
        simd.colDyDev(acc, acc + 8 * C, view(dy).byteOffset, view(x).byteOffset, view(mean).byteOffset, R, 4 * C),
      );
      const vv = view(variance);
      const sv = scale ? view(scale) : null;
      const pv = view(p);
      pv.set(view(mean));
      const [dm, dv, ds, doff] = outs.map(view);
      const f = Math.fround;
      for (let c = 0; c < C; c++) {
        const sumDy = f(sums[c]);
        const sumDyX = f(sums[C + c]);
        const r = f(1 / Math.sqrt(f(vv[c] + eps)));
        const gc = sv ? f(r * sv[c]) : r;
        pv[C + c] = gc;
        dm[c] = -f(gc * sumDy);
        dv[c] = f(f(f(r * r) * f(gc * -0.5)) * sumDyX);
        ds[c] = f(r * sumDyX);
        doff[c] = sumDy;
        pv[2 * C + c] = f(f(2 * dv[c]) / R);
        pv[3 * C + c] = f(dm[c] / R);
      }
      const out = view(dx).byteOffset;
      if (folded) {
        simd.bnDx(out, view(dy).byteOffset, view(x).byteOffset, R, 4 * C, pv.byteOffset);
        dm.fill(0);
        dv.fill(0);
      } else simd.mul(out, view(dy).byteOffset, pv.byteOffset + 4 * C, R, 4 * C, 4 * C, 0);
      return [dx, ...outs];
    } finally {
      backend.disposeData(p.dataId);
    }
  };
}
