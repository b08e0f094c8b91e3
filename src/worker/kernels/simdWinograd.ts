/**
 * Function bodies of the engine's SIMD module (simdKernelModule.ts) for the Winograd F(2x2, 3x3) convolution
 * (winogradConv.ts): the input tiles' transform V = Bᵀ·d·B and the output tiles' Y = Aᵀ·M·A + bias, four channels
 * per v128, channels last. The products between them are gemm4x8's.
 *
 *   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]      Aᵀ = [1 1 1 0; 0 1 -1 -1]
 */
import { add, addTo, copy, countDown, fn, op } from './simdOps';
import { I32, V128 } from '../wasmAssembler';

/** local `to` = local `x` · 16 (a count of 4-lane groups as bytes) */
const times16 = (x: number, to: number): number[] => [...op.get(x), ...op.i32(16), ...op.i32Mul, ...op.set(to)];

/** locals xi[1..15] = k · local `step` (xi[0] unused: offset 0) */
const multiples = (step: number, xi: (k: number) => number): number[] => {
  const c: number[] = [...copy(step, xi(1))];
  for (let k = 2; k < 16; k++) c.push(...add(xi(k - 1), step, xi(k)));
  return c;
};
/** pushes local `base` (+ local `off` unless null) */
const at = (base: number, off: number | null): number[] =>
  off === null ? op.get(base) : [...op.get(base), ...op.get(off), ...op.i32Add];

/**
 * winoIn(dst, src, tiles, cq, rowBytes, xiBytes): for tile t < tiles, whose 4x4 input pixels are the 4 rows at
 * src + r·rowBytes, columns 2t .. 2t+3 (pixels of cq·16 bytes, 4·cq channels), and each group q of 4 channels:
 * V = Bᵀ·d·B, V[ξ] (ξ = 4i + j) stored at dst + ξ·xiBytes + t·cq·16 + q·16.
 */
export function winoInBody(): number[] {
  const DST = 0,
    SRC = 1,
    T = 2,
    CQ = 3,
    RB = 4,
    XB = 5;
  const CIB = 6,
    CIB2 = 7,
    CIB3 = 8,
    RB2 = 9,
    RB3 = 10,
    TS = 11,
    TD = 12,
    Q = 13,
    SP = 14,
    DP = 15,
    P = [16, 17, 18, 19];
  const XI = (k: number) => 19 + k; // 20 .. 34
  const U = [35, 36, 37, 38];
  const COL = [null, CIB, CIB2, CIB3];
  // (d·B)[r][j] = d[r][a] ± d[r][b]
  const byJ: Array<[number, number, 'add' | 'sub']> = [
    [0, 2, 'sub'],
    [1, 2, 'add'],
    [2, 1, 'sub'],
    [1, 3, 'sub'],
  ];
  const quad: number[] = [...copy(SP, P[0]), ...add(SP, RB, P[1]), ...add(SP, RB2, P[2]), ...add(SP, RB3, P[3])];
  for (let j = 0; j < 4; j++) {
    const [a, b, s] = byJ[j];
    for (let r = 0; r < 4; r++)
      quad.push(
        ...at(P[r], COL[a]),
        ...op.loadAt(0),
        ...at(P[r], COL[b]),
        ...op.loadAt(0),
        ...(s === 'add' ? op.f32x4Add : op.f32x4Sub),
        ...op.set(U[r]),
      );
    // (Bᵀ·u)[i][j]: u0 - u2, u1 + u2, u2 - u1, u1 - u3
    const rows: Array<[number, number, number[]]> = [
      [U[0], U[2], op.f32x4Sub],
      [U[1], U[2], op.f32x4Add],
      [U[2], U[1], op.f32x4Sub],
      [U[1], U[3], op.f32x4Sub],
    ];
    rows.forEach(([x, y, o], i) => {
      const xi = 4 * i + j;
      quad.push(...at(DP, xi === 0 ? null : XI(xi)), ...op.get(x), ...op.get(y), ...o, ...op.storeAt(0));
    });
  }
  quad.push(...addTo(SP, 16), ...addTo(DP, 16));
  return fn(
    [
      [29, I32],
      [4, V128],
    ],
    [
      ...times16(CQ, CIB),
      ...add(CIB, CIB, CIB2),
      ...add(CIB2, CIB, CIB3),
      ...add(RB, RB, RB2),
      ...add(RB2, RB, RB3),
      ...multiples(XB, XI),
      ...copy(SRC, TS),
      ...copy(DST, TD),
      ...countDown(T, [
        ...copy(TS, SP),
        ...copy(TD, DP),
        ...copy(CQ, Q),
        ...countDown(Q, [...quad]),
        ...add(TS, CIB2, TS),
        ...add(TD, CIB, TD),
      ]),
    ],
  );
}

/**
 * winoOut(y0, y1, m, tiles, cq, xiBytes, bias): for tile t < tiles and each group q of 4 channels, with M[ξ] at
 * m + ξ·xiBytes + t·cq·16 + q·16: Y = Aᵀ·M·A + bias[q], its row 0 stored at y0 + 2t·cq·16 + q·16 (column 0) and
 * the pixel after it (column 1), row 1 likewise at y1. Sums in the order ((s0 + s1) + s2) + bias.
 */
export function winoOutBody(): number[] {
  const Y0 = 0,
    Y1 = 1,
    M = 2,
    T = 3,
    CQ = 4,
    XB = 5,
    BIAS = 6;
  const COB = 7,
    COB2 = 8,
    TM = 9,
    TY0 = 10,
    TY1 = 11,
    Q = 12,
    MP = 13,
    O0 = 14,
    O1 = 15,
    BP = 16;
  const XI = (k: number) => 16 + k; // 17 .. 31
  const S = [32, 33, 34, 35],
    BV = 36;
  const m = (i: number, j: number): number[] => [...at(MP, 4 * i + j === 0 ? null : XI(4 * i + j)), ...op.loadAt(0)];
  const quad: number[] = [...op.get(BP), ...op.loadAt(0), ...op.set(BV)];
  for (let c = 0; c < 2; c++) {
    // (M·A)[i][c]: m0 + m1 + m2, or m1 - m2 - m3
    for (let i = 0; i < 4; i++)
      quad.push(
        ...(c === 0
          ? [...m(i, 0), ...m(i, 1), ...op.f32x4Add, ...m(i, 2), ...op.f32x4Add]
          : [...m(i, 1), ...m(i, 2), ...op.f32x4Sub, ...m(i, 3), ...op.f32x4Sub]),
        ...op.set(S[i]),
      );
    const col = c === 0 ? null : COB;
    quad.push(
      ...at(O0, col),
      ...op.get(S[0]),
      ...op.get(S[1]),
      ...op.f32x4Add,
      ...op.get(S[2]),
      ...op.f32x4Add,
      ...op.get(BV),
      ...op.f32x4Add,
      ...op.storeAt(0),
    );
    quad.push(
      ...at(O1, col),
      ...op.get(S[1]),
      ...op.get(S[2]),
      ...op.f32x4Sub,
      ...op.get(S[3]),
      ...op.f32x4Sub,
      ...op.get(BV),
      ...op.f32x4Add,
      ...op.storeAt(0),
    );
  }
  quad.push(...addTo(MP, 16), ...addTo(O0, 16), ...addTo(O1, 16), ...addTo(BP, 16));
  return fn(
    [
      [25, I32],
      [5, V128],
    ],
    [
      ...times16(CQ, COB),
      ...add(COB, COB, COB2),
      ...multiples(XB, XI),
      ...copy(M, TM),
      ...copy(Y0, TY0),
      ...copy(Y1, TY1),
      ...countDown(T, [
        ...copy(TM, MP),
        ...copy(TY0, O0),
        ...copy(TY1, O1),
        ...copy(BIAS, BP),
        ...copy(CQ, Q),
        ...countDown(Q, quad),
        ...add(TM, COB, TM),
        ...add(TY0, COB2, TY0),
        ...add(TY1, COB2, TY1),
      ]),
    ],
  );
}
