/**
 * The products of the engine's SIMD module (gemm4x8, outer4x8, macRows: src/worker/kernels/simdProducts.ts) in both
 * kinds: multiply then add (plain wasm SIMD), and relaxed SIMD's fused multiply-add, which the engine uses where the
 * runtime has it (on Node 20 with V8's flag set around the compile only: src/worker/relaxedSimdSupport.ts). Each kind against a float64 reference, within float32 summation error; the fused kind really fused on a CPU with
 * FMA (a product whose exact value float32 cannot hold, plus a sum that cancels); the engine's kernels on the tfjs
 * wasm heap are the fused kind here, and the plain kind with BN_INSPECTOR_FMA=0 (a child process).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { backendMemory, simdKernelModuleBytes, simdKernelsFor } from '../../src/worker/kernels/simdKernelModule';
import { compileModule, fusedMultiplyAdd, RELAXED_SIMD_PROBE } from '../../src/worker/relaxedSimdSupport';
import { shipWasm } from './shippedWasm';

shipWasm(tf);
const ROOT = resolve(__dirname, '..', '..');

type Fn = (...a: number[]) => void;
interface Products {
  f32: Float32Array;
  gemm4x8: Fn;
  outer4x8: Fn;
  macRows: Fn;
}

function instantiate(fma: boolean): Products {
  const memory = new WebAssembly.Memory({ initial: 16 });
  const module = compileModule(simdKernelModuleBytes(false, fma), fma);
  assert.ok(module, `the ${fma ? 'fused' : 'plain'} module compiles`);
  const e = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, Fn>;
  return { f32: new Float32Array(memory.buffer), gemm4x8: e.gemm4x8, outer4x8: e.outer4x8, macRows: e.macRows };
}

/** the CPU has fused multiply-add (x86 'fma' flag, or an arm64 CPU: FMA is part of its SIMD) */
function cpuHasFma(): boolean {
  if (process.arch === 'arm64') return true;
  try {
    return /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

let seed = 12345;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648 - 0.5;
};
const fill = (f: Float32Array, at: number, n: number) => {
  for (let i = 0; i < n; i++) f[at + i] = Math.fround(rand() * 4);
};

describe('the SIMD products, plain and with relaxed SIMD fused multiply-add', () => {
  it('relaxed SIMD compiles here (on Node 20 by the flag around the compile), and the flag is back after', () => {
    const before = WebAssembly.validate(RELAXED_SIMD_PROBE);
    assert.equal(fusedMultiplyAdd(), true);
    assert.ok(compileModule(RELAXED_SIMD_PROBE, true), 'the probe compiles with relaxed SIMD');
    // Node 20: off before and after (V8's flags, and with them its code caches' hash, as they were); Node 22+: on
    assert.equal(WebAssembly.validate(RELAXED_SIMD_PROBE), before);
    assert.equal(
      before,
      Number(process.versions.v8.split('.')[0]) * 100 + Number(process.versions.v8.split('.')[1]) >= 1104,
    );
  });

  for (const fma of [false, true]) {
    const kind = fma ? 'fused' : 'plain';
    it(`${kind}: gemm4x8 (12 x 37 · 37 x 16, initial row) within float32 summation error of float64`, () => {
      const p = instantiate(fma);
      const M = 12,
        K = 37,
        N = 16;
      const a = 16,
        b = a + M * K,
        c = b + K * N,
        init = c + M * N;
      fill(p.f32, a, M * K);
      fill(p.f32, b, K * N);
      fill(p.f32, init, N);
      p.gemm4x8(c * 4, a * 4, b * 4, M / 4, K, N / 8, K * 4, 4, N * 4, N * 4, init * 4, 0);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let want = p.f32[init + j],
            abs = Math.abs(want);
          for (let k = 0; k < K; k++) {
            const t = p.f32[a + i * K + k] * p.f32[b + k * N + j];
            want += t;
            abs += Math.abs(t);
          }
          const err = Math.abs(p.f32[c + i * N + j] - want);
          assert.ok(err <= (K + 1) * 2 ** -24 * abs, `C[${i}][${j}]: ${err} against bound ${(K + 1) * 2 ** -24 * abs}`);
        }
    });

    it(`${kind}: outer4x8 and macRows (29 rows) within float32 summation error of float64`, () => {
      const p = instantiate(fma);
      const R = 29;
      const x = 16,
        dy = x + R * 4,
        acc = dy + R * 8,
        x8 = acc + 32,
        d8 = x8 + R * 8,
        acc8 = d8 + R * 8;
      fill(p.f32, x, R * 4 + R * 8 + 32 + 2 * R * 8 + 8);
      const acc0 = p.f32.slice(acc, acc + 32);
      const mac0 = p.f32.slice(acc8, acc8 + 8);
      // acc[i][j] += Σ_r x[r][i] · dy[r][j]: 4 x 8, x's rows 4 floats apart, dy's 8, acc's rows 8
      p.outer4x8(acc * 4, x * 4, dy * 4, R, 16, 32, 32, 1);
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 8; j++) {
          let want = acc0[i * 8 + j],
            abs = Math.abs(want);
          for (let r = 0; r < R; r++) {
            const t = p.f32[x + r * 4 + i] * p.f32[dy + r * 8 + j];
            want += t;
            abs += Math.abs(t);
          }
          const err = Math.abs(p.f32[acc + i * 8 + j] - want);
          assert.ok(err <= (R + 1) * 2 ** -24 * abs, `outer4x8 [${i}][${j}]: ${err}`);
        }
      // acc[c] += Σ_r x[r][c] · dy[r][c] for 8 channels, rows 8 floats apart
      p.macRows(acc8 * 4, x8 * 4, d8 * 4, R, 32, 32, 32);
      for (let ch = 0; ch < 8; ch++) {
        let want = mac0[ch],
          abs = Math.abs(want);
        for (let r = 0; r < R; r++) {
          const t = p.f32[x8 + r * 8 + ch] * p.f32[d8 + r * 8 + ch];
          want += t;
          abs += Math.abs(t);
        }
        const err = Math.abs(p.f32[acc8 + ch] - want);
        assert.ok(err <= (R + 1) * 2 ** -24 * abs, `macRows [${ch}]: ${err}`);
      }
    });
  }

  // (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴: float32 rounds it to 1 + 2⁻¹¹ (a tie, to even); minus 1, fused: 2⁻¹¹ + 2⁻²⁴
  const u = 1 + 2 ** -12;
  const fusedValue = 2 ** -11 + 2 ** -24;
  const plainValue = 2 ** -11;
  const oneProduct = (run: (c: number, a: number, b: number, init: number) => void, f32: Float32Array) => {
    f32.fill(0, 0, 64);
    f32.fill(u, 0, 4); // A: 4 x 1
    f32.fill(u, 4, 12); // B: 1 x 8
    f32.fill(-1, 12, 20); // initial row
    run(20 * 4, 0, 4 * 4, 12 * 4);
    return Array.from(f32.subarray(20, 52));
  };
  const gemm = (k: { gemm4x8: Fn }) => (c: number, a: number, b: number, init: number) =>
    k.gemm4x8(c, a, b, 1, 1, 1, 4, 4, 32, 32, init, 0);

  it('one product that float32 cannot hold: the plain kind rounds it, the fused kind keeps it (a CPU with FMA)', () => {
    const plain = instantiate(false);
    assert.deepEqual(oneProduct(gemm(plain), plain.f32), new Array(32).fill(plainValue));
    const fused = instantiate(true);
    const want = cpuHasFma() ? fusedValue : plainValue;
    assert.deepEqual(oneProduct(gemm(fused), fused.f32), new Array(32).fill(want));
  });

  it("the engine's kernels on the tfjs wasm heap: fused here, plain with BN_INSPECTOR_FMA=0", async () => {
    await tf.setBackend('wasm');
    const be = tf.backend() as unknown as {
      makeOutput(s: number[], d: string): { dataId: object };
      typedArrayFromHeap(t: object): Float32Array;
      disposeData(id: object): void;
    };
    const k = simdKernelsFor(backendMemory(be)!)!;
    const t = be.makeOutput([64], 'float32');
    const v = be.typedArrayFromHeap(t);
    const o = v.byteOffset;
    const got = oneProduct((c, a, b, init) => k.gemm4x8(o + c, o + a, o + b, 1, 1, 1, 4, 4, 32, 32, o + init, 0), v);
    be.disposeData(t.dataId);
    assert.deepEqual(got, new Array(32).fill(cpuHasFma() ? fusedValue : plainValue));
    // a child process with BN_INSPECTOR_FMA=0: the plain kind
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        "import('./src/worker/relaxedSimdSupport.ts').then((m) => console.log('fma', m.fusedMultiplyAdd()))",
      ],
      { cwd: ROOT, env: { ...process.env, BN_INSPECTOR_FMA: '0' }, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^fma false$/m);
  });

  it("the helper thread's kernels: the module compiled here, instantiated in a worker thread, are the fused kind", async () => {
    // the helper (simdHelper.ts) gets the compiled module: no compile there, and no V8 flag set from a second thread;
    // on Node 20 the flag is off while the worker compiles the module's functions lazily: the module keeps its kind
    const module = simdKernelsFor.compiled(true);
    assert.ok(module, 'the shared-memory kind compiles');
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
    const f32 = new Float32Array(memory.buffer);
    f32.fill(0, 0, 64);
    f32.fill(u, 0, 4);
    f32.fill(u, 4, 12);
    f32.fill(-1, 12, 20);
    const { Worker } = await import('node:worker_threads');
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      const e = new WebAssembly.Instance(workerData.module, { env: { memory: workerData.memory } }).exports;
      for (let i = 0; i < 3; i++) e.gemm4x8(80, 0, 16, 1, 1, 1, 4, 4, 32, 32, 48, 0);
      parentPort.postMessage('done');`;
    const w = new Worker(code, { eval: true, workerData: { module, memory } });
    await new Promise<void>((res, rej) => {
      w.once('message', () => res());
      w.once('error', rej);
    });
    await w.terminate();
    assert.deepEqual(Array.from(f32.subarray(20, 52)), new Array(32).fill(cpuHasFma() ? fusedValue : plainValue));
  });
});
