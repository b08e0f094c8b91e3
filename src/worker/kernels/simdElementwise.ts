/**
 * Function bodies of the engine's SIMD module (simdKernelModule.ts, where each is described): element-wise
 * functions (compares, and, select, the BatchNormalization affine map, add / sub / mul by rows, relu, square, clip)
 * and ReLU6's two gradients.
 *
 * Over 250 lines, most of it byte lists: each body is independent; the element-wise ones share this file as a kind.
 */
import { I32, V128 } from '../wasmAssembler';
import { add, addTo, addTo2, addr, byteColumns, countDown, fn, op } from './simdOps';

/** geScalar / leScalar(out, x, n16, s) */
export function cmpScalarBody(cmp: number[]): number[] {
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
export function and8Body(): number[] {
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
export function selectBody(): number[] {
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

/** affine(out, x, rows, cBytes, p) */
export function affineBody(): number[] {
  const OUT = 0,
    X = 1,
    ROWS = 2,
    CB = 3,
    PM = 4;
  const C = 5,
    PS = 6,
    PB = 7;
  const row = [
    ...byteColumns(C, CB, [
      ...addr(OUT, C),
      ...addr(X, C),
      ...op.loadAt(0),
      ...addr(PM, C),
      ...op.loadAt(0),
      ...op.f32x4Sub,
      ...addr(PS, C),
      ...op.loadAt(0),
      ...op.f32x4Mul,
      ...addr(PB, C),
      ...op.loadAt(0),
      ...op.f32x4Add,
      ...op.storeAt(0),
    ]),
    ...addTo2(OUT, CB),
    ...addTo2(X, CB),
  ];
  const init = [...add(PM, CB, PS), ...add(PS, CB, PB)];
  return fn([[3, I32]], [...init, ...countDown(ROWS, row)]);
}

/** bnDx(out, dy, x, rows, cBytes, p): out = dy·g + (x − m)·a + b per channel, p = m | g | a | b (C floats each) */
export function bnDxBody(): number[] {
  const OUT = 0,
    DY = 1,
    X = 2,
    ROWS = 3,
    CB = 4,
    PM = 5;
  const C = 6,
    PG = 7,
    PA = 8,
    PB = 9;
  const load = (base: number): number[] => [...addr(base, C), ...op.loadAt(0)];
  const row = [
    ...byteColumns(C, CB, [
      ...addr(OUT, C),
      ...load(DY),
      ...load(PG),
      ...op.f32x4Mul,
      ...load(X),
      ...load(PM),
      ...op.f32x4Sub,
      ...load(PA),
      ...op.f32x4Mul,
      ...op.f32x4Add,
      ...load(PB),
      ...op.f32x4Add,
      ...op.storeAt(0),
    ]),
    ...addTo2(OUT, CB),
    ...addTo2(DY, CB),
    ...addTo2(X, CB),
  ];
  const init = [...add(PM, CB, PG), ...add(PG, CB, PA), ...add(PA, CB, PB)];
  return fn([[4, I32]], [...init, ...countDown(ROWS, row)]);
}

/** add / sub / mul(out, a, b, rows, cBytes, aStep, bStep) */
export function binRowsBody(binop: number[]): number[] {
  const OUT = 0,
    A = 1,
    B = 2,
    ROWS = 3,
    CB = 4,
    AS = 5,
    BS = 6;
  const C = 7;
  const row = [
    ...byteColumns(C, CB, [
      ...addr(OUT, C),
      ...addr(A, C),
      ...op.loadAt(0),
      ...addr(B, C),
      ...op.loadAt(0),
      ...binop,
      ...op.storeAt(0),
    ]),
    ...addTo2(OUT, CB),
    ...addTo2(A, AS),
    ...addTo2(B, BS),
  ];
  return fn([[1, I32]], countDown(ROWS, row));
}

/**
 * max(x, +0) as f32x4.max computes it (NaN stays NaN, -0 gives +0) in two cheap instructions, x on the stack:
 * pmax(x, 0) (x < 0 ? 0 : x: NaN and -0 stay) + 0 (-0 + 0 = +0; NaN and every other value unchanged)
 */
const maxZero = (zero: number[]): number[] => [...zero, ...op.f32x4PMax, ...zero, ...op.f32x4Add];

/** relu / square(out, x, n4, _) */
export function unaryBody(square: boolean): number[] {
  const OUT = 0,
    X = 1,
    N = 2;
  const V = 4;
  const body = [
    ...op.get(OUT),
    ...op.get(X),
    ...op.loadAt(0),
    ...(square ? [...op.set(V), ...op.get(V), ...op.get(V), ...op.f32x4Mul] : maxZero(op.zero)),
    ...op.storeAt(0),
    ...addTo(OUT, 16),
    ...addTo(X, 16),
  ];
  return fn([[1, V128]], countDown(N, body));
}

/** clip(out, x, n4, lo, hi) */
export function clipBody(): number[] {
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
 * clipFromZero(out, x, n4, _, hi): clip(out, x, n4, +0, hi) for hi > 0 (ReLU6), bit for bit (NaN stays NaN, -0 gives
 * +0; a NaN's payload may differ) at about half the time (measured: 1.77 M floats, 0.54 against 1.0 ms): max by
 * maxZero, then pmin(r, hi) (hi < r ? hi : r: a NaN r stays; r ≥ +0 and hi > 0, so no signed zero to order)
 */
export function clipFromZeroBody(): number[] {
  const OUT = 0,
    X = 1,
    N = 2,
    HI = 4;
  const VH = 5,
    Z = 6;
  const body = [
    ...op.get(OUT),
    ...op.get(X),
    ...op.loadAt(0),
    ...maxZero(op.get(Z)),
    ...op.get(VH),
    ...op.f32x4PMin,
    ...op.storeAt(0),
    ...addTo(OUT, 16),
    ...addTo(X, 16),
  ];
  const init = [...op.zero, ...op.set(Z), ...op.get(HI), ...op.f32x4Splat, ...op.set(VH)];
  return fn([[2, V128]], [...init, ...countDown(N, body)]);
}

/**
 * With a, x on the stack (x also in local `v`; 1.0 in every lane of local `one`): a times step(x), step =
 * bitselect(x, (x > 0) & 1.0, x != x), i.e. 1 for x > 0, NaN for NaN, else +0 (tfjs's Step as its Relu gradient uses it).
 */
const timesStep = (v: number, one: number): number[] => [
  ...op.get(v),
  ...op.zero,
  ...op.f32x4Gt,
  ...op.get(one),
  ...op.and,
  ...op.get(v),
  ...op.get(v),
  ...op.f32x4Ne,
  ...op.bitselect,
  ...op.f32x4Mul,
];

/** pushes out (an address), dy[0..3] and x[0..3] (also kept in local `v`): the start of a gradient's loop body */
const outDyX = (out: number, dy: number, x: number, v: number): number[] => [
  ...op.get(out),
  ...op.get(dy),
  ...op.loadAt(0),
  ...op.get(x),
  ...op.loadAt(0),
  ...op.tee(v),
];

/** stores the vector on the stack at `out` (below it on the stack), then moves out, x and dy on by 16 bytes */
const storeAndStep = (out: number, x: number, dy: number): number[] => [
  ...op.storeAt(0),
  ...addTo(out, 16),
  ...addTo(x, 16),
  ...addTo(dy, 16),
];

/**
 * clipGrad(out, x, dy, n4, lo, hi): out[i] = lo <= x[i] <= hi ? dy[i] : 0 (+0; NaN x gives 0), i < 4·n4: tfjs's
 * ClipByValue gradient where(logicalAnd(x >= lo, x <= hi), dy, zerosLike(dy)), one pass (a mask and a bitwise and)
 */
export function clipGradBody(): number[] {
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
    ...outDyX(OUT, DY, X, V),
    ...op.get(VL),
    ...op.f32x4Ge,
    ...op.get(V),
    ...op.get(VH),
    ...op.f32x4Le,
    ...op.and,
    ...op.and,
    ...storeAndStep(OUT, X, DY),
  ];
  const init = [...op.get(LO), ...op.f32x4Splat, ...op.set(VL), ...op.get(HI), ...op.f32x4Splat, ...op.set(VH)];
  return fn([[3, V128]], [...init, ...countDown(N, body)]);
}

/**
 * reluGrad(out, x, dy, n4, _): out[i] = dy[i] · step(x[i]), step = 1 for x > 0, NaN for NaN, else +0: tfjs's Relu
 * gradient mul(dy, step(x)) in one pass, the same products (so dy · 0 keeps dy's sign of zero, and NaN stays NaN)
 */
export function reluGradBody(): number[] {
  const OUT = 0,
    X = 1,
    DY = 2,
    N = 3;
  const ONE = 5,
    V = 6;
  const body = [...outDyX(OUT, DY, X, V), ...timesStep(V, ONE), ...storeAndStep(OUT, X, DY)];
  const init = [...op.f32(1), ...op.f32x4Splat, ...op.set(ONE)];
  return fn([[2, V128]], [...init, ...countDown(N, body)]);
}

/**
 * relu6Grad(out, x, dy, n4, _, hi): out[i] = (x[i] <= hi ? dy[i] : +0) · step(x[i]): the gradient of tfjs-layers'
 * ReLU(maxValue = hi), relu then clipByValue(0, hi), as the two above compose it (clipGrad's mask on r = relu(x),
 * then reluGrad's product): r >= 0 holds for every r but NaN, and r <= hi exactly when x <= hi (hi >= 0), so the
 * mask is x <= hi; then the same product dy · step(x). One pass instead of two, no r.
 */
export function relu6GradBody(): number[] {
  const OUT = 0,
    X = 1,
    DY = 2,
    N = 3,
    HI = 5;
  const VH = 6,
    ONE = 7,
    V = 8;
  const body = [
    // dy where x <= hi, else +0
    ...outDyX(OUT, DY, X, V),
    ...op.get(VH),
    ...op.f32x4Le,
    ...op.and,
    ...op.get(V),
    ...timesStep(V, ONE),
    ...storeAndStep(OUT, X, DY),
  ];
  const init = [...op.get(HI), ...op.f32x4Splat, ...op.set(VH), ...op.f32(1), ...op.f32x4Splat, ...op.set(ONE)];
  return fn([[3, V128]], [...init, ...countDown(N, body)]);
}
