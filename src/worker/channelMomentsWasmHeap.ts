/**
 * Per-channel mean and biased variance (float64, like channelMoments.ts) of a tensor of the tfjs wasm backend,
 * reduced where it lies: the SIMD module of simdMomentsModule.ts, instantiated on the backend's own memory (once per
 * memory), walks the heap eight channels at a time in one pass (float64 sums shifted by the first row). Used by
 * bnInputStats.ts.
 */
import type * as tfType from '@tensorflow/tfjs';
import { simdModuleBytes } from './simdMomentsModule';
import { backendMemory, instancePerMemory } from './wasmHeapModule';

type TF = typeof tfType;
type Tensor = tfType.Tensor;

interface SimdKernel {
  /** acc = [shifts (8 doubles) | sums (8) | sums of squares (8)]: the sums of 4 / 8 channels added to it */
  moments4(p: number, rows: number, stride: number, acc: number): void;
  moments8(p: number, rows: number, stride: number, acc: number): void;
  /** the accumulators of c channels: shifts from the row at p, zero sums */
  start(p: number, c: number, acc: number): void;
  /** out = [mean (c float32) | variance (c float32)] from the accumulators of `rows` rows */
  finish(acc: number, c: number, rows: number, out: number): void;
  /** moments4 / moments8, and out = (x - mean) · s + offset for those channels (par = mean | s | offset, float32) */
  affineMoments4(p: number, rows: number, stride: number, acc: number, out: number, par: number, cBytes: number): void;
  affineMoments8(p: number, rows: number, stride: number, acc: number, out: number, par: number, cBytes: number): void;
}
/** the SIMD kernel bound to `memory` (plain or shared), or null where WebAssembly SIMD is unavailable */
const simdKernelFor = instancePerMemory('moments', simdModuleBytes, { fma: false }, (e): SimdKernel => ({
  moments4: e.moments4 as SimdKernel['moments4'],
  moments8: e.moments8 as SimdKernel['moments8'],
  start: e.start as SimdKernel['start'],
  finish: e.finish as SimdKernel['finish'],
  affineMoments4: e.affineMoments4 as SimdKernel['affineMoments4'],
  affineMoments8: e.affineMoments8 as SimdKernel['affineMoments8'],
}));

interface WasmHeap {
  memory: WebAssembly.Memory;
  _malloc(bytes: number): number;
  _free(p: number): void;
}

/** the parts of tfjs-backend-wasm's BackendWasm read here (4.22) */
export interface WasmBackendLike {
  dataIdMap?: { has?(id: object): boolean; get?(id: object): { memoryOffset?: number } | undefined };
  typedArrayFromHeap?(t: { shape: number[]; dtype: string; dataId: object }): ArrayLike<number>;
  /** the memory: exported (`asm.memory`) by the single-threaded build, imported (`wasmMemory`) by the threaded one */
  wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown; HEAPU8?: Uint8Array; _malloc?: unknown; _free?: unknown };
}

/**
 * channelMoments in ONE pass, 8 channels at a time (moments8, moments4 for a last 4): per channel the float64 sums of
 * d = x - shift and d^2, the shift being the channel's value in the first row (0 if that is not finite, so that an
 * infinite value gives the same mean and variance as two passes: ±Infinity and NaN; the bound on the cancellation
 * in simdMomentsModule.ts). The rows go in blocks of ~128 KiB, which stay in cache across the block's column walks:
 * each value is read from memory once. With `affine`, the same walks also write BatchNormalization's inference
 * output (affineMoments4 / 8): the same sums, bit for bit.
 */
function channelMomentsCols(
  k: SimdKernel,
  heap: WasmHeap,
  byteOffset: number,
  rows: number,
  c: number,
  affine?: { out: number; par: number },
): { mean: Float32Array; variance: Float32Array } | null {
  const groups = Math.ceil(c / 8);
  // per 8 channels: shifts, sums, sums of squares (float64); then the results, c + c float32
  const scratch = heap._malloc(192 * groups + 8 * c);
  if (!scratch) return null;
  try {
    k.start(byteOffset, c, scratch);
    const stride = 4 * c;
    const block = Math.max(16, Math.floor(32768 / c));
    for (let r0 = 0; r0 < rows; r0 += block) {
      const n = Math.min(block, rows - r0);
      const p = byteOffset + r0 * stride;
      if (affine) {
        const o = affine.out + r0 * stride;
        for (let g = 0; g < groups; g++)
          if (c - 8 * g >= 8)
            k.affineMoments8(p + 32 * g, n, stride, scratch + 192 * g, o + 32 * g, affine.par + 32 * g, stride);
          else k.affineMoments4(p + 32 * g, n, stride, scratch + 192 * g, o + 32 * g, affine.par + 32 * g, stride);
      } else
        for (let g = 0; g < groups; g++)
          if (c - 8 * g >= 8) k.moments8(p + 32 * g, n, stride, scratch + 192 * g);
          else k.moments4(p + 32 * g, n, stride, scratch + 192 * g);
    }
    const out = scratch + 192 * groups;
    k.finish(scratch, c, rows, out);
    // the allocation may have grown the memory: the view is made after it
    // one copy, one allocation (an ArrayBuffer costs ~1-2 us): mean and variance are views of it
    const results = new Float32Array(heap.memory.buffer, out, 2 * c).slice();
    return { mean: results.subarray(0, c), variance: results.subarray(c) };
  } finally {
    heap._free(scratch);
  }
}

/**
 * Per-channel mean and biased variance of a tensor of the wasm backend, reduced in its heap by the SIMD
 * kernel; null where that does not apply (another backend, not float32, channel axis not last, channels not
 * a multiple of 4, no SIMD). Exported for tests.
 */
export function channelMomentsOnWasmHeap(
  tf: TF,
  x: Tensor,
  axis: number,
): { mean: Float32Array; variance: Float32Array } | null {
  const rank = x.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  const c = x.shape[a];
  if (a !== rank - 1 || x.dtype !== 'float32' || !(c > 0) || c % 4 !== 0) return null;
  const b = tf.backend() as unknown as WasmBackendLike;
  const memory = backendMemory(b);
  if (!memory) return null;
  if (typeof b.dataIdMap?.has !== 'function' || typeof b.dataIdMap.get !== 'function' || !b.dataIdMap.has(x.dataId))
    return null;
  const offset = b.dataIdMap.get(x.dataId)?.memoryOffset;
  if (typeof offset !== 'number' || offset % 4 !== 0 || offset + 4 * x.size > memory.buffer.byteLength) return null;
  const kh = kernelAndHeap(b, memory);
  return kh && channelMomentsCols(kh.k, kh.heap, offset, x.size / c, c);
}

function kernelAndHeap(b: WasmBackendLike, memory: WebAssembly.Memory): { k: SimdKernel; heap: WasmHeap } | null {
  const k = simdKernelFor(memory);
  const w = b.wasm;
  if (!k || typeof w?._malloc !== 'function' || typeof w._free !== 'function') return null;
  return { k, heap: { memory, _malloc: w._malloc as WasmHeap['_malloc'], _free: w._free as WasmHeap['_free'] } };
}

/**
 * BatchNormalization's inference output and its input's statistics in one pass (kernels/wasmBatchNorm.ts, for an
 * inference call whose input statistics the instrument asked for: fusedInputMoments.ts): out = (x - mean) · s +
 * offset, the float32 operations of the engine's FusedBatchNorm, and the per-channel mean and biased variance of x,
 * the same values as channelMomentsOnWasmHeap's. Byte offsets in the backend's heap: x and out `rows` × c float32,
 * par = mean | s | offset (c float32 each). Null (nothing written) where it does not apply: the caller normalises.
 */
export function normaliseWithMoments(
  backend: unknown,
  x: number,
  out: number,
  par: number,
  rows: number,
  c: number,
): { mean: Float32Array; variance: Float32Array } | null {
  const b = backend as WasmBackendLike;
  const memory = backendMemory(b);
  if (!memory || !(c > 0) || c % 4 !== 0 || x % 4 !== 0 || out % 4 !== 0 || par % 4 !== 0) return null;
  const kh = kernelAndHeap(b, memory);
  return kh && channelMomentsCols(kh.k, kh.heap, x, rows, c, { out, par });
}
