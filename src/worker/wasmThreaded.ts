/**
 * Both cores for the wasm backend: registers tfjs-backend-wasm's threaded SIMD build (XNNPACK on a pthread pool)
 * as the 'wasm' backend, in Node.
 *
 *   import { useThreadedWasm, wasmThreadCount } from './wasmThreaded';
 *   useThreadedWasm(tf, tfWasm, distFolder, wasmThreadCount());   // before tf.setBackend('wasm'); false: not used
 *
 * Opt-in (BN_INSPECTOR_WASM_THREADS=2, or =max for every core): see wasmThreadCount for why.
 *
 * tfjs-backend-wasm 4.22 never starts that build in Node: its WASM_HAS_MULTITHREAD_SUPPORT flag is false there
 * (tfjs#3830), and its init() hands emscripten `blob:` URLs, which Node's worker_threads cannot load. The
 * emscripten glue inside the build supports Node itself (worker_threads for pthreads) once it gets file paths:
 * scripts/build.mjs puts the main script and the pthread worker script into dist/ next to the .wasm files, and the
 * factory here passes them (`locateFile`, `mainScriptUrlOrBlob`). The backend object is tfjs's own BackendWasm, and
 * every kernel registered for 'wasm' (tfjs's and ours) runs unchanged.
 *
 * XNNPACK's thread count: tfjs caps it at `emscripten_num_logical_cores() / 2` (it assumes two hardware threads per
 * core), which is 1 on a 2-core machine. The module's import of that function is answered here with twice the
 * thread count wanted (`instantiateWasm`, emscripten's documented hook), so the cap is the count asked for.
 * The glue's pthread pool (8 workers started up front, each a V8 isolate) is sized to what XNNPACK uses: the
 * `pthreadPoolSize` option that scripts/build.mjs adds to dist/'s copy of the glue.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { backendMemory } from './wasmHeapModule';
import { locatePoolCount, poolSwitch, type PoolSwitch } from './wasmPoolSwitch';

type TF = typeof import('@tensorflow/tfjs');
type TfWasm = typeof import('@tensorflow/tfjs-backend-wasm');

export const THREADED_MAIN = 'tfjs-backend-wasm-threaded-simd.js';
export const THREADED_WORKER = 'tfjs-backend-wasm-threaded-simd.worker.js';
export const THREADED_WASM = 'tfjs-backend-wasm-threaded-simd.wasm';
/** tfjs-backend-wasm's own ceiling (its C++ init caps the pool at 8) */
const MAX_THREADS = 8;
/** the priority tfjs-backend-wasm registers 'wasm' with */
const WASM_PRIORITY = 2;

/**
 * XNNPACK threads to use: the environment's BN_INSPECTOR_WASM_THREADS (at most 8; 1 = tfjs's single-threaded
 * build), else 1. The threaded build is opt-in. As tfjs runs it, the pool wakes for every XNNPACK call, and between
 * two calls its threads fall asleep: measured on 2 idle cores (2026-12-01, before the per-call switch), faster on
 * large convolutions (small CNN step, batch 32: 137-151 ms against 167-170 ms) but slower on a MobileNetV2 training
 * step (64x64, batch 8: 915-962 ms against 536-784 ms for 2 steps, with twice the CPU). Since then only calls of
 * 8 MFLOP or more wake the pool (wasmPoolSwitch.ts, kernels/threadedCalls.ts): in one process, the threaded build
 * with the pool per call against the same build never waking it, 16 alternating fits, small CNN 96 against 106 ms,
 * MobileNetV2 64 315 against 324 ms, frozen 96 203 against 241 ms. Against the single-threaded build (separate
 * processes, a busy hour, 6 alternating runs) it was still not ahead on the MobileNetV2 training step: opt-in.
 */
export function wasmThreadCount(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.BN_INSPECTOR_WASM_THREADS;
  if (raw === 'max') return availableCores();
  const asked = Number(raw);
  if (Number.isInteger(asked) && asked >= 1) return Math.min(asked, MAX_THREADS);
  return 1;
}

/** the cores this process may use, at most 8: what BN_INSPECTOR_WASM_THREADS=max would ask for */
export function availableCores(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, MAX_THREADS));
}

/** what can keep the threaded build from starting here, or null */
export function threadedWasmUnavailable(folder: string): string | null {
  if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is not available';
  for (const f of [THREADED_MAIN, THREADED_WORKER, THREADED_WASM])
    if (!existsSync(join(folder, f))) return `${f} is missing in ${folder} (npm run build puts it there)`;
  return null;
}

/** the parts of the emscripten module that tfjs's BackendWasm constructor expects under `tfjs` */
interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): unknown;
  tfjs?: Record<string, unknown>;
}
interface Unrefable {
  unref?(): void;
}
type EmscriptenFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

/**
 * Replaces the registration of 'wasm' with the threaded build running `threads` XNNPACK threads. Returns false,
 * and changes nothing, where `threads` < 2 or the build cannot start here (threadedWasmUnavailable).
 * Must run before the first tf.setBackend('wasm').
 */
export function useThreadedWasm(tf: TF, tfWasm: TfWasm, folder: string, threads: number): boolean {
  if (threads < 2 || threadedWasmUnavailable(folder) !== null) return false;
  const mainJs = join(folder, THREADED_MAIN);
  const wasmPath = join(folder, THREADED_WASM);
  const factory = async () => {
    // the emscripten factory, from the file every pthread worker loads too (one copy of the glue code)
    const create = createRequire(mainJs)(mainJs) as EmscriptenFactory;
    const bytes = readFileSync(wasmPath);
    const module = await create({
      locateFile: (path: string) => join(folder, path),
      mainScriptUrlOrBlob: mainJs,
      // XNNPACK's pool takes threads - 1 workers (the calling thread is the first); the build would start 8
      pthreadPoolSize: threads - 1,
      instantiateWasm(
        imports: { env: Record<string, unknown> },
        receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
      ) {
        imports.env.emscripten_num_logical_cores = () => 2 * threads;
        // synchronous (no size limit off the browser's main thread): a failure throws into emscripten, which rejects
        const compiled = new WebAssembly.Module(bytes);
        const instance = new WebAssembly.Instance(compiled, imports);
        receive(instance, compiled);
        return instance.exports;
      },
    });
    // as tfjs-backend-wasm's init() does (4.22)
    module.tfjs = {
      init: module.cwrap('init', null, []),
      initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: module.cwrap('get_threads_count', 'number', []),
      registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: module.cwrap('dispose_data', null, ['number']),
      dispose: module.cwrap('dispose', null, []),
    };
    tfWasm.setThreadsCount(threads);
    const backend = new tfWasm.BackendWasm(module as unknown as ConstructorParameters<typeof tfWasm.BackendWasm>[0]);
    // the pool used call by call (wasmPoolSwitch.ts; BN_INSPECTOR_WASM_POOL=always: every call, as tfjs does)
    const place = process.env.BN_INSPECTOR_WASM_POOL === 'always' ? null : locatePoolCount(bytes);
    const memory = backendMemory(backend);
    const sw = place && memory ? poolSwitch(memory, place, threads) : null;
    if (sw) {
      switches.set(backend, sw);
      // the pool's size, not what the switch left in it between calls
      module.tfjs.getThreadsCount = () => threads;
      (module as { _get_threads_count?: () => number })._get_threads_count = () => threads;
    }
    // XNNPACK's pool threads wait for work for as long as the backend lives: they must not keep the event loop
    // alive (the worker's end is its loop draining, see worker.ts), as a browser's workers never would
    const pool = (module as { PThread?: { runningWorkers?: Unrefable[]; unusedWorkers?: Unrefable[] } }).PThread;
    for (const w of [...(pool?.runningWorkers ?? []), ...(pool?.unusedWorkers ?? [])]) w.unref?.();
    return backend;
  };
  if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  return tf.registerBackend('wasm', factory, WASM_PRIORITY);
}

const switches = new WeakMap<object, PoolSwitch>();

/** the per-call switch of the wasm backend's XNNPACK pool (wasmPoolSwitch.ts), null if it has none (or no backend yet) */
export function wasmPoolSwitch(tf: TF): PoolSwitch | null {
  // the engine's registry of initialised backends: tf.findBackend would start the wasm backend where it is not
  const b = (tf.engine() as unknown as { registry?: Record<string, object | undefined> }).registry?.wasm;
  return b ? (switches.get(b) ?? null) : null;
}

/** XNNPACK threads of the active wasm backend (1 for the single-threaded build), null on another backend */
export function activeWasmThreads(tf: TF): number | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
  return b.wasm?.tfjs?.getThreadsCount?.() ?? 1;
}
