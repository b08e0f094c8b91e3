/**
 * Registers the kernels a CNN training step needs that tfjs 4.22's backends lack or run slowly.
 *
 *   import { registerMissingKernels } from './kernels/registerKernels';
 *   await tf.setBackend('wasm'); await tf.ready();
 *   registerMissingKernels(tf);   // wasm and cpu; -> names registered ('cpu/…' for the inactive one)
 *   registerMissingKernels(tf, { backends: ['wasm'] });   // only these backends
 *
 * wasm:
 *   missing (training throws "kernel not registered" without them):
 *   - Conv2DBackpropFilter: a 1x1 stride-1 conv: dW = xᵀ·dy by a hand-written SIMD kernel on the heap
 *     (simdKernelModule.ts outer4x8, channels multiples of 4 and 8: XNNPACK would pack an M x channels operand
 *     afresh each step, measured ~4x slower), else one XNNPACK MatMul (xᵀ·dy, or (dyᵀ·x)ᵀ for many pixels and
 *     few input channels); other convs: one XNNPACK Conv2D with batch and channels swapped (dilation = the
 *     strides); im2col + XNNPACK MatMul where that would need negative padding (unused input rows of 'valid').
 *   - DepthwiseConv2dNativeBackpropInput: XNNPACK's depthwise conv of the stride-dilated dy with the rotated
 *     filter (depthwiseBackprop.ts).
 *   - DepthwiseConv2dNativeBackpropFilter: a hand-written WebAssembly SIMD kernel on the heap
 *     (simdKernelModule.ts; XNNPACK has no operator that serves, measured) for multiplier 1 and channels a
 *     multiple of 4; else one XNNPACK depthwise conv with batch folded into channels; else JS loops.
 *   - UnsortedSegmentSum (the gradient of gather: embeddings), Einsum, RaggedGather, RaggedRange,
 *     RaggedTensorToTensor, StaticRegexReplace: the cpu backend's kernel, data copied in and out.
 *   present but slow (each measured faster in a whole training step: bench/cnnTrainStep.mjs, MobileNetV2):
 *   - Conv2DBackpropInput (stock: a naive loop, ~8x a forward conv): 1x1 stride 1: one XNNPACK MatMul (dy·Wᵀ,
 *     or (W·dyᵀ)ᵀ for few pixels); stride 1: XNNPACK Conv2D of the gradient with the rotated filter; strided
 *     (that conv would run on the zero-dilated gradient) or where the padding does not allow it: col2im of one
 *     XNNPACK MatMul.
 *   - Tile (BN gradient: ~40 ms to tile [1,1,1,16] to [32,32,32,16]), Identity (a copy), Sum / Mean over
 *     leading axes (BN moments and gradients: a transpose first; here float64 column sums, SIMD on the heap).
 *   - BatchMatMul, _FusedMatMul (dense layers: XNNPACK packs the fresh weights of every step before
 *     multiplying, and stock BatchMatMul leaves XNNPACK for transposed or batched operands): the SIMD kernel
 *     gemm4x8 reading the operands in place (denseMatMul.ts; linear / relu / relu6 fused), where measured faster;
 *     else BatchMatMul transposes explicitly and splits batches into XNNPACK calls (fastBatchMatMul.ts).
 *   - GreaterEqual, LessEqual, Greater, Less, LogicalAnd, Select (the ReLU6 = clipByValue gradient; stock
 *     ~10 ns an element): SIMD on the heap / branch-free JS (wasmElementwise.ts).
 *   - Conv2D, FusedConv2D: a 3x3 stride-1 conv (Ci % 4, Co % 8, no activation; the training step's input gradient
 *     too) by Winograd F(2x2, 3x3), 2.25x fewer multiplications (winogradConv.ts); a 1x1 stride-1 conv over few
 *     pixels (<= 128: XNNPACK would spend most of it packing the fresh weights) by the SIMD kernel outer4x8
 *     (pointwiseConvForward.ts); everything else stock.
 *   - FusedBatchNorm (stock: index modulos, a square root and a division per element): per-channel factors
 *     once, then (x - mean)·s + offset in SIMD (wasmBatchNorm.ts).
 *   - the gradient of FusedBatchNorm (every BatchNormalization in training): five passes over x instead of ~12
 *     (batchNormGradient.ts; only while wasm is active; tfjs's own elsewhere)
 *   - Add, Sub, Multiply, Relu, Square, ClipByValue (equal shapes, per-channel vectors, one-element
 *     operands): SIMD on the calling thread (wasmArithmetic.ts): the stock XNNPACK operators wait on the
 *     threaded build's pool, which on busy cores cost 4-8x (measured).
 *   threaded build (BN_INSPECTOR_WASM_THREADS): the convolutions and products above, stock or ours, get XNNPACK's
 *   whole pool only for calls of 8 MFLOP or more; every other call runs on the calling thread alone, never waking
 *   the pool (threadedCalls.ts, wasmPoolSwitch.ts).
 *   Everything else the tested models need (MaxPoolGrad, AvgPoolGrad,
 *   Relu/Relu6/Elu/LeakyRelu/Prelu grads, ResizeNearestNeighborGrad, Conv3D grads, LSTM/GRU ops) is
 *   present on wasm: found by training such models (test/unit/kernels.test.ts trains several).
 * cpu (only where ours is correct and faster than stock, measured):
 *   - Conv2DBackpropFilter (stock reads TensorBuffer.get() per element: 55 of a 61 s step), Conv2DBackpropInput,
 *     DepthwiseConv2dNativeBackpropFilter / -Input: flat JS loops.
 *
 * Correctness: every kernel is checked in test/unit/kernels.test.ts against a float64 reference and the
 * stock cpu kernels (~1e-7 relative), and whole-model gradients wasm+ours vs stock cpu (≤ 6e-5).
 * Works with any tfjs instance passed in (no tfjs import here), so the bundle's one tfjs is used.
 *
 * One unit (over 250 lines): the one table of which kernel replaces which on which backend, with the install /
 * restore bookkeeping every entry shares; the header above is that table in words.
 */
import { wasmPoolSwitch } from '../wasmThreaded';
import { installThreadedCalls, threadedCallSettings } from './threadedCalls';
import {
  activationGradKernels,
  registerActivationGradients,
  unregisterActivationGradients,
} from './activationGradients';
import { fastWinogradConv } from './winogradConv';
import { RELU6_KERNEL, registerRelu6Gradient, relu6Kernels } from './relu6Fused';
import { BN_GRAD_KERNEL, batchNormGradKernel } from './batchNormGradKernel';
import { conv2dBackpropFilter, conv2dBackpropInput } from './conv2dBackprop';
import {
  MOMENTS_KERNEL,
  fusedMomentsKernels,
  registerFusedMomentsGradient,
  unregisterFusedMomentsGradient,
} from './fusedMoments';
import { registerBatchNormGradient, unregisterBatchNormGradient } from './batchNormGradient';
import { cpuBridge } from './cpuBridge';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './depthwiseBackprop';
import {
  cpuOps,
  float32,
  wasmOps,
  type AnyBackend,
  type Attrs,
  type ConvInfo,
  type KernelFunc,
  type KernelOps,
} from './kernelOps';
import { fastBatchMatMul } from './fastBatchMatMul';
import { fastFusedMatMul } from './denseMatMulFused';
import { backendMemory, simdKernelsFor, type SimdKernels } from './simdKernelModule';
import { fastCompare, fastLogicalAnd, fastSelect } from './wasmElementwise';
import { fastIdentity, fastLeadingReduce, fastTile } from './wasmFast';
import { fastPointwiseConv } from './pointwiseConvForward';
import { fastBatchNorm } from './wasmBatchNorm';
import { fastBinary, fastClip, fastUnary } from './wasmArithmetic';

type TF = typeof import('@tensorflow/tfjs');

/** marks our kernel functions, so a second call does not register twice */
const OURS = Symbol.for('bn-inspector.kernel');

/** kernels bridged from wasm to the cpu backend's implementation when wasm has none */
export const CPU_BRIDGED_KERNELS = [
  'UnsortedSegmentSum',
  'Einsum',
  'RaggedGather',
  'RaggedRange',
  'RaggedTensorToTensor',
  'StaticRegexReplace',
] as const;

export const WASM_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

/** stock wasm kernels replaced by faster ones (wasmFast.ts, fastBatchMatMul.ts, denseMatMulFused.ts, …) */
export const WASM_FASTER_KERNELS = [
  'Tile',
  'BatchMatMul',
  '_FusedMatMul',
  'Identity',
  'Sum',
  'Mean',
  'GreaterEqual',
  'LessEqual',
  'Greater',
  'Less',
  'LogicalAnd',
  'Select',
  'Conv2D',
  'FusedConv2D',
  'FusedBatchNorm',
  'Add',
  'Sub',
  'Multiply',
  'Relu',
  'Square',
  'ClipByValue',
] as const;

/** the cpu kernels of ours that are both correct and faster than the stock ones (measured) */
export const CPU_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

type OpsFactory = (tf: TF, backend: AnyBackend) => KernelOps;

/** the SIMD kernels of simdKernelModule.ts on a wasm backend's heap (null: no SIMD, or no memory found) */
const simdOf = (backend: AnyBackend): SimdKernels | null => {
  const m = backendMemory(backend);
  return m ? simdKernelsFor(m) : null;
};

function convInfoOf(tf: TF, xShape: number[], filterShape: number[], attrs: Attrs, depthwise: boolean): ConvInfo {
  const bu = tf.backend_util;
  const dataFormat = depthwise ? 'channelsLast' : bu.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC');
  const dilations = depthwise ? (attrs.dilations ?? 1) : 1;
  const info = bu.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
    dataFormat,
  ) as unknown as ConvInfo;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1)
    throw new Error(`${depthwise ? 'depthwise ' : ''}conv2d gradient: dilations > 1 are not supported`);
  return info;
}

/** the kernel functions, for a given way of reaching the backend */
export function makeKernelFuncs(tf: TF, makeOps: OpsFactory): Record<(typeof WASM_KERNELS)[number], KernelFunc> {
  let cached: { backend: AnyBackend; ops: KernelOps } | null = null;
  const opsFor = (backend: AnyBackend): KernelOps => {
    if (cached === null || cached.backend !== backend) cached = { backend, ops: makeOps(tf, backend) };
    return cached.ops;
  };
  return {
    Conv2DBackpropFilter: ({ inputs, backend, attrs = {} }) => {
      const { x, dy } = inputs;
      float32(x, 'Conv2DBackpropFilter x');
      float32(dy, 'Conv2DBackpropFilter dy');
      const ci = convInfoOf(tf, x.shape, attrs.filterShape, attrs, false);
      return conv2dBackpropFilter(opsFor(backend), x, dy, ci);
    },
    Conv2DBackpropInput: ({ inputs, backend, attrs = {} }) => {
      const { dy, filter } = inputs;
      float32(dy, 'Conv2DBackpropInput dy');
      float32(filter, 'Conv2DBackpropInput filter');
      const ci = convInfoOf(tf, attrs.inputShape, filter.shape, attrs, false);
      return conv2dBackpropInput(opsFor(backend), dy, filter, ci);
    },
    DepthwiseConv2dNativeBackpropFilter: ({ inputs, backend, attrs = {} }) => {
      const { x, dy } = inputs;
      float32(x, 'DepthwiseConv2dNativeBackpropFilter x');
      float32(dy, 'DepthwiseConv2dNativeBackpropFilter dy');
      const ci = convInfoOf(tf, x.shape, attrs.filterShape, attrs, true);
      return depthwiseBackpropFilter(opsFor(backend), x, dy, ci);
    },
    DepthwiseConv2dNativeBackpropInput: ({ inputs, backend, attrs = {} }) => {
      const { dy, filter } = inputs;
      float32(dy, 'DepthwiseConv2dNativeBackpropInput dy');
      float32(filter, 'DepthwiseConv2dNativeBackpropInput filter');
      const ci = convInfoOf(tf, attrs.inputShape, filter.shape, attrs, true);
      return depthwiseBackpropInput(opsFor(backend), dy, filter, ci);
    },
  };
}

/** stock configs we replaced, to restore them (tests, benchmarks) */
type KernelConfig = Parameters<TF['registerKernel']>[0];
const replaced = new Map<string, KernelConfig | undefined>();

/** the stock kernel function (the one we replaced, or the registered one if it is not ours) */
function stockKernel(tf: TF, kernelName: string, backendName: string): KernelFunc | null {
  const key = `${backendName}/${kernelName}`;
  if (replaced.has(key)) return (replaced.get(key)?.kernelFunc as unknown as KernelFunc) ?? null;
  const k = tf.getKernel(kernelName, backendName);
  if (!k || (k.kernelFunc as unknown as Record<symbol, unknown>)[OURS]) return null;
  return k.kernelFunc as unknown as KernelFunc;
}

function install(tf: TF, kernelName: string, backendName: string, kernelFunc: KernelFunc): boolean {
  const existing = tf.getKernel(kernelName, backendName);
  if (existing && (existing.kernelFunc as unknown as Record<symbol, unknown>)[OURS]) return false; // already ours
  (kernelFunc as unknown as Record<symbol, unknown>)[OURS] = true;
  const key = `${backendName}/${kernelName}`;
  if (existing) {
    if (!replaced.has(key)) replaced.set(key, existing);
    tf.unregisterKernel(kernelName, backendName); // no "already registered" warning
  } else if (!replaced.has(key)) {
    replaced.set(key, undefined);
  }
  tf.registerKernel({ kernelName, backendName, kernelFunc: kernelFunc as never });
  return true;
}

export interface RegisterOptions {
  /** backends to register for; default: 'wasm' and 'cpu', those of the two whose kernels are loaded */
  backends?: string[];
  /** bridge the other kernels wasm lacks to cpu (default true) */
  cpuBridge?: boolean;
  /** the engine's gradients on wasm: FusedBatchNorm's (batchNormGradient.ts), ClipByValue's and Relu's (activationGradients.ts); default true */
  gradients?: boolean;
}

/**
 * Register the kernels a CNN training step needs that the backends lack or run slowly. Call after
 * `await tf.ready()`; idempotent (a second call registers nothing and warns nothing). By default both
 * 'wasm' and 'cpu' get theirs, so a script that switches backend with tf.setBackend keeps them.
 * Returns the kernel names registered by this call: plain for the active backend, `backend/Name` for
 * another one (e.g. 'cpu/Conv2DBackpropFilter' while wasm is active).
 */
export function registerMissingKernels(tf: TF, options: RegisterOptions = {}): string[] {
  const active = tf.getBackend();
  const backends = options.backends ?? ['wasm', 'cpu'].filter((b) => tf.getKernel('Conv2D', b) !== undefined);
  const names: string[] = [];
  let wasmRegistered = 0;
  for (const b of backends) {
    const add = (k: string) => {
      names.push(b === active ? k : `${b}/${k}`);
      if (b === 'wasm') wasmRegistered++;
    };
    if (b === 'wasm') {
      const stockMatMul = stockKernel(tf, 'BatchMatMul', 'wasm');
      const stockTranspose = stockKernel(tf, 'Transpose', 'wasm');
      const stockTile = stockKernel(tf, 'Tile', 'wasm');
      const stockIdentity = stockKernel(tf, 'Identity', 'wasm');
      if (
        stockMatMul &&
        stockTranspose &&
        install(tf, 'BatchMatMul', 'wasm', fastBatchMatMul(stockMatMul, stockTranspose, simdOf))
      )
        add('BatchMatMul');
      const stockFused = stockKernel(tf, '_FusedMatMul', 'wasm');
      if (stockFused && install(tf, '_FusedMatMul', 'wasm', fastFusedMatMul(stockFused, simdOf))) add('_FusedMatMul');
      if (stockTile && install(tf, 'Tile', 'wasm', fastTile(stockTile))) add('Tile');
      if (stockIdentity && install(tf, 'Identity', 'wasm', fastIdentity(stockIdentity))) add('Identity');
      for (const [name, isMean] of [
        ['Sum', false],
        ['Mean', true],
      ] as const) {
        const stock = stockKernel(tf, name, 'wasm');
        if (stock && install(tf, name, 'wasm', fastLeadingReduce(stock, isMean, simdOf))) add(name);
      }
      for (const name of ['GreaterEqual', 'LessEqual', 'Greater', 'Less'] as const) {
        const stock = stockKernel(tf, name, 'wasm');
        if (stock && install(tf, name, 'wasm', fastCompare(stock, name, simdOf))) add(name);
      }
      const stockAnd = stockKernel(tf, 'LogicalAnd', 'wasm');
      if (stockAnd && install(tf, 'LogicalAnd', 'wasm', fastLogicalAnd(stockAnd, simdOf))) add('LogicalAnd');
      const stockSelect = stockKernel(tf, 'Select', 'wasm');
      if (stockSelect && install(tf, 'Select', 'wasm', fastSelect(stockSelect, simdOf))) add('Select');
      for (const name of ['Conv2D', 'FusedConv2D'] as const) {
        const stock = stockKernel(tf, name, 'wasm');
        if (stock && install(tf, name, 'wasm', fastWinogradConv(fastPointwiseConv(stock, simdOf), simdOf))) add(name);
      }
      const stockBn = stockKernel(tf, 'FusedBatchNorm', 'wasm');
      if (stockBn && install(tf, 'FusedBatchNorm', 'wasm', fastBatchNorm(stockBn, simdOf))) add('FusedBatchNorm');
      for (const [name, op] of [
        ['Add', 'add'],
        ['Sub', 'sub'],
        ['Multiply', 'mul'],
      ] as const) {
        const stock = stockKernel(tf, name, 'wasm');
        if (stock && install(tf, name, 'wasm', fastBinary(stock, op, simdOf))) add(name);
      }
      for (const [name, op] of [
        ['Relu', 'relu'],
        ['Square', 'square'],
      ] as const) {
        const stock = stockKernel(tf, name, 'wasm');
        if (stock && install(tf, name, 'wasm', fastUnary(stock, op, simdOf))) add(name);
      }
      const stockClip = stockKernel(tf, 'ClipByValue', 'wasm');
      if (stockClip && install(tf, 'ClipByValue', 'wasm', fastClip(stockClip, simdOf))) add('ClipByValue');
      const fns = makeKernelFuncs(tf, wasmOps);
      for (const k of WASM_KERNELS) if (install(tf, k, 'wasm', fns[k])) add(k);
      for (const [k, f] of Object.entries(fusedMomentsKernels(simdOf))) if (install(tf, k, 'wasm', f)) add(k);
      if (install(tf, BN_GRAD_KERNEL, 'wasm', batchNormGradKernel(simdOf))) add(BN_GRAD_KERNEL);
      for (const [k, f] of Object.entries(activationGradKernels(simdOf))) if (install(tf, k, 'wasm', f)) add(k);
      for (const [k, f] of Object.entries(relu6Kernels(simdOf))) if (install(tf, k, 'wasm', f)) add(k);
      if (registerRelu6Gradient(tf)) add(`gradient:${RELU6_KERNEL}`);
      if (options.gradients !== false) for (const g of registerActivationGradients(tf)) add(g);
      if (registerFusedMomentsGradient(tf)) add(`gradient:${MOMENTS_KERNEL}`);
      if (options.gradients !== false && registerBatchNormGradient(tf)) add('gradient:FusedBatchNorm');
      if (options.cpuBridge !== false) {
        for (const k of CPU_BRIDGED_KERNELS) {
          if (tf.getKernel(k, 'wasm') && !(tf.getKernel(k, 'wasm')!.kernelFunc as never)[OURS]) continue; // wasm has one
          if (!tf.getKernel(k, 'cpu')) continue;
          if (install(tf, k, 'wasm', cpuBridge(tf, k))) add(k);
        }
      }
    } else if (b === 'cpu') {
      const fns = makeKernelFuncs(tf, cpuOps);
      for (const k of CPU_KERNELS) if (install(tf, k, 'cpu', fns[k])) add(k);
    }
  }
  // the threaded build: its whole pool only for calls large enough to pay the wake-up (threadedCalls.ts)
  // (again where kernels were just registered: the wrappers go around the kernels that run)
  const pool = backends.includes('wasm') ? wasmPoolSwitch(tf) : null;
  if (pool && (undoThreadedCalls === null || wasmRegistered > 0)) {
    undoThreadedCalls?.();
    undoThreadedCalls = installThreadedCalls(tf, pool);
    names.push(
      `${active === 'wasm' ? '' : 'wasm/'}pool: ${pool.threads} threads for calls of ${threadedCallSettings.minFlops / 1e6} MFLOP or more`,
    );
  }
  return names;
}

/** undoes installThreadedCalls (registerMissingKernels installs it again after its own kernels) */
let undoThreadedCalls: (() => void) | null = null;

/** Put back the stock kernels (or none, where the backend had none). For tests and benchmarks. */
export function unregisterMissingKernels(tf: TF): void {
  undoThreadedCalls?.();
  undoThreadedCalls = null;
  unregisterBatchNormGradient(tf);
  unregisterFusedMomentsGradient(tf);
  unregisterActivationGradients(tf);
  for (const [key, config] of replaced) {
    const [backendName, kernelName] = key.split('/');
    if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName);
    if (config) tf.registerKernel(config);
  }
  replaced.clear();
}
