// Profile summary of issue 11 (item 3): where a training step's time goes on the engine's default backend (wasm +
// the engine's kernels, src/worker/kernels/registerKernels.ts), per tfjs kernel name, per layer kind (forward and
// backward) and per kernel call shape, for the two MobileNetV2 goal scripts and the small CNN step
// (the cases and their measurement: bench/profileCases.mjs; the timers: bench/kernelTimers.mjs).
//
//   node bench/kernelProfile.mjs [--engine] [--write] [--json]   (node bench/run.mjs --profile: --engine --write)
//     (default)  plain Node, the backend set up as bench/cnnTrainStep.mjs does (bench/engineKernels.mjs: the wasm
//                package's default build + registerMissingKernels)
//     --engine   inside bn-inspect (dist/cli.js run bench/scripts/kernelProfileScript.mjs): the engine's own tfjs,
//                whatever backend src/worker/tfjsRuntime.ts sets up (needs npm run build)
//                when that backend is the threaded wasm build, the profile is taken again on the single-threaded
//                build (BN_INSPECTOR_WASM_THREADS=1) and compared per kernel
//     --write    writes bench/profile.md;  --json   one JSON line on stdout instead of the markdown
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { requireTfjs, useDefaultBackend } from './engineKernels.mjs';
import { REPEATS, profileCases } from './profileCases.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const log = (s) => process.stderr.write(`[kernelProfile] ${s}\n`);

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

/** what the cold fit says: the process-wide first-call cost falls mostly on the first case */
function coldNote(c, first) {
  const top = c.cold.byKernel
    .slice(0, 4)
    .map((e) => `${e.key} ${ms(e.ms)} ms`)
    .join(', ');
  return c.cold.kernelMs > 1.5 * c.kernelMs
    ? ` (${(c.cold.kernelMs / c.kernelMs).toFixed(1)}× the warm kernel time${first ? ': the first fit in the process, the same kernels run slower the first time' : ''}; top: ${top})`
    : first
      ? ' (about the warm figure)'
      : ' (about the warm figure: this process had run the cases above, whose first fit paid the first-call cost)';
}

/** plain Node: the wasm package's default build + the engine's kernels, as bench/cnnTrainStep.mjs sets it up */
async function profilePlainNode() {
  const tf = requireTfjs();
  const registered = await useDefaultBackend(tf);
  return { ...(await profileCases(tf, { log })), where: 'plain Node', engineKernels: engineOnly(registered) };
}

const engineOnly = (names) => names.filter((k) => !k.includes('/'));

/**
 * inside bn-inspect: bench/scripts/kernelProfileScript.mjs run by dist/cli.js, on the engine's own tfjs (its
 * backend setup, its kernels, its BatchNormalization instrument); the engine's kernel names come from a plain
 * registration in this process (registerMissingKernels reports them)
 */
async function profileInEngine(env = {}) {
  const tf = requireTfjs();
  const registered = await useDefaultBackend(tf);
  const script = join(here, 'scripts', 'kernelProfileScript.mjs');
  const r = await new Promise((resolve, reject) => {
    // --compact: the text report carries the script's output line as is and stays small (15 fits of 3 models)
    const child = spawn(process.execPath, [join(here, '..', 'dist', 'cli.js'), 'run', script, '--compact'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bn-inspect exited with ${code}`));
      const line = out.split('\n').find((l) => l.startsWith('PROFILE_RESULT '));
      if (!line) return reject(new Error('no PROFILE_RESULT line in the script output'));
      resolve(JSON.parse(line.slice('PROFILE_RESULT '.length)));
    });
  });
  return { ...r, where: 'bn-inspect (dist/cli.js run, the real engine)', engineKernels: engineOnly(registered) };
}

const ms = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

/** the default (threaded) build against the single-threaded one, per kernel: the largest differences */
function compareBuilds(c, one, build, mark) {
  if (!one) return '';
  const other = new Map(one.byKernel.map((e) => [e.key, e.ms]));
  const keys = new Set([...c.byKernel.map((e) => e.key), ...other.keys()]);
  const mine = new Map(c.byKernel.map((e) => [e.key, e.ms]));
  const rows = [...keys]
    .map((k) => ({ k, a: mine.get(k) ?? 0, b: other.get(k) ?? 0 }))
    .sort((x, y) => Math.abs(y.a - y.b) - Math.abs(x.a - x.b))
    .slice(0, 12);
  return `
The same case on the single-threaded build (${build}; BN_INSPECTOR_WASM_THREADS=1, profiled right after): fit
${ms(one.wallMs)} ms (here ${ms(c.wallMs)} ms), ${ms(one.kernelMs)} ms inside kernels (here ${ms(c.kernelMs)} ms). The kernels that differ most:

| kernel | ms, this build | ms, single-threaded | this / single |
| --- | ---: | ---: | ---: |
${rows.map((e) => `| ${mark(e.k)} | ${ms(e.a)} | ${ms(e.b)} | ${e.b > 0 ? (e.a / e.b).toFixed(2) : '—'} |`).join('\n')}
`;
}

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
  const sections = r.cases.map((c, i) => {
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
- The first (cold) fit of this fresh model took ${ms(c.cold.wallMs)} ms, ${ms(c.cold.kernelMs)} ms of it inside kernels${coldNote(c, i === 0)}.

By kernel (self time; * = registered by the engine, src/worker/kernels/):

${table(c.byKernel, 'kernel', (e) => mark(e.key), 14)}

By layer kind, forward and backward (kernel time spent for each kind of layer):

${table(c.byLayer, 'layer', (e) => e.key, 14, false)}

Most expensive kernel calls by shape (inputs; convolutions with their filter size and stride):

${table(c.byShape, 'kernel and input shapes', (e) => (ours.has(e.kernel) ? e.key.replace(e.kernel, `${e.kernel} *`) : e.key), 12)}
${compareBuilds(c, r.singleThreaded?.cases?.[i], r.singleThreaded?.wasmThreads, mark)}`;
  });
  const l = (a) => a.map((v) => v.toFixed(2)).join(' / ');
  return `# Where the training time goes (issue 11, item 3)

Made by \`node bench/kernelProfile.mjs ${r.where.startsWith('bn-inspect') ? '--engine ' : ''}--write\`${r.where.startsWith('bn-inspect') ? ' (= `node bench/run.mjs --profile`)' : ''} on
${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: Node ${r.node}, tfjs ${r.tfjs}, ${r.cpus}; backend
\`${r.backend}\` (SIMD ${r.wasmSimd}; threads: ${r.wasmThreads}), measured in ${r.where}, with the engine's kernels (registerMissingKernels: ${r.engineKernels.join(', ')}). Load average (1 / 5 / 15 min)
${l(r.loadAvgAtStart)} at the start, ${l(r.loadAvgAtEnd)} at the end.

Method: a fresh model's first (cold) fit with the timers, one fit without them, then ${REPEATS} fits with a timer around every kernel registered for the
backend (bench/kernelTimers.mjs wraps the registry's kernelFunc of each; wasm and cpu kernels compute synchronously, so
the wrapper times the computation). Self time: a kernel that runs other kernels is charged its own part. The layer of
a call is the layer whose \`call\` runs it (forward) or whose tape node's gradient runs it (backward); shares are of
the fit's wall time with the timers.

${sections.join('\n')}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = process.argv.includes('--engine') ? await profileInEngine() : await profilePlainNode();
  // a threaded run (BN_INSPECTOR_WASM_THREADS=2 or more): the same profile on the single-threaded build, right
  // after, to compare per kernel
  if (process.argv.includes('--engine') && String(r.wasmThreads).startsWith('threaded')) {
    log('again on the single-threaded build (BN_INSPECTOR_WASM_THREADS=1)');
    r.singleThreaded = await profileInEngine({ BN_INSPECTOR_WASM_THREADS: '1' });
  }
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(r) + '\n');
  else {
    const md = profileMarkdown(r);
    if (process.argv.includes('--write')) {
      writeFileSync(join(here, 'profile.md'), md);
      log('written to bench/profile.md');
    } else process.stdout.write(md);
  }
}
