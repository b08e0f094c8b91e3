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
 *   )
 * The callers do the last n mod 16 elements (and anything the functions do not cover) in JS.
 *
 * One unit (over 250 lines, most of it byte lists): one WebAssembly binary, compiled and instantiated once per
 * memory; its functions share the import of the memory and the exports table (the assembler: ../wasmAssembler.ts).
 */

import { F32, I32, SIMD, V128, memoryImport, name, ops, section, uleb, vec, wasmModule } from '../wasmAssembler';
import { backendMemory, instancePerMemory } from '../wasmHeapModule';

const op = {
  ...ops,
  load: [SIMD, 0x00, 2, 0], // v128.load align=4 offset=0
  loadAt: (offset: number) => [SIMD, 0x00, 0, ...uleb(offset)], // v128.load align=1
  storeAt: (offset: number) => [SIMD, 0x0b, 0, ...uleb(offset)], // v128.store align=1
  load64ZeroAt: (offset: number) => [SIMD, 0x5d, 0, ...uleb(offset)], // v128.load64_zero align=1
  store64Lane0At: (offset: number) => [SIMD, 0x5b, 0, ...uleb(offset), 0], // v128.store64_lane align=1 lane 0
  f32x4Splat: [SIMD, 0x13],
  i8x16Splat: [SIMD, 0x0f],
  f32x4Ge: [SIMD, 0x46],
  f32x4Le: [SIMD, 0x45],
  f32x4Gt: [SIMD, 0x44],
  f32x4Ne: [SIMD, 0x42],
  i16x8NarrowS: [SIMD, 0x85, 0x01], // i16x8.narrow_i32x4_s
  i8x16NarrowS: [SIMD, 0x65], // i8x16.narrow_i16x8_s
  and: [SIMD, 0x4e],
  i8x16Ne: [SIMD, 0x24],
  i16x8ExtLowS: [SIMD, 0x87, 0x01], // i16x8.extend_low_i8x16_s
  i16x8ExtHighS: [SIMD, 0x88, 0x01],
  i32x4ExtLowS: [SIMD, 0xa7, 0x01], // i32x4.extend_low_i16x8_s
  i32x4ExtHighS: [SIMD, 0xa8, 0x01],
  bitselect: [SIMD, 0x52],
  load32SplatAt: (offset: number) => [SIMD, 0x09, 0, ...uleb(offset)], // v128.load32_splat align=1
  f32: (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  store: [SIMD, 0x0b, 2, 0], // v128.store align=4 offset=0
  zero: [SIMD, 0x0c, ...new Array<number>(16).fill(0)], // v128.const 0
  f32x4Add: [SIMD, 0xe4, 0x01],
  f32x4Mul: [SIMD, 0xe6, 0x01],
  f32x4Sub: [SIMD, 0xe5, 0x01],
  f32x4Max: [SIMD, 0xe9, 0x01], // NaN-propagating
  f32x4Min: [SIMD, 0xe8, 0x01],
};

/** body of macRows */
function macRowsBody(): number[] {
  const ACC = 0,
    X = 1,
    DY = 2,
    N = 3,
    XS = 4,
    DS = 5,
    CB = 6;
  const C = 7,
    PX = 8,
    PD = 9,
    J = 10,
    A0 = 11,
    A1 = 12;
  const mac = (a: number, xOff: number[], dOff: number[]): number[] => [
    ...op.get(a),
    ...op.get(PX),
    ...xOff,
    ...op.load,
    ...op.get(PD),
    ...dOff,
    ...op.load,
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...op.set(a),
  ];
  const code: number[] = [];
  // c = 0; loop while c < cBytes
  code.push(...op.i32(0), ...op.set(C));
  code.push(...op.block, ...op.loop);
  code.push(...op.get(C), ...op.get(CB), ...op.i32GeS, ...op.brIf(1));
  code.push(...op.get(ACC), ...op.get(C), ...op.i32Add, ...op.load, ...op.set(A0));
  code.push(...op.zero, ...op.set(A1));
  code.push(...op.get(X), ...op.get(C), ...op.i32Add, ...op.set(PX));
  code.push(...op.get(DY), ...op.get(C), ...op.i32Add, ...op.set(PD));
  code.push(...op.get(N), ...op.set(J));
  // two rows per iteration
  code.push(...op.block, ...op.loop);
  code.push(...op.get(J), ...op.i32(2), ...op.i32LtS, ...op.brIf(1));
  code.push(...mac(A0, [], []));
  code.push(...mac(A1, [...op.get(XS), ...op.i32Add], [...op.get(DS), ...op.i32Add]));
  code.push(...op.get(PX), ...op.get(XS), ...op.i32Add, ...op.get(XS), ...op.i32Add, ...op.set(PX));
  code.push(...op.get(PD), ...op.get(DS), ...op.i32Add, ...op.get(DS), ...op.i32Add, ...op.set(PD));
  code.push(...op.get(J), ...op.i32(2), ...op.i32Sub, ...op.set(J));
  code.push(...op.br(0), ...op.end, ...op.end);
  // an odd last row
  code.push(...op.get(J), ...op.if, ...mac(A0, [], []), ...op.end);
  // acc[c..] = a0 + a1
  code.push(...op.get(ACC), ...op.get(C), ...op.i32Add, ...op.get(A0), ...op.get(A1), ...op.f32x4Add, ...op.store);
  code.push(...op.get(C), ...op.i32(16), ...op.i32Add, ...op.set(C));
  code.push(...op.br(0), ...op.end, ...op.end);
  code.push(...op.end);
  const body = [
    ...vec([
      [...uleb(4), I32],
      [...uleb(2), V128],
    ]),
    ...code,
  ];
  return [...uleb(body.length), ...body];
}

/** wraps a body: locals (count, type) pairs, then code */
function fn(locals: Array<[number, number]>, code: number[]): number[] {
  const body = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code, ...op.end];
  return [...uleb(body.length), ...body];
}

/** `loop while counter != 0 { body; counter -= 1 }` (the counter is a local) */
function countDown(counter: number, body: number[]): number[] {
  return [
    ...op.block,
    ...op.loop,
    ...op.get(counter),
    ...op.i32Eqz,
    ...op.brIf(1),
    ...body,
    ...op.get(counter),
    ...op.i32(1),
    ...op.i32Sub,
    ...op.set(counter),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}
const addTo = (local: number, n: number): number[] => [...op.get(local), ...op.i32(n), ...op.i32Add, ...op.set(local)];
/** local `to` += local `by` (i32) */
const addTo2 = (to: number, by: number): number[] => [...op.get(to), ...op.get(by), ...op.i32Add, ...op.set(to)];
/** local `to` = local `x` + local `y` (i32) */
const add = (x: number, y: number, to: number): number[] => [...op.get(x), ...op.get(y), ...op.i32Add, ...op.set(to)];

/** colSums(acc, x, rows, cBytes) */
function colSumsBody(): number[] {
  const ACC = 0,
    X = 1,
    ROWS = 2,
    CB = 3;
  const C = 4,
    PA = 5;
  // one row: for c in [0, cBytes) step 16: acc(f64)[c/4 ..] += promote(x[c..c+8]), promote(x[c+8..c+16])
  const row = [
    ...op.i32(0),
    ...op.set(C),
    ...op.get(ACC),
    ...op.set(PA),
    ...op.block,
    ...op.loop,
    ...op.get(C),
    ...op.get(CB),
    ...op.i32GeS,
    ...op.brIf(1),
    // acc lanes 0-1
    ...op.get(PA),
    ...op.get(PA),
    ...op.loadAt(0),
    ...op.get(X),
    ...op.get(C),
    ...op.i32Add,
    ...op.load64ZeroAt(0),
    ...op.promoteLow,
    ...op.f64x2Add,
    ...op.storeAt(0),
    // acc lanes 2-3
    ...op.get(PA),
    ...op.get(PA),
    ...op.loadAt(16),
    ...op.get(X),
    ...op.get(C),
    ...op.i32Add,
    ...op.load64ZeroAt(8),
    ...op.promoteLow,
    ...op.f64x2Add,
    ...op.storeAt(16),
    ...addTo(C, 16),
    ...addTo(PA, 32),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...op.get(X),
    ...op.get(CB),
    ...op.i32Add,
    ...op.set(X),
  ];
  return fn([[2, I32]], countDown(ROWS, row));
}

/**
 * colSqDev(acc, x, m, rows, cBytes): float64 acc[c] += promote((x[r][c] − m[c])²), the subtraction and the square in
 * float32 (as tfjs's Sub and Square kernels round them), two lanes at a time as colSums does
 */
function colSqDevBody(): number[] {
  const ACC = 0,
    X = 1,
    M = 2,
    ROWS = 3,
    CB = 4;
  const C = 5,
    PA = 6,
    D = 7;
  const half = (h: number): number[] => [
    ...op.get(PA),
    ...op.get(PA),
    ...op.loadAt(2 * h),
    ...op.get(X),
    ...op.get(C),
    ...op.i32Add,
    ...op.load64ZeroAt(h),
    ...op.get(M),
    ...op.get(C),
    ...op.i32Add,
    ...op.load64ZeroAt(h),
    ...op.f32x4Sub,
    ...op.tee(D),
    ...op.get(D),
    ...op.f32x4Mul,
    ...op.promoteLow,
    ...op.f64x2Add,
    ...op.storeAt(2 * h),
  ];
  const row = [
    ...op.i32(0),
    ...op.set(C),
    ...op.get(ACC),
    ...op.set(PA),
    ...op.block,
    ...op.loop,
    ...op.get(C),
    ...op.get(CB),
    ...op.i32GeS,
    ...op.brIf(1),
    ...half(0),
    ...half(8),
    ...addTo(C, 16),
    ...addTo(PA, 32),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...addTo2(X, CB),
  ];
  return fn(
    [
      [2, I32],
      [1, V128],
    ],
    countDown(ROWS, row),
  );
}

/**
 * momentsGrad(out, x, m, g, rows, cBytes, acc): out[r][c] = g[c] · (d + d) with d = x[r][c] − m[c] (float32, as
 * tfjs's Square gradient rounds dy · 2d), and float64 acc[c] += promote(out[r][c]) (the Sum of it tfjs takes next)
 */
function momentsGradBody(): number[] {
  const OUT = 0,
    X = 1,
    M = 2,
    G = 3,
    ROWS = 4,
    CB = 5,
    ACC = 6;
  const C = 7,
    PA = 8,
    V = 9;
  const at = (base: number, h: number): number[] => [
    ...op.get(base),
    ...op.get(C),
    ...op.i32Add,
    ...op.load64ZeroAt(h),
  ];
  const half = (h: number): number[] => [
    ...at(G, h),
    ...at(X, h),
    ...at(M, h),
    ...op.f32x4Sub,
    ...op.tee(V),
    ...op.get(V),
    ...op.f32x4Add,
    ...op.f32x4Mul,
    ...op.set(V),
    ...op.get(OUT),
    ...op.get(C),
    ...op.i32Add,
    ...op.get(V),
    ...op.store64Lane0At(h),
    ...op.get(PA),
    ...op.get(PA),
    ...op.loadAt(2 * h),
    ...op.get(V),
    ...op.promoteLow,
    ...op.f64x2Add,
    ...op.storeAt(2 * h),
  ];
  const row = [
    ...op.i32(0),
    ...op.set(C),
    ...op.get(ACC),
    ...op.set(PA),
    ...op.block,
    ...op.loop,
    ...op.get(C),
    ...op.get(CB),
    ...op.i32GeS,
    ...op.brIf(1),
    ...half(0),
    ...half(8),
    ...addTo(C, 16),
    ...addTo(PA, 32),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...addTo2(X, CB),
    ...addTo2(OUT, CB),
  ];
  return fn(
    [
      [2, I32],
      [1, V128],
    ],
    countDown(ROWS, row),
  );
}

/**
 * colDyDev(accDy, accDyX, dy, x, m, rows, cBytes): float64 accDy[c] += dy[r][c] and accDyX[c] += dy[r][c]·(x[r][c] −
 * m[c]) (difference and product in float32, as tfjs's Sub and Multiply round them): the two sums of the
 * FusedBatchNorm gradient in one pass
 */
function colDyDevBody(): number[] {
  const AD = 0,
    AX = 1,
    DY = 2,
    X = 3,
    M = 4,
    ROWS = 5,
    CB = 6;
  const C = 7,
    PD = 8,
    PX = 9,
    V = 10;
  const at = (base: number, h: number): number[] => [
    ...op.get(base),
    ...op.get(C),
    ...op.i32Add,
    ...op.load64ZeroAt(h),
  ];
  const accumulate = (ptr: number, h: number, value: number[]): number[] => [
    ...op.get(ptr),
    ...op.get(ptr),
    ...op.loadAt(2 * h),
    ...value,
    ...op.promoteLow,
    ...op.f64x2Add,
    ...op.storeAt(2 * h),
  ];
  const half = (h: number): number[] => [
    ...at(DY, h),
    ...op.set(V),
    ...accumulate(PD, h, op.get(V)),
    ...accumulate(PX, h, [...op.get(V), ...at(X, h), ...at(M, h), ...op.f32x4Sub, ...op.f32x4Mul]),
  ];
  const row = [
    ...op.i32(0),
    ...op.set(C),
    ...op.get(AD),
    ...op.set(PD),
    ...op.get(AX),
    ...op.set(PX),
    ...op.block,
    ...op.loop,
    ...op.get(C),
    ...op.get(CB),
    ...op.i32GeS,
    ...op.brIf(1),
    ...half(0),
    ...half(8),
    ...addTo(C, 16),
    ...addTo(PD, 32),
    ...addTo(PX, 32),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...addTo2(X, CB),
    ...addTo2(DY, CB),
  ];
  return fn(
    [
      [3, I32],
      [1, V128],
    ],
    countDown(ROWS, row),
  );
}

/** geScalar / leScalar(out, x, n16, s) */
function cmpScalarBody(cmp: number[]): number[] {
  const OUT = 0,
    X = 1,
    N = 2,
    S = 3;
  const SV = 4,
    ONE = 5;
  const lanes = (offset: number): number[] => [...op.get(X), ...op.loadAt(offset), ...op.get(SV), ...cmp];
  const body = [
    ...op.get(OUT),
    ...lanes(0),
    ...lanes(16),
    ...op.i16x8NarrowS,
    ...lanes(32),
    ...lanes(48),
    ...op.i16x8NarrowS,
    ...op.i8x16NarrowS,
    ...op.get(ONE),
    ...op.and,
    ...op.storeAt(0),
    ...addTo(OUT, 16),
    ...addTo(X, 64),
  ];
  const init = [...op.get(S), ...op.f32x4Splat, ...op.set(SV), ...op.i32(1), ...op.i8x16Splat, ...op.set(ONE)];
  return fn([[2, V128]], [...init, ...countDown(N, body)]);
}

/** and8(out, a, b, n16) */
function and8Body(): number[] {
  const OUT = 0,
    A = 1,
    B = 2,
    N = 3;
  const body = [
    ...op.get(OUT),
    ...op.get(A),
    ...op.loadAt(0),
    ...op.get(B),
    ...op.loadAt(0),
    ...op.and,
    ...op.storeAt(0),
    ...addTo(OUT, 16),
    ...addTo(A, 16),
    ...addTo(B, 16),
  ];
  return fn([], countDown(N, body));
}

/** select(out, cond, t, e, n16) */
function selectBody(): number[] {
  const OUT = 0,
    COND = 1,
    T = 2,
    E = 3,
    N = 4;
  const M8 = 5,
    M16 = 6,
    ZERO = 7;
  const pick = (offset: number, mask: number[]): number[] => [
    ...op.get(OUT),
    ...op.get(T),
    ...op.loadAt(offset),
    ...op.get(E),
    ...op.loadAt(offset),
    ...mask,
    ...op.bitselect,
    ...op.storeAt(offset),
  ];
  const body = [
    // m8 = cond != 0 (0xff / 0x00 bytes)
    ...op.get(COND),
    ...op.loadAt(0),
    ...op.get(ZERO),
    ...op.i8x16Ne,
    ...op.set(M8),
    ...op.get(M8),
    ...op.i16x8ExtLowS,
    ...op.set(M16),
    ...pick(0, [...op.get(M16), ...op.i32x4ExtLowS]),
    ...pick(16, [...op.get(M16), ...op.i32x4ExtHighS]),
    ...op.get(M8),
    ...op.i16x8ExtHighS,
    ...op.set(M16),
    ...pick(32, [...op.get(M16), ...op.i32x4ExtLowS]),
    ...pick(48, [...op.get(M16), ...op.i32x4ExtHighS]),
    ...addTo(OUT, 64),
    ...addTo(COND, 16),
    ...addTo(T, 64),
    ...addTo(E, 64),
  ];
  return fn([[3, V128]], [...op.zero, ...op.set(ZERO), ...countDown(N, body)]);
}

/** outer4x8(acc, x, dy, rows, xStride, dyStride, accStride, cols8) */
function outer4x8Body(): number[] {
  const ACC = 0,
    X = 1,
    DY = 2,
    ROWS = 3,
    XS = 4,
    DS = 5,
    AS = 6,
    COLS = 7;
  const P = 8,
    R = 9,
    XP = 10,
    DP = 11;
  const A = [12, 13, 14, 15, 16, 17, 18, 19];
  const D0 = 20,
    D1 = 21,
    S = 22;
  // the 4 x 2 accumulators: row i at acc + i·accStride
  const accRows = (each: (i: number) => number[]): number[] => {
    const c: number[] = [...op.get(ACC), ...op.set(P)];
    for (let i = 0; i < 4; i++) {
      if (i > 0) c.push(...op.get(P), ...op.get(AS), ...op.i32Add, ...op.set(P));
      c.push(...each(i));
    }
    return c;
  };
  const load = accRows((i) => [
    ...op.get(P),
    ...op.loadAt(0),
    ...op.set(A[2 * i]),
    ...op.get(P),
    ...op.loadAt(16),
    ...op.set(A[2 * i + 1]),
  ]);
  const store = accRows((i) => [
    ...op.get(P),
    ...op.get(A[2 * i]),
    ...op.storeAt(0),
    ...op.get(P),
    ...op.get(A[2 * i + 1]),
    ...op.storeAt(16),
  ]);
  const fma = (a: number, d: number): number[] => [
    ...op.get(a),
    ...op.get(S),
    ...op.get(d),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...op.set(a),
  ];
  const row: number[] = [...op.get(DP), ...op.loadAt(0), ...op.set(D0), ...op.get(DP), ...op.loadAt(16), ...op.set(D1)];
  for (let i = 0; i < 4; i++)
    row.push(...op.get(XP), ...op.load32SplatAt(4 * i), ...op.set(S), ...fma(A[2 * i], D0), ...fma(A[2 * i + 1], D1));
  row.push(...op.get(XP), ...op.get(XS), ...op.i32Add, ...op.set(XP));
  row.push(...op.get(DP), ...op.get(DS), ...op.i32Add, ...op.set(DP));
  const column = [
    ...load,
    ...op.get(X),
    ...op.set(XP),
    ...op.get(DY),
    ...op.set(DP),
    ...op.get(ROWS),
    ...op.set(R),
    ...countDown(R, row),
    ...store,
    ...addTo(ACC, 32),
    ...addTo(DY, 32),
  ];
  return fn(
    [
      [4, I32],
      [11, V128],
    ],
    countDown(COLS, column),
  );
}

/** gemm4x8(c, a, b, m4, k, n8, aLane, aK, bK, cRow, init, initRow) */
function gemm4x8Body(): number[] {
  const C = 0,
    A = 1,
    B = 2,
    M4 = 3,
    K = 4,
    N8 = 5,
    AL = 6,
    AK = 7,
    BK = 8,
    CR = 9,
    INIT = 10,
    IR = 11;
  const J = 12,
    I = 13,
    KK = 14,
    CJ = 15,
    BJ = 16,
    IJ = 17,
    AI = 18,
    CI = 19,
    II = 20,
    AP = 21,
    BP = 22,
    P = 23,
    AL2 = 24,
    AL3 = 25,
    AL4 = 26,
    CR4 = 27,
    IR4 = 28;
  const ACC = [29, 30, 31, 32, 33, 34, 35, 36];
  const D0 = 37,
    D1 = 38,
    S = 39;
  // the 4 x 2 accumulators: row i at base + i·stride (C's rows, or the initial values' rows)
  const accRows = (base: number, stride: number, each: (i: number) => number[]): number[] => {
    const c: number[] = [...op.get(base), ...op.set(P)];
    for (let i = 0; i < 4; i++) {
      if (i > 0) c.push(...add(P, stride, P));
      c.push(...each(i));
    }
    return c;
  };
  const load = accRows(II, IR, (i) => [
    ...op.get(P),
    ...op.loadAt(0),
    ...op.set(ACC[2 * i]),
    ...op.get(P),
    ...op.loadAt(16),
    ...op.set(ACC[2 * i + 1]),
  ]);
  const store = accRows(CI, CR, (i) => [
    ...op.get(P),
    ...op.get(ACC[2 * i]),
    ...op.storeAt(0),
    ...op.get(P),
    ...op.get(ACC[2 * i + 1]),
    ...op.storeAt(16),
  ]);
  const fma = (a: number, d: number): number[] => [
    ...op.get(a),
    ...op.get(S),
    ...op.get(d),
    ...op.f32x4Mul,
    ...op.f32x4Add,
    ...op.set(a),
  ];
  const step: number[] = [
    ...op.get(BP),
    ...op.loadAt(0),
    ...op.set(D0),
    ...op.get(BP),
    ...op.loadAt(16),
    ...op.set(D1),
  ];
  for (let i = 0; i < 4; i++) {
    step.push(...op.get(AP));
    if (i > 0) step.push(...op.get([AL, AL, AL2, AL3][i]), ...op.i32Add);
    step.push(...op.load32SplatAt(0), ...op.set(S), ...fma(ACC[2 * i], D0), ...fma(ACC[2 * i + 1], D1));
  }
  step.push(...add(AP, AK, AP), ...add(BP, BK, BP));
  const block = [
    ...load,
    ...op.get(AI),
    ...op.set(AP),
    ...op.get(BJ),
    ...op.set(BP),
    ...op.get(K),
    ...op.set(KK),
    ...countDown(KK, step),
    ...store,
    ...add(AI, AL4, AI),
    ...add(CI, CR4, CI),
    ...add(II, IR4, II),
  ];
  const column = [
    ...op.get(A),
    ...op.set(AI),
    ...op.get(CJ),
    ...op.set(CI),
    ...op.get(IJ),
    ...op.set(II),
    ...op.get(M4),
    ...op.set(I),
    ...countDown(I, block),
    ...addTo(CJ, 32),
    ...addTo(BJ, 32),
    ...addTo(IJ, 32),
  ];
  const init = [
    ...add(AL, AL, AL2),
    ...add(AL2, AL, AL3),
    ...add(AL2, AL2, AL4),
    ...add(CR, CR, CR4),
    ...add(CR4, CR4, CR4),
    ...add(IR, IR, IR4),
    ...add(IR4, IR4, IR4),
    ...op.get(C),
    ...op.set(CJ),
    ...op.get(B),
    ...op.set(BJ),
    ...op.get(INIT),
    ...op.set(IJ),
    ...op.get(N8),
    ...op.set(J),
  ];
  return fn(
    [
      [17, I32],
      [11, V128],
    ],
    [...init, ...countDown(J, column)],
  );
}

/** transpose4x4(dst, src, rows4, cols4, srcRow, dstRow) */
function transpose4x4Body(): number[] {
  const DST = 0,
    SRC = 1,
    R4 = 2,
    C4 = 3,
    SR = 4,
    DR = 5;
  const R = 6,
    C = 7,
    SB = 8,
    DB = 9,
    SP = 10,
    DP = 11,
    SR2 = 12,
    SR3 = 13,
    SR4 = 14,
    DR2 = 15,
    DR3 = 16,
    DR4 = 17;
  const V = [18, 19, 20, 21],
    T = [22, 23, 24, 25];
  // i8x16.shuffle of two vectors by 32-bit lanes (0-3: the first, 4-7: the second)
  const shuffle = (x: number, y: number, lanes: number[]): number[] => [
    ...op.get(x),
    ...op.get(y),
    SIMD,
    0x0d,
    ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]),
  ];
  const at = (base: number, off: number | null): number[] =>
    off === null ? op.get(base) : [...op.get(base), ...op.get(off), ...op.i32Add];
  const block: number[] = [];
  [null, SR, SR2, SR3].forEach((off, i) => block.push(...at(SP, off), ...op.loadAt(0), ...op.set(V[i])));
  block.push(...shuffle(V[0], V[1], [0, 4, 1, 5]), ...op.set(T[0]));
  block.push(...shuffle(V[0], V[1], [2, 6, 3, 7]), ...op.set(T[1]));
  block.push(...shuffle(V[2], V[3], [0, 4, 1, 5]), ...op.set(T[2]));
  block.push(...shuffle(V[2], V[3], [2, 6, 3, 7]), ...op.set(T[3]));
  (
    [
      [null, T[0], T[2], [0, 1, 4, 5]],
      [DR, T[0], T[2], [2, 3, 6, 7]],
      [DR2, T[1], T[3], [0, 1, 4, 5]],
      [DR3, T[1], T[3], [2, 3, 6, 7]],
    ] as Array<[number | null, number, number, number[]]>
  ).forEach(([off, x, y, lanes]) => block.push(...at(DP, off), ...shuffle(x, y, lanes), ...op.storeAt(0)));
  block.push(...addTo(SP, 16), ...add(DP, DR4, DP));
  const band = [
    ...op.get(SB),
    ...op.set(SP),
    ...op.get(DB),
    ...op.set(DP),
    ...op.get(C4),
    ...op.set(C),
    ...countDown(C, block),
    ...add(SB, SR4, SB),
    ...addTo(DB, 16),
  ];
  const init = [
    ...add(SR, SR, SR2),
    ...add(SR2, SR, SR3),
    ...add(SR2, SR2, SR4),
    ...add(DR, DR, DR2),
    ...add(DR2, DR, DR3),
    ...add(DR2, DR2, DR4),
    ...op.get(SRC),
    ...op.set(SB),
    ...op.get(DST),
    ...op.set(DB),
    ...op.get(R4),
    ...op.set(R),
  ];
  return fn(
    [
      [12, I32],
      [8, V128],
    ],
    [...init, ...countDown(R, band)],
  );
}

/** affine(out, x, rows, cBytes, p) */
function affineBody(): number[] {
  const OUT = 0,
    X = 1,
    ROWS = 2,
    CB = 3,
    PM = 4;
  const C = 5,
    PS = 6,
    PB = 7;
  const row = [
    ...op.i32(0),
    ...op.set(C),
    ...op.block,
    ...op.loop,
    ...op.get(C),
    ...op.get(CB),
    ...op.i32GeS,
    ...op.brIf(1),
    ...op.get(OUT),
    ...op.get(C),
    ...op.i32Add,
    ...op.get(X),
    ...op.get(C),
    ...op.i32Add,
    ...op.loadAt(0),
    ...op.get(PM),
    ...op.get(C),
    ...op.i32Add,
    ...op.loadAt(0),
    ...op.f32x4Sub,
    ...op.get(PS),
    ...op.get(C),
    ...op.i32Add,
    ...op.loadAt(0),
    ...op.f32x4Mul,
    ...op.get(PB),
    ...op.get(C),
    ...op.i32Add,
    ...op.loadAt(0),
    ...op.f32x4Add,
    ...op.storeAt(0),
    ...addTo(C, 16),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...op.get(OUT),
    ...op.get(CB),
    ...op.i32Add,
    ...op.set(OUT),
    ...op.get(X),
    ...op.get(CB),
    ...op.i32Add,
    ...op.set(X),
  ];
  const init = [
    ...op.get(PM),
    ...op.get(CB),
    ...op.i32Add,
    ...op.set(PS),
    ...op.get(PS),
    ...op.get(CB),
    ...op.i32Add,
    ...op.set(PB),
  ];
  return fn([[3, I32]], [...init, ...countDown(ROWS, row)]);
}

/** add / sub / mul(out, a, b, rows, cBytes, aStep, bStep) */
function binRowsBody(binop: number[]): number[] {
  const OUT = 0,
    A = 1,
    B = 2,
    ROWS = 3,
    CB = 4,
    AS = 5,
    BS = 6;
  const C = 7;
  const row = [
    ...op.i32(0),
    ...op.set(C),
    ...op.block,
    ...op.loop,
    ...op.get(C),
    ...op.get(CB),
    ...op.i32GeS,
    ...op.brIf(1),
    ...op.get(OUT),
    ...op.get(C),
    ...op.i32Add,
    ...op.get(A),
    ...op.get(C),
    ...op.i32Add,
    ...op.loadAt(0),
    ...op.get(B),
    ...op.get(C),
    ...op.i32Add,
    ...op.loadAt(0),
    ...binop,
    ...op.storeAt(0),
    ...addTo(C, 16),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...op.get(OUT),
    ...op.get(CB),
    ...op.i32Add,
    ...op.set(OUT),
    ...op.get(A),
    ...op.get(AS),
    ...op.i32Add,
    ...op.set(A),
    ...op.get(B),
    ...op.get(BS),
    ...op.i32Add,
    ...op.set(B),
  ];
  return fn([[1, I32]], countDown(ROWS, row));
}

/** relu / square(out, x, n4, _) */
function unaryBody(square: boolean): number[] {
  const OUT = 0,
    X = 1,
    N = 2;
  const V = 4;
  const body = [
    ...op.get(OUT),
    ...op.get(X),
    ...op.loadAt(0),
    ...(square ? [...op.set(V), ...op.get(V), ...op.get(V), ...op.f32x4Mul] : [...op.zero, ...op.f32x4Max]),
    ...op.storeAt(0),
    ...addTo(OUT, 16),
    ...addTo(X, 16),
  ];
  return fn([[1, V128]], countDown(N, body));
}

/** clip(out, x, n4, lo, hi) */
function clipBody(): number[] {
  const OUT = 0,
    X = 1,
    N = 2,
    LO = 3,
    HI = 4;
  const VL = 5,
    VH = 6;
  const body = [
    ...op.get(OUT),
    ...op.get(X),
    ...op.loadAt(0),
    ...op.get(VL),
    ...op.f32x4Max,
    ...op.get(VH),
    ...op.f32x4Min,
    ...op.storeAt(0),
    ...addTo(OUT, 16),
    ...addTo(X, 16),
  ];
  const init = [...op.get(LO), ...op.f32x4Splat, ...op.set(VL), ...op.get(HI), ...op.f32x4Splat, ...op.set(VH)];
  return fn([[2, V128]], [...init, ...countDown(N, body)]);
}

/**
 * clipGrad(out, x, dy, n4, lo, hi): out[i] = lo <= x[i] <= hi ? dy[i] : 0 (+0; NaN x gives 0), i < 4·n4: tfjs's
 * ClipByValue gradient where(logicalAnd(x >= lo, x <= hi), dy, zerosLike(dy)), one pass (a mask and a bitwise and)
 */
function clipGradBody(): number[] {
  const OUT = 0,
    X = 1,
    DY = 2,
    N = 3,
    LO = 4,
    HI = 5;
  const VL = 6,
    VH = 7,
    V = 8;
  const body = [
    ...op.get(OUT),
    ...op.get(DY),
    ...op.loadAt(0),
    ...op.get(X),
    ...op.loadAt(0),
    ...op.tee(V),
    ...op.get(VL),
    ...op.f32x4Ge,
    ...op.get(V),
    ...op.get(VH),
    ...op.f32x4Le,
    ...op.and,
    ...op.and,
    ...op.storeAt(0),
    ...addTo(OUT, 16),
    ...addTo(X, 16),
    ...addTo(DY, 16),
  ];
  const init = [...op.get(LO), ...op.f32x4Splat, ...op.set(VL), ...op.get(HI), ...op.f32x4Splat, ...op.set(VH)];
  return fn([[3, V128]], [...init, ...countDown(N, body)]);
}

/**
 * reluGrad(out, x, dy, n4, _): out[i] = dy[i] · step(x[i]), step = 1 for x > 0, NaN for NaN, else +0: tfjs's Relu
 * gradient mul(dy, step(x)) in one pass, the same products (so dy · 0 keeps dy's sign of zero, and NaN stays NaN)
 */
function reluGradBody(): number[] {
  const OUT = 0,
    X = 1,
    DY = 2,
    N = 3;
  const ONE = 5,
    V = 6;
  const body = [
    ...op.get(OUT),
    ...op.get(DY),
    ...op.loadAt(0),
    // step: bitselect(x, (x > 0) & 1.0, x != x)
    ...op.get(X),
    ...op.loadAt(0),
    ...op.tee(V),
    ...op.get(V),
    ...op.zero,
    ...op.f32x4Gt,
    ...op.get(ONE),
    ...op.and,
    ...op.get(V),
    ...op.get(V),
    ...op.f32x4Ne,
    ...op.bitselect,
    ...op.f32x4Mul,
    ...op.storeAt(0),
    ...addTo(OUT, 16),
    ...addTo(X, 16),
    ...addTo(DY, 16),
  ];
  const init = [...op.f32(1), ...op.f32x4Splat, ...op.set(ONE)];
  return fn([[2, V128]], [...init, ...countDown(N, body)]);
}

/** the module's bytes; `shared`: import a shared memory (the threaded wasm backend) */
export function simdKernelModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  const sig = (...params: number[]): number[] => [0x60, ...vec(params.map((p) => [p])), ...vec([])];
  const types = vec([
    sig(I32, I32, I32, I32, I32, I32, I32), // 0 macRows
    sig(I32, I32, I32, I32), // 1 colSums, and8
    sig(I32, I32, I32, F32), // 2 geScalar, leScalar
    sig(I32, I32, I32, I32, I32), // 3 select, affine
    sig(I32, I32, I32, I32, I32, I32, I32, I32), // 4 outer4x8
    sig(I32, I32, I32, F32, F32), // 5 clip
    sig(I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32), // 6 gemm4x8
    sig(I32, I32, I32, I32, I32, I32), // 7 transpose4x4
    sig(I32, I32, I32, I32, F32, F32), // 8 clipGrad
  ]);
  // colSqDev: type 3 (5 x i32); momentsGrad, colDyDev: type 0 (7 x i32); reluGrad: type 3 (its last i32 unused)
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
    ].map((n, i) => [...name(n), 0, i]),
  );
  const code = vec([
    macRowsBody(),
    colSumsBody(),
    cmpScalarBody(op.f32x4Ge),
    cmpScalarBody(op.f32x4Le),
    and8Body(),
    selectBody(),
    outer4x8Body(),
    affineBody(),
    binRowsBody(op.f32x4Add),
    binRowsBody(op.f32x4Sub),
    binRowsBody(op.f32x4Mul),
    unaryBody(false),
    unaryBody(true),
    clipBody(),
    gemm4x8Body(),
    transpose4x4Body(),
    colSqDevBody(),
    momentsGradBody(),
    colDyDevBody(),
    clipGradBody(),
    reluGradBody(),
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
}
export type BinRows = (
  out: number,
  a: number,
  b: number,
  rows: number,
  cBytes: number,
  aStep: number,
  bStep: number,
) => void;

/** the kernels bound to `memory`, or null where WebAssembly SIMD is unavailable */
export const simdKernelsFor = instancePerMemory(simdKernelModuleBytes, (e): SimdKernels => ({
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
  clip: e.clip as SimdKernels['clip'],
  gemm4x8: e.gemm4x8 as SimdKernels['gemm4x8'],
  transpose4x4: e.transpose4x4 as SimdKernels['transpose4x4'],
  colSqDev: e.colSqDev as SimdKernels['colSqDev'],
  momentsGrad: e.momentsGrad as SimdKernels['momentsGrad'],
  colDyDev: e.colDyDev as SimdKernels['colDyDev'],
  clipGrad: e.clipGrad as SimdKernels['clipGrad'],
  reluGrad: e.reluGrad as SimdKernels['reluGrad'],
}));

/** whether the engine's SIMD kernels run on this backend (the wasm backend, with WebAssembly SIMD) */
export function simdAvailable(backend: unknown): boolean {
  const memory = backendMemory(backend);
  return memory !== null && simdKernelsFor(memory) !== null;
}

export { backendMemory };
