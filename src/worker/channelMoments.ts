/**
 * Per-channel mean and biased variance of a BN call's input, for inference-mode calls (tfjs computed no batch
 * statistics there): float64 two-pass (the mean, then the mean of the squared deviations), rounded once to
 * float32, read where the data lies. On the wasm backend a small SIMD module reduces the tensor in the
 * backend's own heap; elsewhere plain JS. Used by bnInstrument.ts.
 */
import type * as tfType from '@tensorflow/tfjs';

type TF = typeof tfType;
type Tensor = tfType.Tensor;

/**
 * float64 two-pass mean and biased variance over every axis but `axis` of row-major `data`, rounded to float32
 * (the same sums as the float64 reference: the mean, then the mean of the squared deviations from it).
 * Channels last (the common case): blocks of rows small enough to stay in L1, a column at a time, in local
 * accumulators (four independent chains); many channels: four row streams of per-channel accumulators;
 * other axes: runs of `inner` consecutive values per channel.
 */
export function channelMoments(
  data: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
): { mean: Float32Array; variance: Float32Array } {
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
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  const t2 = 2 * stride,
    t3 = 3 * stride,
    t4 = 4 * stride;
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
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  const t2 = 2 * stride,
    t3 = 3 * stride,
    t4 = 4 * stride;
  let i = start;
  let left = count;
  for (; left >= 4; left -= 4, i += t4) {
    const d0 = x[i] - m,
      d1 = x[i + stride] - m,
      d2 = x[i + t2] - m,
      d3 = x[i + t3] - m;
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
  const C = cols,
    C2 = 2 * C,
    C3 = 3 * C,
    C4 = 4 * C;
  const a = new Float64Array(C4);
  let o = 0,
    r = 0;
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
        const d0 = x[o + k] - m,
          d1 = x[o + C + k] - m,
          d2 = x[o + C2 + k] - m,
          d3 = x[o + C3 + k] - m;
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
const I32 = 0x7f,
  F64 = 0x7c,
  V128 = 0x7b;

function simdBody(squares: boolean): number[] {
  const P = 0,
    ROWS = 1,
    STRIDE = 2;
  const L = squares ? 7 : 3; // first local after the parameters
  const A0 = L,
    A1 = L + 1,
    B0 = L + 2,
    B1 = L + 3,
    MA = L + 4,
    MB = L + 5,
    D = L + 6;
  // the f64x2 of two lanes at p + offset (sq4: their squared deviations from the mean pair `m`)
  const lanes = (offset: number, m: number): number[] => [
    ...op.get(P),
    ...op.load64Zero(offset),
    ...op.promoteLow,
    ...(squares ? [...op.get(m), ...op.f64x2Sub, ...op.tee(D), ...op.get(D), ...op.f64x2Mul] : []),
  ];
  const row = (a: number, b: number): number[] => [
    ...op.get(a),
    ...lanes(0, MA),
    ...op.f64x2Add,
    ...op.set(a),
    ...op.get(b),
    ...lanes(8, MB),
    ...op.f64x2Add,
    ...op.set(b),
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
  const exports = vec([
    [...name('sum4'), 0, 0],
    [...name('sq4'), 0, 1],
    ...[0, 1, 2, 3].map((i) => [...name(`g${i}`), 3, i]),
  ]);
  const code = vec([simdBody(false), simdBody(true)]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(6, globals),
    ...section(7, exports),
    ...section(10, code),
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
  wasm?: { asm?: { memory?: unknown }; HEAPU8?: Uint8Array };
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
  const memory = b.wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || memory.buffer !== b.wasm?.HEAPU8?.buffer) return null;
  if (typeof b.dataIdMap?.has !== 'function' || typeof b.dataIdMap.get !== 'function' || !b.dataIdMap.has(x.dataId))
    return null;
  const offset = b.dataIdMap.get(x.dataId)?.memoryOffset;
  if (typeof offset !== 'number' || offset % 4 !== 0 || offset + 4 * x.size > memory.buffer.byteLength) return null;
  const k = simdKernelFor(memory);
  return k ? channelMomentsSimd(k, offset, x.size / c, c) : null;
}
