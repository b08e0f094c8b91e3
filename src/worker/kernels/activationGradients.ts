/**
 * The gradients of ReLU6 (tfjs-layers: relu, then clipByValue(0, 6)) as one kernel each on wasm:
 *
 *   ClipByValue: tfjs-core's where(logicalAnd(x >= lo, x <= hi), dy, zerosLike(dy)) is five kernel calls and five
 *     passes over x-sized data; BnInspectorClipGrad (clipGrad, simdKernelModule.ts) is one: dy where x is in
 *     [lo, hi], else +0, exactly what that select gives.
 *   Relu: tfjs-core's mul(dy, step(x)) is two; BnInspectorReluGrad (reluGrad) is one: the same products
 *     dy · step(x) (step 1 for x > 0, NaN for NaN, else +0), so the values are equal bit for bit.
 *
 * MobileNetV2 has 35 ReLU6 layers: ~250 kernel calls and ~200 x-sized passes fewer per training step. Only for
 * float32 x and dy of one shape from 1024 elements on the wasm backend; anything else runs tfjs's own gradient.
 * Installed by registerMissingKernels (the gradient registry is global), undone by unregisterMissingKernels.
 */
import type { AnyBackend, KernelFunc, TInfo } from './kernelOps';
import { simdAvailable } from './simdKernelModule';
import type { SimdOf } from './wasmElementwise';
import { registerGradientQuietly } from './registerGradientQuietly';

type TF = typeof import('@tensorflow/tfjs');
type Tensor = import('@tensorflow/tfjs').Tensor;
type GradConfig = NonNullable<ReturnType<TF['getGradient']>>;

export const CLIP_GRAD_KERNEL = 'BnInspectorClipGrad';
export const RELU_GRAD_KERNEL = 'BnInspectorReluGrad';

/** below this many elements tfjs's own gradient runs (call overheads dominate) */
const MIN_ELEMENTS = 1024;

const OURS = Symbol.for('bn-inspector.activationGradient');
/** the stock gradient configs while ours are registered */
const stock = new Map<string, GradConfig>();

/**
 * An element-wise gradient kernel's operands: x and dy (float32, as many elements) and a fresh output of x's shape,
 * as heap views, n and n4 = n / 4 rounded down; throws (naming `kernel`) for anything else or without SIMD.
 */
export function gradOperands(simdOf: SimdOf, backend: AnyBackend, x: TInfo, dy: TInfo, kernel: string) {
  const simd = simdOf(backend);
  const n = x.shape.reduce((a, b) => a * b, 1);
  if (simd === null || x.dtype !== 'float32' || dy.dtype !== 'float32' || dy.shape.reduce((a, b) => a * b, 1) !== n)
    throw new Error(`${kernel}: unsupported input`);
  const out = backend.makeOutput([...x.shape], 'float32') as TInfo;
  const view = (t: TInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  return { simd, out, ov: view(out), xv: view(x), dv: view(dy), n, n4: n >> 2 };
}

function gradKernel(simdOf: SimdOf, which: 'clip' | 'relu'): KernelFunc {
  return ({ inputs, backend, attrs = {} }) => {
    const { simd, out, ov, xv, dv, n, n4 } = gradOperands(
      simdOf,
      backend,
      inputs.x,
      inputs.dy,
      which === 'clip' ? CLIP_GRAD_KERNEL : RELU_GRAD_KERNEL,
    );
    const lo = Number(attrs.clipValueMin),
      hi = Number(attrs.clipValueMax);
    if (which === 'clip') simd.clipGrad(ov.byteOffset, xv.byteOffset, dv.byteOffset, n4, lo, hi);
    else simd.reluGrad(ov.byteOffset, xv.byteOffset, dv.byteOffset, n4, 0);
    const f = Math.fround;
    for (let i = 4 * n4; i < n; i++) {
      const xi = xv[i];
      if (which === 'clip') ov[i] = xi >= f(lo) && xi <= f(hi) ? dv[i] : 0;
      else ov[i] = dv[i] * (Number.isNaN(xi) ? NaN : xi > 0 ? 1 : 0);
    }
    return out;
  };
}

/** the two kernels for 'wasm' (registered by registerMissingKernels) */
export function activationGradKernels(simdOf: SimdOf): Record<string, KernelFunc> {
  return { [CLIP_GRAD_KERNEL]: gradKernel(simdOf, 'clip'), [RELU_GRAD_KERNEL]: gradKernel(simdOf, 'relu') };
}

function ours(tf: TF, base: GradConfig, kernel: string): GradConfig {
  const gradFunc = (dy: Tensor | Tensor[], saved: Tensor[], attrs: Record<string, unknown>) => {
    const [x] = saved;
    if (
      Array.isArray(dy) ||
      tf.getBackend() !== 'wasm' ||
      !tf.getKernel(kernel, 'wasm') ||
      !simdAvailable(tf.backend()) ||
      x.dtype !== 'float32' ||
      dy.dtype !== 'float32' ||
      x.size < MIN_ELEMENTS ||
      !tf.util.arraysEqual(x.shape, dy.shape)
    )
      return base.gradFunc(dy, saved, attrs as never);
    return { x: () => tf.engine().runKernel(kernel, { x, dy }, attrs as never) as Tensor };
  };
  const config = { ...base, gradFunc } as GradConfig;
  (config as unknown as Record<symbol, boolean>)[OURS] = true;
  return config;
}

/** registers both gradients in place of tfjs's; returns the names registered ('gradient:ClipByValue', …) */
export function registerActivationGradients(tf: TF): string[] {
  const names: string[] = [];
  for (const [name, kernel] of [
    ['ClipByValue', CLIP_GRAD_KERNEL],
    ['Relu', RELU_GRAD_KERNEL],
  ] as const) {
    const current = tf.getGradient(name);
    if (!current || (current as unknown as Record<symbol, boolean>)[OURS]) continue;
    stock.set(name, current);
    registerGradientQuietly(tf, ours(tf, current, kernel));
    names.push(`gradient:${name}`);
  }
  return names;
}

/** puts tfjs's own gradients back */
export function unregisterActivationGradients(tf: TF): void {
  for (const config of stock.values()) registerGradientQuietly(tf, config);
  stock.clear();
}
