// The engine's kernels (src/worker/kernels/registerKernels.ts) in plain Node, for the benchmarks and the profile:
// bundled by esbuild into .cache/bench (registerKernels imports no tfjs: it gets the tfjs instance passed in),
// loaded, the bundle removed (bench/cnnTrainStep.mjs loads them here too).
//
//   const tf = require('@tensorflow/tfjs'); require('@tensorflow/tfjs-backend-wasm');
//   const registered = await useDefaultBackend(tf);   // wasm + registerMissingKernels(tf), as the worker does
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

/** @returns {Promise<{ registerMissingKernels: Function, unregisterMissingKernels: Function }>} */
export async function loadEngineKernels() {
  const esbuild = require('esbuild');
  const outDir = join(root, '.cache', 'bench');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `registerKernels.${process.pid}.${threadId}.${Date.now()}.cjs`);
  await esbuild.build({
    entryPoints: [join(root, 'src/worker/kernels/registerKernels.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile,
    logLevel: 'warning',
    external: ['@tensorflow/*'],
  });
  try {
    return require(outfile);
  } finally {
    rmSync(outfile, { force: true });
  }
}

/**
 * The engine's default backend in this process: wasm (the package's own build, whatever tfjs-backend-wasm
 * registers as 'wasm') + the engine's kernels. Returns the names registerMissingKernels reports.
 * @param {any} tf
 */
export async function useDefaultBackend(tf) {
  require('@tensorflow/tfjs-backend-wasm'); // registers 'wasm' with the tfjs-core this repository resolves
  const kernels = await loadEngineKernels();
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
  await tf.ready();
  // the emscripten glue installs process handlers that rethrow: as the worker does, drop them
  process.removeAllListeners('uncaughtException');
  process.removeAllListeners('unhandledRejection');
  return kernels.registerMissingKernels(tf);
}

/** the tfjs namespace of this repository's node_modules, with the wasm backend registered */
export function requireTfjs() {
  const tf = require('@tensorflow/tfjs');
  require('@tensorflow/tfjs-backend-wasm');
  return tf;
}
