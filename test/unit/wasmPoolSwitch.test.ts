/**
 * The threaded build's XNNPACK pool used call by call (src/worker/wasmPoolSwitch.ts, kernels/threadedCalls.ts):
 * where the pool's thread count lies in both shipped builds, the divisor pthreadpool keeps beside it, and, on the
 * threaded build (the child run of threadedWasm.test.ts), the switch on the running pool: the count left at 1
 * between calls, the whole pool only for calls of at least threadedCallSettings.minFlops, the products the same
 * either way and right against a float64 reference. On the single-threaded build: no switch.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';
import { installThreadedCalls, threadedCallSettings } from '../../src/worker/kernels/threadedCalls';
import { simdModuleBytes } from '../../src/worker/simdMomentsModule';
import { backendMemory } from '../../src/worker/wasmHeapModule';
import { countDivisor, locatePoolCount, type PoolCountPlace } from '../../src/worker/wasmPoolSwitch';
import { THREADED_WASM, activeWasmThreads, wasmPoolSwitch } from '../../src/worker/wasmThreaded';
import { assertClose } from './reference';
import { shipWasm } from './shippedWasm';

const threads = shipWasm(tf);
const WASM_DIR = join(resolve(__dirname, '..', '..'), 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');

/** fxdiv_quotient_size_t: what pthreadpool computes with the divisor (32-bit size_t) */
function quotient(x: number, [, m, s1, s2]: [number, number, number, number]): number {
  const t = Number((BigInt(x) * BigInt(m)) >> 32n);
  return (t + ((x - t) >>> s1)) >>> s2;
}

/** float64 NHWC convolution, stride 1, 'same' padding */
function conv64(x: Float32Array, [B, H, W, Ci]: number[], f: Float32Array, k: number, Co: number): Float64Array {
  const out = new Float64Array(B * H * W * Co);
  const p = (k - 1) >> 1;
  for (let b = 0; b < B; b++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let o = 0; o < Co; o++) {
          let s = 0;
          for (let di = 0; di < k; di++)
            for (let dj = 0; dj < k; dj++) {
              const ii = i + di - p,
                jj = j + dj - p;
              if (ii < 0 || jj < 0 || ii >= H || jj >= W) continue;
              for (let c = 0; c < Ci; c++)
                s += x[((b * H + ii) * W + jj) * Ci + c] * f[((di * k + dj) * Ci + c) * Co + o];
            }
          out[((b * H + i) * W + j) * Co + o] = s;
        }
  return out;
}

describe('the XNNPACK pool used call by call', function () {
  it('finds the thread count in both shipped builds, and nothing in other modules', () => {
    for (const file of [THREADED_WASM, 'tfjs-backend-wasm-simd.wasm']) {
      const place = locatePoolCount(readFileSync(join(WASM_DIR, file)));
      assert.ok(place, file);
      assert.ok(place.pointerAddress > 0 && place.pointerAddress % 4 === 0, `${file}: the pool pointer's address`);
      assert.ok(place.countOffset > 0 && place.countOffset % 4 === 0, `${file}: the count's offset`);
    }
    assert.equal(locatePoolCount(simdModuleBytes()), null, 'a module without get_threads_count');
    assert.equal(locatePoolCount(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 10, 200])), null, 'truncated');
  });

  it('looking for the switch never starts the wasm backend (a cpu run must not load it)', () => {
    // tf.findBackend('wasm') initialises a registered backend: the wasm glue's rethrowing process handlers then
    // turned a script's error into a crash of the cpu worker (found by semantics.test.ts)
    const engine = tf.engine() as unknown as { findBackend: unknown; initializeBackend: unknown };
    const saved = [engine.findBackend, engine.initializeBackend];
    engine.findBackend = engine.initializeBackend = () => {
      throw new Error('a backend was looked up or started');
    };
    try {
      const sw = wasmPoolSwitch(tf);
      assert.ok(sw === null || sw.threads === threads);
    } finally {
      [engine.findBackend, engine.initializeBackend] = saved;
    }
  });

  it("writes pthreadpool's divisor of the count: its quotients are floor(x / n)", () => {
    for (let n = 1; n <= 8; n++) {
      const d = countDivisor(n);
      assert.equal(d[0], n);
      for (const x of [0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 1000, 123457, 2 ** 20 + 3, 2 ** 31 - 1, 2 ** 32 - 1])
        assert.equal(quotient(x, d), Math.floor(x / n), `${x} / ${n}`);
    }
  });

  describe(`on the ${threads > 1 ? `threaded build (${threads} threads)` : 'single-threaded build'}`, function () {
    let place: PoolCountPlace;
    /** the pool's count as pthreadpool reads it: [value, m, s1, s2] */
    const countNow = (): number[] => {
      const memory = backendMemory(tf.backend())!;
      const pool = new Uint32Array(memory.buffer)[place.pointerAddress >>> 2];
      const at = pool + place.countOffset;
      const u32 = new Uint32Array(memory.buffer, at, 2);
      const u8 = new Uint8Array(memory.buffer, at + 8, 2);
      return [u32[0], u32[1], u8[0], u8[1]];
    };

    before(async () => {
      assert.ok(await tf.setBackend('wasm'));
      await tf.ready();
      place = locatePoolCount(
        readFileSync(join(WASM_DIR, threads > 1 ? THREADED_WASM : 'tfjs-backend-wasm-simd.wasm')),
      )!;
      threadedCallSettings.minFlops = 5e6;
      unregisterMissingKernels(tf); // a fresh install (the suites of one process share the registry)
      const names = registerMissingKernels(tf);
      // the settings this file moves are the ones the installed wrappers read (one module instance)
      if (threads > 1) assert.ok(names.includes(`pool: ${threads} threads for calls of 5 MFLOP or more`), names.join());
    });
    after(() => {
      threadedCallSettings.minFlops = 8e6;
      unregisterMissingKernels(tf);
    });

    if (threads === 1) {
      it('has no switch: the pool is never touched', () => {
        assert.equal(wasmPoolSwitch(tf), null);
        assert.equal(activeWasmThreads(tf), 1);
      });
      return;
    }

    it('leaves the pool on the calling thread between calls, and reports its real size', () => {
      const sw = wasmPoolSwitch(tf);
      assert.ok(sw, 'a switch on the threaded build');
      assert.equal(sw.threads, threads);
      assert.equal(activeWasmThreads(tf), threads, 'get_threads_count: the pool, not the switch');
      assert.deepEqual(countNow(), countDivisor(1));
      sw.setParallel(true);
      assert.deepEqual(countNow(), countDivisor(threads), 'as pthreadpool_create wrote it');
      sw.setParallel(false);
      assert.deepEqual(countNow(), countDivisor(1));
    });

    it('gives the whole pool to large convolutions and products only, and restores it after a throw', () => {
      const sw = wasmPoolSwitch(tf)!;
      const seen: { on: boolean; count: number }[] = [];
      // a recording switch around the real one, over the kernels registerMissingKernels wrapped
      const undo = installThreadedCalls(tf, {
        threads: sw.threads,
        setParallel(on) {
          sw.setParallel(on);
          seen.push({ on, count: countNow()[0] });
        },
      });
      try {
        const big = tf.tidy(() =>
          tf.conv2d(tf.ones([8, 32, 32, 16]) as tf.Tensor4D, tf.ones([3, 3, 16, 16]) as tf.Tensor4D, 1, 'same'),
        );
        big.dispose(); // 2 * 8 * 32 * 32 * 3 * 3 * 16 * 16 = 37.7 MFLOP
        assert.deepEqual(seen, [
          { on: true, count: threads },
          { on: false, count: 1 },
        ]);
        seen.length = 0;
        tf.tidy(() => tf.conv2d(tf.ones([1, 8, 8, 4]) as tf.Tensor4D, tf.ones([3, 3, 4, 4]) as tf.Tensor4D, 1, 'same'));
        tf.tidy(() => tf.matMul(tf.ones([16, 16]), tf.ones([16, 16])));
        assert.equal(seen.length, 0, 'small calls: one thread, no switching');
        tf.tidy(() => tf.matMul(tf.ones([256, 256]), tf.ones([256, 256]))); // 33.6 MFLOP
        assert.deepEqual(
          seen.map((s) => s.on),
          [true, false],
        );
        seen.length = 0;
        assert.throws(() =>
          tf.tidy(() =>
            tf.conv2d(tf.ones([8, 32, 32, 16]) as tf.Tensor4D, tf.ones([3, 3, 8, 16]) as tf.Tensor4D, 1, 'same'),
          ),
        );
        assert.equal(countNow()[0], 1, 'after a call that threw');
      } finally {
        undo();
      }
    });

    it('computes the same products on one thread and on the whole pool, right against float64', () => {
      const shape = [4, 16, 16, 16];
      const xs = Float32Array.from({ length: 4 * 16 * 16 * 16 }, (_, i) => Math.sin(i * 0.37) * 2);
      const fs = Float32Array.from({ length: 3 * 3 * 16 * 24 }, (_, i) => Math.cos(i * 0.11));
      const run = (minFlops: number) => {
        threadedCallSettings.minFlops = minFlops;
        return tf.tidy(() => {
          const y = tf.conv2d(
            tf.tensor4d(xs, shape as [number, number, number, number]),
            tf.tensor4d(fs, [3, 3, 16, 24]),
            1,
            'same',
          );
          const z = tf.matMul(y.reshape([4 * 16 * 16, 24]), tf.tensor2d(fs.subarray(0, 24 * 96), [24, 96]));
          return [y.dataSync().slice(), z.dataSync().slice()] as [Float32Array, Float32Array];
        });
      };
      const [y1, z1] = run(Infinity);
      const [yN, zN] = run(0);
      assert.deepEqual(yN, y1, 'the convolution bit for bit');
      assert.deepEqual(zN, z1, 'the product bit for bit');
      const ref = conv64(xs, shape, fs, 3, 24);
      assertClose(yN, ref, 'conv on the whole pool vs float64', { scale: 3 * 3 * 16 * 2 });
    });
  });
});
