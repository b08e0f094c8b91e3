// npm run bench: the engine's figures, measured in one run, written to bench/results.md (quoted by the README).
//
//   node bench/run.mjs [--quick]      --quick: skip the ~1 minute stock-cpu CNN step (the ratio is then missing)
//
// Parts (each in its own child process, JSON on stdout):
//   1. instrumented / plain run time, dense and CNN (bench/engineBench.ts overhead)
//   2. engine cost per step through the real worker: 10 x 512 channels, ResNet-50-sized (engineBench steps)
//   3. cold start, spawn -> first snapshot (engineBench cold)
//   4. the CNN training step, default backend vs stock cpu (bench/cnnTrainStep.mjs, when present)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const quick = process.argv.includes('--quick');
const log = (s) => process.stderr.write(`[bench] ${s}\n`);

if (!existsSync(join(root, 'dist', 'worker.js'))) {
  log('dist/worker.js missing: run npm run build (npm run bench does)');
  process.exit(1);
}

// bundle bench/engineBench.ts like the worker is bundled (tfjs CJS build, one instance)
const esbuild = require('esbuild');
const cacheDir = join(root, '.cache', 'bench');
mkdirSync(cacheDir, { recursive: true });
const benchJs = join(cacheDir, 'engineBench.cjs');
await esbuild.build({
  entryPoints: [join(root, 'bench', 'engineBench.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  mainFields: ['main', 'module'],
  target: 'es2022',
  outfile: benchJs,
  external: ['esbuild'],
  logLevel: 'warning',
});

function runJson(args, label) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, BN_BENCH_ROOT: root },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${label} exited with ${code}`));
      log(`${label}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

const started = new Date();
const load0 = os.loadavg()[0];
const results = {};
results.overhead = await runJson([benchJs, 'overhead'], 'instrumentation overhead');
results.steps = await runJson([benchJs, 'steps'], 'engine cost per step');
results.cold = await runJson([benchJs, 'cold'], 'cold start');
const cnnBench = join(root, 'bench', 'cnnTrainStep.mjs');
results.cnn = existsSync(cnnBench)
  ? await runJson([cnnBench, ...(quick ? ['--no-cpu-stock'] : [])], 'CNN training step').catch((e) => ({
      error: String(e.message),
    }))
  : null;
const load1 = os.loadavg()[0];

// ---- report --------------------------------------------------------------------------------
const o = results.overhead;
const st = results.steps;
const c = results.cnn;
const stepText = (a, b) =>
  `${a.medianMs} ms median (p90 ${a.p90Ms}); after a call of every layer ${b.medianMs} ms (p90 ${b.p90Ms}), of which snapshot + pack in the worker ${b.workerSnapshotPackMedianMs} ms`;
const ok = (v, goal, le = true) => (v == null ? '—' : (le ? v <= goal : v >= goal) ? 'yes' : 'NO');
const rows = [
  [
    'instrumented / plain, dense training step (10 × Dense 256 → BN → ReLU, batch 64)',
    `${o.dense.ratioTrain} (with the step snapshot: ${o.dense.ratioTrainWithSnapshot})`,
    '≤ 1.05',
    ok(o.dense.ratioTrain, 1.05),
  ],
  [
    'instrumented / plain, dense predict',
    `${o.dense.ratioPredict} (with the step snapshot: ${o.dense.ratioPredictWithSnapshot})`,
    '≤ 1.05',
    ok(o.dense.ratioPredict, 1.05),
  ],
  [
    'instrumented / plain, CNN training step (4 × Conv 3×3×16 → BN, 32×32×3, batch 32)',
    `${o.cnn.ratioTrain} (with the step snapshot: ${o.cnn.ratioTrainWithSnapshot})`,
    '≤ 1.05',
    ok(o.cnn.ratioTrain, 1.05),
  ],
  [
    'instrumented / plain, CNN predict',
    `${o.cnn.ratioPredict} (with the step snapshot: ${o.cnn.ratioPredictWithSnapshot})`,
    '≤ 1.05',
    ok(o.cnn.ratioPredict, 1.05),
  ],
  [
    'engine cost per step, 10 layers × 512 channels',
    stepText(st.dense10x512, st.dense10x512AfterCalls),
    '≤ 5 ms',
    ok(Math.max(st.dense10x512.medianMs, st.dense10x512AfterCalls.medianMs), 5),
  ],
  [
    `engine cost per step, ResNet-50-sized (${st.resnet50.layers} layers, ${st.resnet50.channels} channels)`,
    stepText(st.resnet50, st.resnet50AfterCalls),
    '≤ 30 ms',
    ok(Math.max(st.resnet50.medianMs, st.resnet50AfterCalls.medianMs), 30),
  ],
  [
    'cold start, spawn → first snapshot',
    `${results.cold.medianMs} ms (min ${results.cold.minMs}, max ${results.cold.maxMs}, ${results.cold.runs.length} runs)`,
    '≤ 1500 ms',
    ok(results.cold.medianMs, 1500),
  ],
];
if (c && !c.error)
  rows.push([
    'CNN training step (tfjs-facts.md model), default backend (wasm + engine kernels) vs stock cpu',
    c.ratio != null
      ? `${c.ratio}× faster (wasm ${c.wasmMs} ms, in a worker ${c.wasmWorkerMs ?? '—'} ms; stock cpu ${c.cpuStockMs} ms)`
      : `wasm ${c.wasmMs} ms, in a worker ${c.wasmWorkerMs ?? '—'} ms (stock cpu skipped: --quick)`,
    '≥ 20×',
    ok(c.ratio, 20, false),
  ]);

const md = `# Benchmark results

Measured by \`npm run bench\` (bench/run.mjs) on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC:
Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, tfjs 4.22.0, wasm backend.
Load average (1 min) ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end${load0 > os.cpus().length ? ': the machine was busy with other work, so times are noisy' : ''}.

| what | measured | goal | met |
| --- | --- | --- | --- |
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

How each figure is taken:

- **instrumented / plain**: the same model in the same process, single plain and instrumented steps
  alternating, the order flipped every round (${o.rounds} rounds); each ratio is the median of the per-pair
  ratios (wall time; CPU-time ratios are in the raw figures). "Instrumented" = the BatchNormalization instrument installed
  (batch statistics: ${o.dense.captureMode} mode); "with the step snapshot" adds what the engine does when the
  statement is a step point: read every layer back and pack it. Noise on this machine is about ±10%.
- **engine cost per step**: the real worker (dist/worker.js), paused at every step; the host resumes at once.
  Cost = (resume → next step event on the host) − the loop body's own time measured in the worker: wake-up,
  snapshot, pack, transfer, unpack; medians of 200 steps. The worker's own part (snapshot + pack) is read
  from its BN_INSPECTOR_TRACE=steps timings; the rest is thread hand-over, which a busy machine stretches. Packed step: ${st.dense10x512.packedKiB} KiB (10 × 512), ${st.resnet50.packedKiB} KiB (ResNet-50-sized).
  "After a call of every layer": each layer ran in training mode between two steps, so fresh batch statistics are read back.
- **cold start**: \`new EngineSession(…).start()\` → the first 'step' event, for a three-line script
  (worker spawn, tfjs + wasm start, esbuild compile and instrumentation, import, first snapshot).
- **CNN training step**: bench/cnnTrainStep.mjs (kernels: src/worker/kernels/); median of several steps.

Raw figures:

\`\`\`json
${JSON.stringify(results, null, 1)}
\`\`\`
`;
writeFileSync(join(root, 'bench', 'results.md'), md);
process.stdout.write(md.split('Raw figures:')[0]);
log('written to bench/results.md');
