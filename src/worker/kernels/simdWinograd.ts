/**
 * Function bodies of the engine's SIMD module (simdKernelModule.ts) for the Winograd convolutions F(2x2, 3x3) and
 * F(4x4, 3x3) (winogradConv.ts): the input tiles' transform V = Bᵀ·d·B and the output tiles' Y = Aᵀ·M·A + bias, four
 * channels per v128, channels last, generated from the matrices below (the products between them are gemm4x8's).
 * Each linear combination is emitted term by term: ±1 as an add or subtract, any other coefficient as a multiply by
 * a constant vector first; zero terms are skipped.
 *
 * Per tile and group of 4 channels, column by column of the result (a few vectors live, no spills): for column j,
 * u[r] = Σ_c Bᵀ[j][c]·d[r][c] for every row r (d reloaded from cache), then V[i][j] = Σ_r Bᵀ[i][r]·u[r]; the output
 * transform likewise with Aᵀ.
 * The factored F(4x4) bodies: simdWinogradF4.ts (on the frames here); the bands' copies: simdCopies.ts. ~330 lines as
 * one unit: the matrices, the two generic generators that read them and the two loop frames they and the F(4x4) bodies
 * share.
 */
import { add, addTo, at, copy, countDown, fn, multiples, op, splat, times } from './simdOps';
import { I32, V128 } from '../wasmAssembler';

/** a Winograd algorithm F(m x m, 3 x 3): its input tile is n = m + 2 pixels square */
export interface WinogradMatrices {
  m: number;
  /** Bᵀ (n x n), Aᵀ (m x n), G (n x 3) */
  BT: number[][];
  AT: number[][];
  G: number[][];
}
export const F2x2_3x3: WinogradMatrices = {
  m: 2,
  BT: [
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, 1, 0, -1],
  ],
  AT: [
    [1, 1, 1, 0],
    [0, 1, -1, -1],
  ],
  G: [
    [1, 0, 0],
    [1 / 2, 1 / 2, 1 / 2],
    [1 / 2, -1 / 2, 1 / 2],
    [0, 0, 1],
  ],
};
/** Lavin and Gray's F(4x4, 3x3) (interpolation points 0, ±1, ±2, ∞) */
export const F4x4_3x3: WinogradMatrices = {
  m: 4,
  BT: [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ],
  AT: [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
  ],
  G: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
};

/**
 * pushes Σ_k coef[k] · term(k) (coef from a matrix row; term(k) pushes the k-th vector): the first term with
 * coefficient 1 starts the sum where there is one (no multiply), the others are added, subtracted or multiplied;
 * with `fma`, each term whose coefficient is not ±1 by the fused multiply-add (relaxed SIMD) onto the sum of the rest
 */
function combination(coef: number[], term: (k: number) => number[], fma = false): number[] {
  const ks = coef.map((c, k) => k).filter((k) => coef[k] !== 0);
  if (ks.length === 0) return op.zero;
  const scaled = ks.find((k) => Math.abs(coef[k]) !== 1);
  if (fma && scaled !== undefined && ks.length > 1) {
    const rest = coef.map((c, k) => (k === scaled ? 0 : c));
    return [...term(scaled), ...splat(coef[scaled]), ...combination(rest, term, fma), ...op.f32x4RelaxedMadd];
  }
  const first = ks.find((k) => coef[k] === 1) ?? ks[0];
  const code: number[] = [...term(first)];
  if (coef[first] !== 1) code.push(...splat(coef[first]), ...op.f32x4Mul);
  for (const k of ks) {
    if (k === first) continue;
    const c = coef[k];
    code.push(...term(k));
    if (Math.abs(c) !== 1) code.push(...splat(Math.abs(c)), ...op.f32x4Mul);
    code.push(...(c > 0 ? op.f32x4Add : op.f32x4Sub));
  }
  return code;
}

/**
 * winoIn(dst, src, tiles, cq, rowBytes, xiBytes, tileRows) with T = Bᵀ (n x n, the input tile n x n pixels), and
 * winoDy the same with T = A (n x m, the tile m x m pixels: a filter gradient's dy, winogradFilterGrad.ts): for each of
 * `tileRows` rows of `tiles` tiles, tile t of row k having its k x k input pixels in the k rows at
 * src + (m·k + r)·rowBytes, columns m·t .. m·t + k - 1 (pixels of cq·16 bytes, 4·cq channels), and each group q of 4
 * channels: V = T·d·Tᵀ, V[ξ] (ξ = n·i + j) stored at dst + ξ·xiBytes + (k·tiles + t)·cq·16 + q·16.
 */
export function tileTransformBody(T: number[][], m: number, fma = false): number[] {
  const n = T.length,
    k = T[0].length;
  // locals: k row pointers P(r) = SP + r·rowBytes, k vectors u[r]
  return tileInFrame(k, n, m, k, k, ({ RB, SP, DP, COL, XI, i32, v128 }) => {
    const P = i32,
      U = v128;
    const quad: number[] = [...copy(SP, P(0))];
    for (let r = 1; r < k; r++) quad.push(...add(P(r - 1), RB, P(r)));
    for (let j = 0; j < n; j++) {
      // u[r] = (d·Tᵀ)[r][j] = Σ_c T[j][c] · d[r][c]
      for (let r = 0; r < k; r++)
        quad.push(...combination(T[j], (c) => [...at(P(r), COL(c)), ...op.loadAt(0)], fma), ...op.set(U(r)));
      // V[i][j] = Σ_r T[i][r] · u[r]
      for (let i = 0; i < n; i++)
        quad.push(...at(DP, XI(n * i + j)), ...combination(T[i], (r) => op.get(U(r)), fma), ...op.storeAt(0));
    }
    return quad;
  });
}

/** the locals a tile transform's body (one tile, one group of 4 channels) works with */
export interface TileInLocals {
  /** the row stride (bytes), the tile's source (its top-left pixel, this group's channels) and destination */
  RB: number;
  SP: number;
  DP: number;
  /** c · channel bytes (null for c = 0), ξ · plane bytes (null for ξ = 0) */
  COL: (c: number) => number | null;
  XI: (xi: number) => number | null;
  /** the body's own locals */
  i32: (j: number) => number;
  v128: (j: number) => number;
}

/**
 * A function of the signature (dst, src, tiles, cq, rowBytes, xiBytes, tileRows) (winoIn's) around `quadOf`'s body:
 * for each tile row, tile and group of 4 channels, that body with SP at the tile's top-left source pixel (k x k
 * pixels, tiles m apart) and DP at its destination in plane 0 (n² planes); SP and DP then step 16 bytes. `i32s` and
 * `v128s`: the body's own locals.
 */
export function tileInFrame(
  k: number,
  n: number,
  m: number,
  i32s: number,
  v128s: number,
  quadOf: (l: TileInLocals) => number[],
): number[] {
  const DST = 0,
    SRC = 1,
    TILES = 2,
    CQ = 3,
    RB = 4,
    XB = 5,
    TR = 6;
  let next = 7;
  const CIB = next++,
    TS = next++,
    RS = next++,
    TD = next++,
    K = next++,
    TT = next++,
    Q = next++,
    SP = next++,
    DP = next++,
    STEP = next++,
    ROWSTEP = next++;
  const COL0 = next; // COL(c) = c · CIB for c = 1 .. k-1
  next += k - 1;
  const XI0 = next; // XI(ξ) = ξ · XB for ξ = 1 .. n²-1
  next += n * n - 1;
  const OWN0 = next;
  next += i32s;
  const i32Count = next - 7;
  const COL = (c: number) => (c === 0 ? null : COL0 + c - 1);
  const XI = (x: number) => (x === 0 ? null : XI0 + x - 1);
  const quad = quadOf({ RB, SP, DP, COL, XI, i32: (j) => OWN0 + j, v128: (j) => next + j });
  quad.push(...addTo(SP, 16), ...addTo(DP, 16));
  return fn(
    [
      [i32Count, I32],
      [v128s, V128],
    ],
    [
      ...times(CQ, 16, CIB),
      ...(k > 1 ? multiples(CIB, k, (c) => COL(c)!) : []),
      ...multiples(XB, n * n, (x) => XI(x)!),
      ...times(CIB, m, STEP),
      ...times(RB, m, ROWSTEP),
      ...copy(SRC, RS),
      ...copy(DST, TD),
      ...copy(TR, K),
      ...countDown(K, [
        ...copy(RS, TS),
        ...copy(TILES, TT),
        ...countDown(TT, [
          ...copy(TS, SP),
          ...copy(TD, DP),
          ...copy(CQ, Q),
          ...countDown(Q, quad),
          ...add(TS, STEP, TS),
          ...add(TD, CIB, TD),
        ]),
        ...add(RS, ROWSTEP, RS),
      ]),
    ],
  );
}
/** winoIn of F(m x m, 3 x 3): T = Bᵀ */
export const winoInBody = (w: WinogradMatrices, fma = false): number[] => tileTransformBody(w.BT, w.m, fma);
/** winoDy of F(m x m, 3 x 3): T = A = (Aᵀ)ᵀ, n x m */
export const winoDyBody = (w: WinogradMatrices, fma = false): number[] =>
  tileTransformBody(
    w.BT.map((_, i) => w.AT.map((row) => row[i])),
    w.m,
    fma,
  );

/**
 * winoOut(y, yRow, mm, tiles, cq, xiBytes, bias): for tile t < tiles and each group q of 4 channels, with M[ξ] at
 * mm + ξ·xiBytes + t·cq·16 + q·16: Y = Aᵀ·M·A + bias[q], its pixel (a, c) stored at y + a·yRow + (m·t + c)·cq·16 +
 * q·16. Per pixel the bias is added last.
 */
export function winoOutBody(w: WinogradMatrices, fma = false): number[] {
  const n = w.m + 2,
    m = w.m;
  // locals: n vectors s[i]
  return tileOutFrame(m, n, n, ({ MP, XI, pixel, bias, v128 }) => {
    const S = v128;
    const quad: number[] = [];
    for (let c = 0; c < m; c++) {
      // s[i] = (M·A)[i][c] = Σ_j Aᵀ[c][j] · M[i][j]
      for (let i = 0; i < n; i++)
        quad.push(...combination(w.AT[c], (j) => [...at(MP, XI(n * i + j)), ...op.loadAt(0)], fma), ...op.set(S(i)));
      // Y[a][c] = Σ_i Aᵀ[a][i] · s[i] + bias
      for (let a = 0; a < m; a++)
        quad.push(
          ...pixel(a, c),
          ...combination(w.AT[a], (i) => op.get(S(i)), fma),
          ...bias,
          ...op.f32x4Add,
          ...op.storeAt(0),
        );
    }
    return quad;
  });
}

/** the locals an output transform's body (one tile, one group of 4 channels) works with */
export interface TileOutLocals {
  /** the tile's products (plane 0), ξ · plane bytes (null for ξ = 0) */
  MP: number;
  XI: (xi: number) => number | null;
  /** pushes the address of output pixel (a, c) of the tile (this group's channels) */
  pixel: (a: number, c: number) => number[];
  /** pushes this group's bias */
  bias: number[];
  /** the body's own vectors */
  v128: (j: number) => number;
}

/**
 * A function of the signature (y, yRow, mm, tiles, cq, xiBytes, bias) (winoOut's) around `quadOf`'s body: for each
 * tile and group of 4 channels, that body with MP at the tile's products in plane 0 (n² planes) and the group's bias
 * loaded; the pointers then step 16 bytes. `v128s`: the body's own vectors.
 */
export function tileOutFrame(m: number, n: number, v128s: number, quadOf: (l: TileOutLocals) => number[]): number[] {
  const Y = 0,
    YR = 1,
    MM = 2,
    TILES = 3,
    CQ = 4,
    XB = 5,
    BIAS = 6;
  let next = 7;
  const COB = next++,
    STEP = next++,
    TM = next++,
    TY = next++,
    Q = next++,
    MP = next++,
    OP = next++,
    BP = next++;
  const COL0 = next; // COL(c) = c · COB, c = 1 .. m-1
  next += m - 1;
  const ROW0 = next; // ROW(a) = a · YR, a = 1 .. m-1
  next += m - 1;
  const XI0 = next;
  next += n * n - 1;
  const i32Count = next - 7;
  const BV = next + v128s;
  const COL = (c: number) => (c === 0 ? null : COL0 + c - 1);
  const ROW = (a: number) => (a === 0 ? null : ROW0 + a - 1);
  const XI = (x: number) => (x === 0 ? null : XI0 + x - 1);
  const pixel = (a: number, c: number): number[] =>
    ROW(a) === null
      ? at(OP, COL(c))
      : [...at(OP, ROW(a)), ...(COL(c) === null ? [] : [...op.get(COL(c)!), ...op.i32Add])];
  const quad: number[] = [
    ...op.get(BP),
    ...op.loadAt(0),
    ...op.set(BV),
    ...quadOf({ MP, XI, pixel, bias: op.get(BV), v128: (j) => next + j }),
    ...addTo(MP, 16),
    ...addTo(OP, 16),
    ...addTo(BP, 16),
  ];
  return fn(
    [
      [i32Count, I32],
      [v128s + 1, V128],
    ],
    [
      ...times(CQ, 16, COB),
      ...multiples(COB, m, (c) => COL(c)!),
      ...multiples(YR, m, (a) => ROW(a)!),
      ...multiples(XB, n * n, (x) => XI(x)!),
      ...times(COB, m, STEP),
      ...copy(MM, TM),
      ...copy(Y, TY),
      ...countDown(TILES, [
        ...copy(TM, MP),
        ...copy(TY, OP),
        ...copy(BIAS, BP),
        ...copy(CQ, Q),
        ...countDown(Q, quad),
        ...add(TM, COB, TM),
        ...add(TY, STEP, TY),
      ]),
    ],
  );
}
