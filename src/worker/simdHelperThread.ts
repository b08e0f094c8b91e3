/**
 * The helper thread of the engine's SIMD kernels on the threaded wasm build (kernels/simdHelper.ts says why and how):
 * its own instance of the SIMD module on the backend's shared memory, then, for ever, waits for a job (a whole filter
 * gradient, or half of a Winograd convolution), runs it and says it is done. Bundled as dist/simdHelper.js; started by
 * the engine, never by a script.
 */
import { workerData } from 'node:worker_threads';
import { TAP_FIELDS, filterGradTaps, pointwiseFilterRows, type TapGeometry } from './kernels/filterGradLoops';
import { CTL, JOB } from './kernels/simdHelper';
import { WINOGRAD_FIELDS, winogradRange, type WinogradJob } from './kernels/winogradLoops';
import { simdKernelsFor } from './kernels/simdKernelModule';

const { memory, control, args, module } = workerData as {
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  args: SharedArrayBuffer;
  /** the module the starting thread compiled (null: compile it here) */
  module: WebAssembly.Module | null;
};
const ctl = new Int32Array(control);
const a = new Float64Array(args);
const simd = module ? simdKernelsFor.on(module, memory) : simdKernelsFor(memory);
if (simd === null) {
  Atomics.store(ctl, CTL.failed, 1);
} else {
  Atomics.store(ctl, CTL.ready, 1);
  let seen = Atomics.load(ctl, CTL.job);
  for (;;) {
    Atomics.wait(ctl, CTL.job, seen);
    const job = Atomics.load(ctl, CTL.job);
    if (job === seen) continue;
    seen = job;
    try {
      if (a[0] === JOB.filterGradTaps) {
        const g = Object.fromEntries(TAP_FIELDS.map((k, i) => [k, a[6 + i]])) as unknown as TapGeometry;
        filterGradTaps(simd, g, a[1], a[2], a[3], a[4], a[5]);
      } else if (a[0] === JOB.pointwiseFilterRows) {
        pointwiseFilterRows(simd, a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
      } else if (a[0] === JOB.winograd) {
        const j = Object.fromEntries(WINOGRAD_FIELDS.map((k, i) => [k, a[3 + i]])) as unknown as WinogradJob;
        winogradRange(simd, memory, j, a[1], a[2]);
      } else throw new Error(`unknown job ${a[0]}`);
    } catch {
      Atomics.store(ctl, CTL.failed, 1);
    }
    Atomics.store(ctl, CTL.done, job);
    Atomics.notify(ctl, CTL.done);
  }
}
