/**
 * Function bodies of the engine's SIMD module (simdKernelModule.ts, where each is described): the products
 * (macRows, outer4x8, gemm4x8) and the 4x4 transpose.
 *
 * Over 250 lines, most of it byte lists: each body is independent; the products share this file as a kind.
 */
import { I32, SIMD, V128 } from '../wasmAssembler';
import { add, addTo, addr, byteColumns, copy, countDown, fn, op, strideMultiples } from './simdOps';

/** the 8 float32 lanes at local P's address: into locals a0 (bytes 0-15) and a1 (16-31) */
const loadPair = (P: number, a0: number, a1: number): number[] => [
  ...op.get(P),
  ...op.loadAt(0),
  ...op.set(a0),
  ...op.get(P),
  ...op.loadAt(16),
  ...op.set(a1),
];
/** locals a0 and a1 stored at local P's address (bytes 0-15, 16-31) */
const storePair = (P: number, a0: number, a1: number): number[] => [
  ...op.get(P),
  ...op.get(a0),
  ...op.storeAt(0),
  ...op.get(P),
  ...op.get(a1),
  ...op.storeAt(16),
];
/**
 * local a += local s · local d: with `fma`, relaxed SIMD's f32x4.relaxed_madd (fused, one rounding, where the machine
 * has FMA: half the instructions); else a product, then a sum, each rounded (plain wasm SIMD has no fused form)
 */
const madd = (a: number, s: number, d: number, fma: boolean): number[] =>
  fma
    ? [...op.get(s), ...op.get(d), ...op.get(a), ...op.f32x4RelaxedMadd, ...op.set(a)]
    : [...op.get(a), ...op.get(s), ...op.get(d), ...op.f32x4Mul, ...op.f32x4Add, ...op.set(a)];

/** body of macRows */
export function macRowsBody(fma: boolean): number[] {
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
  const loadXD = (xOff: number[], dOff: number[]): number[] => [
    ...op.get(PX),
    ...xOff,
    ...op.load,
    ...op.get(PD),
    ...dOff,
    ...op.load,
  ];
  const mac = (a: number, xOff: number[], dOff: number[]): number[] =>
    fma
      ? [...loadXD(xOff, dOff), ...op.get(a), ...op.f32x4RelaxedMadd, ...op.set(a)]
      : [...op.get(a), ...loadXD(xOff, dOff), ...op.f32x4Mul, ...op.f32x4Add, ...op.set(a)];
  // per 4 channels (byte offset C of cBytes)
  const col: number[] = [];
  col.push(...addr(ACC, C), ...op.load, ...op.set(A0));
  col.push(...op.zero, ...op.set(A1));
  col.push(...addr(X, C), ...op.set(PX));
  col.push(...addr(DY, C), ...op.set(PD));
  col.push(...copy(N, J));
  // two rows per iteration
  col.push(...op.block, ...op.loop);
  col.push(...op.get(J), ...op.i32(2), ...op.i32LtS, ...op.brIf(1));
  col.push(...mac(A0, [], []));
  col.push(...mac(A1, [...op.get(XS), ...op.i32Add], [...op.get(DS), ...op.i32Add]));
  col.push(...op.get(PX), ...op.get(XS), ...op.i32Add, ...op.get(XS), ...op.i32Add, ...op.set(PX));
  col.push(...op.get(PD), ...op.get(DS), ...op.i32Add, ...op.get(DS), ...op.i32Add, ...op.set(PD));
  col.push(...op.get(J), ...op.i32(2), ...op.i32Sub, ...op.set(J));
  col.push(...op.br(0), ...op.end, ...op.end);
  // an odd last row
  col.push(...op.get(J), ...op.if, ...mac(A0, [], []), ...op.end);
  // acc[c..] = a0 + a1
  col.push(...addr(ACC, C), ...op.get(A0), ...op.get(A1), ...op.f32x4Add, ...op.store);
  return fn(
    [
      [4, I32],
      [2, V128],
    ],
    byteColumns(C, CB, col),
  );
}

/** outer4x8(acc, x, dy, rows, xStride, dyStride, accStride, cols8) */
export function outer4x8Body(fma: boolean): number[] {
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
  const load = accRows((i) => loadPair(P, A[2 * i], A[2 * i + 1]));
  const store = accRows((i) => storePair(P, A[2 * i], A[2 * i + 1]));
  const mac = (a: number, d: number): number[] => madd(a, S, d, fma);
  const row: number[] = [...op.get(DP), ...op.loadAt(0), ...op.set(D0), ...op.get(DP), ...op.loadAt(16), ...op.set(D1)];
  for (let i = 0; i < 4; i++)
    row.push(...op.get(XP), ...op.load32SplatAt(4 * i), ...op.set(S), ...mac(A[2 * i], D0), ...mac(A[2 * i + 1], D1));
  row.push(...op.get(XP), ...op.get(XS), ...op.i32Add, ...op.set(XP));
  row.push(...op.get(DP), ...op.get(DS), ...op.i32Add, ...op.set(DP));
  const column = [
    ...load,
    ...copy(X, XP),
    ...copy(DY, DP),
    ...copy(ROWS, R),
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
export function gemm4x8Body(fma: boolean): number[] {
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
  const load = accRows(II, IR, (i) => loadPair(P, ACC[2 * i], ACC[2 * i + 1]));
  const store = accRows(CI, CR, (i) => storePair(P, ACC[2 * i], ACC[2 * i + 1]));
  const mac = (a: number, d: number): number[] => madd(a, S, d, fma);
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
    step.push(...op.load32SplatAt(0), ...op.set(S), ...mac(ACC[2 * i], D0), ...mac(ACC[2 * i + 1], D1));
  }
  step.push(...add(AP, AK, AP), ...add(BP, BK, BP));
  const block = [
    ...load,
    ...copy(AI, AP),
    ...copy(BJ, BP),
    ...copy(K, KK),
    ...countDown(KK, step),
    ...store,
    ...add(AI, AL4, AI),
    ...add(CI, CR4, CI),
    ...add(II, IR4, II),
  ];
  const column = [
    ...copy(A, AI),
    ...copy(CJ, CI),
    ...copy(IJ, II),
    ...copy(M4, I),
    ...countDown(I, block),
    ...addTo(CJ, 32),
    ...addTo(BJ, 32),
    ...addTo(IJ, 32),
  ];
  const init = [
    ...strideMultiples(AL, AL2, AL3, AL4),
    ...add(CR, CR, CR4),
    ...add(CR4, CR4, CR4),
    ...add(IR, IR, IR4),
    ...add(IR4, IR4, IR4),
    ...copy(C, CJ),
    ...copy(B, BJ),
    ...copy(INIT, IJ),
    ...copy(N8, J),
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
export function transpose4x4Body(): number[] {
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
    ...copy(SB, SP),
    ...copy(DB, DP),
    ...copy(C4, C),
    ...countDown(C, block),
    ...add(SB, SR4, SB),
    ...addTo(DB, 16),
  ];
  const init = [
    ...strideMultiples(SR, SR2, SR3, SR4),
    ...strideMultiples(DR, DR2, DR3, DR4),
    ...copy(SRC, SB),
    ...copy(DST, DB),
    ...copy(R4, R),
  ];
  return fn(
    [
      [12, I32],
      [8, V128],
    ],
    [...init, ...countDown(R, band)],
  );
}
