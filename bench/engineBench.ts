/**
 * Engine benchmarks, bundled and run by bench/run.mjs (one child process per part; JSON on stdout).
 *
 *   overhead  instrumented / plain run time of a training step and a predict, dense and CNN models,
 *             same process, plain and instrumented samples alternating one by one, wall and CPU time
 *             (wasm backend + the engine's kernels, as in the worker)
 *   steps     engine cost per step through the real worker: pause + snapshot + pack + transfer + unpack
 *             + resume, for 10 BN layers x 512 channels and a ResNet-50-sized state (53 layers, 26,560 channels)
 *   cold      start() -> first snapshot of a tiny script (EngineSession, dist/worker.js): from a process forked for the
 *             run (cold) and from a RunnerPool's warm spare, alternating
 *
 * One unit: the three parts share the models, the worker setup and the timing helpers.
 */
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { installBnInstrument } from '../src/worker/bnInstrument';
import { UNINSTRUMENTED } from '../src/worker/bnState';
import { EngineSession } from '../src/engineHost/engineSession';
import { RunnerPool } from '../src/engineHost/runnerPool';
import { registerMissingKernels } from '../src/worker/kernels/registerKernels';
import { packStep } from '../src/shared/snapshotCodec';

const ROOT = process.env.BN_BENCH_ROOT ?? join(__dirname, '..', '..');
const WORKER = join(ROOT, 'dist', 'worker.js');
const log = (...a: unknown[]) => process.stderr.write(`[engineBench] ${a.join(' ')}\n`);

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function pct(a: number[], p: number): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}
const r2 = (v: number) => Math.round(v * 100) / 100;

// ---------------------------------------------------------------------------------------------
// overhead: instrumented vs plain, same process

function denseModel() {
  const layers: tf.layers.Layer[] = [];
  for (let i = 0; i < 10; i++) {
    layers.push(tf.layers.dense({ units: 256, ...(i === 0 ? { inputShape: [512] } : {}) }));
    layers.push(tf.layers.batchNormalization());
    layers.push(tf.layers.activation({ activation: 'relu' }));
  }
  layers.push(tf.layers.dense({ units: 10, activation: 'softmax' }));
  const model = tf.sequential({ layers });
  const optimizer = tf.train.sgd(0.01);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const x = tf.randomNormal([64, 512], 0, 1, 'float32', 1);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 64 }, (_, i) => i % 10),
      'int32',
    ),
    10,
  );
  return { model, optimizer, x, y };
}

function cnnModel() {
  const layers: tf.layers.Layer[] = [];
  for (let i = 0; i < 4; i++) {
    layers.push(
      tf.layers.conv2d({
        filters: 16,
        kernelSize: 3,
        padding: 'same',
        ...(i === 0 ? { inputShape: [32, 32, 3] } : {}),
      }),
    );
    layers.push(tf.layers.batchNormalization());
  }
  layers.push(tf.layers.flatten());
  layers.push(tf.layers.dense({ units: 10, activation: 'softmax' }));
  const model = tf.sequential({ layers });
  const optimizer = tf.train.sgd(0.01);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const x = tf.randomNormal([32, 32, 32, 3], 0, 1, 'float32', 2);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 32 }, (_, i) => i % 10),
      'int32',
    ),
    10,
  );
  return { model, optimizer, x, y };
}

/** CPU time of this process (all threads: the wasm backend runs on the main thread), ms */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Plain and instrumented samples alternate one by one (the order flips every round), so a burst of other
 * work on the machine hits both alike; the ratios are medians of the per-round ratios (inst / the adjacent
 * plain), in wall time and in CPU time (less sensitive to other processes). After each install one untimed
 * predict + snapshot: the instrument's one-off work on a layer's first call (registration, initial moving
 * stats) is paid once per run in real use, not per step, and stays out of the timed steps; a plain sample gets the
 * same untimed predict after the uninstall (the first calls after it run slower, which real runs never see).
 */
async function overhead(): Promise<unknown> {
  tfWasm.setWasmPaths(join(ROOT, 'dist') + '/');
  await tf.setBackend('wasm');
  await tf.ready();
  registerMissingKernels(tf);
  const out: Record<string, unknown> = { backend: tf.getBackend() };
  const roundsOf = { dense: Number(process.env.BN_BENCH_ROUNDS ?? 40), cnn: Number(process.env.BN_BENCH_ROUNDS ?? 40) };
  out.rounds = `${roundsOf.dense} dense / ${roundsOf.cnn} CNN`;
  const snapshotAndPack = (bn: ReturnType<typeof installBnInstrument>) =>
    packStep({ index: 1, line: 1, column: 1, file: 'bench', hit: 1, layers: bn.snapshotLayers() });
  for (const [name, make] of [
    ['dense', denseModel],
    ['cnn', cnnModel],
  ] as const) {
    const rounds = roundsOf[name];
    const { model, optimizer, x, y } = make();
    // one op of each kind warms up (kernels, JIT), instrumented too
    for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y);
    tf.dispose(model.predict(x) as tf.Tensor);
    {
      const bn = installBnInstrument(tf);
      await model.trainOnBatch(x, y);
      tf.dispose(model.predict(x) as tf.Tensor);
      snapshotAndPack(bn);
      bn.uninstall();
    }
    const keys = [
      'plainTrain',
      'instTrain',
      'instTrainStep',
      'plainPredict',
      'instPredict',
      'instPredictStep',
    ] as const;
    const wall = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<(typeof keys)[number], number[]>;
    const cpu = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<(typeof keys)[number], number[]>;
    let mode = '';
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? (['inst', 'plain'] as const) : (['plain', 'inst'] as const);
      for (const v of order) {
        const bn = v === 'inst' ? installBnInstrument(tf) : null;
        if (bn) mode = bn.captureMode();
        // untimed: the layers' first call under this install, or the first after an uninstall (restored methods
        // run slower once, V8 re-learning them: measured up to 2x on a dense predict); alike for both variants
        tf.dispose(model.predict(x) as tf.Tensor);
        if (bn) snapshotAndPack(bn);
        /** time one step of `kind`; instrumented: also the step point's work (snapshot every layer, pack it) */
        const timeOne = async (kind: 'Train' | 'Predict', run: () => Promise<unknown>) => {
          const t0 = performance.now();
          const c0 = cpuMs();
          const result = await run();
          const t1 = performance.now();
          const c1 = cpuMs();
          if (result instanceof tf.Tensor) result.dispose(); // outside the timed span, as before
          if (bn) {
            snapshotAndPack(bn);
            wall[`inst${kind}`].push(t1 - t0);
            cpu[`inst${kind}`].push(c1 - c0);
            wall[`inst${kind}Step`].push(performance.now() - t0);
            cpu[`inst${kind}Step`].push(cpuMs() - c0);
          } else {
            wall[`plain${kind}`].push(t1 - t0);
            cpu[`plain${kind}`].push(c1 - c0);
          }
        };
        await timeOne('Train', () => model.trainOnBatch(x, y));
        await timeOne('Predict', async () => {
          const p = model.predict(x) as tf.Tensor;
          await p.data();
          return p;
        });
        bn?.uninstall();
      }
    }
    const medians = (t: Record<string, number[]>) =>
      Object.fromEntries(Object.entries(t).map(([k, v]) => [k, r2(median(v))]));
    /** median over rounds of inst[r] / plain[r] */
    const paired = (inst: number[], plain: number[]) => r2(median(inst.map((v, i) => v / plain[i])));
    out[name] = {
      captureMode: mode,
      medianMs: medians(wall),
      cpuMedianMs: medians(cpu),
      ratioTrain: paired(wall.instTrain, wall.plainTrain),
      ratioTrainCpu: paired(cpu.instTrain, cpu.plainTrain),
      ratioTrainWithSnapshot: paired(wall.instTrainStep, wall.plainTrain),
      ratioPredict: paired(wall.instPredict, wall.plainPredict),
      ratioPredictCpu: paired(cpu.instPredict, cpu.plainPredict),
      ratioPredictWithSnapshot: paired(wall.instPredictStep, wall.plainPredict),
      samples: rounds,
    };
    log(name, JSON.stringify(out[name]));
    // BN_BENCH_RAW=1: every sample (the machine's speed drifts by up to 2x within a run: compare pairs)
    if (process.env.BN_BENCH_RAW)
      log(
        name,
        'raw',
        JSON.stringify(Object.fromEntries(Object.entries(wall).map(([k, v]) => [k, v.map(Math.round)]))),
        JSON.stringify(Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, v.map(Math.round)]))),
      );
    model.dispose();
    optimizer.dispose();
    x.dispose();
    y.dispose();
    out[`${name}InstalledOnce`] = await predictInstalledOnce(make, rounds, snapshotAndPack);
    log(`${name}InstalledOnce`, JSON.stringify(out[`${name}InstalledOnce`]));
  }
  return out;
}

/**
 * The predict overhead measured without installing and uninstalling between samples (what a run does: it installs
 * once): two models of the same architecture in one process, the instrument installed once, one model's
 * BatchNormalization layers left alone by it (bnState.ts UNINSTRUMENTED: their calls only pass the wrappers' early
 * return); predicts of the two alternate, the order flipped every round; the instrumented one also takes the step
 * snapshot (read back, packed) after its predict. Ratios: medians of the per-round ratios.
 */
async function predictInstalledOnce(
  make: typeof denseModel,
  rounds: number,
  snapshotAndPack: (bn: ReturnType<typeof installBnInstrument>) => unknown,
): Promise<unknown> {
  const plain = make();
  const inst = make();
  for (const l of plain.model.layers)
    if (l.getClassName() === 'BatchNormalization') (l as unknown as Record<symbol, boolean>)[UNINSTRUMENTED] = true;
  const bn = installBnInstrument(tf);
  try {
    const predict = async (m: tf.LayersModel, x: tf.Tensor) => {
      const p = m.predict(x) as tf.Tensor;
      await p.data();
      p.dispose();
    };
    for (let i = 0; i < 5; i++) {
      await predict(plain.model, plain.x);
      await predict(inst.model, inst.x);
      snapshotAndPack(bn);
    }
    const pl: number[] = [],
      ip: number[] = [],
      ips: number[] = [];
    for (let r = 0; r < 4 * rounds; r++) {
      for (const v of r % 2 ? (['inst', 'plain'] as const) : (['plain', 'inst'] as const)) {
        const t0 = performance.now();
        if (v === 'plain') {
          await predict(plain.model, plain.x);
          pl.push(performance.now() - t0);
        } else {
          await predict(inst.model, inst.x);
          const t1 = performance.now();
          snapshotAndPack(bn);
          ip.push(t1 - t0);
          ips.push(performance.now() - t0);
        }
      }
    }
    const paired = (a: number[]) => r2(median(a.map((v, i) => v / pl[i])));
    return {
      rounds: 4 * rounds,
      medianMs: { plainPredict: r2(median(pl)), instPredict: r2(median(ip)), instPredictStep: r2(median(ips)) },
      ratioPredict: paired(ip),
      ratioPredictWithSnapshot: paired(ips),
    };
  } finally {
    bn.uninstall();
    for (const m of [plain, inst]) {
      m.model.dispose();
      m.optimizer.dispose();
      m.x.dispose();
      m.y.dispose();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// steps: the real worker, paused at every step and resumed at once by the host

const RESNET50_CHANNELS = (() => {
  const c = [64];
  const stages: [number, number, number][] = [
    [3, 64, 256],
    [4, 128, 512],
    [6, 256, 1024],
    [3, 512, 2048],
  ];
  for (const [blocks, mid, outC] of stages) {
    for (let b = 0; b < blocks; b++) c.push(mid, mid, outC);
    c.push(outC); // the projection shortcut of the first block
  }
  return c;
})();

function stepScript(channels: number[], iterations: number, callEvery: boolean): string {
  // layer[APPLY](…): a call the step-point finder does not see, so the loop has exactly one step point
  return `import * as tf from '@tensorflow/tfjs';
const APPLY = ['apply'][0] as 'apply';
const channels = ${JSON.stringify(channels)};
const layers = channels.map((c) => tf.layers.batchNormalization());
const xs = channels.map((c, i) => tf.randomNormal([4, c], 0, 1, 'float32', i));
// every layer called once in training mode: lastCall and lastTrainingCall hold vectors
// @step
layers.forEach((l, i) => tf.dispose(l[APPLY](xs[i], { training: true }) as tf.Tensor));
const body: number[] = [];
let n = 0;
for (let i = 0; i < ${iterations}; i++) {
  const t0 = performance.now();
  ${callEvery ? 'layers.forEach((l, k) => tf.dispose(l[APPLY](xs[k], { training: true }) as tf.Tensor));' : ''}
  body.push(performance.now() - t0);
  // @step
  n++;
}
console.log(JSON.stringify(body));
`;
}

async function stepCost(name: string, channels: number[], callEvery: boolean, iterations = 220, warm = 20) {
  const dir = mkdtempSync(join(tmpdir(), 'bn-bench-'));
  try {
    const p = join(dir, `${name}.ts`);
    writeFileSync(p, stepScript(channels, iterations, callEvery));
    // the worker's own cost of each step (snapshot + pack), from its BN_INSPECTOR_TRACE=steps lines
    const inWorker = new Map<number, number>();
    const write = process.stderr.write.bind(process.stderr);
    process.env.BN_INSPECTOR_TRACE = 'steps';
    (process.stderr as any).write = (chunk: unknown, ...rest: unknown[]) => {
      const text = String(chunk);
      let matched = false;
      for (const m of text.matchAll(/step (\d+): snapshot \+ pack ([\d.]+) ms/g)) {
        inWorker.set(Number(m[1]), Number(m[2]));
        matched = true;
      }
      if (matched || text.startsWith('[bn-inspector worker]')) return true;
      return (write as any)(chunk, ...rest);
    };
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pause: { kind: 'next' } });
    const stepAt: number[] = [];
    const resumeAt: number[] = [];
    let bytes = 0;
    s.on('step', (step, paused) => {
      stepAt.push(performance.now());
      if (step.header.index === 1) bytes = step.buffer.byteLength;
      if (paused) {
        resumeAt.push(performance.now());
        s.resume({ kind: 'next' });
      }
    });
    const r = await s.run().finally(() => {
      (process.stderr as any).write = write;
      delete process.env.BN_INSPECTOR_TRACE;
    });
    if (r.reason !== 'done') throw new Error(`${name}: ${r.reason} ${JSON.stringify(r.error)}`);
    const body: number[] = JSON.parse(r.output.trim().split('\n').pop()!);
    const costs: number[] = [];
    const workerCosts: number[] = [];
    // step 1 is the first training call's step; steps 2.. are the loop's
    for (let i = 1 + warm; i < stepAt.length - 1; i++) {
      // resume of step i -> the worker wakes, runs the loop body, snapshots, packs, posts -> host reads step i+1's header
      const roundTrip = stepAt[i + 1] - resumeAt[i];
      costs.push(roundTrip - body[i]); // body[i] = the loop body that ran between step i and step i+1 (loop iteration i)
      const w = inWorker.get(i + 2); // step index of stepAt[i + 1]
      if (w !== undefined) workerCosts.push(w);
    }
    const layers = r.steps.at(-1)!.header.layers;
    return {
      layers: layers.length,
      channels: layers.reduce((a, l) => a + l.channels, 0),
      callsBetweenSteps: callEvery,
      packedKiB: r2(bytes / 1024),
      medianMs: r2(median(costs)),
      minMs: r2(Math.min(...costs)),
      p90Ms: r2(pct(costs, 0.9)),
      workerSnapshotPackMedianMs: workerCosts.length ? r2(median(workerCosts)) : null,
      samples: costs.length,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function steps(): Promise<unknown> {
  const ten = new Array(10).fill(512);
  const out: Record<string, unknown> = {
    resnet50Channels: { layers: RESNET50_CHANNELS.length, channels: RESNET50_CHANNELS.reduce((a, b) => a + b, 0) },
  };
  for (const [key, ch, call] of [
    ['dense10x512', ten, false],
    ['dense10x512AfterCalls', ten, true],
    ['resnet50', RESNET50_CHANNELS, false],
    ['resnet50AfterCalls', RESNET50_CHANNELS, true],
  ] as const) {
    out[key] = await stepCost(key, [...ch], call);
    log(key, JSON.stringify(out[key]));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// cold start: start() -> first snapshot, from a process forked for the run and from a warm spare

/**
 * Two figures, alternating run by run: `cold` = a process forked at start() (what bn-inspect always pays, and the
 * editor when no spare is ready); `spare` = a warm spare runner of a RunnerPool, set up before start() (what a click
 * on a lens costs in the editor, which keeps one spare while a tfjs script is open). The spare is waited for before
 * each spare run (the user opens the file, then clicks), and its replacement is started only after the timed run.
 */
async function cold(): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'bn-bench-'));
  const pool = new RunnerPool();
  try {
    const p = join(dir, 'cold.ts');
    writeFileSync(
      p,
      `import * as tf from '@tensorflow/tfjs';
const bn = tf.layers.batchNormalization();
bn.apply(tf.ones([2, 4]), { training: true });
`,
    );
    const times = { cold: [] as number[], spare: [] as number[] };
    const runs = Number(process.env.BN_BENCH_COLD_RUNS ?? 7);
    for (let i = 0; i < 2 * runs; i++) {
      // cold, spare, spare, cold, …
      const kind = i % 4 === 0 || i % 4 === 3 ? 'cold' : 'spare';
      pool.prewarm({ workerPath: WORKER });
      // the spare is set up and idle before any timed run (a cold run does not share the CPU with its start-up)
      if (!(await pool.whenReady())) throw new Error('the spare runner did not get ready');
      const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pool: kind === 'spare' ? pool : undefined });
      const t0 = performance.now();
      const first = new Promise<number>((res) => s.on('step', () => res(performance.now() - t0)));
      s.start();
      if (s.fromSpare !== (kind === 'spare'))
        throw new Error(`a ${kind} run ${s.fromSpare ? 'took' : 'did not take'} the spare`);
      times[kind].push(await first);
      await s.done;
    }
    const stats = (t: number[]) => ({
      medianMs: Math.round(median(t)),
      minMs: Math.round(Math.min(...t)),
      maxMs: Math.round(Math.max(...t)),
      runs: t.map(Math.round),
    });
    return {
      ...stats(times.cold),
      cold: stats(times.cold),
      spare: stats(times.spare),
      firstFit: await firstFit(dir, stats),
    };
  } finally {
    await pool.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A lens click's wait when the step follows the script's first training step (a small CNN: two 3x3 convolutions with
 * BatchNormalization, Adam, batch 32): start() -> the step after `fit`, from a warm spare that ran its kernel warm-up
 * (src/worker/kernelWarmUp.ts, what the editor's spare does while the user reads the script), from a spare without it
 * (BN_INSPECTOR_WARM_UP=0), and from a process forked for the run; the three alternating, each spare ready and idle
 * before its run.
 */
async function firstFit<S>(dir: string, stats: (t: number[]) => S): Promise<Record<string, S>> {
  const p = join(dir, 'firstFit.ts');
  writeFileSync(
    p,
    `import * as tf from '@tensorflow/tfjs';
const m = tf.sequential({ layers: [
  tf.layers.conv2d({ inputShape: [32, 32, 4], filters: 16, kernelSize: 3, padding: 'same' }),
  tf.layers.batchNormalization(), tf.layers.activation({ activation: 'relu' }),
  tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same' }),
  tf.layers.batchNormalization(), tf.layers.activation({ activation: 'relu' }),
  tf.layers.flatten(), tf.layers.dense({ units: 10, activation: 'softmax' })] });
m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
const x = tf.randomNormal([32, 32, 32, 4]);
const y = tf.oneHot(tf.randomUniform([32], 0, 10, 'int32'), 10);
await m.fit(x, y, { epochs: 1, batchSize: 32 });
// @step
tf.memory();
`,
  );
  const kinds = ['warmSpare', 'spareWithoutWarmUp', 'cold'] as const;
  const times: Record<(typeof kinds)[number], number[]> = { warmSpare: [], spareWithoutWarmUp: [], cold: [] };
  const runs = Number(process.env.BN_BENCH_COLD_RUNS ?? 7);
  for (let i = 0; i < runs * kinds.length; i++) {
    const kind = kinds[(i + Math.floor(i / kinds.length)) % kinds.length];
    const saved = process.env.BN_INSPECTOR_WARM_UP;
    let pool: RunnerPool | undefined;
    if (kind !== 'cold') {
      // the spare's environment is taken when it is forked
      if (kind === 'spareWithoutWarmUp') process.env.BN_INSPECTOR_WARM_UP = '0';
      pool = new RunnerPool();
      pool.prewarm({ workerPath: WORKER });
      if (saved === undefined) delete process.env.BN_INSPECTOR_WARM_UP;
      else process.env.BN_INSPECTOR_WARM_UP = saved;
      if (!(await pool.whenReady())) throw new Error('the spare runner did not get ready');
    }
    await new Promise((r) => setTimeout(r, 300)); // idle, as the user reads the script
    try {
      const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pool });
      const t0 = performance.now();
      const first = new Promise<number>((res) => s.on('step', () => res(performance.now() - t0)));
      s.start();
      if (s.fromSpare !== (kind !== 'cold'))
        throw new Error(`a ${kind} run ${s.fromSpare ? 'took' : 'did not take'} a spare`);
      times[kind].push(await first);
      await s.done;
    } finally {
      await pool?.dispose();
    }
  }
  return Object.fromEntries(kinds.map((k) => [k, stats(times[k])])) as Record<string, S>;
}

async function main() {
  const part = process.argv[2];
  const fn = { overhead, steps, cold }[part as 'overhead' | 'steps' | 'cold'];
  if (!fn) throw new Error(`usage: engineBench overhead|steps|cold (got ${part})`);
  const r = await fn();
  process.stdout.write(JSON.stringify(r) + '\n');
}
void dirname;
main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(String(e?.stack ?? e) + '\n');
    process.exit(1);
  },
);
