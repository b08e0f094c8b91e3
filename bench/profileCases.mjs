// The cases of the kernel profile (bench/kernelProfile.mjs) and their measurement, on whatever backend the tfjs
// passed in has: plain Node (kernelProfile.mjs) or inside bn-inspect (bench/scripts/kernelProfileScript.mjs).
//
// Each case: a fresh model (bench/mobilenetV2.mjs, bench/cnnTrainStep.mjs), its first (cold) fit with timers, one
// fit without timers (what the timers themselves cost shows against it), then REPEATS fits of the goal's size with
// timers on every registered kernel (bench/kernelTimers.mjs); the figures are per fit.
import os from 'node:os';
import { installKernelTimers } from './kernelTimers.mjs';
import { buildMobileNetV2, makeBatch, trainSteps } from './mobilenetV2.mjs';
import { buildCnn, cnnBatch } from './cnnTrainStep.mjs';

const CASES = [
  {
    id: 'mobilenetV2Train64',
    what: 'MobileNetV2 64×64×3, batch 8, every layer trainable, 2 steps (one fit)',
    steps: 2,
    make: (tf) => ({
      model: buildMobileNetV2(tf, { inputSize: 64, classes: 10, seed: 1, namePrefix: 'p64_' }),
      ...makeBatch(tf, { inputSize: 64, batch: 8, classes: 10, seed: 7 }),
    }),
  },
  {
    id: 'mobilenetV2Frozen96',
    what: 'MobileNetV2 96×96×3, batch 8, backbone frozen, 2 steps (one fit)',
    steps: 2,
    make: (tf) => ({
      model: buildMobileNetV2(tf, { inputSize: 96, classes: 10, seed: 1, frozenBackbone: true, namePrefix: 'p96_' }),
      ...makeBatch(tf, { inputSize: 96, batch: 8, classes: 10, seed: 7 }),
    }),
  },
  {
    id: 'smallCnnStep',
    what: 'small CNN (4 × conv 3×3×16 + BN, 32×32×3), batch 32, one step',
    steps: 1,
    make: (tf) => ({ model: buildCnn(tf, { seed: 1 }).model, ...cnnBatch(tf, 7) }),
  },
];

/** profiled fits per case (the figures are per fit: the sums over them / REPEATS) */
export const REPEATS = 3;

/** the timers' sums over `n` fits, per fit */
function perFit(p, n) {
  const r = (v) => Math.round((v / n) * 10) / 10;
  const each = (rows) => rows.map((e) => ({ ...e, ms: r(e.ms), inclMs: r(e.inclMs), calls: e.calls / n }));
  return {
    wallMs: r(p.wallMs),
    kernelMs: r(p.kernelMs),
    outsideKernelsMs: r(p.outsideKernelsMs),
    byKernel: each(p.byKernel),
    byShape: each(p.byShape),
    byLayer: each(p.byLayer),
  };
}

/** the wasm module's build and thread count (emscripten's Module.PThread exists in a threaded build only) */
function wasmThreads(tf) {
  const w = tf.backend()?.wasm;
  if (!w) return 'n/a';
  const count = typeof w._get_threads_count === 'function' ? w._get_threads_count() : '?';
  return `${w.PThread ? 'threaded' : 'single-threaded'} build, threads count ${count}`;
}

/**
 * Profiles every case on the active backend of `tf` (set up by the caller).
 * @param {any} tf
 * @param {{ log?: (s: string) => void, maxShapes?: number }} [opts] maxShapes: rows of byShape kept per case
 */
export async function profileCases(tf, opts = {}) {
  const { log = () => {}, maxShapes = 60 } = opts;
  const out = {
    name: 'kernelProfile',
    node: process.version,
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    wasmSimd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    wasmThreads: wasmThreads(tf),
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
    loadAvgAtStart: os.loadavg().map((v) => +v.toFixed(2)),
    cases: [],
  };
  for (const c of CASES) {
    const { model, x, y } = c.make(tf);
    const timers = installKernelTimers(tf, model);
    // the first (cold) fit, with timers: what a script's first call pays
    timers.start();
    const cold = await trainSteps(model, x, y, { steps: c.steps });
    const coldProfile = timers.stop(cold.totalMs);
    const plain = await trainSteps(model, x, y, { steps: c.steps }); // timers off
    timers.start();
    const t0 = performance.now();
    const stepMs = [];
    for (let i = 0; i < REPEATS; i++) stepMs.push(...(await trainSteps(model, x, y, { steps: c.steps })).times);
    const p = perFit(timers.stop(performance.now() - t0), REPEATS);
    timers.uninstall();
    out.cases.push({
      id: c.id,
      what: c.what,
      repeats: REPEATS,
      plainFitMs: +plain.totalMs.toFixed(1),
      cold: {
        wallMs: coldProfile.wallMs,
        kernelMs: coldProfile.kernelMs,
        byKernel: coldProfile.byKernel.slice(0, 8),
        byLayer: coldProfile.byLayer.slice(0, 8),
      },
      stepMs: stepMs.map((v) => +v.toFixed(1)),
      ...p,
      byShape: p.byShape.slice(0, maxShapes),
    });
    log(`${c.id}: fit ${p.wallMs} ms with timers (${plain.totalMs.toFixed(0)} ms without), kernels ${p.kernelMs} ms`);
    x.dispose();
    y.dispose();
    model.dispose();
  }
  out.loadAvgAtEnd = os.loadavg().map((v) => +v.toFixed(2));
  return out;
}
