// Profile summary of issue 11 (item 3): where a training step's time goes on the engine's default backend (wasm +
// the engine's kernels, src/worker/kernels/registerKernels.ts), per tfjs kernel name, per layer kind (forward and
// backward) and per kernel call shape, for the two MobileNetV2 goal scripts and the small CNN step.
//
//   node bench/kernelProfile.mjs [--write] [--json]   (or node bench/run.mjs --profile, which writes)
//     --write   writes bench/profile.md;  --json   one JSON line on stdout instead of the markdown
//
// Each case: a fresh model (bench/mobilenetV2.mjs, bench/cnnTrainStep.mjs), one untimed warm-up fit, one fit without
// timers (what the timers themselves cost shows against it), then REPEATS fits of the goal's size with timers on
// every registered kernel (bench/kernelTimers.mjs); the figures are per fit.
// The backend is set up as bench/cnnTrainStep.mjs does (bench/engineKernels.mjs): plain Node, the wasm package's
// default build, the engine's kernels registered by registerMissingKernels.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTfjs, useDefaultBackend } from './engineKernels.mjs';
import { installKernelTimers } from './kernelTimers.mjs';
import { buildMobileNetV2, makeBatch, trainSteps } from './mobilenetV2.mjs';
import { buildCnn, cnnBatch } from './cnnTrainStep.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const log = (s) => process.stderr.write(`[kernelProfile] ${s}\n`);

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
const REPEATS = 3;

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

/** item 3's parts of a step (from the by-layer figures) */
function itemThreeParts(c) {
  const parts = [
    ['depthwise convolution', (k) => k.startsWith('DepthwiseConv2D')],
    ['1×1 convolution', (k) => k.startsWith('Conv2D 1×1')],
    ['other convolutions', (k) => k.startsWith('Conv2D') && !k.startsWith('Conv2D 1×1')],
    ['BatchNormalization (training)', (k) => k.startsWith('BatchNormalization')],
    ['ReLU6', (k) => k.startsWith('ReLU')],
  ];
  const sum = (f, bwd) =>
    c.byLayer.filter((e) => f(e.key) && e.key.endsWith(' backward') === bwd).reduce((a, e) => a + e.ms, 0);
  const pct = (v) => `${((100 * v) / c.wallMs).toFixed(0)}%`;
  const rows = parts.map(([name, f]) => {
    const fwd = sum(f, false);
    const bwd = sum(f, true);
    return { name, fwd, bwd, all: fwd + bwd };
  });
  const named = rows.reduce((a, r) => a + r.all, 0);
  return [
    ...rows
      .filter((r) => r.all > 0)
      .sort((a, b) => b.all - a.all)
      .map((r) => `${r.name} ${pct(r.all)} (forward ${ms(r.fwd)} ms, backward ${ms(r.bwd)} ms)`),
    `other kernels ${pct(c.kernelMs - named)}`,
    `outside kernels ${pct(c.outsideKernelsMs)}`,
  ].join('; ');
}

/** the engine's kernels (by registerMissingKernels) are marked in the tables */
export async function profileAll() {
  const tf = requireTfjs();
  const registered = await useDefaultBackend(tf);
  const out = {
    name: 'kernelProfile',
    node: process.version,
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    wasmSimd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    wasmThreads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
    engineKernels: registered.filter((k) => !k.includes('/')),
    loadAvgAtStart: os.loadavg().map((v) => +v.toFixed(2)),
    cases: [],
  };
  for (const c of CASES) {
    const { model, x, y } = c.make(tf);
    await trainSteps(model, x, y, { steps: c.steps }); // warm-up (untimed)
    const plain = await trainSteps(model, x, y, { steps: c.steps }); // without timers
    const timers = installKernelTimers(tf, model);
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
      stepMs: stepMs.map((v) => +v.toFixed(1)),
      ...p,
    });
    log(`${c.id}: fit ${p.wallMs} ms with timers (${plain.totalMs.toFixed(0)} ms without), kernels ${p.kernelMs} ms`);
    x.dispose();
    y.dispose();
    model.dispose();
  }
  out.loadAvgAtEnd = os.loadavg().map((v) => +v.toFixed(2));
  return out;
}

const ms = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

export function profileMarkdown(r) {
  const ours = new Set(r.engineKernels);
  const mark = (k) => (ours.has(k) ? `${k} *` : k);
  const table = (rows, head, keyOf, n, incl = true) => {
    const top = rows.slice(0, n);
    const rest = rows.slice(n);
    const restMs = rest.reduce((s, e) => s + e.ms, 0);
    const restShare = rest.reduce((s, e) => s + e.share, 0);
    return [
      `| ${head} | ms (self) | calls | share of the fit |${incl ? ' ms with the kernels it ran |' : ''}`,
      `| --- | ---: | ---: | ---: |${incl ? ' ---: |' : ''}`,
      ...top.map(
        (e) =>
          `| ${keyOf(e)} | ${ms(e.ms)} | ${e.calls} | ${e.share.toFixed(1)}% |${incl ? ` ${e.inclMs - e.ms > 0.05 * e.inclMs ? ms(e.inclMs) : ''} |` : ''}`,
      ),
      ...(rest.length
        ? [
            `| ${rest.length} others | ${ms(restMs)} | ${rest.reduce((s, e) => s + e.calls, 0)} | ${restShare.toFixed(1)}% |${incl ? ' |' : ''}`,
          ]
        : []),
    ].join('\n');
  };
  const sections = r.cases.map((c) => {
    const top3 = c.byKernel
      .slice(0, 3)
      .map((e) => `${e.key} ${e.share.toFixed(0)}%`)
      .join(', ');
    return `### ${c.what}

Fit ${ms(c.wallMs)} ms with the timers (mean of ${c.repeats} fits; ${ms(c.plainFitMs)} ms for one fit without them; steps
${c.stepMs.map(ms).join(', ')} ms); ${ms(c.kernelMs)} ms inside kernels (${((100 * c.kernelMs) / c.wallMs).toFixed(0)}%), ${ms(c.outsideKernelsMs)} ms outside them (tfjs-layers and the
tape in JavaScript, tensor bookkeeping, the loss read-back). All figures below are per fit.

- Top kernels: ${top3}.
- Item 3's parts, share of the fit: ${itemThreeParts(c)}.

By kernel (self time; * = registered by the engine, src/worker/kernels/):

${table(c.byKernel, 'kernel', (e) => mark(e.key), 14)}

By layer kind, forward and backward (kernel time spent for each kind of layer):

${table(c.byLayer, 'layer', (e) => e.key, 14, false)}

Most expensive kernel calls by shape (inputs; convolutions with their filter size and stride):

${table(c.byShape, 'kernel and input shapes', (e) => (ours.has(e.kernel) ? e.key.replace(e.kernel, `${e.kernel} *`) : e.key), 12)}
`;
  });
  const l = (a) => a.map((v) => v.toFixed(2)).join(' / ');
  return `# Where the training time goes (issue 11, item 3)

Made by \`node bench/kernelProfile.mjs --write\` (or \`node bench/run.mjs --profile\`) on
${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: Node ${r.node}, tfjs ${r.tfjs}, ${r.cpus}; backend
\`${r.backend}\` (SIMD ${r.wasmSimd}, threads ${r.wasmThreads}) set up as bench/cnnTrainStep.mjs does, in plain Node, with
the engine's kernels (registerMissingKernels: ${r.engineKernels.join(', ')}). Load average (1 / 5 / 15 min)
${l(r.loadAvgAtStart)} at the start, ${l(r.loadAvgAtEnd)} at the end.

Method: one warm-up fit, one fit without timers, then ${REPEATS} fits with a timer around every kernel registered for the
backend (bench/kernelTimers.mjs wraps the registry's kernelFunc of each; wasm and cpu kernels compute synchronously, so
the wrapper times the computation). Self time: a kernel that runs other kernels is charged its own part. The layer of
a call is the layer whose \`call\` runs it (forward) or whose tape node's gradient runs it (backward); shares are of
the fit's wall time with the timers.

${sections.join('\n')}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await profileAll();
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(r) + '\n');
  else {
    const md = profileMarkdown(r);
    if (process.argv.includes('--write')) {
      writeFileSync(join(here, 'profile.md'), md);
      log('written to bench/profile.md');
    } else process.stdout.write(md);
  }
}
