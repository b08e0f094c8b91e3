/**
 * A shorter gradient for FusedBatchNorm (the normalisation of every BatchNormalization layer in training), on the
 * wasm backend. tfjs-core 4.22's gradient builds each of its five parts on its own: x − mean, dy·scale, rsqrt,
 * a tile of rsqrt to x's shape, and per part one or two products over the whole tensor before its sum, about
 * twelve passes over x-sized data and 25 kernel calls a layer. The same values from two per-channel sums:
 *
 *   r = 1/sqrt(variance + ε), g = r·scale, Σdy and Σdy·(x − mean) over the reduced axes
 *   dx = dy·g    dmean = −g·Σdy    dvariance = −½·r²·g·Σdy(x − mean)    dscale = r·Σdy(x − mean)    doffset = Σdy
 *
 * five passes over x-sized data (dx, x − mean, its product with dy, two sums) in about ten calls, each one a
 * per-channel broadcast the engine's wasm kernels run in SIMD (wasmArithmetic.ts); with channels-last statistics
 * (every BatchNormalization layer's), one kernel call and two passes (batchNormGradKernel.ts). Only where the active backend is
 * wasm: elsewhere (the cpu backend, which tests use as the stock reference) tfjs's own gradient runs unchanged.
 * Registered by registerMissingKernels, undone by unregisterMissingKernels (the gradient registry is global).
 */
import { BN_GRAD_KERNEL, batchNormGradShape } from './batchNormGradKernel';
import { areBatchMomentsOf } from './fusedMoments';
import { markKnownZero } from './knownZeros';
import { simdAvailable } from './simdKernelModule';
import { registerGradientQuietly } from './registerGradientQuietly';

type TF = typeof import('@tensorflow/tfjs');
type Tensor = import('@tensorflow/tfjs').Tensor;
type GradConfig = NonNullable<ReturnType<TF['getGradient']>>;
type Thunks = Record<string, () => Tensor>;

const OURS = Symbol.for('bn-inspector.gradient');

/** the stock FusedBatchNorm gradient config while ours is registered */
let stockConfig: GradConfig | null = null;

/** the gradient of FusedBatchNorm as above (x, mean, variance, scale saved; scale may be absent) */
export function fastBatchNormGradient(tf: TF, stock: GradConfig): GradConfig {
  const gradFunc = (dy: Tensor | Tensor[], saved: Tensor[], attrs: Record<string, unknown>): Thunks => {
    if (tf.getBackend() !== 'wasm' || Array.isArray(dy)) return stock.gradFunc(dy, saved, attrs as never) as Thunks;
    const [x, mean, variance, scale] = saved;
    const eps = Number(attrs.varianceEpsilon);
    if (
      tf.getKernel(BN_GRAD_KERNEL, 'wasm') &&
      simdAvailable(tf.backend()) &&
      !Array.isArray(dy) &&
      dy.size === x.size &&
      batchNormGradShape(x, [mean, variance, scale]) !== null
    ) {
      // channels last: the whole gradient in one kernel (batchNormGradKernel.ts)
      const inputs: Record<string, Tensor> =
        scale == null ? { x, mean, variance, dy } : { x, mean, variance, scale, dy };
      // mean and variance the batch moments of x (a training-mode call): dx is the layer's whole input gradient
      const batchMoments = areBatchMomentsOf(x, mean, variance);
      const [dx, dm, dv, ds, doff] = tf
        .engine()
        .runKernel(BN_GRAD_KERNEL, inputs, { varianceEpsilon: eps, batchMoments }) as Tensor[];
      // their paths are in dx: zeros, marked so that the moments' gradient and the tape skip them (knownZeros.ts)
      if (batchMoments) [dm, dv].forEach(markKnownZero);
      const as = (t: Tensor, shape: number[]) => (t.shape.length === shape.length ? t : tf.reshape(t, shape));
      return {
        x: () => as(dx, x.shape),
        mean: () => as(dm, mean.shape),
        variance: () => as(dv, mean.shape),
        scale: () => as(ds, mean.shape),
        offset: () => as(doff, mean.shape),
      };
    }
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const sumOver = (t: Tensor): Tensor => tf.reshape(axes.length ? tf.sum(t, axes) : t, mean.shape);
    const r = tf.rsqrt(tf.add(variance, tf.scalar(eps)));
    const g = scale == null ? r : tf.mul(r, scale);
    // computed here, not in the parts: tfjs runs each part in a tidy of its own, which would dispose a shared value
    const sumDy = sumOver(dy);
    const sumDyXmm = sumOver(tf.mul(dy, tf.sub(x, mean)));
    return {
      x: () => tf.reshape(tf.mul(dy, g), x.shape),
      mean: () => tf.reshape(tf.neg(tf.mul(g, sumDy)), mean.shape),
      variance: () => tf.reshape(tf.mul(tf.mul(tf.mul(r, r), tf.mul(g, tf.scalar(-0.5))), sumDyXmm), mean.shape),
      scale: () => tf.reshape(tf.mul(r, sumDyXmm), mean.shape),
      offset: () => tf.reshape(sumDy, mean.shape),
    };
  };
  const config = { ...stock, gradFunc } as GradConfig;
  (config as unknown as Record<symbol, boolean>)[OURS] = true;
  return config;
}

/** registers fastBatchNormGradient in place of tfjs's; false if there is none to replace or ours is already in */
export function registerBatchNormGradient(tf: TF): boolean {
  const stock = tf.getGradient('FusedBatchNorm');
  if (!stock || (stock as unknown as Record<symbol, boolean>)[OURS]) return false;
  stockConfig = stock;
  registerGradientQuietly(tf, fastBatchNormGradient(tf, stock));
  return true;
}

/** puts tfjs's own FusedBatchNorm gradient back */
export function unregisterBatchNormGradient(tf: TF): void {
  if (!stockConfig) return;
  registerGradientQuietly(tf, stockConfig);
  stockConfig = null;
}
