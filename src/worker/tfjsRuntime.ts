/**
 * Sets up the worker's ONE tfjs instance: the backend (wasm by default, cpu on request), the missing
 * kernels, the BatchNormalization instrument; and publishes it as `globalThis.__bnTfjs`, which the
 * user's compiled script imports in place of `@tensorflow/tfjs` (see compileScript.ts).
 *
 * tfjs is bundled into dist/worker.js in its CommonJS build (so the instrument can patch tfjs-core's
 * exports object, see tfjs-facts.md). tfjs's own banners ("install tfjs-node", "already registered")
 * are swallowed while this runs.
 */
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Backend } from '../shared/protocol';
import { installBnInstrument } from './bnInstrument';
import { layersWithSources } from './layerSources';
import { installNodeFileSystemIo } from './nodeFileSystemIo';
import { registerMissingKernels } from './kernels/registerKernels';
import { simdHelperFor, simdHelperSettings } from './kernels/simdHelper';
import { backendMemory } from './kernels/simdKernelModule';
import { installEngineFastPath } from './tfjsEngineFastPath';
import { installTfjsFastPath } from './tfjsFastPath';
import { scriptGlobals } from './scriptGlobals';
import { activeWasmThreads, threadedWasmUnavailable, useThreadedWasm, wasmThreadCount } from './wasmThreaded';

export type Tfjs = typeof tf;
export type BnInstrument = ReturnType<typeof installBnInstrument>;

export interface TfjsRuntime {
  tf: Tfjs;
  backend: Backend;
  version: string;
  bn: BnInstrument;
  /** kernels registered by registerMissingKernels */
  kernels: string[];
  /** XNNPACK threads of the wasm backend (its threaded build when > 1); null on cpu */
  threads: number | null;
  /** ms spent in setup */
  setupMs: number;
}

/** the helper thread's script beside the bundle (scripts/build.mjs) */
const SIMD_HELPER = 'simdHelper.js';

/** tfjs noise that must not reach the script's output */
export function isTfjsNoise(text: string): boolean {
  return (
    /looks like you are running TensorFlow\.js in Node\.js/i.test(text) ||
    /\bis already registered\b/.test(text) ||
    /backend was already registered/.test(text) ||
    /Platform node has already been set/.test(text) ||
    /^={5,}\s*$/.test(text.trim())
  );
}

/** Folder holding tfjs-backend-wasm*.wasm: next to the bundle (dist/), else the package's own dist/. */
export function wasmFolder(): string {
  const candidates = [__dirname, join(__dirname, '..', '..', 'dist')];
  try {
    candidates.push(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist'));
  } catch {
    /* bundled: require.resolve may not find the package; the bundle folder is the answer then */
  }
  for (const c of candidates) if (existsSync(join(c, 'tfjs-backend-wasm-simd.wasm'))) return c;
  return __dirname;
}

/** Runs `fn` with console output and warnings swallowed (tfjs's registration banners). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const saved = {
    log: console.log,
    info: console.info,
    warn: console.warn,
    error: console.error,
    debug: console.debug,
  };
  const noop = () => {};
  console.log = console.info = console.warn = console.debug = noop;
  console.error = (...a: unknown[]) => {
    if (!a.some((x) => typeof x === 'string' && isTfjsNoise(x))) saved.error(...a);
  };
  try {
    return await fn();
  } finally {
    Object.assign(console, saved);
  }
}

let runtime: TfjsRuntime | null = null;

/**
 * @param warn receives a line for the script's stderr when the wasm backend cannot start and cpu is used instead
 */
export async function setupTfjs(requested: Backend, warn: (text: string) => void = () => {}): Promise<TfjsRuntime> {
  if (runtime) return runtime;
  const t0 = performance.now();
  let backend: Backend = requested;
  return quietly(async () => {
    if (backend === 'wasm') {
      const folder = wasmFolder();
      tfWasm.setWasmPaths(folder.endsWith('/') ? folder : folder + '/');
      // the threaded build where BN_INSPECTOR_WASM_THREADS asks for it (wasmThreaded.ts), else tfjs's single-threaded one
      const threads = wasmThreadCount();
      if (threads > 1 && !useThreadedWasm(tf, tfWasm, folder, threads))
        warn(`[bn-inspector] the wasm backend runs on one thread: ${threadedWasmUnavailable(folder) ?? 'unknown'}\n`);
      // the engine's own SIMD kernels' second thread (threaded build only: kernels/simdHelper.ts)
      if (existsSync(join(folder, SIMD_HELPER))) simdHelperSettings.script = join(folder, SIMD_HELPER);
      let ok = false;
      let why = '';
      try {
        ok = await tf.setBackend('wasm');
      } catch (e) {
        why = `: ${(e as Error)?.message ?? e}`;
      }
      if (!ok) {
        warn(`[bn-inspector] the wasm backend could not start (${folder}${why}); running on cpu instead\n`);
        backend = 'cpu';
      }
    }
    if (backend === 'cpu' && !(await tf.setBackend('cpu'))) throw new Error(`tfjs backend 'cpu' failed to initialise`);
    await tf.ready();
    // the cpu backend prints its "install tfjs-node" banner on its first write: take it now, silenced
    tf.tidy(() => tf.zeros([1]).dataSync());
    // the emscripten glue of the wasm backend installs process handlers that rethrow: the worker has its own
    process.removeAllListeners('uncaughtException');
    process.removeAllListeners('unhandledRejection');
    const kernels = registerMissingKernels(tf);
    // started now, ready by the first training step (null on the single-threaded build)
    if (backend === 'wasm') simdHelperFor(backendMemory(tf.backend()));
    // cheaper tfjs work around the kernels, same values (tfjsFastPath.ts, tfjsEngineFastPath.ts);
    // BN_INSPECTOR_TFJS_FAST_PATH=0 leaves tfjs's own paths (A/B measurements, a way out)
    if (process.env.BN_INSPECTOR_TFJS_FAST_PATH !== '0') {
      installTfjsFastPath(tf);
      installEngineFastPath(tf);
    }
    const bn = installBnInstrument(tf);
    const version = (tf.version as Record<string, string>)['tfjs'] ?? tf.version_core;
    // the namespace the user's script gets for @tensorflow/tfjs (and -core, -layers, -node):
    // a plain object, no __esModule flag, so `import tf from`, `import * as tf from` and `require` all work
    const ns: Record<string, unknown> = { ...tf };
    delete ns.__esModule;
    // its tf.layers.batchNormalization records where each layer is made (LayerSnapshot.source)
    ns.layers = layersWithSources(tf.layers, bn.sources);
    ns.default = ns;
    installNodeFileSystemIo(tf, ns); // tfjs-node's file:// save/load routers and tf.io.fileSystem
    scriptGlobals.__bnTfjs = ns;
    const wasmNs: Record<string, unknown> = { ...tfWasm, setWasmPaths: () => {}, setWasmPath: () => {} };
    delete wasmNs.__esModule;
    wasmNs.default = wasmNs;
    scriptGlobals.__bnTfjsWasm = wasmNs;
    runtime = { tf, backend, version, bn, kernels, threads: activeWasmThreads(tf), setupMs: performance.now() - t0 };
    return runtime;
  });
}
