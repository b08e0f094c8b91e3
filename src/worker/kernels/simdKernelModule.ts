/**
 * A WebAssembly SIMD module, assembled byte by byte here (no wasm toolchain in the build), whose functions work
 * on float32 tensors where they lie in the tfjs wasm backend's heap (it imports the backend's own memory), and
 * its instantiation per memory. Why hand-written: these loops have no XNNPACK operator that serves (XNNPACK has
 * no depthwise filter gradient: a depthwise conv with batch folded into channels and dy as a 32x32 filter runs
 * its grouped GEMM with one output column per group, measured ~7x slower than macRows; no comparison or select
 * operator; its MatMul packs the second operand afresh for every new tensor, and for the 1x1 filter gradient
 * xᵀ·dy that operand is pixels x channels: ~4x slower than outer4x8, measured on MobileNetV2's shapes; it has
 * no batch-norm operator (affine); its element-wise operators (add, sub, mul, relu, square, clip) exist but on
 * the threaded build wait on its thread pool, 4-8x slower on busy cores: wasmArithmetic.ts), and plain JS
 * cannot use SIMD.
 *
 *   (module
 *     (import "env" "memory" (memory 0))            ;; or (memory 0 65536 shared) for the threaded backend
 *     ;; macRows(acc, x, dy, n, xStep, dyStep, cBytes): for each group of 4 float32 lanes c < cBytes / 4,
 *     ;;   acc[c..c+3] += Σ_{j<n} x[j·xStep + c..] · dy[j·dyStep + c..]   (byte offsets and steps)
 *     ;; two accumulators (even and odd j) so the adds do not wait on each other; float32 sums.
 *     (func (export "macRows") (param i32 i32 i32 i32 i32 i32 i32) …)
 *     ;; colSums(acc, x, rows, cBytes): float64 acc[c] += Σ_r x[r·cBytes/4 + c], 4 lanes at a time
 *     ;;   (f64x2.promote_low_f32x4 of two 8-byte loads); acc is C float64 values, cBytes a multiple of 16
 *     (func (export "colSums") (param i32 i32 i32 i32) …)
 *     ;; geScalar / leScalar(out, x, n16, s): out[i] = x[i] >= s (<= s) as a 0/1 byte, for i < 16·n16
 *     ;;   (four f32x4 compares narrowed twice to 16 bytes, masked with 1)
 *     (func (export "geScalar") (param i32 i32 i32 f32) …)  (func (export "leScalar") …)
 *     ;; and8(out, a, b, n16): out[i] = a[i] & b[i], bytes, i < 16·n16
 *     (func (export "and8") (param i32 i32 i32 i32) …)
 *     ;; select(out, cond, t, e, n16): out[i] = cond[i] ? t[i] : e[i], float32 t, e, out, byte cond,
 *     ;;   i < 16·n16 (cond != 0 widened to four 32-bit masks, v128.bitselect)
 *     (func (export "select") (param i32 i32 i32 i32 i32) …)
 *     ;; outer4x8(acc, x, dy, rows, xStride, dyStride, accStride, cols8): 4 rows of C[Ci, Co] += Aᵀ·B over
 *     ;;   `rows` (the 1x1 conv filter gradient dW = xᵀ·dy, contracted over pixels, neither operand
 *     ;;   transposed): for each of cols8 blocks of 8 columns j, acc[i][j..j+8] += Σ_r x[r][i] · dy[r][j..j+8],
 *     ;;   i < 4 (byte strides); eight f32x4 accumulators in registers, x[r][i] by v128.load32_splat
 *     (func (export "outer4x8") (param i32 i32 i32 i32 i32 i32 i32 i32) …)
 *     ;; affine(out, x, rows, cBytes, p): out[r][c] = (x[r][c] - p[c]) · p[C + c] + p[2C + c] for every row r
 *     ;;   (BatchNormalization: p = mean | scale / sqrt(variance + ε) | offset, C = cBytes / 4, 4 lanes at a time)
 *     (func (export "affine") (param i32 i32 i32 i32 i32) …)
 *     ;; add / sub / mul(out, a, b, rows, cBytes, aStep, bStep): per row r, out[c] = a[c] op b[c] for c < cBytes/4,
 *     ;;   then out += cBytes, a += aStep, b += bStep (a step 0 repeats a per-channel vector): same shapes,
 *     ;;   channel vectors and splatted scalars alike
 *     (func (export "add") (param i32 i32 i32 i32 i32 i32 i32) …)  (func (export "sub") …)  (func (export "mul") …)
 *     ;; relu / square(out, x, n4, _): out[i] = max(x[i], 0) (NaN stays NaN) / x[i]·x[i], i < 4·n4
 *     (func (export "relu") (param i32 i32 i32 i32) …)  (func (export "square") …)
 *     ;; clip(out, x, n4, lo, hi): out[i] = min(max(x[i], lo), hi) (NaN stays NaN), i < 4·n4
 *     (func (export "clip") (param i32 i32 i32 f32 f32) …)
 *     ;; clipFromZero(out, x, n4, _, hi): clip with lo = +0 and hi > 0 by cheaper instructions, the same values
 *     (func (export "clipFromZero") (param i32 i32 i32 f32 f32) …)
 *     ;; gemm4x8(c, a, b, m4, k, n8, aLane, aK, bK, cRow, init, initRow): C[i][j..j+8] = I[i][j..j+8] +
 *     ;;   Σ_{kk<k} A(i, kk) · B[kk][j..j+8] for i < 4·m4, j < 8·n8 (dense layers' products with the weights read
 *     ;;   where they lie): A(i, kk) at a + i·aLane + kk·aK (either operand order: x row-major, or xᵀ, or W as the
 *     ;;   left operand), B's rows at b + kk·bK (8 contiguous floats per block), C's rows at c + i·cRow, the
 *     ;;   initial values I's rows at init + i·initRow (byte strides; initRow 0: one row for all, the bias or
 *     ;;   zeros, so C is written once and never read). Column blocks outermost (a K x 8 panel of B stays in L1
 *     ;;   across the row blocks), 4 x 8 accumulators in registers, A(i, kk) by v128.load32_splat
 *     (func (export "gemm4x8") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) …)
 *     ;; transpose4x4(dst, src, rows4, cols4, srcRow, dstRow): dst[c][r] = src[r][c] for r < 4·rows4, c < 4·cols4
 *     ;;   (byte row strides), 4 x 4 blocks: four loads, eight i8x16.shuffle, four stores
 *     (func (export "transpose4x4") (param i32 i32 i32 i32 i32 i32) …)
 *     ;; colSqDev(acc, x, m, rows, cBytes): float64 acc[c] += (x[r][c] − m[c])², difference and square in float32
 *     ;;   (tf.moments' variance as tfjs's Sub, Square and Mean kernels compute it, in one pass)
 *     (func (export "colSqDev") (param i32 i32 i32 i32 i32) …)
 *     ;; momentsGrad(out, x, m, g, rows, cBytes, acc): out[r][c] = g[c]·(d + d), d = x[r][c] − m[c] (float32), and
 *     ;;   float64 acc[c] += out[r][c] (the gradient of tf.moments' variance path and its sum, in one pass)
 *     (func (export "momentsGrad") (param i32 i32 i32 i32 i32 i32 i32) …)
 *     ;; colDyDev(accDy, accDyX, dy, x, m, rows, cBytes): float64 accDy[c] += dy[r][c], accDyX[c] += dy[r][c]·(x[r][c]
 *     ;;   − m[c]) (float32 difference and product): the FusedBatchNorm gradient's two sums in one pass
 *     (func (export "colDyDev") (param i32 i32 i32 i32 i32 i32 i32) …)
 *     ;; clipGrad(out, x, dy, n4, lo, hi): out[i] = lo <= x[i] <= hi ? dy[i] : +0 (ClipByValue's gradient, one pass)
 *     (func (export "clipGrad") (param i32 i32 i32 i32 f32 f32) …)
 *     ;; reluGrad(out, x, dy, n4, _): out[i] = dy[i]·step(x[i]) (step: 1 for x > 0, NaN for NaN, else +0)
 *     (func (export "reluGrad") (param i32 i32 i32 i32 i32) …)
 *     ;; relu6Grad(out, x, dy, n4, _, hi): out[i] = (x[i] <= hi ? dy[i] : +0)·step(x[i]) (ReLU(maxValue)'s gradient)
 *     (func (export "relu6Grad") (param i32 i32 i32 i32 f32 f32) …)
 *     ;; winoIn2 / winoIn4(dst, src, tiles, cq, rowBytes, xiBytes, tileRows), winoOut2 / winoOut4(y, yRow, mm, tiles,
 *     ;;   cq, xiBytes, bias): the input and output tile transforms of the Winograd convolutions F(2x2, 3x3) and
 *     ;;   F(4x4, 3x3) (simdWinograd.ts, simdWinogradF4.ts, winogradConv.ts); winoDy2 / winoDy4 (as winoIn): the transform A·dy·Aᵀ of a
 *     ;;   filter gradient's dy tiles (winogradFilterGrad.ts)
 *     ;; padChannels(dst, src, pixels, ciBytes, c4Bytes): pixels of ciBytes / 4 channels copied to c4Bytes / 4, zeros after
 *     (func (export "padChannels") (param i32 i32 i32 i32 i32) …)
 *     ;; band(dst, src, ih0, rows, H, rowBytes, plBytes, bandRowBytes): the Winograd loops' padded rows (simdCopies.ts)
 *     (func (export "band") (param i32 i32 i32 i32 i32 i32 i32 i32) …)
 *     (func (export "winoIn2") (param i32 i32 i32 i32 i32 i32 i32) …)  (func (export "winoOut2") …) …
 *     ;; bnDx(out, dy, x, rows, cBytes, p): out[r][c] = dy[r][c]·g[c] + (x[r][c] − m[c])·a[c] + b[c], p = m | g | a | b
 *     ;;   (C = cBytes / 4 floats each; float32, in that order): a BatchNormalization's whole input gradient
 *     (func (export "bnDx") (param i32 i32 i32 i32 i32 i32) …)
 *     ;; winoFilter2 / winoFilter4(dst, src, pairs, planeBytes): the Winograd filter transform U = G·g·Gᵀ of two
 *     ;;   filter cells at a time, in float64 (simdWinogradFilter.ts)
 *     (func (export "winoFilter2") (param i32 i32 i32 i32) …)  (func (export "winoFilter4") …)
 *   )
 * The callers do the last n mod 16 elements (and anything the functions do not cover) in JS.
 *
 * This file assembles that one binary (types, the memory import, the exports table), binds its exports and
 * instantiates it once per memory: ~400 lines as one unit, because the text above, the tables and the bindings name
 * the same functions in the same order and change together; the function bodies are in simdReductions.ts,
 * simdProducts.ts, simdElementwise.ts, simdWinograd*.ts and simdCopies.ts, their shared opcodes and loop helpers in
 * simdOps.ts (the assembler: ../wasmAssembler.ts).
 */

import { F32, I32, memoryImport, name, section, vec, wasmModule } from '../wasmAssembler';
import { backendMemory, instancePerMemory } from '../wasmHeapModule';
import {
  affineBody,
  and8Body,
  bnDxBody,
  binRowsBody,
  clipBody,
  clipFromZeroBody,
  clipGradBody,
  relu6GradBody,
  cmpScalarBody,
  reluGradBody,
  selectBody,
  unaryBody,
} from './simdElementwise';
import { op } from './simdOps';
import { gemm4x8Body, macRowsBody, outer4x8Body, transpose4x4Body } from './simdProducts';
import { colDyDevBody, colSqDevBody, colSumsBody, momentsGradBody } from './simdReductions';
import { bandBody, padChannelsBody } from './simdCopies';
import { F2x2_3x3, F4x4_3x3, winoDyBody, winoInBody, winoOutBody } from './simdWinograd';
import { winoIn4Body, winoOut4Body } from './simdWinogradF4';
import { winoFilter2Body, winoFilter4Body, type WinoFilter } from './simdWinogradFilter';

/**
 * the module's bytes; `shared`: import a shared memory (the threaded wasm backend); `fma`: the products (macRows,
 * outer4x8, gemm4x8) and the Winograd transforms' scaled terms by relaxed SIMD's fused multiply-add (simdProducts.ts,
 * simdWinograd.ts, simdWinogradF4.ts), for runtimes that have it
 */
export function simdKernelModuleBytes(shared: boolean, fma = false): Uint8Array<ArrayBuffer> {
  const sig = (...params: number[]): number[] => [0x60, ...vec(params.map((p) => [p])), ...vec([])];
  const types = vec([
    sig(I32, I32, I32, I32, I32, I32, I32), // 0 macRows
    sig(I32, I32, I32, I32), // 1 colSums, and8
    sig(I32, I32, I32, F32), // 2 geScalar, leScalar
    sig(I32, I32, I32, I32, I32), // 3 select, affine
    sig(I32, I32, I32, I32, I32, I32, I32, I32), // 4 outer4x8
    sig(I32, I32, I32, F32, F32), // 5 clip
    sig(I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32), // 6 gemm4x8
    sig(I32, I32, I32, I32, I32, I32), // 7 transpose4x4, bnDx
    sig(I32, I32, I32, I32, F32, F32), // 8 clipGrad
  ]);
  // colSqDev: type 3 (5 x i32); momentsGrad, colDyDev: type 0 (7 x i32); reluGrad: type 3 (its last i32 unused);
  // relu6Grad: type 8 (its f32 lo unused)
  const imports = memoryImport(shared);
  const funcs = vec([
    [0],
    [1],
    [2],
    [2],
    [1],
    [3],
    [4],
    [3],
    [0],
    [0],
    [0],
    [1],
    [1],
    [5],
    [6],
    [7],
    [3],
    [0],
    [0],
    [8],
    [3],
    [8],
    [7],
    [5],
    [0],
    [0],
    [0],
    [0],
    [0],
    [0],
    [3],
    [4],
    [1],
    [1],
  ]);
  const exports = vec(
    [
      'macRows',
      'colSums',
      'geScalar',
      'leScalar',
      'and8',
      'select',
      'outer4x8',
      'affine',
      'add',
      'sub',
      'mul',
      'relu',
      'square',
      'clip',
      'gemm4x8',
      'transpose4x4',
      'colSqDev',
      'momentsGrad',
      'colDyDev',
      'clipGrad',
      'reluGrad',
      'relu6Grad',
      'bnDx',
      'clipFromZero',
      'winoIn2',
      'winoOut2',
      'winoIn4',
      'winoOut4',
      'winoDy2',
      'winoDy4',
      'padChannels',
      'band',
      'winoFilter2',
      'winoFilter4',
    ].map((n, i) => [...name(n), 0, i]),
  );
  const code = vec([
    macRowsBody(fma),
    colSumsBody(),
    cmpScalarBody(op.f32x4Ge),
    cmpScalarBody(op.f32x4Le),
    and8Body(),
    selectBody(),
    outer4x8Body(fma),
    affineBody(),
    binRowsBody(op.f32x4Add),
    binRowsBody(op.f32x4Sub),
    binRowsBody(op.f32x4Mul),
    unaryBody(false),
    unaryBody(true),
    clipBody(),
    gemm4x8Body(fma),
    transpose4x4Body(),
    colSqDevBody(),
    momentsGradBody(),
    colDyDevBody(),
    clipGradBody(),
    reluGradBody(),
    relu6GradBody(),
    bnDxBody(),
    clipFromZeroBody(),
    winoInBody(F2x2_3x3, fma),
    winoOutBody(F2x2_3x3, fma),
    winoIn4Body(fma),
    winoOut4Body(fma),
    winoDyBody(F2x2_3x3, fma),
    winoDyBody(F4x4_3x3, fma),
    padChannelsBody(),
    bandBody(),
    winoFilter2Body(),
    winoFilter4Body(),
  ]);
  return wasmModule(section(1, types), section(2, imports), section(3, funcs), section(7, exports), section(10, code));
}

export interface SimdKernels {
  /** see the module text above; all offsets and steps in bytes */
  macRows(acc: number, x: number, dy: number, n: number, xStep: number, dyStep: number, cBytes: number): void;
  colSums(acc: number, x: number, rows: number, cBytes: number): void;
  geScalar(out: number, x: number, n16: number, s: number): void;
  leScalar(out: number, x: number, n16: number, s: number): void;
  and8(out: number, a: number, b: number, n16: number): void;
  select(out: number, cond: number, t: number, e: number, n16: number): void;
  outer4x8(
    acc: number,
    x: number,
    dy: number,
    rows: number,
    xStride: number,
    dyStride: number,
    accStride: number,
    cols8: number,
  ): void;
  affine(out: number, x: number, rows: number, cBytes: number, p: number): void;
  add: BinRows;
  sub: BinRows;
  mul: BinRows;
  relu(out: number, x: number, n4: number, unused: number): void;
  square(out: number, x: number, n4: number, unused: number): void;
  clip(out: number, x: number, n4: number, lo: number, hi: number): void;
  gemm4x8(
    c: number,
    a: number,
    b: number,
    m4: number,
    k: number,
    n8: number,
    aLane: number,
    aK: number,
    bK: number,
    cRow: number,
    init: number,
    initRow: number,
  ): void;
  transpose4x4(dst: number, src: number, rows4: number, cols4: number, srcRow: number, dstRow: number): void;
  colSqDev(acc: number, x: number, m: number, rows: number, cBytes: number): void;
  momentsGrad(out: number, x: number, m: number, g: number, rows: number, cBytes: number, acc: number): void;
  colDyDev(accDy: number, accDyX: number, dy: number, x: number, m: number, rows: number, cBytes: number): void;
  clipGrad(out: number, x: number, dy: number, n4: number, lo: number, hi: number): void;
  reluGrad(out: number, x: number, dy: number, n4: number, unused: number): void;
  relu6Grad(out: number, x: number, dy: number, n4: number, unused: number, hi: number): void;
  bnDx(out: number, dy: number, x: number, rows: number, cBytes: number, p: number): void;
  winoIn2: WinoIn;
  winoOut2: WinoOut;
  winoIn4: WinoIn;
  winoOut4: WinoOut;
  winoDy2: WinoIn;
  winoDy4: WinoIn;
  /** the filter transforms U = G·g·Gᵀ in float64 (simdWinogradFilter.ts) */
  winoFilter2: WinoFilter;
  winoFilter4: WinoFilter;
  padChannels(dst: number, src: number, pixels: number, ciBytes: number, c4Bytes: number): void;
  band(
    dst: number,
    src: number,
    ih0: number,
    rows: number,
    H: number,
    rowBytes: number,
    plBytes: number,
    bandRowBytes: number,
  ): void;
}
/** the Winograd transforms (simdWinograd.ts): F(2x2, 3x3) (…2) and F(4x4, 3x3) (…4) */
export type WinoIn = (
  dst: number,
  src: number,
  tiles: number,
  cq: number,
  rowBytes: number,
  xiBytes: number,
  tileRows: number,
) => void;
export type WinoOut = (
  y: number,
  yRow: number,
  mm: number,
  tiles: number,
  cq: number,
  xiBytes: number,
  bias: number,
) => void;
export type BinRows = (
  out: number,
  a: number,
  b: number,
  rows: number,
  cBytes: number,
  aStep: number,
  bStep: number,
) => void;

/** clip by clipFromZero where lo is +0 and hi > 0, else by the general body */
function clipOf(general: SimdKernels['clip'], fromZero: SimdKernels['clip']): SimdKernels['clip'] {
  return (out, x, n4, lo, hi) =>
    lo === 0 && !Object.is(lo, -0) && hi > 0 ? fromZero(out, x, n4, 0, hi) : general(out, x, n4, lo, hi);
}

/** the kernels bound to `memory`, or null where WebAssembly SIMD is unavailable */
export const simdKernelsFor = instancePerMemory('kernels', simdKernelModuleBytes, { fma: true }, (e): SimdKernels => ({
  macRows: e.macRows as SimdKernels['macRows'],
  colSums: e.colSums as SimdKernels['colSums'],
  geScalar: e.geScalar as SimdKernels['geScalar'],
  leScalar: e.leScalar as SimdKernels['leScalar'],
  and8: e.and8 as SimdKernels['and8'],
  select: e.select as SimdKernels['select'],
  outer4x8: e.outer4x8 as SimdKernels['outer4x8'],
  affine: e.affine as SimdKernels['affine'],
  add: e.add as BinRows,
  sub: e.sub as BinRows,
  mul: e.mul as BinRows,
  relu: e.relu as SimdKernels['relu'],
  square: e.square as SimdKernels['square'],
  // lo = +0 (ReLU6, clipByValue(0, hi)): the cheaper body, the same values (simdElementwise.ts, clipFromZeroBody)
  clip: clipOf(e.clip as SimdKernels['clip'], e.clipFromZero as SimdKernels['clip']),
  gemm4x8: e.gemm4x8 as SimdKernels['gemm4x8'],
  transpose4x4: e.transpose4x4 as SimdKernels['transpose4x4'],
  colSqDev: e.colSqDev as SimdKernels['colSqDev'],
  momentsGrad: e.momentsGrad as SimdKernels['momentsGrad'],
  colDyDev: e.colDyDev as SimdKernels['colDyDev'],
  clipGrad: e.clipGrad as SimdKernels['clipGrad'],
  reluGrad: e.reluGrad as SimdKernels['reluGrad'],
  relu6Grad: e.relu6Grad as SimdKernels['relu6Grad'],
  bnDx: e.bnDx as SimdKernels['bnDx'],
  winoIn2: e.winoIn2 as WinoIn,
  winoOut2: e.winoOut2 as WinoOut,
  winoIn4: e.winoIn4 as WinoIn,
  winoOut4: e.winoOut4 as WinoOut,
  winoDy2: e.winoDy2 as WinoIn,
  winoDy4: e.winoDy4 as WinoIn,
  winoFilter2: e.winoFilter2 as WinoFilter,
  winoFilter4: e.winoFilter4 as WinoFilter,
  padChannels: e.padChannels as SimdKernels['padChannels'],
  band: e.band as SimdKernels['band'],
}));

/** whether the engine's SIMD kernels run on this backend (the wasm backend, with WebAssembly SIMD) */
export function simdAvailable(backend: unknown): boolean {
  const memory = backendMemory(backend);
  return memory !== null && simdKernelsFor(memory) !== null;
}

export { backendMemory };
