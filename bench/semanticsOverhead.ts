/**
 * Semantics overhead, bundled and run by bench/run.mjs (JSON on stdout): the same script run through the real
 * worker (EngineSession, dist/worker.js) under 'tfjs' and under another semantics, runs alternating in one process
 * (the order flipped every round), the script's own time (the 'compiled' event -> the end of the run), wall and CPU, compared.
 *
 *   - cnn: a small CNN trained with fit (3 × Conv → BN → ReLU, every BN trainable): keras and tf-keras compute
 *     exactly what tfjs computes, so the ratio is the cost of the semantics plumbing alone; pytorch adds its
 *     unbiased moving-variance write and the fit call-site record.
 *   - mobilenet: examples/mobilenet-v2-finetune.ts (52 BN layers, frozen backbone, fit + predict): under keras the
 *     frozen layers really run in inference mode, so the ratio is the cost of a different (smaller) computation.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineSession } from '../src/engineHost/engineSession';
import type { Semantics } from '../src/shared/protocol';

const ROOT = process.env.BN_BENCH_ROOT ?? join(__dirname, '..', '..');
const WORKER = join(ROOT, 'dist', 'worker.js');
const log = (...a: unknown[]) => process.stderr.write(`[semanticsOverhead] ${a.join(' ')}\n`);

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const r2 = (v: number) => Math.round(v * 100) / 100;
const r3 = (v: number) => Math.round(v * 1000) / 1000;

const CNN = `import * as tf from '@tensorflow/tfjs';
const model = tf.sequential();
model.add(tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 16, kernelSize: 3, padding: 'same' }));
model.add(tf.layers.batchNormalization());
model.add(tf.layers.reLU());
model.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }));
model.add(tf.layers.batchNormalization());
model.add(tf.layers.reLU());
model.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same' }));
model.add(tf.layers.batchNormalization());
model.add(tf.layers.reLU());
model.add(tf.layers.flatten());
model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
const x = tf.randomNormal([256, 16, 16, 3]);
const y = tf.oneHot(tf.randomUniform([256], 0, 10, 'int32'), 10);
await model.fit(x, y, { epochs: 2, batchSize: 16, shuffle: true, verbose: 0 });
`;

/** CPU time (user + system, ms) of a process so far, from /proc (Linux; clock ticks of 10 ms) */
const processCpuMs = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 14 and 15 of stat (utime, stime), counted from the state field (3) after the command name
  return (Number(f[11]) + Number(f[12])) * 10;
};

/**
 * One run, from the 'compiled' event to the end (the script's own part): wall ms, and CPU ms of the run's own process
 * (its worker thread's work: /proc at 'compiled', the process's own count at its end), which other processes on a
 * busy machine disturb less.
 */
async function timeRun(scriptPath: string, semantics: Semantics): Promise<{ wallMs: number; cpuMs: number }> {
  const s = new EngineSession({ scriptPath, workerPath: WORKER, semantics, keepSteps: false });
  let wall0 = NaN,
    cpu0 = NaN;
  s.on('compiled', () => {
    wall0 = performance.now();
    cpu0 = processCpuMs(s.pid!);
  });
  const r = await s.run();
  const wall1 = performance.now(),
    cpu1 = r.cpuMs ?? NaN;
  if (r.reason !== 'done') throw new Error(`${semantics} run of ${scriptPath}: ${r.reason} ${JSON.stringify(r.error)}`);
  return { wallMs: wall1 - wall0, cpuMs: cpu1 - cpu0 };
}

interface Pair {
  script: string;
  other: Semantics;
  rounds: number;
  tfjsMs: number[];
  otherMs: number[];
  tfjsCpuMs: number[];
  otherCpuMs: number[];
}

async function compare(script: string, scriptPath: string, other: Semantics, rounds: number): Promise<Pair> {
  const p: Pair = { script, other, rounds, tfjsMs: [], otherMs: [], tfjsCpuMs: [], otherCpuMs: [] };
  await timeRun(scriptPath, 'tfjs'); // warm-up (disk cache, JIT of the host side)
  for (let i = 0; i < rounds; i++) {
    const order: Semantics[] = i % 2 ? [other, 'tfjs'] : ['tfjs', other];
    for (const sem of order) {
      const t = await timeRun(scriptPath, sem);
      (sem === 'tfjs' ? p.tfjsMs : p.otherMs).push(r2(t.wallMs));
      (sem === 'tfjs' ? p.tfjsCpuMs : p.otherCpuMs).push(r2(t.cpuMs));
    }
    log(
      `${script} ${other} round ${i + 1}/${rounds}: tfjs ${p.tfjsMs.at(-1)} ms (CPU ${p.tfjsCpuMs.at(-1)}), ` +
        `${other} ${p.otherMs.at(-1)} ms (CPU ${p.otherCpuMs.at(-1)}), load ${loadavg()[0].toFixed(1)}`,
    );
  }
  return p;
}

/** median of the per-round ratios (each round: one run of each, back to back): robust to drifting load */
const pairRatio = (other: number[], tfjs: number[]) => r3(median(other.map((o, i) => o / tfjs[i])));

const summary = (p: Pair) => ({
  script: p.script,
  semantics: p.other,
  rounds: p.rounds,
  tfjsMedianMs: r2(median(p.tfjsMs)),
  otherMedianMs: r2(median(p.otherMs)),
  ratio: pairRatio(p.otherMs, p.tfjsMs),
  ratioOfMedians: r3(median(p.otherMs) / median(p.tfjsMs)),
  tfjsMedianCpuMs: r2(median(p.tfjsCpuMs)),
  otherMedianCpuMs: r2(median(p.otherCpuMs)),
  cpuRatio: pairRatio(p.otherCpuMs, p.tfjsCpuMs),
  cpuRatioOfMedians: r3(median(p.otherCpuMs) / median(p.tfjsCpuMs)),
  tfjsMs: p.tfjsMs,
  otherMs: p.otherMs,
  tfjsCpuMs: p.tfjsCpuMs,
  otherCpuMs: p.otherCpuMs,
});

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bn-semantics-bench-'));
  const load0 = loadavg();
  try {
    const cnn = join(dir, 'cnn.ts');
    writeFileSync(cnn, CNN);
    const mobilenet = join(ROOT, 'examples', 'mobilenet-v2-finetune.ts');
    const rounds = Number(process.env.BN_BENCH_ROUNDS ?? 7);
    const results = [
      summary(await compare('small CNN, every BN trainable (fit, 2 epochs × 16 batches)', cnn, 'keras', rounds)),
      summary(await compare('small CNN, every BN trainable (fit, 2 epochs × 16 batches)', cnn, 'pytorch', rounds)),
      summary(
        await compare(
          'examples/mobilenet-v2-finetune.ts (frozen backbone)',
          mobilenet,
          'keras',
          Math.max(3, rounds - 2),
        ),
      ),
    ];
    const load1 = loadavg();
    process.stdout.write(
      JSON.stringify({ results, loadavgStart: load0.map(r2), loadavgEnd: load1.map(r2), backend: 'wasm' }) + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  log(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
