/**
 * The host API of the engine (EngineSession) against the real worker (dist/worker.js) and real tfjs:
 * pause / resume / stop, run to a line, hit counts, limits, crashes, console order, unsaved text,
 * and no tensor leak over 1,000 steps.
 *
 * One suite file per area (the engine host API): its cases share the worker setup.
 */
import * as assert from 'node:assert/strict';
import { realpathSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EngineSession, type EngineRunResult } from '../../src/engineHost/engineSession';
import { unpackStep, type StepHeader } from '../../src/shared/snapshotCodec';
import { Fixtures, WORKER, ensureBuilt, lineOf } from './cliHarness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('EngineSession (real worker, real tfjs)', function () {
  this.timeout(120_000);
  const fx = new Fixtures('bn-engine-test-');
  before(() => ensureBuilt());
  after(() => fx.cleanup());

  const loopScript = `import * as tf from '@tensorflow/tfjs';
const bn = tf.layers.batchNormalization({ momentum: 0.5 });
const x = tf.tensor2d([[1, 2], [3, 6]]);
for (let i = 0; i < 3; i++) {
  bn.apply(x, { training: true });
  for (let j = 0; j < 2; j++) {
    // @step
    console.log('inner', i, j);
  }
}
bn.apply(x);
console.log('end');
`;

  it('pause at every step ("next"), resume, hit counts in nested loops, console in order with steps', async () => {
    const p = fx.write('loop.ts', loopScript);
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pause: { kind: 'next' } });
    const events: string[] = [];
    let pausedSteps = 0;
    s.on('compiled', (c) => events.push(`compiled ${c.stepPoints[p].map((q) => q.line).join(',')}`));
    s.on('console', (t) => events.push(`console ${t.trim()}`));
    s.on('step', (step, paused) => {
      events.push(`step ${step.header.index} line ${step.header.line} hit ${step.header.hit}`);
      assert.equal(paused, true);
      assert.equal(s.paused, true);
      pausedSteps++;
      // the host is not blocked while the worker waits: resume later from a timer
      setTimeout(() => s.resume({ kind: 'next' }), 5);
    });
    const r = await s.run();
    assert.equal(r.reason, 'done', JSON.stringify(r.error));
    assert.equal(r.error, null);
    assert.equal(pausedSteps, 10);
    const A = lineOf(loopScript, 'bn.apply(x, { training: true })');
    const C = lineOf(loopScript, "console.log('inner'");
    const E = lineOf(loopScript, 'bn.apply(x);');
    assert.deepEqual(events, [
      `compiled ${A},${C},${E}`,
      `step 1 line ${A} hit 1`,
      'console inner 0 0',
      `step 2 line ${C} hit 1`,
      'console inner 0 1',
      `step 3 line ${C} hit 2`,
      `step 4 line ${A} hit 2`,
      'console inner 1 0',
      `step 5 line ${C} hit 3`,
      'console inner 1 1',
      `step 6 line ${C} hit 4`,
      `step 7 line ${A} hit 3`,
      'console inner 2 0',
      `step 8 line ${C} hit 5`,
      'console inner 2 1',
      `step 9 line ${C} hit 6`,
      `step 10 line ${E} hit 1`,
      'console end',
    ]);
    // the numbers: three updates with momentum 0.5 toward mean [2, 4], variance [1, 4]
    const l = unpackStep(r.steps[6].buffer).layers[0];
    assert.deepEqual(Array.from(l.movingMean), [2 * (1 - 0.125), 4 * (1 - 0.125)]);
    assert.deepEqual(Array.from(l.movingVariance), [1, 4 - 3 * 0.125]);
    assert.equal(r.steps[1].header.layers[0].calls, 0, 'no call between step 1 and step 2');
  });

  it('a "line" policy pauses at the first step point at or after the line; resume with none runs to the end', async () => {
    const p = fx.write('loop2.ts', loopScript);
    const C = lineOf(loopScript, "console.log('inner'");
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pause: { kind: 'line', file: p, line: C - 2 } });
    const paused: StepHeader[] = [];
    s.on('step', (step, isPaused) => {
      if (!isPaused) return;
      paused.push(step.header);
      // then: run to the last step point
      s.resume(
        paused.length === 1 ? { kind: 'line', file: p, line: lineOf(loopScript, 'bn.apply(x);') } : { kind: 'none' },
      );
    });
    const r = await s.run();
    assert.equal(r.reason, 'done');
    assert.deepEqual(
      paused.map((q) => [q.index, q.line, q.hit]),
      [
        [2, C, 1],
        [10, lineOf(loopScript, 'bn.apply(x);'), 1],
      ],
    );
    assert.equal(r.steps.length, 10);
  });

  it('stop() during an endless loop returns within 2 s; the steps so far are kept', async () => {
    const p = fx.write(
      'endless.ts',
      `import * as tf from '@tensorflow/tfjs';
const bn = tf.layers.batchNormalization();
bn.apply(tf.ones([2, 2]), { training: true });
for (;;) {}
`,
    );
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER });
    const firstStep = new Promise<void>((r) => s.on('step', () => r()));
    s.start();
    await firstStep;
    await sleep(300);
    const t0 = performance.now();
    const r = await s.stop();
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `stop took ${ms} ms`);
    assert.equal(r.reason, 'stopped');
    assert.equal(r.error, null);
    assert.equal(r.steps.length, 1);
  });

  it('stop() while paused returns fast; end comes exactly once', async () => {
    const p = fx.write('pausestop.ts', loopScript);
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pause: { kind: 'next' } });
    let ends = 0;
    s.on('end', () => ends++);
    const paused = new Promise<void>((r) => s.on('step', (_st, isPaused) => isPaused && r()));
    s.start();
    await paused;
    const t0 = performance.now();
    const r = await s.stop();
    assert.ok(performance.now() - t0 < 2000);
    assert.equal(r.reason, 'stopped');
    assert.equal(r.steps.length, 1);
    await s.stop();
    await sleep(50);
    assert.equal(ends, 1);
  });

  it('timeoutMs: terminated, reason timeout, steps kept; pauses do not count toward it', async () => {
    const p = fx.write(
      'slow.ts',
      `import * as tf from '@tensorflow/tfjs';
const bn = tf.layers.batchNormalization();
bn.apply(tf.ones([2, 2]), { training: true });
while (true) {}
`,
    );
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER, timeoutMs: 800, pause: { kind: 'next' } });
    s.on('step', (_st, paused) => paused && setTimeout(() => s.resume({ kind: 'none' }), 1200));
    const t0 = performance.now();
    const r = await s.run();
    assert.equal(r.reason, 'timeout');
    assert.equal(r.error?.kind, 'timeout');
    assert.equal(r.steps.length, 1);
    assert.ok(performance.now() - t0 > 1900, 'the 1.2 s pause was not counted');
  });

  it('maxSteps: ends with reason maxSteps after exactly N steps', async () => {
    const p = fx.write('many.ts', loopScript);
    const r = await new EngineSession({ scriptPath: p, workerPath: WORKER, maxSteps: 4 }).run();
    assert.equal(r.reason, 'maxSteps');
    assert.equal(r.steps.length, 4);
    assert.equal(r.error, null);
  });

  it('a folder opened through a symbolic link: run to a line of the entry, then of an imported file, both pause', async () => {
    const helperText = `import * as tf from '@tensorflow/tfjs';
export function trainOnce(layer: tf.layers.Layer, x: tf.Tensor): void {
  layer.apply(x, { training: true }); // HELPER-APPLY
}
`;
    const mainText = `import * as tf from '@tensorflow/tfjs';
import { trainOnce } from './helper';
const layer = tf.layers.batchNormalization({ momentum: 0.5 });
const x = tf.tensor2d([[1, 2], [3, 6]]);
layer.apply(x); // MAIN-FIRST
trainOnce(layer, x);
layer.apply(x); // MAIN-LAST
`;
    const real = fx.write('symreal/main.ts', mainText);
    fx.write('symreal/helper.ts', helperText);
    const link = join(fx.dir, 'symlink');
    symlinkSync(dirname(real), link, 'dir');
    const main = join(link, 'main.ts');
    const helper = join(link, 'helper.ts');
    // as the extension runs it: the editor's text, the file named through the link
    const s = new EngineSession({
      scriptPath: main,
      sourceText: mainText,
      workerPath: WORKER,
      pause: { kind: 'line', file: main, line: lineOf(mainText, 'MAIN-FIRST') },
    });
    const paused: StepHeader[] = [];
    s.on('step', (step, isPaused) => {
      if (!isPaused) return;
      paused.push(step.header);
      s.resume(
        paused.length === 1
          ? { kind: 'line', file: helper, line: lineOf(helperText, 'HELPER-APPLY') }
          : { kind: 'none' },
      );
    });
    const r = await s.run();
    assert.equal(r.reason, 'done', JSON.stringify(r.error));
    assert.deepEqual(
      paused.map((h) => [realpathSync(h.file), h.line]),
      [
        [realpathSync(main), lineOf(mainText, 'MAIN-FIRST')],
        [realpathSync(helper), lineOf(helperText, 'HELPER-APPLY')],
      ],
    );
    assert.equal(paused[1].layers[0].updates, 1, 'the training apply in the helper');
  });

  it('sourceText replaces the file on disk (unsaved edits); imports still come from disk', async () => {
    fx.write('edit/lib.ts', `export const k = 3;\n`);
    const p = fx.write('edit/main.ts', `console.log('on disk');\n`);
    const text = `import * as tf from '@tensorflow/tfjs';
import { k } from './lib';
const bn = tf.layers.batchNormalization();

bn.apply(tf.ones([k, 2]), { training: true });
console.log('edited', k);
`;
    const r = await new EngineSession({ scriptPath: p, workerPath: WORKER, sourceText: text }).run();
    assert.equal(r.reason, 'done');
    assert.equal(r.output, 'edited 3\n');
    assert.equal(r.steps.length, 1);
    assert.equal(r.steps[0].header.line, 5);
    assert.deepEqual(r.steps[0].header.layers[0].lastTrainingCall?.inputShape, [3, 2]);
  });

  it('sourceText for a file that does not exist (an untitled editor); process.argv is [node, script]', async () => {
    const p = `${fx.dir}/Untitled-1.ts`;
    const text = `import * as tf from '@tensorflow/tfjs';
const bn = tf.layers.batchNormalization();
bn.apply(tf.ones([2, 2]));
console.log(process.argv.length, process.argv[1] === ${JSON.stringify(p)});
`;
    const r = await new EngineSession({ scriptPath: p, workerPath: WORKER, sourceText: text }).run();
    assert.equal(r.reason, 'done', JSON.stringify(r.error));
    assert.equal(r.steps.length, 1);
    assert.equal(r.steps[0].header.file, p);
    assert.equal(r.output, '2 true\n');
  });

  it('compile errors: reason error, kind compile, no steps, compiled event with no step points', async () => {
    const p = fx.write('bad.ts', `const a = ;\n`);
    let compiled = 0;
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER });
    s.on('compiled', () => compiled++);
    const r = await s.run();
    assert.equal(r.reason, 'error');
    assert.equal(r.error?.kind, 'compile');
    assert.equal(r.error?.line, 1);
    assert.equal(r.steps.length, 0);
    assert.equal(compiled, 1);
    assert.equal(r.tfjs, '4.22.0');
  });

  it('a script that exhausts the worker heap ends with reason oom and a clear message; the host lives on', async () => {
    const p = fx.write(
      'oom.ts',
      `const keep: number[][] = [];
// @step
console.log('start');
for (;;) keep.push(new Array(1e6).fill(Math.random()));
`,
    );
    const r = await new EngineSession({ scriptPath: p, workerPath: WORKER, memoryMb: 320 }).run();
    assert.equal(r.reason, 'oom', JSON.stringify(r.error));
    assert.equal(r.error?.kind, 'oom');
    assert.match(r.error!.message, /out of memory/);
    assert.equal(r.steps.length, 1);
  });

  it('a worker that cannot start ends with reason crashed', async () => {
    const p = fx.write('fine.ts', `console.log(1);\n`);
    const r: EngineRunResult = await new EngineSession({
      scriptPath: p,
      workerPath: fx.write('broken-worker.js', 'throw new Error("broken worker");\n'),
    }).run();
    assert.equal(r.reason, 'crashed');
    assert.match(r.error!.message, /broken worker/);
  });

  it('no tensor leak: 1,000 steps, tf.memory().numTensors flat', async () => {
    const p = fx.write(
      'leak.ts',
      `import * as tf from '@tensorflow/tfjs';
const model = tf.sequential({ layers: [
  tf.layers.dense({ inputShape: [4], units: 8 }),
  tf.layers.batchNormalization(),
  tf.layers.dense({ units: 8 }),
  tf.layers.batchNormalization(),
] });
const x = tf.randomNormal([16, 4]);
for (let i = 1; i <= 1000; i++) {
  tf.tidy(() => {
    model.apply(x, { training: i % 2 === 0 });
  });
  tf.dispose(model.predict(x) as tf.Tensor);
  if (i === 10 || i === 1000) console.log(i, tf.memory().numTensors);
}
`,
    );
    const r = await new EngineSession({ scriptPath: p, workerPath: WORKER }).run();
    assert.equal(r.reason, 'done', JSON.stringify(r.error));
    assert.equal(r.steps.length, 2000);
    const [at10, at1000] = r.output
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ')[1]));
    assert.ok(at10 > 0);
    assert.equal(at1000, at10, `numTensors after 10 iterations ${at10}, after 1000 ${at1000}`);
    // every step saw both layers, the training ones updated
    assert.equal(r.steps[1999].header.layers.length, 2);
    assert.equal(r.steps[1998].header.layers[0].updates, 1);
  });
});
