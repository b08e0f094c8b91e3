/**
 * A second thread for the engine's own SIMD kernels on the threaded wasm build: XNNPACK's pool (wasmThreaded.ts)
 * runs tfjs's convolutions and products on both cores, but the kernels the engine writes itself (the filter
 * gradients, simdKernelModule.ts) ran on the calling thread alone: on the small CNN ~30% of a threaded step.
 *
 * The helper is a worker thread (dist/simdHelper.js, simdHelperThread.ts) with its own instance of the SIMD module
 * on the backend's shared memory. A kernel hands it half of a call through a SharedArrayBuffer (a filter gradient's
 * sum over half of the images or pixels, into a dW of its own that the caller adds: each thread reads half of x and
 * dy), does its own half, then waits for the helper's (Atomics.wait; the kernels run synchronously, as tfjs calls
 * them). The helper sleeps in Atomics.wait between calls. Only on the threaded build
 * (shared memory), only once the helper says it is ready, and only for calls of 8 MFLOP or more (a wake-up costs tens
 * of microseconds, threadedCalls.ts). BN_INSPECTOR_SIMD_HELPER=0 turns it off.
 */
import { Worker } from 'node:worker_threads';
import { TAP_FIELDS, type TapGeometry } from './filterGradLoops';

export const simdHelperSettings = {
  enabled: process.env.BN_INSPECTOR_SIMD_HELPER !== '0',
  /** the helper's script (dist/simdHelper.js): set by the runtime (tfjsRuntime.ts) and the tests; '' = none */
  script: '',
  /** calls below this many floating-point operations run on the calling thread alone */
  minFlops: 8e6,
  /** a helper that has not answered for this long is taken for dead: the kernel throws (never a hang) */
  timeoutMs: 30_000,
};

/** the control words (Int32Array on a SharedArrayBuffer) */
export const CTL = { job: 0, done: 1, ready: 2, failed: 3 } as const;
/** job kinds (the first argument) */
export const JOB = { filterGradTaps: 1, pointwiseFilterRows: 2 } as const;
/** the arguments of a job (Float64Array: addresses up to 4 GiB) */
export const ARGS = 32;

export interface SimdHelper {
  /** whether a call of `flops` floating-point operations should be shared (the helper is ready, the call large) */
  worthIt(flops: number): boolean;
  /** filterGradTaps(g, out, x, dy, b0, b1) on the helper while `local` runs here; returns when both end */
  filterGradTaps(g: TapGeometry, out: number, x: number, dy: number, b0: number, b1: number, local: () => void): void;
  /** pointwiseFilterRows(out, x, dy, r0, r1, …) on the helper while `local` runs here; returns when both end */
  pointwiseFilterRows(
    out: number,
    x: number,
    dy: number,
    r0: number,
    r1: number,
    Ci: number,
    Co: number,
    local: () => void,
  ): void;
}

const helpers = new WeakMap<WebAssembly.Memory, SimdHelper | null>();

/** the helper of the backend whose memory this is (started on the first call), or null (not the threaded build) */
export function simdHelperFor(memory: WebAssembly.Memory | null): SimdHelper | null {
  if (memory === null || !simdHelperSettings.enabled || !simdHelperSettings.script) return null;
  if (typeof SharedArrayBuffer === 'undefined' || !(memory.buffer instanceof SharedArrayBuffer)) return null;
  let h = helpers.get(memory);
  if (h === undefined) {
    try {
      h = startHelper(memory, simdHelperSettings.script);
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
  const worker = new Worker(script, { workerData: { memory, control, args }, execArgv: [] });
  // it waits for work as long as the backend lives: it must not keep the event loop alive (as XNNPACK's threads)
  worker.unref();
  worker.on('error', () => Atomics.store(ctl, CTL.failed, 1));
  worker.on('exit', () => Atomics.store(ctl, CTL.failed, 1));
  let job = 0;
  const usable = () => Atomics.load(ctl, CTL.ready) === 1 && Atomics.load(ctl, CTL.failed) === 0;
  /** posts the job in `a`, runs `local`, waits for the helper */
  const run = (local: () => void) => {
    job = (job + 1) | 0;
    Atomics.store(ctl, CTL.job, job);
    Atomics.notify(ctl, CTL.job);
    let failure: unknown = null;
    try {
      local();
    } catch (e) {
      failure = e;
    }
    // the helper writes the heap: wait for it even when the local part failed
    const t0 = Date.now();
    for (;;) {
      const done = Atomics.load(ctl, CTL.done);
      if (done === job) break;
      if (Date.now() - t0 > simdHelperSettings.timeoutMs) {
        Atomics.store(ctl, CTL.failed, 1);
        throw new Error('bn-inspector: the SIMD helper thread did not answer');
      }
      Atomics.wait(ctl, CTL.done, done, 1000);
    }
    if (failure !== null) throw failure;
    if (Atomics.load(ctl, CTL.failed) !== 0) throw new Error('bn-inspector: the SIMD helper thread failed');
  };
  return {
    worthIt: (flops) => flops >= simdHelperSettings.minFlops && usable(),
    filterGradTaps(g, out, x, dy, b0, b1, local) {
      a[0] = JOB.filterGradTaps;
      a[1] = out;
      a[2] = x;
      a[3] = dy;
      a[4] = b0;
      a[5] = b1;
      TAP_FIELDS.forEach((k, i) => (a[6 + i] = g[k]));
      run(local);
    },
    pointwiseFilterRows(out, x, dy, r0, r1, Ci, Co, local) {
      a.set([JOB.pointwiseFilterRows, out, x, dy, r0, r1, Ci, Co]);
      run(local);
    },
  };
}
