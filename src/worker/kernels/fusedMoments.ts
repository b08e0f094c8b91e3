/**
 * tf.moments of a BatchNormalization call in training mode as one kernel, and its gradient as one kernel, on wasm.
 *
 * tfjs-core's moments is Mean, Cast, Reshape, Sub, Square, Mean (six kernel calls, three passes over x), and its
 * gradient on the tape about fifteen more (two Mean gradients, Square's two products, Sub's sum and negation, the
 * reshapes, the accumulation): per BatchNormalization layer and training step ~20 of its ~84 kernel calls, each
 * with tfjs's bookkeeping (MobileNetV2 has 52 such layers). Here:
 *
 *   BnInspectorMoments(x) -> [mean, variance]   (channels last; the leading axes reduced)
 *     mean[c] = Σ_r x[r][c] / R              float64 sums (colSums), as the engine's Mean kernel (wasmFast.ts)
 *     variance[c] = Σ_r (x[r][c] − mean[c])² / R   difference and square in float32, float64 sums (colSqDev)
 *   its gradient, BnInspectorMomentsGrad(x, mean, dMean, dVariance) -> dx:
 *     g = dVariance / R;  dd[r][c] = g[c]·2(x[r][c] − mean[c]);  s[c] = Σ_r dd[r][c]   (momentsGrad, one pass)
 *     dx[r][c] = dd[r][c] + (dMean[c] − s[c]) / R                                      (the SIMD add)
 *
 * Every value is rounded where tfjs's chain rounds it (the same float32 operations per element, the same float64
 * sums in the same order, the same divisions), so mean, variance and dx are those of tfjs-core's moments on the
 * engine's kernels bit for bit (tests compare both, and both against a float64 reference). It applies only where
 * those kernels take their SIMD paths: float32, channels a multiple of 4, R ≥ 2 and R·C ≥ 4096; anything else
 * runs tfjs's own moments. Used by the capture of a training-mode call (bnCapture.ts), not for a script's own
 * tf.moments.
 */
import type { KernelFunc, TInfo } from './kernelOps';
import { isKnownZero, knownZeroThunk, markKnownZero } from './knownZeros';
import { simdAvailable } from './simdKernelModule';
import type { SimdOf } from './wasmElementwise';
import { heapSums } from './wasmFast';

type TF = typeof import('@tensorflow/tfjs');
type Tensor = import('@tensorflow/tfjs').Tensor;

export const MOMENTS_KERNEL = 'BnInspectorMoments';
export const MOMENTS_GRAD_KERNEL = 'BnInspectorMomentsGrad';

/** below this many elements tfjs's Mean / Sum run their stock kernels (wasmFast.ts MIN_REDUCE): not fused */
const MIN_ELEMENTS = 4096;

/** settings tests and benchmarks flip (false: tfjs's own moments everywhere) */
export const fusedMomentsSettings = { enabled: process.env.BN_INSPECTOR_FUSED_MOMENTS !== '0' };

/** [R, C] of a float32 x reduced over all axes but the last, or null where the fused kernels do not apply */
export function fusedMomentsShape(
  x: { shape: readonly number[]; dtype: string },
  axes: readonly number[],
): [number, number] | null {
  const rank = x.shape.length;
  if (x.dtype !== 'float32' || rank < 2 || axes.length !== rank - 1) return null;
  const sorted = [...axes].map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
  if (sorted.some((a, i) => a !== i)) return null;
  const C = x.shape[rank - 1];
  const R = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  if (C % 4 !== 0 || R < 2 || R * C < MIN_ELEMENTS) return null;
  return [R, C];
}

/** fusedMomentsShape of x reduced over every axis but the last (what both kernels compute) */
const channelsLastShape = (x: TInfo) =>
  fusedMomentsShape(
    x,
    x.shape.slice(0, -1).map((_, i) => i),
  );

function momentsKernel(simdOf: SimdOf): KernelFunc {
  return ({ inputs, backend }) => {
    const { x } = inputs;
    const simd = simdOf(backend);
    const shape = channelsLastShape(x);
    if (simd === null || shape === null)
      throw new Error(`${MOMENTS_KERNEL}: unsupported input ${x.dtype} [${x.shape}]`);
    const [R, C] = shape;
    const mean = backend.makeOutput([C], 'float32') as TInfo;
    const variance = backend.makeOutput([C], 'float32') as TInfo;
    const xOff = () => (backend.typedArrayFromHeap(x) as Float32Array).byteOffset;
    const sums = heapSums(backend, C, (acc) => simd.colSums(acc, xOff(), R, 4 * C));
    const mv = backend.typedArrayFromHeap(mean) as Float32Array;
    for (let c = 0; c < C; c++) mv[c] = sums[c] / R;
    const meanOff = mv.byteOffset;
    const sq = heapSums(backend, C, (acc) => simd.colSqDev(acc, xOff(), meanOff, R, 4 * C));
    const vv = backend.typedArrayFromHeap(variance) as Float32Array;
    for (let c = 0; c < C; c++) vv[c] = sq[c] / R;
    return [mean, variance];
  };
}

function momentsGradKernel(simdOf: SimdOf): KernelFunc {
  return ({ inputs, backend }) => {
    const { x, mean, dMean, dVariance } = inputs;
    const simd = simdOf(backend);
    const shape = channelsLastShape(x);
    if (simd === null || shape === null)
      throw new Error(`${MOMENTS_GRAD_KERNEL}: unsupported input ${x.dtype} [${x.shape}]`);
    const [R, C] = shape;
    const dx = backend.makeOutput([...x.shape], 'float32') as TInfo;
    const g = backend.makeOutput([C], 'float32') as TInfo;
    const h = backend.makeOutput([C], 'float32') as TInfo;
    try {
      const view = (t: TInfo) => backend.typedArrayFromHeap(t) as Float32Array;
      const gv = view(g);
      const dv = view(dVariance);
      for (let c = 0; c < C; c++) gv[c] = dv[c] / R;
      const at = (t: TInfo) => view(t).byteOffset;
      const s = heapSums(backend, C, (acc) => simd.momentsGrad(at(dx), at(x), at(mean), at(g), R, 4 * C, acc));
      const hv = view(h);
      const dm = view(dMean);
      for (let c = 0; c < C; c++) {
        const sum = Math.fround(s[c]); // the Sum kernel's float32 result
        const dMeanTotal = Math.fround(dm[c] - sum); // the mean's accumulated gradient: dMean + neg(sum), float32
        hv[c] = dMeanTotal / R; // the Mean gradient: divided on the small tensor, then broadcast
      }
      const out = view(dx).byteOffset;
      simd.add(out, out, view(h).byteOffset, R, 4 * C, 4 * C, 0);
      return dx;
    } finally {
      backend.disposeData(g.dataId);
      backend.disposeData(h.dataId);
    }
  };
}

/** the two kernels for 'wasm' (registered by registerMissingKernels) */
export function fusedMomentsKernels(simdOf: SimdOf): Record<string, KernelFunc> {
  return { [MOMENTS_KERNEL]: momentsKernel(simdOf), [MOMENTS_GRAD_KERNEL]: momentsGradKernel(simdOf) };
}

/** the gradient of BnInspectorMoments (x and the mean saved; dMean and dVariance are tfjs's zeros where unused) */
export function registerFusedMomentsGradient(tf: TF): boolean {
  if (tf.getGradient(MOMENTS_KERNEL)) return false;
  tf.registerGradient({
    kernelName: MOMENTS_KERNEL,
    inputsToSave: ['x'],
    outputsToSave: [true, false],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
      const [x, mean] = saved;
      const [dMean, dVariance] = dy as Tensor[];
      // the layer's normalisation gradient carried both paths (batchNormGradient.ts, batchMoments: its zeros are
      // marked): a zero gradient, marked so that the tape adds nothing. tf.fill, not tf.zeros: the Fill kernel writes
      // the zeros in the backend's memory, where tf.zeros makes them in a JS array and copies it (x-sized, twice)
      if (isKnownZero(dMean) && isKnownZero(dVariance))
        return { x: knownZeroThunk(() => markKnownZero(tf.fill(x.shape, 0, x.dtype as 'float32'))) };
      return {
        x: () => tf.engine().runKernel(MOMENTS_GRAD_KERNEL, { x, mean, dMean, dVariance }, {}) as Tensor,
      };
    },
  });
  return true;
}

/** removes that gradient (tests, benchmarks) */
export function unregisterFusedMomentsGradient(tf: TF): void {
  if (tf.getGradient(MOMENTS_KERNEL)) tf.unregisterGradient(MOMENTS_KERNEL);
}

/**
 * tf.moments(x, axes) by the fused kernel where it applies on the active backend, else null (the caller runs
 * tfjs's own). Recorded on the tape with its gradient like any kernel.
 */
export function fusedMoments(tf: TF, x: Tensor, axes: readonly number[]): { mean: Tensor; variance: Tensor } | null {
  if (!fusedMomentsSettings.enabled || tf.getBackend() !== 'wasm' || !tf.getKernel(MOMENTS_KERNEL, 'wasm')) return null;
  if (fusedMomentsShape(x, axes) === null || !simdAvailable(tf.backend())) return null;
  const [mean, variance] = tf.engine().runKernel(MOMENTS_KERNEL, { x }, {}) as Tensor[];
  batchMoments.set(mean.dataId, { x: x.dataId, variance: variance.dataId });
  return { mean, variance };
}

/** the data of the mean made by fusedMoments -> the data of its x and variance (clones share data) */
const batchMoments = new WeakMap<object, { x: object; variance: object }>();

/** whether mean and variance are fusedMoments' batch moments of x (as a training-mode BatchNormalization uses them) */
export function areBatchMomentsOf(
  x: { dataId: object },
  mean: { dataId: object },
  variance: { dataId: object },
): boolean {
  const m = batchMoments.get(mean.dataId);
  return m !== undefined && m.x === x.dataId && m.variance === variance.dataId;
}
