/**
 * Issue 11, item 5: the warm spare runner (src/engineHost/runnerPool.ts). A run takes the pool's spare process (set up
 * ahead: tfjs, wasm backend, compiler) instead of forking its own; the isolation of issue 10 stays: one process per
 * run, never reused, its working directory and memory budget applied, nothing left behind.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { EngineSession } from '../../src/engineHost/engineSession';
import { RunnerPool } from '../../src/engineHost/runnerPool';
import { unpackStep } from '../../src/shared/snapshotCodec';
import { Fixtures, WORKER, ensureBuilt } from './cliHarness';

/** training-mode call on a known batch: the snapshot's batch statistics are checked against float64 arithmetic */
const ROWS = [
  [1, 2, 3],
  [4, 5, 7],
  [0.5, -1, 10],
];
const SCRIPT = `import * as tf from '@tensorflow/tfjs';
const bn = tf.layers.batchNormalization();
bn.apply(tf.tensor2d(${JSON.stringify(ROWS)}), { training: true });
console.log('cwd=' + process.cwd());
`;

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number | undefined, ms = 3000): Promise<boolean> {
  const t0 = Date.now();
  while (isAlive(pid)) {
    if (Date.now() - t0 > ms) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

describe('warm spare runner (RunnerPool)', function () {
  this.timeout(120_000);
  const fx = new Fixtures('bn-pool-test-');
  let pool: RunnerPool;
  before(ensureBuilt);
  beforeEach(() => (pool = new RunnerPool()));
  afterEach(() => pool.dispose());
  after(() => fx.cleanup());

  it('a run takes the ready spare: its process, its snapshot right (float64 reference), its cwd', async () => {
    const p = fx.write('spare.ts', SCRIPT);
    pool.prewarm({ workerPath: WORKER });
    assert.equal(await pool.whenReady(), true);
    const sparePid = pool.sparePid;
    assert.ok(isAlive(sparePid));
    const dir = fx.write('sub/keep.txt', '').replace(/[/\\]keep\.txt$/, '');
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pool, cwd: dir });
    s.start();
    assert.equal(s.fromSpare, true);
    assert.equal(s.pid, sparePid);
    assert.equal(pool.sparePid, undefined, 'the pool let go of it');
    const r = await s.done;
    assert.equal(r.reason, 'done', JSON.stringify(r.error));
    assert.equal(r.output.trim(), `cwd=${realpathSync(dir)}`);
    assert.equal(r.steps.length, 1);
    const layer = unpackStep(r.steps[0].buffer).layers[0];
    const n = ROWS.length;
    for (let c = 0; c < 3; c++) {
      const mean = ROWS.reduce((a, row) => a + row[c], 0) / n;
      const variance = ROWS.reduce((a, row) => a + (row[c] - mean) ** 2, 0) / n;
      assert.ok(Math.abs(layer.lastCall!.batchMean[c] - mean) < 1e-5, `mean ${c}`);
      assert.ok(Math.abs(layer.lastCall!.batchVariance[c] - variance) < 1e-4, `variance ${c}`);
      // moving mean after one update from 0 with momentum 0.99
      assert.ok(Math.abs(layer.movingMean[c] - 0.01 * mean) < 1e-6, `moving mean ${c}`);
    }
    assert.ok(await gone(sparePid), 'the run took its process with it');
  });

  it("a spare's kernel warm-up (kernelWarmUp.ts) leaves nothing a run sees: the same output and steps as a cold run", async () => {
    // default names of every kind, unnamed variables (Adam's), random initial weights (the run's seeded Math.random),
    // a training step: the spare warmed up before the run comes, the cold run never did
    const p = fx.write(
      'same.ts',
      `import * as tf from '@tensorflow/tfjs';
const m = tf.sequential({ layers: [
  tf.layers.conv2d({ inputShape: [8, 8, 4], filters: 8, kernelSize: 3, padding: 'same' }),
  tf.layers.batchNormalization(), tf.layers.reLU({ maxValue: 6 }),
  tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }), tf.layers.batchNormalization(),
  tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 3, activation: 'softmax' })] });
m.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
const x = tf.randomNormal([4, 8, 8, 4]);
const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);
await m.fit(x, y, { epochs: 1, batchSize: 4 });
const v = tf.variable(tf.scalar(1));
console.log(m.name, m.layers.map((l) => l.name).join(' '), v.name, m.getWeights().map((w) => w.name).join(' '));
console.log(Array.from(m.predict(x).dataSync()).join(' '));
// @step
tf.memory();
`,
    );
    pool.prewarm({ workerPath: WORKER });
    assert.equal(await pool.whenReady(), true);
    const spare = new EngineSession({ scriptPath: p, workerPath: WORKER, pool });
    spare.start();
    assert.equal(spare.fromSpare, true);
    const a = await spare.done;
    const cold = new EngineSession({ scriptPath: p, workerPath: WORKER });
    cold.start();
    assert.equal(cold.fromSpare, false);
    const b = await cold.done;
    assert.equal(a.reason, 'done', JSON.stringify(a.error));
    assert.equal(b.reason, 'done', JSON.stringify(b.error));
    assert.equal(a.output, b.output, 'names, weights and predictions');
    assert.match(a.output, /^sequential_1 conv2d_Conv2D1 batch_normalization_BatchNormalization1 /);
    assert.equal(a.steps.length, 3, 'fit, predict, @step');
    assert.equal(b.steps.length, a.steps.length);
    a.steps.forEach((st, i) =>
      assert.deepEqual(
        unpackStep(st.buffer).layers,
        unpackStep(b.steps[i].buffer).layers,
        `step ${i + 1}: every value`,
      ),
    );
  });

  it('a second run never reuses a process: a new spare, a new pid; the old one is gone', async () => {
    const p = fx.write('twice.ts', SCRIPT);
    pool.prewarm({ workerPath: WORKER });
    assert.equal(await pool.whenReady(), true);
    const first = new EngineSession({ scriptPath: p, workerPath: WORKER, pool });
    const r1 = await first.run();
    assert.equal(r1.reason, 'done', JSON.stringify(r1.error));
    assert.equal(first.fromSpare, true);
    // the run's first step let the pool start the next spare
    assert.equal(await pool.whenReady(), true);
    assert.notEqual(pool.sparePid, first.pid);
    const second = new EngineSession({ scriptPath: p, workerPath: WORKER, pool });
    const r2 = await second.run();
    assert.equal(r2.reason, 'done', JSON.stringify(r2.error));
    assert.equal(second.fromSpare, true);
    assert.notEqual(second.pid, first.pid);
    assert.ok(await gone(first.pid));
    assert.ok(await gone(second.pid));
    assert.equal(pool.startedCount, 3);
    assert.equal(pool.takenCount, 2);
  });

  it('a run taken while the spare is still starting waits for it and runs', async () => {
    const p = fx.write('early.ts', SCRIPT);
    pool.prewarm({ workerPath: WORKER });
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pool });
    const r = await s.run();
    assert.equal(s.fromSpare, true);
    assert.equal(r.reason, 'done', JSON.stringify(r.error));
    assert.match(r.output, /^cwd=/);
    assert.equal(r.steps.length, 1);
  });

  it('a spare that died is replaced; a run never gets a dead one', async () => {
    pool.prewarm({ workerPath: WORKER });
    assert.equal(await pool.whenReady(), true);
    const dead = pool.sparePid!;
    process.kill(-dead, 'SIGKILL');
    assert.ok(await gone(dead));
    // replaced after a second
    const t0 = Date.now();
    while (pool.sparePid === undefined || pool.sparePid === dead) {
      assert.ok(Date.now() - t0 < 10_000, 'no new spare');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await pool.whenReady(), true);
    assert.equal(pool.startedCount, 2);
    const p = fx.write('after-death.ts', SCRIPT);
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pool });
    const r = await s.run();
    assert.equal(r.reason, 'done', JSON.stringify(r.error));
    assert.equal(s.fromSpare, true);
    assert.notEqual(s.pid, dead);
  });

  it('the memory budget applies to a spare run; a run with another budget forks its own process', async () => {
    const p = fx.write(
      'oom.ts',
      `import * as tf from '@tensorflow/tfjs';
const keep: tf.Tensor[] = [];
for (let i = 0; i < 1000; i++) keep.push(tf.ones([16, 1024, 1024]).add(i));
`,
    );
    pool.prewarm({ workerPath: WORKER, memoryMb: 700 });
    assert.equal(await pool.whenReady(), true);
    const other = new EngineSession({
      scriptPath: fx.write('other.ts', SCRIPT),
      workerPath: WORKER,
      pool,
      memoryMb: 800,
    });
    const ro = await other.run();
    assert.equal(other.fromSpare, false, 'a spare for 700 MB is not given to an 800 MB run');
    assert.equal(ro.reason, 'done', JSON.stringify(ro.error));
    assert.ok(pool.sparePid !== undefined);
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pool, memoryMb: 700 });
    const r = await s.run();
    assert.equal(s.fromSpare, true);
    assert.equal(r.reason, 'oom', JSON.stringify(r.error));
    assert.match(r.error!.message, /ran out of memory: it used \d+ MB, over its 700 MB budget/);
    assert.ok(await gone(s.pid));
  });

  it('a working directory that does not exist ends a spare run with a clear error', async () => {
    pool.prewarm({ workerPath: WORKER });
    assert.equal(await pool.whenReady(), true);
    const s = new EngineSession({
      scriptPath: fx.write('nocwd.ts', SCRIPT),
      workerPath: WORKER,
      pool,
      cwd: '/nonexistent/bn-dir',
    });
    const r = await s.run();
    assert.equal(s.fromSpare, true);
    assert.equal(r.reason, 'crashed');
    assert.match(r.error!.message, /cannot run the script in \/nonexistent\/bn-dir/);
    assert.ok(await gone(s.pid));
  });

  it("a spare run's children end with it (its process group); ps names the script, not a spare", async () => {
    const marker = `${Math.floor(Math.random() * 1e6) + 1000}.25`;
    const p = fx.write(
      'children.ts',
      SCRIPT +
        `import { spawn } from 'node:child_process';
spawn('sleep', ['${marker}'], { stdio: 'ignore' });
await new Promise(() => setInterval(() => {}, 1000));
`,
    );
    pool.prewarm({ workerPath: WORKER });
    assert.equal(await pool.whenReady(), true);
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pool, timeoutMs: 1500 });
    let args = '';
    s.on('step', () => (args = execFileSync('ps', ['-o', 'args=', '-p', String(s.pid)], { encoding: 'utf8' })));
    const r = await s.run();
    assert.equal(s.fromSpare, true);
    assert.equal(r.reason, 'timeout', JSON.stringify(r.error));
    assert.match(args, /bn-inspector run \//);
    assert.doesNotMatch(args, /spare/);
    await new Promise((res) => setTimeout(res, 300));
    const left = execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(`sleep ${marker}`));
    assert.deepEqual(left, []);
  });

  it('dispose() kills the spare and starts no other: no process left behind', async () => {
    pool.prewarm({ workerPath: WORKER });
    assert.equal(await pool.whenReady(), true);
    const pid = pool.sparePid;
    await pool.dispose();
    assert.ok(await gone(pid));
    assert.equal(pool.sparePid, undefined);
    pool.prewarm({ workerPath: WORKER });
    assert.equal(pool.sparePid, undefined, 'a disposed pool starts nothing');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(pool.startedCount, 1);
  });
});
