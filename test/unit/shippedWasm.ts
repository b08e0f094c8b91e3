/**
 * Makes this test process's 'wasm' backend the build the engine ships (src/worker/tfjsRuntime.ts): the threaded
 * build with wasmThreadCount() XNNPACK threads (all cores; BN_INSPECTOR_WASM_THREADS=1: tfjs's single-threaded
 * build). Call before the first tf.setBackend('wasm'). `npm run test:unit` runs the float64 reference suites once
 * with the default and once with BN_INSPECTOR_WASM_THREADS=1, so both builds are checked.
 *
 *   import { shipWasm } from './shippedWasm';
 *   const threads = shipWasm(tf);   // 2 on a 2-core machine, 1 with BN_INSPECTOR_WASM_THREADS=1
 *   activeWasmThreads(tf)           // (src/worker/wasmThreaded.ts) what the active backend really runs
 */
import { join, resolve } from 'node:path';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
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
  } else tfWasm.setWasmPaths(DIST + '/');
  threads = n;
  return n;
}
