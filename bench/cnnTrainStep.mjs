// The CNN training step of tfjs-facts.md: stock tfjs `cpu` vs the default backend (`wasm`) with our kernels.
//
//   node bench/cnnTrainStep.mjs            one JSON line on stdout (progress on stderr)
//   node bench/cnnTrainStep.mjs --no-cpu-stock   skip the ~60-70 s stock cpu step (cpuStockMs: null)
//   import { benchCnnTrainStep } from './cnnTrainStep.mjs'  ->  { cpuStockMs, wasmMs, ratio, ... }
//
// Model: 4 x (Conv2D 3x3, 16 filters, padding 'same' -> BatchNormalization), input 32x32x3, batch 32,
// then flatten -> dense(10, softmax), categorical cross-entropy, SGD(0.01): ~1.42 GFLOP per step
// (forward convs 0.48, filter gradients 0.48, input gradients 0.45). One step = one model.trainOnBatch.
//
// Measured: wasm + our kernels: median of N steps after 2 warm-up steps, in this thread and in a
// worker_threads Worker (as the extension runs scripts; wasm paths set with setWasmPaths as in the bundle);
// cpu + our kernels: median of 3 after 1 warm-up; stock cpu: ONE step, no warm-up (a step takes about a
// minute, a warm-up is not affordable), measured after the cpu phases above so the JIT has seen the
// other kernels (this favours the stock figure, so the ratio is conservative).
// One benchmark: the model, its stock and wasm runs and the report share one setup, so it is one unit.
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import os from 'node:os';
import { loadEngineKernels } from './engineKernels.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const require = createRequire(join(root, 'package.json'));

async function loadTf() {
  const tf = require('@tensorflow/tfjs');
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  return { tf, wasm };
}

/** the benchmark CNN; same weights for the same seed on every backend */
export function buildCnn(tf, { seed = 1, activation = null } = {}) {
  const L = tf.layers;
  const layers = [];
  for (let i = 0; i < 4; i++) {
    layers.push(
      L.conv2d({
        ...(i === 0 ? { inputShape: [32, 32, 3] } : {}),
        filters: 16,
        kernelSize: 3,
        padding: 'same',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }),
        ...(activation ? { activation } : {}),
      }),
    );
    layers.push(L.batchNormalization());
  }
  layers.push(L.flatten());
  layers.push(
    L.dense({
      units: 10,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 10 }),
    }),
  );
  const model = tf.sequential({ layers });
  const optimizer = tf.train.sgd(0.01);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  return { model, optimizer };
}

export function cnnBatch(tf, seed = 7) {
  const x = tf.randomNormal([32, 32, 32, 3], 0, 1, 'float32', seed);
  const labels = tf.randomUniform([32], 0, 10, 'int32', seed + 1);
  const y = tf.oneHot(labels, 10).toFloat();
  labels.dispose();
  return { x, y };
}

export const CNN_STEP_GFLOP = (() => {
  const m = 32 * 32 * 32; // B*OH*OW
  const fwd = 2 * m * 27 * 16 + 3 * 2 * m * 144 * 16;
  const dW = fwd;
  const dX = 3 * 2 * m * 144 * 16;
  return (fwd + dW + dX) / 1e9;
})();

const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const log = (...a) => process.stderr.write(`[cnnTrainStep] ${a.join(' ')}\n`);

/**
 * warm-up + timed steps of one fresh model on the active backend. Returns wall times and process CPU
 * times (ms) per step: on a loaded machine (other processes on the 2 cores) the CPU time is the figure
 * that stays close to what the step costs; tfjs's cpu and wasm backends compute on one thread here.
 */
async function timeSteps(tf, warmup, steps) {
  const { model, optimizer } = buildCnn(tf);
  const { x, y } = cnnBatch(tf);
  const times = [];
  const cpuTimes = [];
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await model.trainOnBatch(x, y); // resolves after the loss is read back: the step is done
      const dt = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (i >= warmup) {
        times.push(dt);
        cpuTimes.push((c.user + c.system) / 1000);
      }
    }
  } finally {
    x.dispose();
    y.dispose();
    model.dispose();
    optimizer.dispose();
  }
  return { times, cpuTimes };
}
const r1 = (v) => +v.toFixed(1);

async function silenceCpuBanner(tf) {
  // the cpu backend prints an "install tfjs-node" banner on first use
  const cpu = tf.engine().findBackend('cpu');
  if (cpu && cpu.firstUse) cpu.firstUse = false;
}

/** wasm + our kernels inside a worker_threads Worker, like the extension's engine */
async function wasmInWorker(steps) {
  const t0 = performance.now();
  const w = new Worker(new URL(import.meta.url), { workerData: { role: 'wasm-worker', steps } });
  return await new Promise((resolve, reject) => {
    let ready = null;
    w.on('message', (m) => {
      if (m.ready) ready = performance.now() - t0;
      if (m.result) resolve({ ...m.result, spawnToReadyMs: ready });
    });
    w.on('error', reject);
    w.on('exit', (code) => reject(new Error(`bench worker exited with ${code}`)));
  }).finally(() => w.terminate());
}

/**
 * @param {{ cpuStock?: boolean, steps?: number, worker?: boolean, cpuOurs?: boolean }} [opts]
 * @returns {Promise<{cpuStockMs: number|null, wasmMs: number, ratio: number|null, cpuOursMs: number|null,
 *   wasmWorkerMs: number|null, ...}>}
 */
export async function benchCnnTrainStep(opts = {}) {
  const { cpuStock = true, steps = 7, worker = true, cpuOurs = true } = opts;
  const { tf } = await loadTf();
  const kernels = await loadEngineKernels();
  const out = {
    name: 'cnnTrainStep',
    model: '4x(Conv2D 3x3x16 same -> BN), 32x32x3, batch 32, flatten -> dense(10) softmax CE, SGD',
    gflopPerStep: +CNN_STEP_GFLOP.toFixed(3),
    tfjs: tf.version.tfjs,
    node: process.version,
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
    loadAvgAtStart: os.loadavg().map((v) => +v.toFixed(2)),
    note:
      'wall ms are medians of wall-clock step times; *CpuMs the same for process CPU time (robust to other load). ' +
      'ratio = cpuStockMs / wasmMs (wall); ratioCpu = cpuStockCpuMs / wasmCpuMs',
  };

  // 1. wasm (the default backend) + our kernels, this thread
  await tf.setBackend('wasm');
  await tf.ready();
  out.registeredWasm = kernels.registerMissingKernels(tf, { backends: ['wasm'] });
  const w = await timeSteps(tf, 2, steps);
  out.wasmMs = r1(median(w.times));
  out.wasmCpuMs = r1(median(w.cpuTimes));
  out.wasmStepsMs = w.times.map(r1);
  out.wasmGflops = +(CNN_STEP_GFLOP / (Math.min(out.wasmMs, out.wasmCpuMs) / 1000)).toFixed(2);
  log(`wasm + ours: median ${out.wasmMs} ms wall, ${out.wasmCpuMs} ms CPU; steps`, out.wasmStepsMs.join(', '));

  // 2. the same in a worker_threads Worker
  out.wasmWorkerMs = null;
  if (worker) {
    const r = await wasmInWorker(steps);
    out.wasmWorkerMs = r1(median(r.times));
    out.wasmWorkerCpuMs = r1(median(r.cpuTimes));
    out.wasmWorkerStepsMs = r.times.map(r1);
    out.workerSpawnToReadyMs = +r.spawnToReadyMs.toFixed(0);
    out.workerBackend = r.backend;
    log(
      `wasm + ours in a Worker: median ${out.wasmWorkerMs} ms (backend ${r.backend}, spawn->ready ${out.workerSpawnToReadyMs} ms)`,
    );
  }

  // 3. cpu + our kernels
  await tf.setBackend('cpu');
  await tf.ready();
  await silenceCpuBanner(tf);
  out.cpuOursMs = null;
  if (cpuOurs) {
    out.registeredCpu = kernels.registerMissingKernels(tf, { backends: ['cpu'] });
    const t = await timeSteps(tf, 1, 3);
    out.cpuOursMs = r1(median(t.times));
    out.cpuOursCpuMs = r1(median(t.cpuTimes));
    out.cpuOursStepsMs = t.times.map(r1);
    log(`cpu + ours: median ${out.cpuOursMs} ms wall, ${out.cpuOursCpuMs} ms CPU`);
  }

  // 4. stock cpu: one step, no warm-up
  kernels.unregisterMissingKernels(tf);
  out.cpuStockMs = null;
  out.cpuStockCpuMs = null;
  if (cpuStock) {
    log('stock cpu: one step (about a minute)…');
    const t = await timeSteps(tf, 0, 1);
    out.cpuStockMs = Math.round(t.times[0]);
    out.cpuStockCpuMs = Math.round(t.cpuTimes[0]);
    out.cpuStockNote = 'one step, no warm-up (a warm-up step is not affordable)';
    log(`stock cpu: ${out.cpuStockMs} ms wall, ${out.cpuStockCpuMs} ms CPU`);
  }
  const ratio = (a, b) => (a === null || b === null || b === undefined ? null : +(a / b).toFixed(1));
  out.ratio = ratio(out.cpuStockMs, out.wasmMs);
  out.ratioCpu = ratio(out.cpuStockCpuMs, out.wasmCpuMs);
  out.ratioWorker = ratio(out.cpuStockMs, out.wasmWorkerMs);
  out.ratioCpuOurs = ratio(out.cpuStockMs, out.cpuOursMs);
  out.loadAvgAtEnd = os.loadavg().map((v) => +v.toFixed(2));
  out.goal = 'wasm (default) >= 20x faster than stock cpu';
  out.goalMet = out.ratio === null ? null : out.ratio >= 20 && (out.ratioCpu === null || out.ratioCpu >= 20);
  await tf.setBackend('wasm');
  return out;
}

async function workerMain() {
  const { tf, wasm } = await loadTf();
  // as in the bundle, where the .wasm files sit in dist/ next to worker.js
  wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  const kernels = await loadEngineKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  kernels.registerMissingKernels(tf);
  parentPort.postMessage({ ready: true });
  const { times, cpuTimes } = await timeSteps(tf, 2, workerData.steps);
  parentPort.postMessage({ result: { times, cpuTimes, backend: tf.getBackend() } });
}

if (!isMainThread && workerData?.role === 'wasm-worker') {
  await workerMain();
} else if (isMainThread && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const stepsArg = args.find((a) => a.startsWith('--steps='));
  const r = await benchCnnTrainStep({
    cpuStock: !args.includes('--no-cpu-stock'),
    steps: stepsArg ? Number(stepsArg.slice(8)) : 7,
    worker: !args.includes('--no-worker'),
  });
  process.stdout.write(JSON.stringify(r) + '\n');
}
