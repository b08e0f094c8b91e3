/**
 * Function bodies of the engine's SIMD module (simdKernelModule.ts, where each is described): per-channel float64
 * sums over rows, the batch moments and BatchNormalization gradients are made of (colSums, colSqDev, momentsGrad,
 * colDyDev). All four walk a row 16 bytes (4 channels) at a time, two channels per float64x2 accumulator
 * (`rowOfChannels`, `accumulate`).
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

/** colSums(acc, x, rows, cBytes) */
export function colSumsBody(): number[] {
  const ACC = 0,
    X = 1,
    ROWS = 2,
    CB = 3;
  const C = 4,
    PA = 5;
  // one row: for c in [0, cBytes) step 16: acc(f64)[c/4 ..] += promote(x[c..c+8]), promote(x[c+8..c+16])
  const step = [0, 8].flatMap((h) => accumulate(PA, h, lanes(X, C, h)));
  return fn([[2, I32]], countDown(ROWS, rowOfChannels(C, CB, [[PA, ACC]], step, [X])));
}

/**
 * colSqDev(acc, x, m, rows, cBytes): float64 acc[c] += promote((x[r][c] − m[c])²), the subtraction and the square in
 * float32 (as tfjs's Sub and Square kernels round them), two lanes at a time as colSums does
 */
export function colSqDevBody(): number[] {
  const ACC = 0,
    X = 1,
    M = 2,
    ROWS = 3,
    CB = 4;
  const C = 5,
    PA = 6,
    D = 7;
  const step = [0, 8].flatMap((h) =>
    accumulate(PA, h, [
      ...lanes(X, C, h),
      ...lanes(M, C, h),
      ...op.f32x4Sub,
      ...op.tee(D),
      ...op.get(D),
      ...op.f32x4Mul,
    ]),
  );
  return fn(
    [
      [2, I32],
      [1, V128],
    ],
    countDown(ROWS, rowOfChannels(C, CB, [[PA, ACC]], step, [X])),
  );
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
 * FusedBatchNorm gradient in one pass
 */
export function colDyDevBody(): number[] {
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
  const half = (h: number): number[] => [
    ...lanes(DY, C, h),
    ...op.set(V),
    ...accumulate(PD, h, op.get(V)),
    ...accumulate(PX, h, [...op.get(V), ...lanes(X, C, h), ...lanes(M, C, h), ...op.f32x4Sub, ...op.f32x4Mul]),
  ];
  const accs: Array<[number, number]> = [
    [PD, AD],
    [PX, AX],
  ];
  return fn(
    [
      [3, I32],
      [1, V128],
    ],
    countDown(ROWS, rowOfChannels(C, CB, accs, [...half(0), ...half(8)], [X, DY])),
  );
}
