/**
 * Makes this test process's 'wasm' backend the build the engine runs (src/worker/tfjsRuntime.ts) under the same
 * environment: tfjs's single-threaded build by default, the threaded one with BN_INSPECTOR_WASM_THREADS=2 (or
 * more, or max). Call before the first tf.setBackend('wasm'). `npm run test:unit` runs the float64 reference suites
 * once with the default and once with BN_INSPECTOR_WASM_THREADS=2 (threadedWasm.test.ts), so both are checked.
 *
 *   import { shipWasm } from './shippedWasm';
 *   const threads = shipWasm(tf);   // 1 by default, 2 with BN_INSPECTOR_WASM_THREADS=2
 *   activeWasmThreads(tf)           // (src/worker/wasmThreaded.ts) what the active backend really runs
 */
import { join, resolve } from 'node:path';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { simdHelperSettings } from '../../src/worker/kernels/simdHelper';
import { threadedWasmUnavailable, useThreadedWasm, wasmThreadCount } from '../../src/worker/wasmThreaded';
import { ensureBuilt } from './cliHarness';

type TF = typeof import('@tensorflow/tfjs');
const DIST = join(resolve(__dirname, '..', '..'), 'dist');
let threads: number | undefined;

/** the XNNPACK threads 'wasm' will run (throws where the threaded build should run and cannot: a defect) */
export function shipWasm(tf: TF): number {
  if (threads !== undefined) return threads;
  const n = wasmThreadCount();
  if (n > 1) {
    ensureBuilt(); // the threaded build's scripts are written into dist/ by the build
    if (!useThreadedWasm(tf, tfWasm, DIST, n))
      throw new Error(`the threaded wasm build cannot start: ${threadedWasmUnavailable(DIST) ?? 'unknown'}`);
    // the engine's SIMD kernels' second thread, as the engine starts it (src/worker/tfjsRuntime.ts)
    simdHelperSettings.script = join(DIST, 'simdHelper.js');
  } else tfWasm.setWasmPaths(DIST + '/');
  threads = n;
  return n;
}
