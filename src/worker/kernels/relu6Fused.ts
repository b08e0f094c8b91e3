/**
 * tfjs-layers' ReLU with a maxValue (MobileNetV2's ReLU6: 35 layers) as ONE kernel call on wasm, forward and
 * backward, with the values of the two it replaces, bit for bit:
 *
 *   ReLU.call is relu(x) then clipByValue(r, 0, maxValue): two kernel calls, two x-sized passes, an r tensor kept
 *   for the gradient, two tape nodes, whose gradients are two more kernels (activationGradients.ts).
 *   BnInspectorRelu6 is the engine's clip kernel with lo = 0 on x: max(max(x, 0), 0) = max(x, 0) lane for lane
 *   (NaN stays NaN, -0 becomes +0 in both), and its JS tail gives what relu's tail then clip's tail give. Its
 *   gradient BnInspectorRelu6Grad (relu6Grad, simdElementwise.ts) is clip's gradient then relu's in one pass.
 *
 * Used only where the two calls would have run the engine's own Relu and ClipByValue kernels and gradients: the wasm
 * backend with WebAssembly SIMD, float32 x of at least 1024 elements, 0 < maxValue (clipByValue(r, 0, 0) is a fill).
 * Anything else runs tfjs's ReLU.call. Kernels registered by registerMissingKernels; the layer patch by
 * installRelu6Layer (tfjsFastPath.ts), undone by its return value.
 */
import type { KernelFunc, TInfo } from './kernelOps';
import { simdAvailable } from './simdKernelModule';
import type { SimdOf } from './wasmElementwise';
import { registerGradientQuietly } from './registerGradientQuietly';
import { gradOperands } from './activationGradients';

type TF = typeof import('@tensorflow/tfjs');
type Tensor = import('@tensorflow/tfjs').Tensor;

export const RELU6_KERNEL = 'BnInspectorRelu6';
export const RELU6_GRAD_KERNEL = 'BnInspectorRelu6Grad';

/** from here the engine's Relu / ClipByValue gradients run (activationGradients.ts): the same bound */
const MIN_ELEMENTS = 1024;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** relu then clip(0, hi) in one pass */
function relu6Kernel(simdOf: SimdOf): KernelFunc {
  return ({ inputs, backend, attrs = {} }) => {
    const { x } = inputs;
    const simd = simdOf(backend);
    const hi = Number(attrs.clipValueMax);
    if (simd === null || x.dtype !== 'float32' || !(hi > 0)) throw new Error(`${RELU6_KERNEL}: unsupported input`);
    const n = size(x.shape);
    const out = backend.makeOutput([...x.shape], 'float32') as TInfo;
    const xv = backend.typedArrayFromHeap(x) as Float32Array;
    const ov = backend.typedArrayFromHeap(out) as Float32Array;
    const n4 = n >> 2;
    simd.clip(ov.byteOffset, xv.byteOffset, n4, 0, hi);
    const fhi = Math.fround(hi);
    for (let i = 4 * n4; i < n; i++) {
      // relu's tail (fastUnary), then clip's (fastClip)
      const v = xv[i];
      const r = v < 0 ? 0 : v;
      ov[i] = r !== r ? r : Math.min(Math.max(r, 0), fhi);
    }
    return out;
  };
}

/** (x <= hi ? dy : +0) · step(x) in one pass */
function relu6GradKernel(simdOf: SimdOf): KernelFunc {
  return ({ inputs, backend, attrs = {} }) => {
    const hi = Number(attrs.clipValueMax);
    if (!(hi > 0)) throw new Error(`${RELU6_GRAD_KERNEL}: unsupported input`);
    const { simd, out, ov, xv, dv, n, n4 } = gradOperands(simdOf, backend, inputs.x, inputs.dy, RELU6_GRAD_KERNEL);
    simd.relu6Grad(ov.byteOffset, xv.byteOffset, dv.byteOffset, n4, 0, hi);
    const fhi = Math.fround(hi);
    for (let i = 4 * n4; i < n; i++) {
      // clipGrad's tail on r = relu(x) (r >= 0 but for NaN; r <= hi exactly when x <= hi), then reluGrad's
      const xi = xv[i];
      ov[i] = (xi <= fhi ? dv[i] : 0) * (Number.isNaN(xi) ? NaN : xi > 0 ? 1 : 0);
    }
    return out;
  };
}

/** the two kernels for 'wasm' (registered by registerMissingKernels) */
export function relu6Kernels(simdOf: SimdOf): Record<string, KernelFunc> {
  return { [RELU6_KERNEL]: relu6Kernel(simdOf), [RELU6_GRAD_KERNEL]: relu6GradKernel(simdOf) };
}

/** BnInspectorRelu6's gradient (registered with the kernels; the gradient registry is global) */
export function registerRelu6Gradient(tf: TF): boolean {
  if (tf.getGradient(RELU6_KERNEL)) return false;
  registerGradientQuietly(tf, {
    kernelName: RELU6_KERNEL,
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: Record<string, unknown>) => {
      const [x] = saved;
      return { x: () => tf.engine().runKernel(RELU6_GRAD_KERNEL, { x, dy: dy as Tensor }, attrs as never) as Tensor };
    },
  } as never);
  return true;
}

const ENGINE_KERNEL = Symbol.for('bn-inspector.kernel');
const PATCHED = Symbol.for('bn-inspector.relu6Layer');

interface ReluLayerProto {
  call(this: { maxValue?: number | null }, inputs: unknown, kwargs: unknown): unknown;
  [PATCHED]?: true;
}

/**
 * Makes tfjs-layers' ReLU.call one BnInspectorRelu6 call where it applies (see the top); returns the undo, or null
 * if the kernels are not registered or the layer is patched already.
 */
export function installRelu6Layer(tf: TF): (() => void) | null {
  if (!tf.getKernel(RELU6_KERNEL, 'wasm') || !tf.getGradient(RELU6_KERNEL)) return null;
  const proto = Object.getPrototypeOf(tf.layers.reLU({ maxValue: 6 })) as ReluLayerProto;
  if (proto[PATCHED] || typeof proto.call !== 'function') return null;
  const own = Object.prototype.hasOwnProperty.call(proto, 'call');
  const stockCall = proto.call;
  const engineKernel = (name: string) =>
    !!(tf.getKernel(name, 'wasm')?.kernelFunc as unknown as Record<symbol, unknown> | undefined)?.[ENGINE_KERNEL];
  proto.call = function (this: { maxValue?: number | null }, inputs: unknown, kwargs: unknown) {
    const hi = this.maxValue;
    const x = (Array.isArray(inputs) && inputs.length === 1 ? inputs[0] : inputs) as Tensor;
    if (
      typeof hi === 'number' &&
      hi > 0 &&
      x instanceof tf.Tensor &&
      x.dtype === 'float32' &&
      x.size >= MIN_ELEMENTS &&
      tf.getBackend() === 'wasm' &&
      simdAvailable(tf.backend()) &&
      engineKernel('Relu') &&
      engineKernel('ClipByValue') &&
      engineKernel(RELU6_KERNEL)
    )
      return tf.engine().runKernel(RELU6_KERNEL, { x }, { clipValueMin: 0, clipValueMax: hi });
    return stockCall.call(this, inputs, kwargs);
  };
  proto[PATCHED] = true;
  return () => {
    if (own) proto.call = stockCall;
    else delete (proto as Partial<ReluLayerProto>).call;
    delete proto[PATCHED];
  };
}
