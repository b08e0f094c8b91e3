/**
 * Which kernel calls get the threaded build's whole XNNPACK pool (wasmPoolSwitch.ts): the convolutions and matrix
 * products whose arithmetic pays for waking the pool's threads; every other call runs on the calling thread alone.
 * Wraps the registry's kernelFunc of those kernels for 'wasm' (the engine's and tfjs's, after registerMissingKernels),
 * as the registry hands the same config object to every call.
 */
import type { PoolSwitch } from '../wasmPoolSwitch';
import { helperBusy } from './simdHelper';
import type { KernelFunc, TInfo } from './kernelOps';

/**
 * Calls below this many floating-point operations run on one thread. A wake-up of the pool costs tens of
 * microseconds on a busy VM; 8 MFLOP is ~0.4 ms of one core's SIMD (measured: the small CNN's 3x3 convolutions,
 * 151 MFLOP, ~1.8x faster on two threads; MobileNetV2's 4x4 and 2x2 layers, < 2 MFLOP, slower).
 */
export const threadedCallSettings = { minFlops: 8e6 };

type Attrs = Record<string, unknown>;
const size = (t: TInfo | undefined) => (t ? t.shape.reduce((a, b) => a * b, 1) : 0);
const pair = (v: unknown): [number, number] =>
  Array.isArray(v) ? [Number(v[0]) || 1, Number(v[1] ?? v[0]) || 1] : [Number(v) || 1, Number(v) || 1];

/** output pixels of an NHWC convolution of x (B, H, W, ·) with these strides */
function outPixels(x: TInfo, attrs: Attrs): number {
  const [sh, sw] = pair(attrs.strides);
  const [, H, W] = x.shape;
  return x.shape[0] * Math.ceil(H / sh) * Math.ceil(W / sw);
}

type Flops = (inputs: Record<string, TInfo>, attrs: Attrs) => number;
/** a convolution, dense or depthwise: 2 · output pixels · filter size */
const conv: Flops = ({ x, filter }, a) => (x?.shape.length === 4 && filter ? 2 * outPixels(x, a) * size(filter) : 0);
/** the input gradient: 2 · dy's pixels · filter size */
const convInputGrad: Flops = ({ dy, filter }) =>
  dy?.shape.length === 4 && filter ? 2 * (size(dy) / dy.shape[3]) * size(filter) : 0;
/** the filter gradient: 2 · dy's pixels · filter size (the attribute filterShape) */
const convFilterGrad: Flops = ({ dy }, a) =>
  dy?.shape.length === 4 && Array.isArray(a.filterShape)
    ? 2 * (size(dy) / dy.shape[3]) * (a.filterShape as number[]).reduce((p, d) => p * d, 1)
    : 0;
/** a product: 2 · a's size · b's output columns */
const matMul: Flops = ({ a, b }, attrs) => {
  if (!a || !b || b.shape.length < 2) return 0;
  const n = attrs.transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  return 2 * size(a) * n;
};

/** the kernels wrapped, with the floating-point operations of a call estimated from its shapes (0: one thread) */
const KERNELS: Record<string, Flops> = {
  Conv2D: conv,
  FusedConv2D: conv,
  DepthwiseConv2dNative: conv,
  FusedDepthwiseConv2D: conv,
  Conv2DBackpropInput: convInputGrad,
  Conv2DBackpropFilter: convFilterGrad,
  DepthwiseConv2dNativeBackpropInput: convInputGrad,
  DepthwiseConv2dNativeBackpropFilter: convFilterGrad,
  BatchMatMul: matMul,
  _FusedMatMul: matMul,
};

interface KernelRegistry {
  getKernel(name: string, backend: string): unknown;
}

/** Wraps the kernels of KERNELS registered for 'wasm'; returns the undo. */
export function installThreadedCalls(tf: KernelRegistry, sw: PoolSwitch): () => void {
  const undos: (() => void)[] = [];
  for (const [name, flops] of Object.entries(KERNELS)) {
    const config = tf.getKernel(name, 'wasm') as { kernelFunc: KernelFunc } | undefined;
    if (!config) continue;
    const orig = config.kernelFunc;
    const wrapped: KernelFunc = (args) => {
      let f: number;
      try {
        f = flops(args.inputs as Record<string, TInfo>, (args.attrs ?? {}) as Attrs);
      } catch {
        f = 0; // odd shapes: one thread
      }
      // while the engine's helper thread computes a filter gradient (simdHelper.ts) the pool stays here: three
      // threads on two cores would make the pool's threads wait for each other
      if (!(f >= threadedCallSettings.minFlops) || helperBusy()) return orig(args);
      sw.setParallel(true);
      try {
        return orig(args);
      } finally {
        sw.setParallel(false);
      }
    };
    // the engine's marks on its kernels (registerKernels.ts, relu6Fused.ts) stay on the kernel that runs
    for (const sym of Object.getOwnPropertySymbols(orig))
      (wrapped as unknown as Record<symbol, unknown>)[sym] = (orig as unknown as Record<symbol, unknown>)[sym];
    config.kernelFunc = wrapped;
    undos.push(() => {
      if (config.kernelFunc === wrapped) config.kernelFunc = orig;
    });
  }
  return () => undos.forEach((u) => u());
}
