/**
 * The wasm Conv2D / FusedConv2D replacement for 1x1 stride-1 convs over few pixels (pointwiseConvForward.ts, the
 * SIMD kernel outer4x8): results against a float64 reference (plain loops) and the stock tfjs cpu kernels; the
 * SIMD path counted where it applies, the stock kernel where it does not (more pixels, an activation, odd sizes).
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';
import { backendMemory, simdKernelsFor, type SimdKernels } from '../../src/worker/kernels/simdKernelModule';
import { shipWasm } from './shippedWasm';

// the wasm build the engine ships: threaded (all cores), or single-threaded with BN_INSPECTOR_WASM_THREADS=1
shipWasm(tf);

interface Case {
  x: [number, number, number, number];
  co: number;
  bias?: boolean;
  activation?: 'linear' | 'relu';
  pad?: 'same' | 'valid';
  /** the SIMD path applies (M = B·H·W <= 128, M % 8 == 0, Co % 4 == 0, no activation) */
  simd: boolean;
}
const CASES: Case[] = [
  { x: [8, 2, 2, 320], co: 1280, simd: true },
  { x: [8, 4, 4, 24], co: 16, bias: true, simd: true },
  { x: [2, 2, 2, 12], co: 8, pad: 'valid', simd: true },
  { x: [2, 2, 4, 6], co: 8, bias: true, simd: true }, // Ci not a multiple of 4: the transpose's edge columns
  { x: [8, 4, 4, 96], co: 576, bias: true, simd: true },
  { x: [3, 3, 3, 16], co: 8, simd: false }, // 27 pixels: not a multiple of 8
  { x: [8, 2, 2, 16], co: 6, simd: false }, // Co not a multiple of 4
  { x: [8, 8, 8, 16], co: 32, simd: false }, // 512 pixels: stock is faster there
  { x: [8, 2, 2, 16], co: 32, activation: 'relu', bias: true, simd: false },
];

function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.731 + seed * 1.37) * (1 + (i % 3)));
}

/** out[p, o] = Σ_c x[p, c] · w[c, o] + bias[o], then the activation, in float64; and Σ_c |x · w| + |bias| */
function reference(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | null,
  M: number,
  Ci: number,
  Co: number,
  relu: boolean,
): { out: Float64Array; abs: Float64Array } {
  const out = new Float64Array(M * Co);
  const abs = new Float64Array(M * Co);
  for (let p = 0; p < M; p++)
    for (let o = 0; o < Co; o++) {
      let s = b ? b[o] : 0;
      let a = b ? Math.abs(b[o]) : 0;
      for (let c = 0; c < Ci; c++) {
        s += x[p * Ci + c] * w[c * Co + o];
        a += Math.abs(x[p * Ci + c] * w[c * Co + o]);
      }
      out[p * Co + o] = relu ? Math.max(0, s) : s;
      abs[p * Co + o] = a;
    }
  return { out, abs };
}

async function onBackend<T>(name: string, f: () => T): Promise<T> {
  await tf.setBackend(name);
  await tf.ready();
  return f();
}

describe('kernels: 1x1 Conv2D / FusedConv2D over few pixels on wasm (SIMD)', function () {
  this.timeout(120000);
  let before0 = 'wasm';
  before(() => {
    before0 = tf.getBackend() ?? 'wasm';
    unregisterMissingKernels(tf);
    const cpu = tf.engine().findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (cpu) cpu.firstUse = false;
  });
  after(async () => {
    unregisterMissingKernels(tf);
    await tf.setBackend(before0);
    await tf.ready();
  });

  for (const op of ['FusedConv2D', 'Conv2D'] as const)
    it(`${op}: every case within float32 summation error of the float64 reference and of stock cpu; SIMD exactly where it applies`, async () => {
      for (const c of CASES) {
        if (op === 'Conv2D' && (c.bias || c.activation)) continue;
        const [B, H, W, Ci] = c.x;
        const M = B * H * W;
        const xv = values(M * Ci, 1),
          wv = values(Ci * c.co, 2),
          bv = c.bias ? values(c.co, 3) : null;
        const attrs = {
          strides: 1,
          pad: c.pad ?? 'same',
          dataFormat: 'NHWC',
          dilations: 1,
          dimRoundingMode: undefined,
          ...(op === 'FusedConv2D' ? { activation: c.activation ?? 'linear', leakyreluAlpha: 0.2 } : {}),
        };
        const run = () => {
          const x = tf.tensor(xv, c.x),
            w = tf.tensor(wv, [1, 1, Ci, c.co]);
          const bias = bv ? tf.tensor(bv, [c.co]) : undefined;
          const inputs = op === 'FusedConv2D' ? { x, filter: w, ...(bias ? { bias } : {}) } : { x, filter: w };
          const y = tf.engine().runKernel(op, inputs as never, attrs as never) as tf.Tensor;
          assert.deepEqual(y.shape, [B, H, W, c.co]);
          const v = y.dataSync().slice() as Float32Array;
          tf.dispose([x, w, y, ...(bias ? [bias] : [])]);
          return v;
        };
        const stock = await onBackend('cpu', run);
        let calls = 0;
        const got = await onBackend('wasm', () => {
          registerMissingKernels(tf, { backends: ['wasm'] });
          const k = simdKernelsFor(backendMemory(tf.backend())!) as SimdKernels;
          const orig = k.outer4x8;
          k.outer4x8 = (...a) => {
            calls++;
            return orig(...a);
          };
          try {
            return run();
          } finally {
            k.outer4x8 = orig;
          }
        });
        const ref = reference(xv, wv, bv, M, Ci, c.co, c.activation === 'relu');
        // float32 summation of Ci + 1 terms in any order is within (Ci + 1)·2^-24·Σ|terms| of the exact sum (the
        // textbook bound); a wrong kernel is off by the terms themselves
        const bound = (Ci + 1) * 2 ** -24;
        let e = 0,
          es = 0;
        for (let i = 0; i < ref.out.length; i++) {
          const a = ref.abs[i] + 1e-30;
          e = Math.max(e, Math.abs(got[i] - ref.out[i]) / a);
          es = Math.max(es, Math.abs(got[i] - stock[i]) / a);
        }
        assert.ok(e <= bound, `${op} ${JSON.stringify(c)}: ${e} of Σ|terms| from the reference (bound ${bound})`);
        assert.ok(es <= 2 * bound, `${op} ${JSON.stringify(c)}: ${es} of Σ|terms| from stock cpu`);
        assert.equal(calls > 0, c.simd, `${op} ${JSON.stringify(c)}: SIMD path ${calls} calls`);
      }
    });
});
