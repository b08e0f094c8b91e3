/**
 * Per-channel mean and biased variance (float64 two-pass, like channelMoments.ts) of a tensor of the tfjs wasm
 * backend, reduced where it lies: the SIMD module of simdMomentsModule.ts, instantiated on the backend's own
 * memory (once per memory), walks the heap four channels at a time. Used by bnInputStats.ts.
 */
import type * as tfType from '@tensorflow/tfjs';
import { simdModuleBytes } from './simdMomentsModule';

type TF = typeof tfType;
type Tensor = tfType.Tensor;

interface SimdKernel {
  sum4(p: number, rows: number, stride: number): void;
  sq4(p: number, rows: number, stride: number, m0: number, m1: number, m2: number, m3: number): void;
  g: WebAssembly.Global[];
}
/** the compiled module, per kind of memory (plain, shared); null where it does not validate (no SIMD) */
const simdModules = new Map<boolean, WebAssembly.Module | null>();
const simdKernels = new WeakMap<WebAssembly.Memory, SimdKernel | null>();

/** the SIMD kernel bound to `memory` (plain or shared), or null where WebAssembly SIMD is unavailable */
function simdKernelFor(memory: WebAssembly.Memory): SimdKernel | null {
  const hit = simdKernels.get(memory);
  if (hit !== undefined) return hit;
  let k: SimdKernel | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    if (!simdModules.has(shared)) {
      const bytes = simdModuleBytes(shared);
      simdModules.set(shared, WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null);
    }
    const simdModule = simdModules.get(shared);
    if (simdModule) {
      const e = new WebAssembly.Instance(simdModule, { env: { memory } }).exports as Record<string, unknown>;
      k = {
        sum4: e.sum4 as SimdKernel['sum4'],
        sq4: e.sq4 as SimdKernel['sq4'],
        g: [e.g0, e.g1, e.g2, e.g3] as WebAssembly.Global[],
      };
    }
  } catch {
    k = null;
  }
  simdKernels.set(memory, k);
  return k;
}

/** channelMoments of channels-last float32 data at `byteOffset` of the kernel's memory, `c` a multiple of 4 */
function channelMomentsSimd(
  k: SimdKernel,
  byteOffset: number,
  rows: number,
  c: number,
): { mean: Float32Array; variance: Float32Array } {
  const stride = 4 * c;
  // ~512 KiB of rows per block: they stay in L2 across the c / 4 column walks, and calls stay few (measured:
  // L1-sized blocks cost more in calls than they save; 32x32x32x16 takes ~0.25 ms)
  const block = Math.max(64, Math.floor(131072 / c));
  const [g0, g1, g2, g3] = k.g;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  const mean = new Float64Array(c);
  for (let r0 = 0; r0 < rows; r0 += block) {
    const n = Math.min(block, rows - r0);
    for (let j = 0, p = byteOffset + r0 * stride; j < c; j += 4, p += 16) {
      k.sum4(p, n, stride);
      sum[j] += g0.value;
      sum[j + 1] += g1.value;
      sum[j + 2] += g2.value;
      sum[j + 3] += g3.value;
    }
  }
  for (let j = 0; j < c; j++) mean[j] = sum[j] / rows;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const n = Math.min(block, rows - r0);
    for (let j = 0, p = byteOffset + r0 * stride; j < c; j += 4, p += 16) {
      k.sq4(p, n, stride, mean[j], mean[j + 1], mean[j + 2], mean[j + 3]);
      sq[j] += g0.value;
      sq[j + 1] += g1.value;
      sq[j + 2] += g2.value;
      sq[j + 3] += g3.value;
    }
  }
  const variance = new Float32Array(c);
  for (let j = 0; j < c; j++) variance[j] = sq[j] / rows;
  return { mean: Float32Array.from(mean), variance };
}

/** the parts of tfjs-backend-wasm's BackendWasm read here (4.22) */
export interface WasmBackendLike {
  dataIdMap?: { has?(id: object): boolean; get?(id: object): { memoryOffset?: number } | undefined };
  typedArrayFromHeap?(t: { shape: number[]; dtype: string; dataId: object }): ArrayLike<number>;
  /** the memory: exported (`asm.memory`) by the single-threaded build, imported (`wasmMemory`) by the threaded one */
  wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown; HEAPU8?: Uint8Array };
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
  const memory = b.wasm?.asm?.memory ?? b.wasm?.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory) || memory.buffer !== b.wasm?.HEAPU8?.buffer) return null;
  if (typeof b.dataIdMap?.has !== 'function' || typeof b.dataIdMap.get !== 'function' || !b.dataIdMap.has(x.dataId))
    return null;
  const offset = b.dataIdMap.get(x.dataId)?.memoryOffset;
  if (typeof offset !== 'number' || offset % 4 !== 0 || offset + 4 * x.size > memory.buffer.byteLength) return null;
  const k = simdKernelFor(memory);
  return k ? channelMomentsSimd(k, offset, x.size / c, c) : null;
}
