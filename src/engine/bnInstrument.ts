/**
 * BatchNormalization instrumentation of tfjs 4.22 (see ../../../shared/reference/tfjs-facts.md).
 *
 * - Wraps `BatchNormalization.prototype.call` (every BN layer, whatever made it) and `.build` (registration:
 *   a layer is listed once it has weights; the listing is ordered by tfjs's own construction counter
 *   `layer.id`, i.e. creation order).
 * - Capture mode: while a training-mode BN call is in flight, tfjs-core's `moments` export (called by
 *   tfjs-layers through the CJS `exports` object) is wrapped, so the exact batch mean/variance tensors the
 *   layer normalised with are kept, zero-copy (`tf.keep(t.clone())`). Where that patch is impossible
 *   (ES-module build, two tfjs-core copies) or did not see the call, the batch statistics are recomputed
 *   exactly with `tf.moments` of the call's input (never derived from the moving-average delta).
 * - Inference-mode calls: mean and biased variance of the input over every axis but the channel axis (the
 *   statistics of that input, which the layer did not use): two passes in float64 (the mean, then the mean
 *   of the squared deviations from it: right to float32 rounding whatever the data's offset), rounded once
 *   to float32, read where the data lies (no copy). On the wasm backend, channels last with a multiple of 4
 *   channels (convolutions): a small SIMD WebAssembly module of ours that reads the backend's own heap;
 *   otherwise plain JS over the heap view or the cpu backend's array. Measured (32x32x32x16, wasm): SIMD
 *   ~0.3 ms, JS ~0.7 ms, `tf.moments` ~3 ms (its broadcast subtract and square are separate scalar passes).
 *   `tf.moments` is also two-pass, but the stock wasm kernels sum the mean in float32: on that input with
 *   channel means ~1e3..1.6e4 its mean is off by 2.4e-4 (relative) and its variance, which inherits that
 *   error squared, by a factor of 13 (std 1); ours stays within one float32 rounding (≤ 6e-8).
 *   The input is kept (zero-copy clone, within a memory budget) and reduced only if it is still the layer's
 *   last call when the step is read back, so calls between two steps cost no arithmetic.
 * - Models are remembered when created or used (factories, `fromConfig` of deserialisation, LayersModel and
 *   Sequential methods); at snapshot time a layer's `path` is found by walking `model.layers` recursively.
 *   A Sequential's internal LayersModel (`<name>_model`) is never shown.
 * - Read-back (`dataSync`, copied into fresh Float32Arrays) happens only in `snapshotLayers()`; a record's
 *   tensors are disposed when it is read back or replaced, so `tf.memory().numTensors` stays flat.
 */
import type * as tfType from '@tensorflow/tfjs';
import type { CallRecord, LayerSnapshot } from '../shared/protocol';
import { layerWarnings } from './bnWarnings';

type TF = typeof tfType;
type Tensor = tfType.Tensor;

/** How the exact batch statistics of a training-mode call are obtained. */
export type CaptureMode = 'capture' | 'recompute';

export interface BnInstrument {
  /** Build the LayerSnapshot list for a step: every live (not disposed) BN layer, in creation order; resets per-step counters (calls, updates) and remembers this step's moving stats for movingUpdated. Vectors are fresh copies (never tfjs-owned storage). */
  snapshotLayers(): LayerSnapshot[];
  /** number of tfjs tensors the instrument itself keeps (for leak checks) */
  keptTensors(): number;
  uninstall(): void;
  /** 'capture': the tensors tfjs itself computed are kept; 'recompute': tf.moments of the input, exact but extra work */
  captureMode(): CaptureMode;
  /** why capture mode is not (or no longer) active; null while it is */
  captureNote(): string | null;
}

// ---------------------------------------------------------------------------------------------
// The parts of tfjs-layers objects we read (runtime fields of the 4.22 CJS build)
// ---------------------------------------------------------------------------------------------

interface LayerVar {
  read(): Tensor;
  val?: { isDisposed: boolean };
}

interface BnLayer {
  id: number;
  name: string;
  axis: number;
  momentum: number;
  epsilon: number;
  trainable: boolean;
  built: boolean;
  movingMean?: LayerVar;
  movingVariance?: LayerVar;
  gamma?: LayerVar | null;
  beta?: LayerVar | null;
}

interface ContainerLike {
  id: number;
  name: string;
  layers?: unknown[];
  model?: unknown;
  _refCount?: number | null;
}

/** One BN call as kept between steps. Tensors until read back, then arrays. */
interface Rec {
  training: boolean;
  inputShape: number[];
  channels: number;
  /** normalised channel axis of the input */
  axis: number;
  mean: Tensor | null;
  variance: Tensor | null;
  /** an input whose statistics tfjs did not compute: a zero-copy clone, reduced at read-back */
  input: Tensor | null;
  /** how to reduce `input`: 'exact' = tf.moments (bit-identical to what BN computes in training), 'f64' = float64 two-pass (SIMD on the wasm heap, else JS) */
  inputKind: 'exact' | 'f64';
  meanArr: Float32Array | null;
  varArr: Float32Array | null;
}

/**
 * Inputs whose statistics tfjs did not compute are kept (zero-copy clones) and reduced only if the call is
 * still the layer's last one when a step is read back: calls between two steps (predict or evaluate over
 * many batches) then cost no arithmetic. The inputs held at once stay under this many elements in all
 * (16 M float32 = 64 MiB); beyond it an input is reduced at call time instead.
 */
const LAZY_BUDGET_ELEMENTS = 1 << 24;

/**
 * float64 two-pass mean and biased variance over every axis but `axis` of row-major `data`, rounded to float32
 * (the same sums as the float64 reference: the mean, then the mean of the squared deviations from it).
 * Channels last (the common case): blocks of rows small enough to stay in L1, a column at a time, in local
 * accumulators (four independent chains); many channels: four row streams of per-channel accumulators;
 * other axes: runs of `inner` consecutive values per channel.
 */
export function channelMoments(data: ArrayLike<number>, shape: readonly number[], axis: number): { mean: Float32Array; variance: Float32Array } {
  const c = shape[axis];
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  const len = data.length;
  const n = c > 0 ? len / c : 0;
  const mean = new Float64Array(c);
  const sq = new Float64Array(c);
  if (inner === 1 && c <= 1024) {
    const block = Math.max(16, Math.min(1024, Math.floor(8192 / c)));
    const sum = new Float64Array(c);
    for (let r0 = 0; r0 < n; r0 += block) {
      const rows = Math.min(block, n - r0);
      for (let k = 0, o = r0 * c; k < c; k++, o++) sum[k] += strideSum(data, o, rows, c);
    }
    for (let k = 0; k < c; k++) mean[k] = sum[k] / n;
    for (let r0 = 0; r0 < n; r0 += block) {
      const rows = Math.min(block, n - r0);
      for (let k = 0, o = r0 * c; k < c; k++, o++) sq[k] += strideSqDev(data, o, rows, c, mean[k]);
    }
  } else if (inner === 1) {
    const sum = columnSums(data, n, c, null);
    for (let k = 0; k < c; k++) mean[k] = sum[k] / n;
    sq.set(columnSums(data, n, c, mean));
  } else {
    // channel k owns runs of `inner` consecutive values
    const sum = new Float64Array(c);
    for (let i = 0, k = 0; i < len; i += inner) {
      sum[k] += strideSum(data, i, inner, 1);
      if (++k === c) k = 0;
    }
    for (let k = 0; k < c; k++) mean[k] = sum[k] / n;
    for (let i = 0, k = 0; i < len; i += inner) {
      sq[k] += strideSqDev(data, i, inner, 1, mean[k]);
      if (++k === c) k = 0;
    }
  }
  const variance = new Float32Array(c);
  for (let k = 0; k < c; k++) variance[k] = sq[k] / n;
  return { mean: Float32Array.from(mean), variance };
}

/** float64 sum of `count` values of `x` from `start`, `stride` apart (four independent chains) */
function strideSum(x: ArrayLike<number>, start: number, count: number, stride: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const t2 = 2 * stride, t3 = 3 * stride, t4 = 4 * stride;
  let i = start;
  let left = count;
  for (; left >= 4; left -= 4, i += t4) {
    s0 += x[i];
    s1 += x[i + stride];
    s2 += x[i + t2];
    s3 += x[i + t3];
  }
  for (; left > 0; left--, i += stride) s0 += x[i];
  return s0 + s1 + (s2 + s3);
}

/** float64 sum of the squared deviations from `m` of `count` values of `x` from `start`, `stride` apart */
function strideSqDev(x: ArrayLike<number>, start: number, count: number, stride: number, m: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const t2 = 2 * stride, t3 = 3 * stride, t4 = 4 * stride;
  let i = start;
  let left = count;
  for (; left >= 4; left -= 4, i += t4) {
    const d0 = x[i] - m, d1 = x[i + stride] - m, d2 = x[i + t2] - m, d3 = x[i + t3] - m;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; left > 0; left--, i += stride) {
    const d = x[i] - m;
    s0 += d * d;
  }
  return s0 + s1 + (s2 + s3);
}

/**
 * Column sums of `x` viewed as [rows, cols] in float64 (many columns): of the values themselves (`center`
 * null) or of their squared deviations from `center[col]`. Four row streams at a time.
 */
function columnSums(x: ArrayLike<number>, rows: number, cols: number, center: Float64Array | null): Float64Array {
  const C = cols, C2 = 2 * C, C3 = 3 * C, C4 = 4 * C;
  const a = new Float64Array(C4);
  let o = 0, r = 0;
  if (center === null) {
    for (; r + 4 <= rows; r += 4, o += C4)
      for (let k = 0; k < C; k++) {
        a[k] += x[o + k];
        a[C + k] += x[o + C + k];
        a[C2 + k] += x[o + C2 + k];
        a[C3 + k] += x[o + C3 + k];
      }
    for (; r < rows; r++, o += C) for (let k = 0; k < C; k++) a[k] += x[o + k];
  } else {
    for (; r + 4 <= rows; r += 4, o += C4)
      for (let k = 0; k < C; k++) {
        const m = center[k];
        const d0 = x[o + k] - m, d1 = x[o + C + k] - m, d2 = x[o + C2 + k] - m, d3 = x[o + C3 + k] - m;
        a[k] += d0 * d0;
        a[C + k] += d1 * d1;
        a[C2 + k] += d2 * d2;
        a[C3 + k] += d3 * d3;
      }
    for (; r < rows; r++, o += C)
      for (let k = 0; k < C; k++) {
        const d = x[o + k] - center[k];
        a[k] += d * d;
      }
  }
  const out = new Float64Array(C);
  for (let k = 0; k < C; k++) out[k] = a[k] + a[C + k] + a[C2 + k] + a[C3 + k];
  return out;
}

// ---------------------------------------------------------------------------------------------
// SIMD reduction on the wasm backend's heap
// ---------------------------------------------------------------------------------------------
//
// A two-function WebAssembly module, assembled below byte by byte, that imports the tfjs wasm backend's
// own memory (the Emscripten module's exported `memory`) and reduces a tensor where it lies:
//
//   (module
//     (import "env" "memory" (memory 0))
//     (global $g0 (export "g0") (mut f64) (f64.const 0))  ;; g1, g2, g3 alike: the four results of a call
//     ;; sum4(p, rows, stride): float64 sums of 4 consecutive float32 lanes at p, p + stride, … (`rows` rows)
//     (func (export "sum4") (param $p i32) (param $rows i32) (param $stride i32)
//       (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128) …)
//     ;; sq4(p, rows, stride, m0, m1, m2, m3): float64 sums of (x_lane - m_lane)^2 over the same values
//     (func (export "sq4") (param …) (param $m0 f64) (param $m1 f64) (param $m2 f64) (param $m3 f64) …)
//   )
//
// Body of each: two rows per iteration into two pairs of f64x2 accumulators (lanes 0-1:
// f64x2.promote_low_f32x4 (v128.load64_zero p); lanes 2-3: the same at p + 8; sq4 subtracts the mean pair
// and squares), then an odd last row, the pairs added, the four lanes stored to g0..g3.

const SIMD = 0xfd;
const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => vec([...s].map((ch) => [ch.charCodeAt(0)]));
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, d],
  brIf: (d: number) => [0x0d, d],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  gset: (i: number) => [0x24, ...uleb(i)],
  i32: (v: number) => [0x41, v], // 0 <= v < 64
  i32LtS: [0x48],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  load64Zero: (offset: number) => [SIMD, 0x5d, 3, ...uleb(offset)], // v128.load64_zero align=8
  f64x2Splat: [SIMD, 0x14],
  f64x2Extract: (l: number) => [SIMD, 0x21, l],
  f64x2Replace: (l: number) => [SIMD, 0x22, l],
  promoteLow: [SIMD, 0x5f], // f64x2.promote_low_f32x4
  f64x2Add: [SIMD, 0xf0, 0x01],
  f64x2Sub: [SIMD, 0xf1, 0x01],
  f64x2Mul: [SIMD, 0xf2, 0x01],
};
const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b;

function simdBody(squares: boolean): number[] {
  const P = 0, ROWS = 1, STRIDE = 2;
  const L = squares ? 7 : 3; // first local after the parameters
  const A0 = L, A1 = L + 1, B0 = L + 2, B1 = L + 3, MA = L + 4, MB = L + 5, D = L + 6;
  // the f64x2 of two lanes at p + offset (sq4: their squared deviations from the mean pair `m`)
  const lanes = (offset: number, m: number): number[] => [
    ...op.get(P), ...op.load64Zero(offset), ...op.promoteLow,
    ...(squares ? [...op.get(m), ...op.f64x2Sub, ...op.tee(D), ...op.get(D), ...op.f64x2Mul] : []),
  ];
  const row = (a: number, b: number): number[] => [
    ...op.get(a), ...lanes(0, MA), ...op.f64x2Add, ...op.set(a),
    ...op.get(b), ...lanes(8, MB), ...op.f64x2Add, ...op.set(b),
  ];
  const next = [...op.get(P), ...op.get(STRIDE), ...op.i32Add, ...op.set(P)];
  const code: number[] = [];
  if (squares) {
    code.push(...op.get(3), ...op.f64x2Splat, ...op.get(4), ...op.f64x2Replace(1), ...op.set(MA));
    code.push(...op.get(5), ...op.f64x2Splat, ...op.get(6), ...op.f64x2Replace(1), ...op.set(MB));
  }
  code.push(...op.block, ...op.loop);
  code.push(...op.get(ROWS), ...op.i32(2), ...op.i32LtS, ...op.brIf(1));
  code.push(...row(A0, B0), ...next, ...row(A1, B1), ...next);
  code.push(...op.get(ROWS), ...op.i32(2), ...op.i32Sub, ...op.set(ROWS), ...op.br(0), ...op.end, ...op.end);
  code.push(...op.get(ROWS), ...op.if, ...row(A0, B0), ...op.end);
  code.push(...op.get(A0), ...op.get(A1), ...op.f64x2Add, ...op.set(A0));
  code.push(...op.get(B0), ...op.get(B1), ...op.f64x2Add, ...op.set(B0));
  code.push(...op.get(A0), ...op.f64x2Extract(0), ...op.gset(0), ...op.get(A0), ...op.f64x2Extract(1), ...op.gset(1));
  code.push(...op.get(B0), ...op.f64x2Extract(0), ...op.gset(2), ...op.get(B0), ...op.f64x2Extract(1), ...op.gset(3));
  code.push(...op.end);
  const body = [...vec([[...uleb(squares ? 7 : 4), V128]]), ...code];
  return [...uleb(body.length), ...body];
}

function simdModuleBytes(): Uint8Array<ArrayBuffer> {
  const types = vec([
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32], [F64], [F64], [F64], [F64]]), ...vec([])],
  ]);
  const imports = vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]]);
  const funcs = vec([[0], [1]]);
  const globals = vec([0, 1, 2, 3].map(() => [F64, 1, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, ...op.end]));
  const exports = vec([[...name('sum4'), 0, 0], [...name('sq4'), 0, 1], ...[0, 1, 2, 3].map((i) => [...name(`g${i}`), 3, i])]);
  const code = vec([simdBody(false), simdBody(true)]);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types), ...section(2, imports), ...section(3, funcs), ...section(6, globals), ...section(7, exports), ...section(10, code),
  ]);
}

interface SimdKernel {
  sum4(p: number, rows: number, stride: number): void;
  sq4(p: number, rows: number, stride: number, m0: number, m1: number, m2: number, m3: number): void;
  g: WebAssembly.Global[];
}
let simdModule: WebAssembly.Module | null | undefined;
const simdKernels = new WeakMap<WebAssembly.Memory, SimdKernel | null>();

/** the SIMD kernel bound to `memory`, or null where WebAssembly SIMD or the import is unavailable (shared memory) */
function simdKernelFor(memory: WebAssembly.Memory): SimdKernel | null {
  const hit = simdKernels.get(memory);
  if (hit !== undefined) return hit;
  let k: SimdKernel | null = null;
  try {
    if (simdModule === undefined) {
      const bytes = simdModuleBytes();
      simdModule = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
    }
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
function channelMomentsSimd(k: SimdKernel, byteOffset: number, rows: number, c: number): { mean: Float32Array; variance: Float32Array } {
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
interface WasmBackendLike {
  dataIdMap?: { has?(id: object): boolean; get?(id: object): { memoryOffset?: number } | undefined };
  typedArrayFromHeap?(t: { shape: number[]; dtype: string; dataId: object }): ArrayLike<number>;
  wasm?: { asm?: { memory?: unknown }; HEAPU8?: Uint8Array };
}

/**
 * Per-channel mean and biased variance of a tensor of the wasm backend, reduced in its heap by the SIMD
 * kernel; null where that does not apply (another backend, not float32, channel axis not last, channels not
 * a multiple of 4, no SIMD). Exported for tests.
 */
export function channelMomentsOnWasmHeap(tf: TF, x: Tensor, axis: number): { mean: Float32Array; variance: Float32Array } | null {
  const rank = x.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  const c = x.shape[a];
  if (a !== rank - 1 || x.dtype !== 'float32' || !(c > 0) || c % 4 !== 0) return null;
  const b = tf.backend() as unknown as WasmBackendLike;
  const memory = b.wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || memory.buffer !== b.wasm?.HEAPU8?.buffer) return null;
  if (typeof b.dataIdMap?.has !== 'function' || typeof b.dataIdMap.get !== 'function' || !b.dataIdMap.has(x.dataId)) return null;
  const offset = b.dataIdMap.get(x.dataId)?.memoryOffset;
  if (typeof offset !== 'number' || offset % 4 !== 0 || offset + 4 * x.size > memory.buffer.byteLength) return null;
  const k = simdKernelFor(memory);
  return k ? channelMomentsSimd(k, offset, x.size / c, c) : null;
}

interface LayerState {
  layer: BnLayer;
  calls: number;
  updates: number;
  updatesWhileFrozen: number;
  inferenceCalls: number;
  batchOfOneShape: number[] | null;
  everUpdated: boolean;
  lastCall: Rec | null;
  lastTrainingCall: Rec | null;
  /** moving stats at the previous snapshot that listed this layer */
  prevMM: Float32Array | null;
  prevMV: Float32Array | null;
  /** moving stats just before the layer's first call (kept only until its first snapshot) */
  baseMM: Tensor | null;
  baseMV: Tensor | null;
  /** moving stats right after build (the initializer's values), tensors until the first snapshot */
  initMMT: Tensor | null;
  initMVT: Tensor | null;
  initMM: Float32Array | null;
  initMV: Float32Array | null;
}

const MODEL_METHODS = [
  'compile', 'fit', 'fitDataset', 'evaluate', 'evaluateDataset', 'predict', 'predictOnBatch', 'trainOnBatch',
  'execute', 'summary', 'save', 'apply', 'call', 'getLayer', 'countParams',
];
const SEQUENTIAL_METHODS = [...MODEL_METHODS, 'add', 'pop', 'build'];

function copyF32(src: ArrayLike<number>): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i];
  return out;
}

/** element-wise equality where NaN equals NaN (a NaN that stays NaN is not an update) */
function sameValues(a: ArrayLike<number> | null, b: ArrayLike<number> | null): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (x !== y && !(x !== x && y !== y)) return false;
  }
  return true;
}

function isZeroOne(mm: ArrayLike<number>, mv: ArrayLike<number>): boolean {
  for (let i = 0; i < mm.length; i++) if (mm[i] !== 0) return false;
  for (let i = 0; i < mv.length; i++) if (mv[i] !== 1) return false;
  return true;
}

function varDisposed(v: LayerVar | null | undefined): boolean {
  return !!v && !!v.val && v.val.isDisposed;
}

/** Our own `require`, where the module system has one (CJS: tsx, esbuild bundles). */
function tryRequire(load: () => unknown): Record<string, unknown> | null {
  try {
    const m = load();
    return typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

type Restore = () => void;

/** Replace `obj[name]` (own or inherited function) by `make(orig)`; returns the undo, or null if impossible. */
function patchMethod(obj: object, name: string, make: (orig: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown): Restore | null {
  const rec = obj as Record<string, unknown>;
  const own = Object.getOwnPropertyDescriptor(obj, name);
  if (own && !('value' in own)) return null; // accessor: leave it
  const orig = own ? own.value : rec[name];
  if (typeof orig !== 'function') return null;
  const wrapped = make(orig as (...a: unknown[]) => unknown);
  try {
    Object.defineProperty(obj, name, {
      value: wrapped,
      writable: true,
      configurable: true,
      enumerable: own ? own.enumerable : false,
    });
  } catch {
    try {
      rec[name] = wrapped;
    } catch {
      return null;
    }
  }
  if (rec[name] !== wrapped) return null;
  return () => {
    if (own) Object.defineProperty(obj, name, own);
    else delete rec[name];
  };
}

/** Assign an export (plain writable data property) and check it took. */
function patchExport(obj: Record<string, unknown>, name: string, value: unknown): Restore | null {
  const before = obj[name];
  try {
    obj[name] = value;
  } catch {
    return null;
  }
  if (obj[name] !== value) return null;
  return () => {
    try {
      obj[name] = before;
    } catch {
      /* ignore */
    }
  };
}

export interface BnInstrumentOptions {
  /** never patch tfjs-core's moments: always recompute the batch statistics (tests, benchmarks) */
  forceRecompute?: boolean;
  /** elements of call inputs that may be held for read-back at once (default 16 M = 64 MiB of float32) */
  lazyBudgetElements?: number;
  /** false: never the SIMD reduction on the wasm heap, always the JS one (tests, benchmarks) */
  simd?: boolean;
}

export function installBnInstrument(tf: TF, options: BnInstrumentOptions = {}): BnInstrument {
  const classMap = tf.serialization.SerializationMap.getMap().classNameMap as Record<string, [unknown, unknown]>;
  const BN = classMap.BatchNormalization?.[0] as { prototype: Record<string, unknown> } | undefined;
  if (!BN) throw new Error('BatchNormalization is not registered in this tfjs');
  const LayersModel = tf.LayersModel as unknown as { prototype: object };
  const Sequential = tf.Sequential as unknown as { prototype: object };
  const ContainerProto = Object.getPrototypeOf(LayersModel.prototype) as object;
  const isContainer = (x: unknown): x is ContainerLike =>
    typeof x === 'object' && x !== null && ContainerProto.isPrototypeOf(x);
  const isSequential = (x: unknown): boolean => typeof x === 'object' && x !== null && Sequential.prototype.isPrototypeOf(x);

  const restores: Restore[] = [];
  const states = new Map<BnLayer, LayerState>();
  /** models created or used -> stamp of their last use (higher = more recent) */
  const knownModels = new Map<ContainerLike, number>();
  /** Sequential's internal LayersModels: never shown */
  const internalModels = new WeakSet<object>();
  let useStamp = 0;
  let capturing: Rec | null = null;
  let mode: CaptureMode = 'recompute';
  let modeNote: string | null = null;
  let installed = true;
  /** elements of the inputs kept for read-back */
  let lazyElements = 0;
  const lazyBudget = options.lazyBudgetElements ?? LAZY_BUDGET_ELEMENTS;

  const keepClone = (t: Tensor): Tensor => tf.keep(t.clone()); // clone = Identity: shares the data, no copy

  // ---- capture of tfjs-core's moments --------------------------------------------------------
  // literal require: bundlers must see it
  const core = options.forceRecompute ? null : tryRequire(() => require('@tensorflow/tfjs-core'));
  if (options.forceRecompute) {
    modeNote = 'recompute mode requested: batch statistics are recomputed with tf.moments';
  } else if (!core) {
    modeNote = 'tfjs-core cannot be required here (ES-module build): batch statistics are recomputed with tf.moments';
  } else if (core.moments !== tf.moments) {
    modeNote = 'the tfjs-core this module sees is not the one tfjs uses: batch statistics are recomputed with tf.moments';
  } else {
    const origMoments = core.moments as (...a: unknown[]) => { mean: Tensor; variance: Tensor };
    const patchedMoments = function (this: unknown, ...args: unknown[]) {
      const r = origMoments.apply(this, args);
      const c = capturing;
      if (c !== null && c.mean === null) {
        capturing = null; // only the first moments of the call: the batch statistics
        c.mean = keepClone(r.mean);
        c.variance = keepClone(r.variance);
      }
      return r;
    };
    const undo = patchExport(core, 'moments', patchedMoments);
    if (undo) {
      restores.push(undo);
      mode = 'capture';
    } else {
      modeNote = "tfjs-core's moments export is not writable here: batch statistics are recomputed with tf.moments";
    }
  }

  // ---- per-layer bookkeeping ------------------------------------------------------------------
  const disposeRec = (r: Rec | null) => {
    if (!r) return;
    r.mean?.dispose();
    r.variance?.dispose();
    if (r.input) {
      lazyElements -= r.input.size;
      r.input.dispose();
    }
    r.mean = r.variance = r.input = null;
  };
  const disposeState = (st: LayerState) => {
    const recs = new Set([st.lastCall, st.lastTrainingCall]);
    for (const r of recs) disposeRec(r);
    st.lastCall = st.lastTrainingCall = null;
    for (const t of [st.baseMM, st.baseMV, st.initMMT, st.initMVT]) t?.dispose();
    st.baseMM = st.baseMV = st.initMMT = st.initMVT = null;
  };

  const register = (layer: BnLayer): LayerState | null => {
    let st = states.get(layer);
    if (st) return st;
    if (!layer.movingMean || !layer.movingVariance || varDisposed(layer.movingMean)) return null; // not built
    st = {
      layer,
      calls: 0,
      updates: 0,
      updatesWhileFrozen: 0,
      inferenceCalls: 0,
      batchOfOneShape: null,
      everUpdated: false,
      lastCall: null,
      lastTrainingCall: null,
      prevMM: null,
      prevMV: null,
      baseMM: null,
      baseMV: null,
      initMMT: keepClone(layer.movingMean.read()),
      initMVT: keepClone(layer.movingVariance.read()),
      initMM: null,
      initMV: null,
    };
    states.set(layer, st);
    return st;
  };

  const setRecord = (st: LayerState, rec: Rec) => {
    const olds = new Set([st.lastCall, st.lastTrainingCall]);
    st.lastCall = rec;
    if (rec.training) st.lastTrainingCall = rec;
    for (const o of olds) if (o && o !== st.lastCall && o !== st.lastTrainingCall) disposeRec(o);
  };

  /** exact tf.moments of the input over every axis but the channel axis */
  const computeMoments = (rec: Rec, x: Tensor) => {
    disposeRec(rec);
    const red: number[] = [];
    for (let i = 0; i < x.rank; i++) if (i !== rec.axis) red.push(i);
    tf.tidy(() => {
      const m = tf.moments(x, red);
      rec.mean = tf.keep(m.mean);
      rec.variance = tf.keep(m.variance);
    });
  };
  /**
   * The values of `x`, without a copy where the backend allows: the wasm backend's heap view (valid until the
   * next tfjs allocation: read it at once), else `dataSync()` (the cpu backend returns its own array, other
   * backends a copy). Never handed out: only reduced here.
   */
  const valuesOf = (x: Tensor): ArrayLike<number> => {
    const b = tf.backend() as unknown as WasmBackendLike;
    if (
      (x.dtype === 'float32' || x.dtype === 'int32') &&
      typeof b.typedArrayFromHeap === 'function' &&
      typeof b.dataIdMap?.has === 'function' &&
      b.dataIdMap.has(x.dataId)
    ) {
      const v = b.typedArrayFromHeap({ shape: x.shape, dtype: x.dtype, dataId: x.dataId });
      if (v.length === x.size) return v;
    }
    return x.dataSync() as ArrayLike<number>;
  };
  const useSimd = options.simd !== false;
  const reduceInput = (rec: Rec, x: Tensor) => {
    const m = (useSimd ? channelMomentsOnWasmHeap(tf, x, rec.axis) : null) ?? channelMoments(valuesOf(x), x.shape, rec.axis);
    rec.meanArr = m.mean;
    rec.varArr = m.variance;
  };

  /** the statistics of an input tfjs did not reduce itself: at read-back if the budget allows, else now */
  const statsOfInput = (rec: Rec, x: Tensor, kind: 'exact' | 'f64') => {
    disposeRec(rec);
    if (lazyElements + x.size <= lazyBudget) {
      rec.input = keepClone(x);
      rec.inputKind = kind;
      lazyElements += x.size;
    } else if (kind === 'exact') {
      computeMoments(rec, x);
    } else {
      reduceInput(rec, x);
    }
  };

  // ---- BatchNormalization.prototype.build / call ----------------------------------------------
  const undoBuild = patchMethod(BN.prototype, 'build', (orig) =>
    function (this: BnLayer, ...args: unknown[]) {
      const r = orig.apply(this, args);
      if (installed) register(this);
      return r;
    },
  );
  if (undoBuild) restores.push(undoBuild);

  const undoCall = patchMethod(BN.prototype, 'call', (orig) =>
    function (this: BnLayer, ...args: unknown[]) {
      const st = installed ? register(this) : null;
      const inputs = args[0];
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor | undefined;
      if (!st || !x || !Array.isArray(x.shape)) return orig.apply(this, args);
      const kwargs = args[1] as { training?: unknown } | null | undefined;
      const training = !!(kwargs && kwargs.training); // BN.call: training == null -> false
      const rank = x.shape.length;
      const axis = this.axis >= 0 ? this.axis : this.axis + rank;
      let reduced = 1;
      for (let i = 0; i < rank; i++) if (i !== axis) reduced *= x.shape[i];
      const frozen = !this.trainable;
      if (st.prevMM === null && st.baseMM === null) {
        // movingUpdated of the first snapshot compares with the values before the first call
        st.baseMM = keepClone(this.movingMean!.read());
        st.baseMV = keepClone(this.movingVariance!.read());
      }
      const rec: Rec = {
        training,
        inputShape: x.shape.slice() as number[],
        channels: x.shape[axis] as number,
        axis,
        mean: null,
        variance: null,
        input: null,
        inputKind: 'f64',
        meanArr: null,
        varArr: null,
      };
      const outer = capturing;
      capturing = training && mode === 'capture' ? rec : null;
      let out: unknown;
      try {
        out = orig.apply(this, args);
      } catch (e) {
        disposeRec(rec);
        throw e;
      } finally {
        capturing = outer;
      }
      // the records this call replaces go first: a replaced input no longer counts against the lazy budget
      setRecord(st, rec);
      try {
        if (training && mode === 'capture' && (rec.mean === null || rec.mean.size !== rec.channels)) {
          mode = 'recompute';
          modeNote = 'the moments wrapper did not see a training-mode BatchNormalization call: batch statistics are recomputed with tf.moments';
        }
        // training: recompute exactly (tf.moments) what the layer computed; inference: the input's statistics
        if (rec.mean === null || rec.mean.size !== rec.channels) statsOfInput(rec, x, training ? 'exact' : 'f64');
      } catch {
        disposeRec(rec); // statistics unavailable (odd input, NaN at read-back); the call itself went through
      }
      st.calls++;
      if (training) {
        st.updates++;
        st.everUpdated = true;
        if (frozen) st.updatesWhileFrozen++;
        if (reduced === 1) st.batchOfOneShape = rec.inputShape.slice();
      } else {
        st.inferenceCalls++;
      }
      return out;
    },
  );
  if (!undoCall) {
    for (const r of restores.reverse()) r();
    throw new Error('cannot wrap BatchNormalization.prototype.call');
  }
  restores.push(undoCall);

  // ---- models: remember the ones created or used ----------------------------------------------
  const noteModel = (m: unknown) => {
    if (installed && isContainer(m)) knownModels.set(m, ++useStamp);
  };
  const markInternal = (seq: unknown) => {
    const inner = (seq as ContainerLike | null)?.model;
    if (isSequential(seq) && isContainer(inner) && inner !== seq) internalModels.add(inner);
  };
  const wrapModelMethods = (proto: object, names: string[]) => {
    for (const name of names) {
      const undo = patchMethod(proto, name, (orig) =>
        function (this: unknown, ...args: unknown[]) {
          if (!internalModels.has(this as object)) noteModel(this);
          const r = orig.apply(this, args);
          if (name === 'build') markInternal(this);
          return r;
        },
      );
      if (undo) restores.push(undo);
    }
  };
  wrapModelMethods(LayersModel.prototype, MODEL_METHODS);
  const seqOwn = SEQUENTIAL_METHODS.filter((n) => Object.prototype.hasOwnProperty.call(Sequential.prototype, n));
  wrapModelMethods(Sequential.prototype, seqOwn);

  // factories (tf.model, tf.sequential), where the tfjs-layers exports object is writable
  const layersMod = tryRequire(() => require('@tensorflow/tfjs-layers'));
  const factoriesPatched: string[] = [];
  if (layersMod) {
    for (const name of ['model', 'sequential']) {
      const orig = layersMod[name] as ((...a: unknown[]) => unknown) | undefined;
      if (typeof orig !== 'function' || orig !== (tf as unknown as Record<string, unknown>)[name]) continue;
      const wrapped = function (this: unknown, ...args: unknown[]) {
        const m = orig.apply(this, args);
        noteModel(m);
        return m;
      };
      const undo = patchExport(layersMod, name, wrapped);
      if (undo) {
        restores.push(undo);
        factoriesPatched.push(name);
      }
    }
  }
  // deserialisation (tf.loadLayersModel, tf.models.modelFromJSON, nested models in a loaded one)
  for (const cls of ['Model', 'Functional', 'Sequential']) {
    const entry = classMap[cls];
    if (!Array.isArray(entry) || typeof entry[1] !== 'function') continue;
    const fromConfig = entry[1] as (...a: unknown[]) => unknown;
    const wrapped = [
      entry[0],
      function (this: unknown, ...args: unknown[]) {
        const m = fromConfig.apply(this, args);
        noteModel(m);
        return m;
      },
    ] as [unknown, unknown];
    classMap[cls] = wrapped;
    restores.push(() => {
      if (classMap[cls] === wrapped) classMap[cls] = entry;
    });
  }

  // ---- paths --------------------------------------------------------------------------------
  const containerDisposed = (c: ContainerLike) => c._refCount === 0;

  const computePaths = (): Map<object, string[]> => {
    for (const m of [...knownModels.keys()]) {
      if (containerDisposed(m)) knownModels.delete(m);
      else markInternal(m);
    }
    const parents = new Map<object, ContainerLike[]>();
    const visited = new Set<object>();
    const stack: ContainerLike[] = [...knownModels.keys()].filter((m) => !internalModels.has(m));
    while (stack.length) {
      const c = stack.pop()!;
      if (visited.has(c)) continue;
      visited.add(c);
      const ls = c.layers;
      if (!Array.isArray(ls)) continue;
      for (const l of ls) {
        if (typeof l !== 'object' || l === null || l === c || internalModels.has(l)) continue;
        if (isContainer(l) && containerDisposed(l)) continue;
        let p = parents.get(l);
        if (!p) parents.set(l, (p = []));
        if (!p.includes(c)) p.push(c);
        if (isContainer(l)) stack.push(l);
      }
    }
    interface Chain {
      names: string[];
      stamp: number;
      rootId: number;
    }
    const memo = new Map<object, Chain>();
    const chainOf = (node: ContainerLike, guard: Set<object>): Chain => {
      const hit = memo.get(node);
      if (hit) return hit;
      let best: Chain | null = null;
      guard.add(node);
      for (const p of parents.get(node) ?? []) {
        if (guard.has(p)) continue;
        const c = chainOf(p, guard);
        // the outermost model used most recently wins; then the one created first
        if (!best || c.stamp > best.stamp || (c.stamp === best.stamp && c.rootId < best.rootId)) best = c;
      }
      guard.delete(node);
      const res: Chain = best
        ? { names: [...best.names, node.name], stamp: best.stamp, rootId: best.rootId }
        : { names: [node.name], stamp: knownModels.get(node) ?? 0, rootId: node.id };
      memo.set(node, res);
      return res;
    };
    const out = new Map<object, string[]>();
    for (const layer of states.keys()) out.set(layer, chainOf(layer as unknown as ContainerLike, new Set()).names);
    return out;
  };

  // ---- snapshot -----------------------------------------------------------------------------
  const readVec = (v: LayerVar): Float32Array => copyF32(v.read().dataSync() as ArrayLike<number>);
  const readTensor = (t: Tensor): Float32Array => copyF32(t.dataSync() as ArrayLike<number>);

  const materialize = (r: Rec) => {
    if (r.meanArr) return;
    if (r.input) {
      const input = r.input;
      r.input = null;
      lazyElements -= input.size;
      try {
        if (r.inputKind === 'exact') computeMoments(r, input);
        else reduceInput(r, input);
      } catch {
        /* NaN-filled below */
      } finally {
        input.dispose();
      }
      if (r.meanArr) return;
    }
    if (r.mean && r.variance) {
      r.meanArr = readTensor(r.mean);
      r.varArr = readTensor(r.variance);
    } else {
      r.meanArr = new Float32Array(r.channels).fill(NaN);
      r.varArr = new Float32Array(r.channels).fill(NaN);
    }
    disposeRec(r);
  };
  const toCallRecord = (r: Rec | null): CallRecord | null => {
    if (!r) return null;
    materialize(r);
    return {
      training: r.training,
      statsUsed: r.training ? 'batch' : 'moving',
      inputShape: r.inputShape.slice(),
      batchMean: r.meanArr!.slice(),
      batchVariance: r.varArr!.slice(),
    };
  };

  const snapshotLayers = (): LayerSnapshot[] => {
    for (const [layer, st] of [...states]) {
      if (varDisposed(layer.movingMean) || varDisposed(layer.movingVariance)) {
        disposeState(st);
        states.delete(layer);
      }
    }
    const paths = computePaths();
    const ordered = [...states.values()].sort((a, b) => a.layer.id - b.layer.id);
    const out: LayerSnapshot[] = [];
    for (const st of ordered) {
      const layer = st.layer;
      let mm: Float32Array, mv: Float32Array;
      try {
        mm = readVec(layer.movingMean!);
        mv = readVec(layer.movingVariance!);
      } catch {
        continue; // disposed under our feet
      }
      const gamma = layer.gamma && !varDisposed(layer.gamma) ? readVec(layer.gamma) : null;
      const beta = layer.beta && !varDisposed(layer.beta) ? readVec(layer.beta) : null;
      if (st.initMMT && st.initMVT) {
        st.initMM = readTensor(st.initMMT);
        st.initMV = readTensor(st.initMVT);
      }
      st.initMMT?.dispose();
      st.initMVT?.dispose();
      st.initMMT = st.initMVT = null;

      let refMM = st.prevMM, refMV = st.prevMV;
      if (refMM === null || refMV === null) {
        refMM = st.baseMM ? readTensor(st.baseMM) : mm;
        refMV = st.baseMV ? readTensor(st.baseMV) : mv;
      }
      st.baseMM?.dispose();
      st.baseMV?.dispose();
      st.baseMM = st.baseMV = null;
      const movingUpdated = !sameValues(mm, refMM) || !sameValues(mv, refMV);
      const zeroOne = isZeroOne(mm, mv);
      const trainable = !!layer.trainable;

      const warnings = layerWarnings({
        layerName: layer.name,
        trainable,
        updates: st.updates,
        updatesWhileFrozen: st.updatesWhileFrozen,
        inferenceCalls: st.inferenceCalls,
        batchOfOneShape: st.batchOfOneShape,
        everUpdated: st.everUpdated,
        movingAtInitial: zeroOne || (sameValues(mm, st.initMM) && sameValues(mv, st.initMV)),
        movingIsZeroOne: zeroOne,
        momentum: layer.momentum,
        movingMean: mm,
        movingVariance: mv,
        gamma,
        beta,
      });

      out.push({
        name: layer.name,
        path: paths.get(layer) ?? [layer.name],
        axis: layer.axis,
        channels: mm.length,
        momentum: layer.momentum,
        epsilon: layer.epsilon,
        trainable,
        calls: st.calls,
        updates: st.updates,
        movingMean: mm,
        movingVariance: mv,
        gamma,
        beta,
        movingUpdated,
        lastCall: toCallRecord(st.lastCall),
        lastTrainingCall: toCallRecord(st.lastTrainingCall),
        warnings,
      });

      st.prevMM = mm.slice();
      st.prevMV = mv.slice();
      st.calls = st.updates = st.updatesWhileFrozen = st.inferenceCalls = 0;
      st.batchOfOneShape = null;
    }
    return out;
  };

  const keptTensors = (): number => {
    let n = 0;
    for (const st of states.values()) {
      for (const r of new Set([st.lastCall, st.lastTrainingCall]))
        if (r) n += (r.mean ? 1 : 0) + (r.variance ? 1 : 0) + (r.input ? 1 : 0);
      for (const t of [st.baseMM, st.baseMV, st.initMMT, st.initMVT]) if (t) n++;
    }
    return n;
  };

  return {
    snapshotLayers,
    keptTensors,
    captureMode: () => mode,
    captureNote: () => modeNote,
    uninstall() {
      if (!installed) return;
      installed = false;
      for (const r of restores.reverse()) r();
      restores.length = 0;
      for (const st of states.values()) disposeState(st);
      states.clear();
      knownModels.clear();
      capturing = null;
    },
  };
}
