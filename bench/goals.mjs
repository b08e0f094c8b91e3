// The goals table of issue 11, measured: the four scripts of bench/scripts/, each run by stock tfjs (`cpu`, plain
// Node: `node script.mjs`) and by bn-inspect (`node dist/cli.js run script.mjs --json`, the real engine on its
// default backend), one after the other on this machine in one run, so each row gives a ratio.
//
//   node bench/goals.mjs [--quick]   one JSON line on stdout (progress on stderr); bench/run.mjs runs it as a part
//   import { goalsSection } from './goals.mjs'   the markdown section of bench/results.md for that JSON
//
// The time of a row is the one the script prints for its timed `fit` (bench/scripts/benchScript.mjs). bn-inspect
// runs with BENCH_WARMUP=1: one untimed fit of the same size first (its time, the cold fit a user's first call
// pays, is reported too), then the timed fit. Stock cpu runs with no warm-up (a warm-up would cost minutes of compute;
// its first-call cost is well under 1% of its time). ratio = stock / bn-inspect warm; ratioCold = stock / cold. The
// dense row's goal is on the WHOLE process (spawn -> exit, no warm-up on either side), taken in rounds alternating the order.
// --quick skips the three long stock runs (about 3-4 minutes); their ratios are then missing.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (s) => process.stderr.write(`[goals] ${s}\n`);

/** the table of issue 11: script, what it is, the goals (ms for the bn-inspect fit, ratio vs stock) */
export const GOAL_ROWS = [
  {
    id: 'mobilenetV2Train64',
    what: 'MobileNetV2 (52 BN), 64×64×3, batch 8, every layer trainable, 2 steps',
    issueStockMs: 122800,
    issueToday: '2.32 s (1.16 s/step)',
    maxMs: 600,
    minRatio: 200,
    goal: '≤ 0.6 s (≥ 200× stock)',
    heavyStock: true,
  },
  {
    id: 'mobilenetV2Frozen96',
    what: 'MobileNetV2, 96×96×3, batch 8, backbone frozen, 2 steps',
    issueStockMs: 15950,
    issueToday: '1.30 s',
    maxMs: 320,
    minRatio: 50,
    goal: '≤ 0.32 s (≥ 50× stock)',
    heavyStock: true,
  },
  {
    id: 'smallCnnStep',
    what: 'small CNN (4 × conv 3×3×16 + BN, 32×32×3, batch 32), one step',
    issueStockMs: 43000,
    issueToday: '182 ms',
    maxMs: 60,
    minRatio: null,
    goal: '≤ 60 ms',
    heavyStock: true,
  },
  {
    id: 'dense10x256',
    what: 'dense 10 × (256 + BN), batch 64, 4 steps, whole process',
    issueStockMs: 5900,
    issueToday: '1.69 s',
    maxMs: null,
    minRatio: 4,
    goal: '≥ 4× stock, whole process',
    wholeProcess: true,
    heavyStock: false,
  },
];

/** runs one process; resolves { wallMs, result } with the script's BENCH_RESULT */
function runScript(kind, id, { warmup, env = {} }) {
  const script = join(root, 'bench', 'scripts', `${id}.mjs`);
  const args = kind === 'stock' ? [script] : [join(root, 'dist', 'cli.js'), 'run', script, '--json'];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ...env, BENCH_WARMUP: String(warmup) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      if (code !== 0) return reject(new Error(`${kind} ${id} exited with ${code}: ${err.slice(-600)}`));
      let text = out;
      if (kind === 'engine') {
        const doc = JSON.parse(out);
        if (doc.error) return reject(new Error(`bn-inspect ${id}: ${JSON.stringify(doc.error).slice(0, 600)}`));
        text = doc.output ?? '';
      }
      const line = text.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (!line) return reject(new Error(`${kind} ${id}: no BENCH_RESULT line in its output`));
      resolve({ wallMs: Math.round(wallMs), result: JSON.parse(line.slice('BENCH_RESULT '.length)) });
    });
  });
}

const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ratio = (a, b) => (a == null || b == null ? null : Math.round((a / b) * 10) / 10);
const la = () => os.loadavg().map((v) => +v.toFixed(2));

/** @param {{ quick?: boolean, rounds?: number }} [opts] */
export async function measureGoals(opts = {}) {
  const { quick = false, rounds = 3 } = opts;
  const out = {
    name: 'goals',
    node: process.version,
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
    quick,
    loadAvgAtStart: la(),
    rows: [],
  };
  for (const row of GOAL_ROWS) {
    const r = { id: row.id };
    try {
      if (row.wholeProcess) {
        // rounds of (bn-inspect, stock) alternating the order; both without warm-up: the whole process is the figure
        r.engineProcessMs = [];
        r.stockProcessMs = [];
        r.engineFitMs = [];
        r.stockFitMs = [];
        for (let i = 0; i < rounds; i++) {
          for (const kind of i % 2 ? ['stock', 'engine'] : ['engine', 'stock']) {
            const { wallMs, result } = await runScript(kind, row.id, { warmup: 0 });
            r[`${kind}ProcessMs`].push(wallMs);
            r[`${kind}FitMs`].push(result.fitMs);
            r[`${kind}Backend`] = result.backend;
            log(`${row.id} ${kind}: process ${wallMs} ms, fit ${result.fitMs} ms`);
          }
        }
        r.engineMs = median(r.engineProcessMs);
        r.stockMs = median(r.stockProcessMs);
        r.ratio = ratio(r.stockMs, r.engineMs);
        r.roundRatios = r.stockProcessMs.map((s, i) => ratio(s, r.engineProcessMs[i]));
        r.met = r.ratio >= row.minRatio;
      } else {
        // `rounds` runs of the engine's default build and, right after each (the order alternating), its other wasm
        // build: the threaded one (BN_INSPECTOR_WASM_THREADS=2) when the default is single-threaded, else the
        // single-threaded one (what the second core brings). The figures: the median run of each (the machine's
        // speed drifts by tens of percent from minute to minute; one run per build made the table a lottery).
        const runs = [];
        const others = [];
        let other = null;
        for (let i = 0; i < rounds; i++) {
          const order = i % 2 && other !== null ? ['other', 'default'] : ['default', 'other'];
          for (const which of order) {
            if (which === 'default') {
              const e = await runScript('engine', row.id, { warmup: 1 });
              runs.push(e);
              if (other === null && e.result.threads != null) other = e.result.threads > 1 ? '1' : '2';
            } else if (other !== null) {
              const o = await runScript('engine', row.id, { warmup: 1, env: { BN_INSPECTOR_WASM_THREADS: other } });
              others.push(o);
              log(`${row.id} bn-inspect, BN_INSPECTOR_WASM_THREADS=${other}: fit ${o.result.fitMs} ms`);
            }
          }
        }
        const mid = (list) => [...list].sort((a, b) => a.result.fitMs - b.result.fitMs)[(list.length - 1) >> 1];
        const e = mid(runs);
        r.engineRunsMs = runs.map((x) => x.result.fitMs);
        r.engineMs = e.result.fitMs;
        r.engineCpuMs = e.result.fitCpuMs;
        r.engineStepMs = e.result.stepMs;
        r.engineColdMs = median(runs.map((x) => x.result.warmupMs[0]));
        r.engineBackend = e.result.backend;
        r.engineThreads = e.result.threads;
        r.engineProcessMs = e.wallMs;
        if (others.length > 0) {
          const o = mid(others);
          r.engineOtherRunsMs = others.map((x) => x.result.fitMs);
          r.engineOtherMs = o.result.fitMs;
          r.engineOtherCpuMs = o.result.fitCpuMs;
          r.engineOtherThreads = o.result.threads;
        }
        log(`${row.id} bn-inspect: fit ${r.engineMs} ms (cold ${r.engineColdMs} ms), CPU ${r.engineCpuMs} ms`);
        r.stockMs = null;
        if (!(quick && row.heavyStock)) {
          log(`${row.id} stock cpu…`);
          const s = await runScript('stock', row.id, { warmup: 0 });
          r.stockMs = s.result.fitMs;
          r.stockCpuMs = s.result.fitCpuMs;
          r.stockStepMs = s.result.stepMs;
          r.stockBackend = s.result.backend;
          log(`${row.id} stock ${r.stockBackend}: fit ${r.stockMs} ms`);
        }
        r.ratio = ratio(r.stockMs, r.engineMs);
        r.ratioCold = ratio(r.stockMs, r.engineColdMs);
        // process CPU times: less disturbed by other work on the machine (but a threaded backend's CPU time
        // counts both cores, so this ratio understates its speed-up)
        r.ratioCpu = ratio(r.stockCpuMs ?? null, r.engineCpuMs);
        const fast = r.engineMs <= row.maxMs;
        r.met = row.minRatio == null ? fast : r.ratio == null ? (fast ? null : false) : fast && r.ratio >= row.minRatio;
      }
    } catch (e) {
      r.error = String(e.message ?? e);
      log(`${row.id}: ${r.error}`);
    }
    out.rows.push(r);
  }
  out.loadAvgAtEnd = la();
  return out;
}

// ---- the section of bench/results.md ------------------------------------------------------------------------------
export const GOALS_BEGIN = '<!-- issue 11 goals: begin (node bench/run.mjs --goals) -->';
export const GOALS_END = '<!-- issue 11 goals: end -->';

const secs = (ms) => (ms == null ? '—' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);

export function goalsSection(g) {
  if (!g || g.error)
    return `${GOALS_BEGIN}\n## Issue 11 goals: real networks\n\nNot measured: ${g?.error ?? 'skipped'}\n${GOALS_END}`;
  const lines = GOAL_ROWS.map((row) => {
    const r = g.rows.find((x) => x.id === row.id) ?? { error: 'not run' };
    if (r.error)
      return `| ${row.what} | — | — | — | ${row.goal} | error: ${r.error.replace(/\|/g, '/').slice(0, 200)} |`;
    const met = r.met == null ? '— (stock skipped)' : r.met ? 'met' : 'NOT met';
    if (row.wholeProcess)
      return `| ${row.what} | ${secs(r.stockMs)} (fit ${secs(median(r.stockFitMs))}) | ${secs(r.engineMs)} (fit ${secs(median(r.engineFitMs))}) | ${r.ratio}× (rounds: ${r.roundRatios.join(', ')}) | ${row.goal} | ${met} |`;
    const steps = r.engineStepMs.length > 1 ? `; steps ${r.engineStepMs.map(secs).join(', ')}` : '';
    const runs = (list) => (list && list.length > 1 ? ` (runs ${list.map(secs).join(', ')})` : '');
    const one =
      r.engineOtherMs != null
        ? `; ${r.engineOtherThreads > 1 ? `threaded build (${r.engineOtherThreads} threads)` : 'single-threaded build'} ${secs(r.engineOtherMs)}${runs(r.engineOtherRunsMs)}`
        : '';
    return `| ${row.what} | ${secs(r.stockMs)} | ${secs(r.engineMs)}${runs(r.engineRunsMs)} (cold ${secs(r.engineColdMs)}${steps}; CPU ${secs(r.engineCpuMs)}${one}) | ${r.ratio == null ? '—' : `${r.ratio}× (cold ${r.ratioCold}×; CPU ${r.ratioCpu}×)`} | ${row.goal} | ${met} |`;
  });
  const l = (a) => a.map((v) => v.toFixed(2)).join(' / ');
  const busy = g.loadAvgAtStart[0] > os.cpus().length || g.loadAvgAtEnd[0] > os.cpus().length;
  const first = g.rows.find((r) => r.engineBackend);
  const backend = `${first?.engineBackend ?? '?'}${first?.engineThreads != null ? `, ${first.engineThreads} thread${first.engineThreads === 1 ? '' : 's'}` : ''}`;
  return `${GOALS_BEGIN}
## Issue 11 goals: real networks

Measured on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC by \`node bench/run.mjs\` (bench/goals.mjs),
Node ${g.node}, ${g.cpus}. Load average (1 / 5 / 15 min) ${l(g.loadAvgAtStart)} at the start, ${l(g.loadAvgAtEnd)} at the
end${busy ? ' — above the core count: the machine was shared with other work, so single runs are noisy' : ''}.${g.quick ? '\n`--quick`: the three long stock-cpu runs were skipped (no ratio for them).' : ''}

| script | stock tfjs \`cpu\`, plain Node | \`bn-inspect\` (${backend}) | ratio | goal | |
| --- | --- | --- | --- | --- | --- |
${lines.join('\n')}

- The scripts: bench/scripts/*.mjs (MobileNetV2 from bench/mobilenetV2.mjs: alpha 1.0, 52 BatchNormalization
  layers, 17 depthwise convolutions, ReLU6, seeded weights; the small CNN from bench/cnnTrainStep.mjs). Each prints
  the time of its own \`fit\`; the same file runs as \`node script.mjs\` (stock tfjs, \`cpu\`) and as
  \`node dist/cli.js run script.mjs --json\` (the engine, its default backend and kernels, a step snapshot at the fit).
- bn-inspect: the timed fit follows one untimed warm-up fit of the same size (BENCH_WARMUP=1); "cold" is that first
  fit (median). Each build ran ${g.rows.find((r) => r.engineRunsMs)?.engineRunsMs.length ?? '?'} times, alternating with the other build; the figure is the median run
  (its steps and CPU). CPU = process CPU time over the timed fit (all threads: above the wall time when both cores
  work). Stock: one run, no warm-up. The ratio is stock / bn-inspect (warm), "cold" the same against the first fit, "CPU" the ratio
  of the CPU times (less disturbed by other work on a shared machine; with a threaded backend it counts both cores).
- "threaded build" / "single-threaded build": the same bn-inspect runs on the engine's other wasm build
  (BN_INSPECTOR_WASM_THREADS=2 when the default is single-threaded, =1 otherwise), alternating with the default's.
- The dense row: whole-process wall time (spawn → exit) of each command, median of ${g.rows.find((r) => r.id === 'dense10x256')?.engineProcessMs?.length ?? '?'} runs each, alternating the order.
- The issue's own figures for comparison (stock / bn-inspect then): ${GOAL_ROWS.map((r) => `${r.id} ${secs(r.issueStockMs)} / ${r.issueToday}`).join('; ')}.

Raw figures (ms):

\`\`\`json
${JSON.stringify(g.rows)}
\`\`\`
${GOALS_END}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const g = await measureGoals({ quick });
  process.stdout.write(JSON.stringify(g) + '\n');
}
