/**
 * A second thread for the engine's own SIMD kernels on the threaded wasm build: XNNPACK's pool (wasmThreaded.ts)
 * runs tfjs's large convolutions and products on both cores, but the kernels the engine writes itself (the filter
 * gradients, simdKernelModule.ts) ran on the calling thread alone: ~20% of a small CNN's step, ~12% of a MobileNetV2
 * training step, most of whose filter gradients are too small to split.
 *
 * The helper is a worker thread (dist/simdHelper.js, simdHelperThread.ts) with its own instance of the SIMD module
 * on the backend's shared memory. A filter gradient is handed to it WHOLE and the kernel returns at once: its output
 * is allocated (and zeroed) by the caller, the helper fills it while the calling thread goes on with the rest of
 * backpropagation (the next layer's input gradient, BatchNormalization's, …). The same loop over the same data as on
 * the calling thread: the result is bit for bit the single-threaded one.
 *
 * The fence (`guardBackend`): until the helper says it is done, the output is not to be read and the inputs are not
 * to be freed (their memory could be reused and overwritten). Every access to a tensor's data on the wasm backend
 * goes through its `dataIdMap.get` (kernels, readSync, typedArrayFromHeap, disposeData) and every free of a tensor's
 * memory through `wasm._free`: both are wrapped to wait for the job in flight when they touch its output or free one
 * of its addresses. One job at a time: a new one waits for the one before. While a job is in flight, XNNPACK's pool
 * stays on the calling thread (threadedCalls.ts asks `helperBusy`): three threads on two cores would make the pool's
 * threads wait for each other.
 *
 * Failures are loud, never a hang: a job that fails or a helper that does not answer within `timeoutMs` makes the
 * access that waited throw a clear error, and the helper is not used again (after a timeout the output's memory is
 * never freed: the helper might still write it). Only on the threaded build (shared memory), only once the helper says
 * it is ready, only for calls of `minFlops` or more. BN_INSPECTOR_SIMD_HELPER=0 turns it off.
 */
import { Worker } from 'node:worker_threads';
import { simdKernelsFor } from './simdKernelModule';
import { TAP_FIELDS, type TapGeometry } from './filterGradLoops';
import { WINOGRAD_FIELDS, type WinogradJob } from './winogradLoops';

export const simdHelperSettings = {
  enabled: process.env.BN_INSPECTOR_SIMD_HELPER !== '0',
  /** the helper's script (dist/simdHelper.js): set by the runtime (tfjsRuntime.ts) and the tests; '' = none */
  script: '',
  /** calls below this many floating-point operations run on the calling thread (a job costs a few microseconds) */
  minFlops: 5e5,
  /** a helper that has not answered for this long is taken for dead: the access that waits throws (never a hang) */
  timeoutMs: 30_000,
};

/** the control words (Int32Array on a SharedArrayBuffer) */
export const CTL = { job: 0, done: 1, ready: 2, failed: 3 } as const;
/** job kinds (the first argument) */
export const JOB = { filterGradTaps: 1, pointwiseFilterRows: 2, winograd: 3 } as const;
/** the arguments of a job (Float64Array: addresses up to 4 GiB) */
export const ARGS = 32;

/** what a job writes and reads: its output's data id and byte address, the byte addresses of its inputs */
export interface JobData {
  out: object;
  outAddress: number;
  reads: number[];
}

export interface SimdHelper {
  /** whether a call of `flops` floating-point operations should go to the helper (it is ready, the call large) */
  worthIt(flops: number): boolean;
  /** starts filterGradTaps(g, out, x, dy, 0, B) on the helper (`out` zeroed by the caller); returns at once */
  filterGradTaps(g: TapGeometry, out: number, x: number, dy: number, data: JobData): void;
  /** starts pointwiseFilterRows(out, x, dy, 0, M, Ci, Co) on the helper (`out` zeroed); returns at once */
  pointwiseFilterRows(out: number, x: number, dy: number, M: number, Ci: number, Co: number, data: JobData): void;
  /** starts winogradRange(j, from, to) on the helper (j with the helper's own scratch); returns at once */
  winograd(j: WinogradJob, from: number, to: number, data: JobData): void;
  /** whether the helper is computing a job now (done or not yet waited for: not busy) */
  busy(): boolean;
  /** waits for the job in flight, if any; throws if it failed or the helper did not answer */
  settle(): void;
  /** the data id of the job in flight's output, or null */
  pendingOutput(): object | null;
  /** whether freeing this address must wait for the job in flight (or never happen: a helper that timed out) */
  guardsAddress(address: number): 'wait' | 'leak' | null;
}

const helpers = new WeakMap<WebAssembly.Memory, SimdHelper | null>();
/** the helpers started (one per backend memory; in practice one) */
const started: SimdHelper[] = [];

/** whether a helper is computing now (threadedCalls.ts keeps XNNPACK's pool on one thread meanwhile) */
export function helperBusy(): boolean {
  for (const h of started) if (h.busy()) return true;
  return false;
}

/** the helper of the backend whose memory this is (started on the first call), or null (not the threaded build) */
export function simdHelperFor(memory: WebAssembly.Memory | null): SimdHelper | null {
  if (memory === null || !simdHelperSettings.enabled || !simdHelperSettings.script) return null;
  if (typeof SharedArrayBuffer === 'undefined' || !(memory.buffer instanceof SharedArrayBuffer)) return null;
  let h = helpers.get(memory);
  if (h === undefined) {
    try {
      h = startHelper(memory, simdHelperSettings.script);
      started.push(h);
    } catch {
      h = null;
    }
    helpers.set(memory, h);
  }
  return h;
}

function startHelper(memory: WebAssembly.Memory, script: string): SimdHelper {
  const control = new SharedArrayBuffer(4 * 4);
  const args = new SharedArrayBuffer(8 * ARGS);
  const ctl = new Int32Array(control);
  const a = new Float64Array(args);
  // the SIMD module compiled here, for a shared memory: the helper instantiates it (no compile, and no V8 flag set
  // from a second thread: relaxedSimdSupport.ts sets one around a compile on Node 20)
  const module = simdKernelsFor.compiled(true);
  const worker = new Worker(script, { workerData: { memory, control, args, module }, execArgv: [] });
  // it waits for work as long as the backend lives: it must not keep the event loop alive (as XNNPACK's threads)
  worker.unref();
  worker.on('error', () => Atomics.store(ctl, CTL.failed, 1));
  worker.on('exit', () => Atomics.store(ctl, CTL.failed, 1));
  let job = 0;
  let pending: (JobData & { job: number }) | null = null;
  /** addresses of outputs a helper that timed out may still write: never freed */
  const leaked = new Set<number>();
  const usable = () => Atomics.load(ctl, CTL.ready) === 1 && Atomics.load(ctl, CTL.failed) === 0;

  const settle = () => {
    if (pending === null) return;
    const p = pending;
    const t0 = Date.now();
    for (;;) {
      const done = Atomics.load(ctl, CTL.done);
      if (done === p.job) break;
      if (Date.now() - t0 > simdHelperSettings.timeoutMs) {
        Atomics.store(ctl, CTL.failed, 1);
        leaked.add(p.outAddress);
        pending = null;
        throw new Error('bn-inspector: the SIMD helper thread did not answer (a filter gradient is lost)');
      }
      Atomics.wait(ctl, CTL.done, done, 1000);
    }
    pending = null;
    if (Atomics.load(ctl, CTL.failed) !== 0)
      throw new Error('bn-inspector: the SIMD helper thread failed (a filter gradient is lost)');
  };
  /** posts the job whose arguments are in `a` (after the one in flight, if any) */
  const post = (data: JobData, fillArgs: () => void) => {
    settle();
    fillArgs();
    job = (job + 1) | 0;
    pending = { ...data, job };
    // seq-cst: the caller's writes (the zeroed output, the inputs) are visible to the helper once it sees the job
    Atomics.store(ctl, CTL.job, job);
    Atomics.notify(ctl, CTL.job);
  };
  return {
    worthIt: (flops) => flops >= simdHelperSettings.minFlops && usable(),
    filterGradTaps(g, out, x, dy, data) {
      post(data, () => {
        a[0] = JOB.filterGradTaps;
        a[1] = out;
        a[2] = x;
        a[3] = dy;
        a[4] = 0;
        a[5] = g.B;
        TAP_FIELDS.forEach((k, i) => (a[6 + i] = g[k]));
      });
    },
    pointwiseFilterRows(out, x, dy, M, Ci, Co, data) {
      post(data, () => a.set([JOB.pointwiseFilterRows, out, x, dy, 0, M, Ci, Co]));
    },
    winograd(j, from, to, data) {
      post(data, () => {
        a[0] = JOB.winograd;
        a[1] = from;
        a[2] = to;
        WINOGRAD_FIELDS.forEach((k, i) => (a[3 + i] = j[k]));
      });
    },
    busy: () => pending !== null && Atomics.load(ctl, CTL.done) !== pending.job,
    settle,
    pendingOutput: () => (pending === null ? null : pending.out),
    guardsAddress(address) {
      if (leaked.has(address)) return 'leak';
      if (pending !== null && (pending.outAddress === address || pending.reads.includes(address))) return 'wait';
      return null;
    },
  };
}

/** the parts of a wasm backend the fence wraps */
interface GuardedBackend {
  dataIdMap: { get(dataId: object): unknown };
  wasm: { _free(address: number): void };
}
const guarded = new WeakSet<object>();

/**
 * The fence between the helper's job in flight and the backend (see the top): `dataIdMap.get` of the job's output and
 * `wasm._free` of one of its addresses wait for the job first. Once per backend; a no-op where the backend has not
 * these two (then the helper must not be used: returns false).
 */
export function guardBackend(backend: unknown, helper: SimdHelper): boolean {
  const b = backend as Partial<GuardedBackend> | null;
  if (b === null || typeof b !== 'object') return false;
  if (guarded.has(b)) return true;
  const map = b.dataIdMap;
  const wasm = b.wasm;
  if (!map || typeof map.get !== 'function' || !wasm || typeof wasm._free !== 'function') return false;
  const get = map.get;
  map.get = function (this: unknown, dataId: object) {
    if (dataId === helper.pendingOutput()) helper.settle();
    return get.call(this, dataId);
  };
  const free = wasm._free;
  wasm._free = function (this: unknown, address: number) {
    const g = helper.guardsAddress(address);
    if (g === 'leak') return;
    if (g === 'wait') helper.settle();
    return free.call(this, address);
  };
  guarded.add(b);
  return true;
}
