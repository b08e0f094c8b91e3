/**
 * The F(4x4, 3x3) Winograd transforms of the engine's SIMD module (simdKernelModule.ts) with shared subexpressions:
 * winoIn4 and winoOut4, the same signatures, layouts and values (up to the order of float32 sums) as the generic
 * bodies of simdWinograd.ts, in fewer operations.
 *
 * The 1-D transforms of F(4x4, 3x3) factored (as NNPACK and ncnn do): Bᵀ in 21 vector operations instead of ~30, Aᵀ
 * in 13 instead of 20. The 2-D transforms in two passes over the tile, through the output's own planes:
 * rows first (each row's values loaded once, its results stored at the planes of their position), then columns
 * (loaded from there, results stored over them). Same values as the generic bodies up to the order of the float32
 * sums (the test bounds both against float64). Measured in one process on one 32x32 image's chunk (16
 * channels): winoIn4 0.41 against 0.52 ms, winoOut4 0.24 against 0.36 ms; winoDy4 by A's factored form (11 operations,
 * two passes) 0.33 against 0.30 ms, so it keeps the generic body.
 */
import { add, at, copy, op, splat } from './simdOps';
import { tileInFrame, tileOutFrame } from './simdWinograd';

type Get = (k: number) => number[];
type Put = (i: number, value: number[]) => number[];
const mul = (x: number[], c: number): number[] => [...x, ...splat(c), ...op.f32x4Mul];
const plus = (x: number[], y: number[]): number[] => [...x, ...y, ...op.f32x4Add];
const minus = (x: number[], y: number[]): number[] => [...x, ...y, ...op.f32x4Sub];
/** y + c·x: fused (relaxed SIMD) with `fma`, else `plain` (the same sum as the body always computed it) */
const madd = (fma: boolean, x: number[], c: number, y: number[], plain: number[]): number[] =>
  fma ? [...x, ...splat(c), ...y, ...op.f32x4RelaxedMadd] : plain;

/** Bᵀ·x (6 -> 6); T: 6 scratch locals; `fma`: the terms c·x added by the fused multiply-add */
function bt6(x: Get, put: Put, T: number[], fma: boolean): number[] {
  const [a, b, c, e, f, g] = T;
  const v = (l: number) => op.get(l);
  return [
    ...plus(x(1), x(2)), ...op.set(a),
    ...plus(x(3), x(4)), ...op.set(b),
    ...minus(x(1), x(2)), ...op.set(c),
    ...minus(x(4), x(3)), ...op.set(e),
    ...mul(minus(x(1), x(3)), 2), ...op.set(f), // 2·(x1 - x3)
    ...minus(x(4), x(2)), ...op.set(g),
    ...put(0, madd(fma, x(2), -5, madd(fma, x(0), 4, x(4), []), minus(plus(x(4), mul(x(0), 4)), mul(x(2), 5)))),
    ...put(1, madd(fma, v(a), -4, v(b), minus(v(b), mul(v(a), 4)))),
    ...put(2, madd(fma, v(c), 4, v(e), plus(v(e), mul(v(c), 4)))),
    ...put(3, minus(v(g), v(f))),
    ...put(4, plus(v(g), v(f))),
    ...put(5, madd(fma, x(3), -5, madd(fma, x(1), 4, x(5), []), minus(plus(x(5), mul(x(1), 4)), mul(x(3), 5)))),
  ]; // prettier-ignore
}
/** Aᵀ·x (6 -> 4); `fma` as bt6's */
function at6(x: Get, put: Put, T: number[], fma: boolean): number[] {
  const [p, q, r, s] = T;
  const v = (l: number) => op.get(l);
  return [
    ...plus(x(1), x(2)), ...op.set(p),
    ...minus(x(1), x(2)), ...op.set(q),
    ...plus(x(3), x(4)), ...op.set(r),
    ...minus(x(3), x(4)), ...op.set(s),
    ...put(0, plus(plus(x(0), v(p)), v(r))),
    ...put(1, madd(fma, v(s), 2, v(q), plus(v(q), mul(v(s), 2)))),
    ...put(2, madd(fma, v(r), 4, v(p), plus(v(p), mul(v(r), 4)))),
    ...put(3, plus(madd(fma, v(s), 8, v(q), plus(v(q), mul(v(s), 8))), x(5))),
  ]; // prettier-ignore
}
/** winoIn4 as winoInBody(F4x4_3x3) computes it (the same signature and layout), by bt6 in two passes */
export function winoIn4Body(fma: boolean): number[] {
  const k = 6,
    n = 6;
  // locals: the row pointer PR, the row's or column's 6 values X, 6 scratch vectors T
  return tileInFrame(k, n, 4, 1, 12, ({ RB, SP, DP, COL, XI, i32, v128 }) => {
    const PR = i32(0);
    const X = (i: number) => v128(i);
    const T = [6, 7, 8, 9, 10, 11].map(v128);
    const plane = (xi: number) => at(DP, XI(xi));
    const quad: number[] = [...copy(SP, PR)];
    // rows: each of the k rows' k pixels loaded once; its n results to the planes of (row, j)
    for (let r = 0; r < k; r++) {
      if (r > 0) quad.push(...add(PR, RB, PR));
      for (let c = 0; c < k; c++) quad.push(...at(PR, COL(c)), ...op.loadAt(0), ...op.set(X(c)));
      quad.push(
        ...bt6(
          (c) => op.get(X(c)),
          (j, value) => [...plane(n * r + j), ...value, ...op.storeAt(0)],
          T,
          fma,
        ),
      );
    }
    // columns: the k values of column j from those planes, its n results over them
    for (let j = 0; j < n; j++) {
      for (let r = 0; r < k; r++) quad.push(...plane(n * r + j), ...op.loadAt(0), ...op.set(X(r)));
      quad.push(
        ...bt6(
          (r) => op.get(X(r)),
          (i, value) => [...plane(n * i + j), ...value, ...op.storeAt(0)],
          T,
          fma,
        ),
      );
    }
    return quad;
  });
}

/** winoOut4 as winoOutBody(F4x4_3x3) computes it (the same signature and layout), by at6 in two passes */
export function winoOut4Body(fma: boolean): number[] {
  const n = 6,
    m = 4;
  // locals: a row's or column's 6 values X, 4 scratch vectors T
  return tileOutFrame(m, n, 10, ({ MP, XI, pixel, bias, v128 }) => {
    const X = (i: number) => v128(i);
    const T = [6, 7, 8, 9].map(v128);
    const plane = (xi: number) => at(MP, XI(xi));
    const quad: number[] = [];
    // rows: (M·A)[i][c] over M's row i, stored at the planes of (i, c), c < 4
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) quad.push(...plane(n * i + j), ...op.loadAt(0), ...op.set(X(j)));
      quad.push(
        ...at6(
          (j) => op.get(X(j)),
          (c, value) => [...plane(n * i + c), ...value, ...op.storeAt(0)],
          T,
          fma,
        ),
      );
    }
    // columns: Y[a][c] = (Aᵀ·s)[a] + bias, to the output
    for (let c = 0; c < m; c++) {
      for (let i = 0; i < n; i++) quad.push(...plane(n * i + c), ...op.loadAt(0), ...op.set(X(i)));
      quad.push(
        ...at6(
          (i) => op.get(X(i)),
          (a, value) => [...pixel(a, c), ...value, ...bias, ...op.f32x4Add, ...op.storeAt(0)],
          T,
          fma,
        ),
      );
    }
    return quad;
  });
}
