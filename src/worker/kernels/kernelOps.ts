/**
 * How the kernels of this folder reach a tfjs backend: the TensorInfo and kernel-function shapes they use,
 * `KernelOps` (what the gradient algorithms of conv2dBackprop.ts / depthwiseBackprop.ts need: allocate, view,
 * MatMul, Transpose, Conv2D, DepthwiseConv2dNative), and its two implementations, over the wasm backend's heap and the cpu backend's
 * typed arrays.
 */

import { guardBackend, simdHelperFor, type SimdHelper } from './simdHelper';
import { backendMemory, simdKernelsFor, type SimdKernels } from './simdKernelModule';

type TF = typeof import('@tensorflow/tfjs');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyBackend = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Attrs = Record<string, any>;
/** the arguments tfjs passes a kernel function */
export interface KernelArgs {
  inputs: Record<string, TInfo>;
  backend: AnyBackend;
  attrs?: Attrs;
}
export type KernelFunc = (args: KernelArgs) => TInfo | TInfo[];

/** The part of a tfjs TensorInfo the kernels use. */
export interface TInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

/** What the algorithms need from a backend. All tensors are float32. */
/** a convolution of the backend's own (NHWC, explicit pads) */
export type NhwcConv = (
  x: TInfo,
  filter: TInfo,
  strides: [number, number],
  pad: [[number, number], [number, number], [number, number], [number, number]],
  dilations: [number, number],
) => TInfo;

export interface KernelOps {
  readonly backendName: string;
  /**
   * Allocate a float32 tensor of `shape` and fill it: `fill(out, ...views of inputs)`.
   * The views are only valid inside `fill` (a wasm allocation can move the heap).
   * `out` is NOT zero-initialised.
   */
  create(shape: number[], inputs: TInfo[], fill: (out: Float32Array, ...ins: Float32Array[]) => void): TInfo;
  /** run `f` on read-only views of the inputs (valid only inside `f`) */
  read<T>(inputs: TInfo[], f: (...ins: Float32Array[]) => T): T;
  /** [.., M, K] x [.., K, N] through the backend's own BatchMatMul kernel; result shape [1, M, N] or batched */
  matMul(a: TInfo, b: TInfo, transposeA: boolean, transposeB: boolean): TInfo;
  transpose(x: TInfo, perm: number[]): TInfo;
  /** the backend's own fast Conv2D (NHWC, explicit pads), or null if it has none worth using */
  conv2d: NhwcConv | null;
  /**
   * the backend's own fast depthwise conv (NHWC, explicit pads; filter [KH, KW, C, cm]), or null if it has none
   * worth using
   */
  depthwiseConv2d: NhwcConv | null;
  /** the hand-written SIMD kernels of simdKernelModule.ts on the backend's heap (wasm), or null */
  readonly simd: SimdKernels | null;
  /** their second thread on the threaded wasm build (simdHelper.ts), or null */
  readonly helper: SimdHelper | null;
  dispose(t: TInfo): void;
  /** true: plain JS loops beat im2col + the backend's MatMul (the cpu backend, whose MatMul is JS too) */
  readonly direct: boolean;
  /** same data, another shape (no copy) */
  reshape(t: TInfo, shape: number[]): TInfo;
}

/** The fields of tfjs's backend_util.Conv2DInfo used here. */
export interface ConvInfo {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  filterHeight: number;
  filterWidth: number;
  padInfo: { top: number; left: number; right: number; bottom: number; type: string };
  dataFormat: 'channelsLast' | 'channelsFirst';
  inShape: number[];
  outShape: number[];
  filterShape: number[];
}

/** throws unless `t` is float32 (the kernels here are float32 only) */
export function float32(t: TInfo, what: string): void {
  if (t.dtype !== 'float32') throw new Error(`${what}: expected a float32 tensor, got ${t.dtype}`);
}

/** KernelOps over the wasm backend: tensors live on the wasm heap; MatMul/Transpose/Conv2D/DepthwiseConv2dNative are XNNPACK kernels. */
export function wasmOps(tf: TF, backend: AnyBackend): KernelOps {
  // looked up at each call: the BatchMatMul registered by us (fast for transposed operands) if any
  const kernel = (name: string): KernelFunc => {
    const k = tf.getKernel(name, 'wasm');
    if (!k) throw new Error(`wasm kernel ${name} missing`);
    return k.kernelFunc as unknown as KernelFunc;
  };
  const matMulK: KernelFunc = (a) => kernel('BatchMatMul')(a);
  const transposeK: KernelFunc = (a) => kernel('Transpose')(a);
  const conv2dK: KernelFunc = (a) => kernel('Conv2D')(a);
  const depthwiseK: KernelFunc = (a) => kernel('DepthwiseConv2dNative')(a);
  const view = (t: TInfo): Float32Array => {
    float32(t, 'wasm kernel');
    return backend.typedArrayFromHeap(t) as Float32Array;
  };
  const memory = backendMemory(backend);
  // the helper only behind the fence on this backend's data (simdHelper.ts)
  const helper = simdHelperFor(memory);
  return {
    backendName: 'wasm',
    direct: false,
    simd: memory ? simdKernelsFor(memory) : null,
    helper: helper !== null && guardBackend(backend, helper) ? helper : null,
    create(shape, inputs, fill) {
      const out = backend.makeOutput(shape, 'float32') as TInfo;
      try {
        // views only after the allocation: malloc may grow (and move) the heap
        fill(view(out), ...inputs.map(view));
      } catch (e) {
        backend.disposeData(out.dataId); // a fill that throws leaves no data behind
        throw e;
      }
      return out;
    },
    read(inputs, f) {
      return f(...inputs.map(view));
    },
    matMul(a, b, transposeA, transposeB) {
      return matMulK({ inputs: { a, b }, backend, attrs: { transposeA, transposeB } }) as TInfo;
    },
    transpose(x, perm) {
      return transposeK({ inputs: { x }, backend, attrs: { perm } }) as TInfo;
    },
    conv2d(x, filter, strides, pad, dilations) {
      return conv2dK({
        inputs: { x, filter },
        backend,
        attrs: { strides, pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined },
      }) as TInfo;
    },
    depthwiseConv2d(x, filter, strides, pad, dilations) {
      return depthwiseK({
        inputs: { x, filter },
        backend,
        attrs: { strides, pad, dilations, dimRoundingMode: undefined },
      }) as TInfo;
    },
    dispose(t) {
      backend.disposeData(t.dataId);
    },
    reshape(t, shape) {
      return { dataId: t.dataId, shape, dtype: t.dtype };
    },
  };
}

/** KernelOps over the cpu backend (tensors are JS typed arrays). */
export function cpuOps(tf: TF, backend: AnyBackend): KernelOps {
  const kernel = (name: string): KernelFunc => {
    const k = tf.getKernel(name, 'cpu');
    if (!k) throw new Error(`cpu kernel ${name} missing`);
    return k.kernelFunc as unknown as KernelFunc;
  };
  const matMulK: KernelFunc = (a) => kernel('BatchMatMul')(a);
  const transposeK: KernelFunc = (a) => kernel('Transpose')(a);
  const view = (t: TInfo): Float32Array => {
    float32(t, 'cpu kernel');
    return backend.data.get(t.dataId).values as Float32Array;
  };
  return {
    backendName: 'cpu',
    direct: true,
    simd: null,
    helper: null,
    create(shape, inputs, fill) {
      const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
      fill(out, ...inputs.map(view));
      return backend.makeTensorInfo(shape, 'float32', out) as TInfo;
    },
    read(inputs, f) {
      return f(...inputs.map(view));
    },
    matMul(a, b, transposeA, transposeB) {
      return matMulK({ inputs: { a, b }, backend, attrs: { transposeA, transposeB } }) as TInfo;
    },
    transpose(x, perm) {
      return transposeK({ inputs: { x }, backend, attrs: { perm } }) as TInfo;
    },
    conv2d: null,
    depthwiseConv2d: null,
    dispose(t) {
      backend.disposeData(t.dataId);
    },
    reshape(t, shape) {
      return { dataId: t.dataId, shape, dtype: t.dtype };
    },
  };
}
