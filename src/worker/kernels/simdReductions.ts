/**
 * Function bodies of the engine's SIMD module (simdKernelModule.ts, where each is described): per-channel float64
 * sums over rows, the batch moments and BatchNormalization gradients are made of (colSums, colSqDev, momentsGrad,
 * colDyDev). colSums, colSqDev and colDyDev are column walks over blocks of rows with their accumulators in
 * registers (`rowBlocks`); momentsGrad, which also writes every element, walks a row 16 bytes (4 channels) at a time
 * with its accumulators in memory (`rowOfChannels`, `accumulate`). Two channels per float64x2 accumulator in all.
 * ~350 lines as one unit: the four share the accumulator layout (float64 per float32 channel), the float32 rounding
 * points of tfjs's kernels they reproduce, and the walk helpers.
 */
import { I32, V128 } from '../wasmAssembler';
import { addTo, addTo2, addr, byteColumns, copy, countDown, fn, op } from './simdOps';

/**
 * One row: for the byte offset C in [0, cBytes) by 16: `step` (its two halves at C and C + 8); the float64
 * accumulator pointers `accs` ([pointer local, its start local]) start at their starts and move 32 bytes a step;
 * after the row each local of `rowPtrs` moves on by cBytes.
 */
function rowOfChannels(
  C: number,
  CB: number,
  accs: Array<[number, number]>,
  step: number[],
  rowPtrs: number[],
): number[] {
  return [
    ...accs.flatMap(([ptr, start]) => copy(start, ptr)),
    ...byteColumns(C, CB, [...step, ...accs.flatMap(([ptr]) => addTo(ptr, 32))]),
    ...rowPtrs.flatMap((p) => addTo2(p, CB)),
  ];
}

/** float64 acc lanes (2h, 2h + 1) at local `ptr` += promote(the low two float32 lanes `value` leaves) */
const accumulate = (ptr: number, h: number, value: number[]): number[] => [
  ...op.get(ptr),
  ...op.get(ptr),
  ...op.loadAt(2 * h),
  ...value,
  ...op.promoteLow,
  ...op.f64x2Add,
  ...op.storeAt(2 * h),
];

/** two float32 lanes of the row at local `base`, byte offset C + h */
const lanes = (base: number, C: number, h: number): number[] => [...addr(base, C), ...op.load64ZeroAt(h)];

/**
 * The skeleton of a column walk: the rows in blocks of BR = max(1, 16384 / cBytes) (N of them in the current block),
 * and per block `group(2)` for each 8 channels at byte offset G (G + 32 <= cBytes), then `group(1)` for a last 4;
 * after the block, each local of `rowPtrs` moves on by N rows. Locals BR, N, G are set here.
 */
function rowBlocks(
  ROWS: number,
  CB: number,
  BR: number,
  N: number,
  G: number,
  rowPtrs: number[],
  group: (q: 1 | 2) => number[],
): number[] {
  return [
    // BR = max(1, 16384 / cBytes)
    ...op.i32(16384),
    ...op.get(CB),
    ...op.i32DivU,
    ...op.set(BR),
    ...op.get(BR),
    ...op.i32(1),
    ...op.get(BR),
    ...op.i32(1),
    ...op.i32GeS,
    ...op.select,
    ...op.set(BR),
    ...op.block,
    ...op.loop,
    ...op.get(ROWS),
    ...op.i32Eqz,
    ...op.brIf(1),
    // N = min(BR, rows left)
    ...op.get(BR),
    ...op.get(ROWS),
    ...op.get(BR),
    ...op.get(ROWS),
    ...op.i32LtS,
    ...op.select,
    ...op.set(N),
    ...op.i32(0),
    ...op.set(G),
    // groups of 8 channels while G + 32 <= cBytes
    ...op.block,
    ...op.loop,
    ...op.get(G),
    ...op.i32(32),
    ...op.i32Add,
    ...op.get(CB),
    ...op.i32GtS,
    ...op.brIf(1),
    ...group(2),
    ...addTo(G, 32),
    ...op.br(0),
    ...op.end,
    ...op.end,
    // a last group of 4
    ...op.get(G),
    ...op.get(CB),
    ...op.i32LtS,
    ...op.if,
    ...group(1),
    ...op.end,
    // the next block
    ...rowPtrs.flatMap((p) => [...op.get(p), ...op.get(N), ...op.get(CB), ...op.i32Mul, ...op.i32Add, ...op.set(p)]),
    ...op.get(ROWS),
    ...op.get(N),
    ...op.i32Sub,
    ...op.set(ROWS),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/** float64 accumulator locals a0 += promote(the low two float32 lanes of local v), a1 += promote(its upper two) */
const addHalves = (a0: number, a1: number, v: number): number[] => [
  ...op.get(a0),
  ...op.get(v),
  ...op.promoteLow,
  ...op.f64x2Add,
  ...op.set(a0),
  ...op.get(a1),
  ...op.get(v),
  ...op.get(v),
  ...op.highToLow,
  ...op.promoteLow,
  ...op.f64x2Add,
  ...op.set(a1),
];

/**
 * colSums / colSqDev as column walks: the rows go in blocks of ~16 KiB (which stay in L1 across the block's walks);
 * per block, 8 channels at a time (then a last 4), the float64 accumulators of those channels are loaded from acc
 * into registers, every row of the block is added, and they are stored back. Each channel's sum is the same
 * sequence of float64 additions as a row-by-row walk with the accumulators in memory (acc + x[0] + x[1] + …, in
 * row order), so the same bits; but an addition no longer waits on a store and a load of its accumulator. colSums
 * reads two lanes a load (load64_zero, promoted); colSqDev four (x − m and its square in float32, the same operations
 * per lane as two at a time), the upper two shuffled down to be promoted. Measured against the row walk (2026-12-01,
 * alternating runs, μs for colSums / colSqDev): [18432, 16] 39 / 81 against 85 / 126, [4608, 144] 132 / 215 against
 * 182–308 / 249–469, [72, 960] 11 / 20 against 20 / 26.
 */
function colWalkBody(withMean: boolean): number[] {
  const ACC = 0,
    X = 1,
    M = withMean ? 2 : -1,
    ROWS = withMean ? 3 : 2,
    CB = withMean ? 4 : 3;
  const L = CB + 1;
  const BR = L, // rows per block
    N = L + 1, // rows in this block
    G = L + 2, // byte offset of the channel group in a row
    P = L + 3, // the group's bytes in the current row
    K = L + 4, // rows left in the block's walk
    PA = L + 5; // the group's accumulators: acc + 2 G (float64 per float32 channel)
  const V0 = L + 6; // v128 locals: A(0..3), V, MJ(0..1)
  const A = (k: number) => V0 + k;
  const V = V0 + 4;
  const MJ = (j: number) => V0 + 5 + j;
  const group = (q: 1 | 2): number[] => {
    const code = [...op.get(ACC), ...op.get(G), ...op.get(G), ...op.i32Add, ...op.i32Add, ...op.set(PA)];
    for (let k = 0; k < 2 * q; k++) code.push(...op.get(PA), ...op.loadAt(16 * k), ...op.set(A(k)));
    if (withMean) for (let j = 0; j < q; j++) code.push(...addr(M, G), ...op.loadAt(16 * j), ...op.set(MJ(j)));
    code.push(...addr(X, G), ...op.set(P), ...op.get(N), ...op.set(K));
    const row: number[] = [];
    if (!withMean) {
      // two lanes a load (v128.load64_zero), promoted: no shuffle (measured faster for the sums alone)
      for (let k = 0; k < 2 * q; k++)
        row.push(
          ...op.get(A(k)),
          ...op.get(P),
          ...op.load64ZeroAt(8 * k),
          ...op.promoteLow,
          ...op.f64x2Add,
          ...op.set(A(k)),
        );
    } else
      for (let j = 0; j < q; j++) {
        row.push(...op.get(P), ...op.loadAt(16 * j));
        if (withMean) row.push(...op.get(MJ(j)), ...op.f32x4Sub, ...op.tee(V), ...op.get(V), ...op.f32x4Mul);
        row.push(...op.set(V), ...addHalves(A(2 * j), A(2 * j + 1), V));
      }
    row.push(...addTo2(P, CB));
    code.push(...countDown(K, row));
    for (let k = 0; k < 2 * q; k++) code.push(...op.get(PA), ...op.get(A(k)), ...op.storeAt(16 * k));
    return code;
  };
  const code = rowBlocks(ROWS, CB, BR, N, G, [X], group);
  return fn(
    [
      [6, I32],
      [withMean ? 7 : 5, V128],
    ],
    code,
  );
}

/** colSums(acc, x, rows, cBytes) */
export function colSumsBody(): number[] {
  return colWalkBody(false);
}

/**
 * colSqDev(acc, x, m, rows, cBytes): float64 acc[c] += promote((x[r][c] − m[c])²), the subtraction and the square in
 * float32 (as tfjs's Sub and Square kernels round them)
 */
export function colSqDevBody(): number[] {
  return colWalkBody(true);
}

/**
 * momentsGrad(out, x, m, g, rows, cBytes, acc): out[r][c] = g[c] · (d + d) with d = x[r][c] − m[c] (float32, as
 * tfjs's Square gradient rounds dy · 2d), and float64 acc[c] += promote(out[r][c]) (the Sum of it tfjs takes next)
 */
export function momentsGradBody(): number[] {
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
  const half = (h: number): number[] => [
    ...lanes(G, C, h),
    ...lanes(X, C, h),
    ...lanes(M, C, h),
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
    ...accumulate(PA, h, op.get(V)),
  ];
  return fn(
    [
      [2, I32],
      [1, V128],
    ],
    countDown(ROWS, rowOfChannels(C, CB, [[PA, ACC]], [...half(0), ...half(8)], [X, OUT])),
  );
}

/**
 * colDyDev(accDy, accDyX, dy, x, m, rows, cBytes): float64 accDy[c] += dy[r][c] and accDyX[c] += dy[r][c]·(x[r][c] −
 * m[c]) (difference and product in float32, as tfjs's Sub and Multiply round them): the two sums of the
 * FusedBatchNorm gradient in one pass. A column walk as colSqDev's (rowBlocks): per 8 channels both sets of
 * accumulators in registers, the same row-order additions as a row walk with them in memory (the same bits).
 */
export function colDyDevBody(): number[] {
  const AD = 0,
    AX = 1,
    DY = 2,
    X = 3,
    M = 4,
    ROWS = 5,
    CB = 6;
  const BR = 7,
    N = 8,
    G = 9,
    PD = 10, // the group's bytes in the current row of dy, of x
    PX = 11,
    K = 12,
    QD = 13, // the group's accumulators in accDy, accDyX
    QX = 14;
  const V0 = 15; // v128 locals: D(0..3), S(0..3), MJ(0..1), V, W
  const D = (k: number) => V0 + k;
  const S = (k: number) => V0 + 4 + k;
  const MJ = (j: number) => V0 + 8 + j;
  const V = V0 + 10,
    W = V0 + 11;
  const group = (q: 1 | 2): number[] => {
    const code = [
      ...op.get(AD),
      ...op.get(G),
      ...op.get(G),
      ...op.i32Add,
      ...op.i32Add,
      ...op.set(QD),
      ...op.get(AX),
      ...op.get(G),
      ...op.get(G),
      ...op.i32Add,
      ...op.i32Add,
      ...op.set(QX),
    ];
    for (let k = 0; k < 2 * q; k++)
      code.push(
        ...op.get(QD),
        ...op.loadAt(16 * k),
        ...op.set(D(k)),
        ...op.get(QX),
        ...op.loadAt(16 * k),
        ...op.set(S(k)),
      );
    for (let j = 0; j < q; j++) code.push(...addr(M, G), ...op.loadAt(16 * j), ...op.set(MJ(j)));
    code.push(...addr(DY, G), ...op.set(PD), ...addr(X, G), ...op.set(PX), ...op.get(N), ...op.set(K));
    const row: number[] = [];
    for (let j = 0; j < q; j++)
      row.push(
        ...op.get(PD),
        ...op.loadAt(16 * j),
        ...op.tee(V),
        ...op.get(PX),
        ...op.loadAt(16 * j),
        ...op.get(MJ(j)),
        ...op.f32x4Sub,
        ...op.f32x4Mul,
        ...op.set(W),
        ...addHalves(D(2 * j), D(2 * j + 1), V),
        ...addHalves(S(2 * j), S(2 * j + 1), W),
      );
    row.push(...addTo2(PD, CB), ...addTo2(PX, CB));
    code.push(...countDown(K, row));
    for (let k = 0; k < 2 * q; k++)
      code.push(
        ...op.get(QD),
        ...op.get(D(k)),
        ...op.storeAt(16 * k),
        ...op.get(QX),
        ...op.get(S(k)),
        ...op.storeAt(16 * k),
      );
    return code;
  };
  return fn(
    [
      [8, I32],
      [12, V128],
    ],
    rowBlocks(ROWS, CB, BR, N, G, [DY, X], group),
  );
}
