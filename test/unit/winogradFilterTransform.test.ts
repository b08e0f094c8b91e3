/**
 * The Winograd filter transform U = G·g·Gᵀ by the SIMD module (kernels/simdWinogradFilter.ts, through
 * winogradConv.ts's filterTransform) on the real wasm backend's heap: every result bit for bit what the JavaScript
 * float64 transform (winogradFilter) gives, for F(2x2, 3x3) and F(4x4, 3x3), odd and even cell counts, values
 * across magnitudes with zeros, -0, subnormals, infinities and NaN; and each result within half a float32 ulp (plus
 * float64 rounding) of an independent float64 product computed in the other order, G·(g·Gᵀ).
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { backendMemory, simdKernelsFor, type SimdKernels } from '../../src/worker/kernels/simdKernelModule';
import { filterTransform, winogradFilter } from '../../src/worker/kernels/winogradConv';
import { F2x2_3x3, F4x4_3x3 } from '../../src/worker/kernels/simdWinograd';
import { shipWasm } from './shippedWasm';

shipWasm(tf);

/** deterministic filter values over many magnitudes, with the special values at fixed places */
function filterValues(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < n; i++) v[i] = (next() - 0.5) * 2 ** Math.floor(next() * 40 - 20);
  const specials = [0, -0, 1e-40, -3e-39, Infinity, -Infinity, NaN, 3.4e38];
  for (let i = 0; i < specials.length && 7 * i + 3 < n; i++) v[7 * i + 3] = specials[i];
  return v;
}

describe('kernels: the Winograd filter transform in SIMD float64', function () {
  this.timeout(60000);
  let simd: SimdKernels;
  let b: { typedArrayFromHeap(t: tf.Tensor): Float32Array };
  before(async () => {
    assert.ok(await tf.setBackend('wasm'));
    await tf.ready();
    simd = simdKernelsFor(backendMemory(tf.backend())!)!;
    assert.ok(simd, 'the SIMD kernels run here');
    b = tf.backend() as unknown as typeof b;
  });

  for (const m of [F2x2_3x3, F4x4_3x3])
    for (const [ci, co] of [
      [1, 1],
      [3, 5],
      [4, 8],
      [16, 16],
      [7, 9],
      [64, 40],
    ])
      it(`F(${m.m}x${m.m}, 3x3), ${ci} x ${co} cells: the JavaScript transform's bits, float64-exact rounding`, () => {
        const n = m.G.length;
        const cells = ci * co;
        const tensors = tf.memory().numTensors;
        const wT = tf.tensor1d(filterValues(9 * cells, cells + m.m));
        const uT = tf.fill([n * n * cells], 12345);
        try {
          const w = b.typedArrayFromHeap(wT);
          filterTransform(simd, m, w, cells, b.typedArrayFromHeap(uT));
          const got = b.typedArrayFromHeap(uT).slice();
          const js = new Float32Array(n * n * cells);
          winogradFilter(w.slice(), ci, co, js, m.G);
          for (let i = 0; i < got.length; i++)
            assert.ok(Object.is(got[i], js[i]), `U[${i}]: ${got[i]} (SIMD) vs ${js[i]} (JavaScript)`);
          // independent: G·(g·Gᵀ) in float64, then the float32 result within half an ulp (+ float64 rounding)
          const G = m.G;
          for (let p = 0; p < cells; p++) {
            const g = Array.from({ length: 9 }, (_, k) => w[k * cells + p]);
            for (let i = 0; i < n; i++)
              for (let j = 0; j < n; j++) {
                let u = 0;
                for (let r = 0; r < 3; r++) {
                  let row = 0; // (g·Gᵀ)[r][j]
                  for (let c = 0; c < 3; c++) row += g[3 * r + c] * G[j][c];
                  u += G[i][r] * row;
                }
                const v = got[(n * i + j) * cells + p];
                if (!Number.isFinite(u) || g.some((x) => !Number.isFinite(x))) {
                  // non-finite taps: NaN or an infinity in both, whatever order made it
                  assert.equal(
                    Number.isFinite(v),
                    Number.isFinite(u) && g.every(Number.isFinite),
                    `U[${i}][${j}] cell ${p}`,
                  );
                  continue;
                }
                const scale = 3 * Math.max(...g.map(Math.abs)); // bounds the float64 terms' magnitude
                const ulp = Math.max(2 ** -149, 2 ** (Math.floor(Math.log2(Math.abs(u) || 2 ** -149)) - 23));
                const tol = ulp / 2 + 8 * 2 ** -53 * scale;
                assert.ok(Math.abs(v - u) <= tol, `U[${i}][${j}] cell ${p}: ${v} vs float64 ${u} (tol ${tol})`);
              }
          }
        } finally {
          tf.dispose([wT, uT]);
        }
        assert.equal(tf.memory().numTensors, tensors);
      });
});
