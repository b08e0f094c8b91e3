/**
 * The Winograd filter transform U = G·g·Gᵀ of the engine's SIMD module (simdKernelModule.ts): winoFilter2 (F(2x2, 3x3))
 * and winoFilter4 (F(4x4, 3x3)) compute, two filter cells (ci, co pairs) at a time in float64 lanes, exactly the float64
 * operations of winogradConv.ts's winogradFilter in the same order, each result rounded once to float32: the same bits.
 * winogradConv.ts ran it in JavaScript, at every call (a training step's forward conv and its input gradient's, every
 * predict): measured in one process, F(4x4) of a 3x3x16x16 filter 0.023 against 0.10-0.15 ms, 3x3x64x64 0.36 against
 * 1.2-2.0 ms, 3x3x256x256 7.8 against 32 ms; that layer's whole convolution of [8, 14, 14, 256]: 28-31 against 44-60 ms.
 *
 *   winoFilterN(dst, src, pairs, planeBytes): for each of `pairs` pairs of cells (8 bytes a pair, from src and dst on):
 *   g[k] (k = 3 r + c < 9, the filter's tap (r, c)) at src + k · planeBytes, U[n i + j] stored at dst + (n i + j) ·
 *   planeBytes, where a[i][c] = (G[i][0]·g[c] + G[i][1]·g[3 + c]) + G[i][2]·g[6 + c] and
 *   U[n i + j] = (a[i][0]·G[j][0] + a[i][1]·G[j][1]) + a[i][2]·G[j][2] (float64; every product, zeros included).
 */
import { I32, SIMD, V128 } from '../wasmAssembler';
import { addTo, countDown, fn, multiples, op } from './simdOps';
import { F2x2_3x3, F4x4_3x3 } from './simdWinograd';

const f64x2 = {
  mul: [SIMD, 0xf2, 0x01],
  add: [SIMD, 0xf0, 0x01],
  demoteZero: [SIMD, 0x5e], // f32x4.demote_f64x2_zero
  /** v128.const of two float64 lanes c */
  splat: (c: number): number[] => {
    const b = new Uint8Array(new Float64Array([c, c]).buffer);
    return [SIMD, 0x0c, ...b];
  },
};

/**
 * pushes (x0·c0 + x1·c1) + x2·c2 in float64 lanes (x: the three terms' code; K(c): the local holding c in both
 * lanes); a product by 1 is the term itself (x·1 = x, bit for bit), a product by 0 is kept (0·∞ is NaN, 0·-x is -0)
 */
function dot3(x: number[][], c: number[], K: (c: number) => number): number[] {
  const term = (k: number) => (c[k] === 1 ? x[k] : [...x[k], ...op.get(K(c[k])), ...f64x2.mul]);
  return [...term(0), ...term(1), ...f64x2.add, ...term(2), ...f64x2.add];
}

/** the body of winoFilterN for G (n x 3) */
function winoFilterBody(G: number[][]): number[] {
  const n = G.length;
  const DST = 0,
    SRC = 1,
    PAIRS = 2,
    PB = 3;
  let next = 4;
  const OFF0 = next; // OFF(k) = k · planeBytes, k = 1 .. n² - 1 (n² >= 9 covers the taps too)
  next += n * n - 1;
  const i32Count = next - 4;
  const OFF = (k: number) => OFF0 + k - 1;
  const G0 = next; // v128 locals: the 9 taps, a[i][0..2] of one row i, then G's distinct entries but 1
  const A0 = G0 + 9;
  const consts = [...new Set(G.flat())].filter((c) => c !== 1);
  const C0 = A0 + 3;
  const K = (c: number) => C0 + consts.indexOf(c);
  const at = (base: number, k: number) => (k === 0 ? op.get(base) : [...op.get(base), ...op.get(OFF(k)), ...op.i32Add]);
  const body: number[] = [];
  for (let k = 0; k < 9; k++) body.push(...at(SRC, k), ...op.load64ZeroAt(0), ...op.promoteLow, ...op.set(G0 + k));
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++)
      body.push(...dot3([op.get(G0 + c), op.get(G0 + 3 + c), op.get(G0 + 6 + c)], G[i], K), ...op.set(A0 + c));
    for (let j = 0; j < n; j++)
      body.push(
        ...at(DST, n * i + j),
        ...dot3([op.get(A0), op.get(A0 + 1), op.get(A0 + 2)], G[j], K),
        ...f64x2.demoteZero,
        ...op.store64Lane0At(0),
      );
  }
  body.push(...addTo(SRC, 8), ...addTo(DST, 8));
  return fn(
    [
      [i32Count, I32],
      [12 + consts.length, V128],
    ],
    [
      ...multiples(PB, n * n, OFF),
      ...consts.flatMap((c) => [...f64x2.splat(c), ...op.set(K(c))]),
      ...countDown(PAIRS, body),
    ],
  );
}

export const winoFilter2Body = (): number[] => winoFilterBody(F2x2_3x3.G);
export const winoFilter4Body = (): number[] => winoFilterBody(F4x4_3x3.G);

/** winoFilterN's signature (simdKernelModule.ts): byte offsets in the backend's heap */
export type WinoFilter = (dst: number, src: number, pairs: number, planeBytes: number) => void;
