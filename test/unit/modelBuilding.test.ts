/**
 * Model building is not stepping (issue 8): a reach of a step point in which every layer call got symbolic
 * tensors is no step (no snapshot, no index, no hit, no pause) and is told once per step point as a
 * 'modelBuilding' event; a reach with a real computation, or with no layer call at all, stays a step. Run to a
 * line of model-building code pauses at the next real step. Against the real worker (dist/worker.js) and real
 * tfjs, through EngineSession and bn-inspect.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineSession } from '../../src/engineHost/engineSession';
import type { StepHeader } from '../../src/shared/snapshotCodec';
import { EXAMPLES, Fixtures, WORKER, ensureBuilt, lineOf, parseDocument, runCli } from './cliHarness';

/**
 * 20 layers (10 dense + 10 BN) built with the functional API in a helper, then the same helper called with a real
 * tensor (its two lines become real steps), a model applied to a real tensor, a statement mixing a symbolic and
 * a real call, and a `// @step` with no layer call at all.
 */
const buildScript = `import * as tf from '@tensorflow/tfjs';

function block(x: any, i: number): any {
  const h = tf.layers.dense({ units: 3, name: 'dense' + i }).apply(x);
  return tf.layers.batchNormalization({ name: 'bn' + i }).apply(h);
}

function build(input: tf.SymbolicTensor): tf.SymbolicTensor {
  let x: any = input;
  for (let i = 0; i < 10; i++) x = block(x, i);
  return x;
}

const input = tf.input({ shape: [3] });
const model = tf.model({ inputs: input, outputs: build(input), name: 'twenty' });
console.log('built', model.layers.length - 1);
const x = tf.randomNormal([8, 3], 0, 1, 'float32', 5);
block(x, 99);
model.apply(x, { training: true });
const mixed = [tf.layers.dense({ units: 2 }).apply(input), model.predict(x)];
// @step
const t = tf.tensor([1, 2, 3]);
console.log('end', mixed.length, t.size);
`;

describe('model building is not stepping (real worker, real tfjs)', function () {
  this.timeout(120_000);
  const fx = new Fixtures('bn-building-test-');
  before(() => ensureBuilt());
  after(() => fx.cleanup());

  const denseLine = lineOf(buildScript, "tf.layers.dense({ units: 3, name: 'dense'");
  const bnLine = lineOf(buildScript, 'tf.layers.batchNormalization(');
  const applyLine = lineOf(buildScript, 'model.apply(x, { training: true })');
  const mixedLine = lineOf(buildScript, 'const mixed =');
  const tensorLine = lineOf(buildScript, 'const t = tf.tensor(');
  const bnColumn = buildScript.split('\n')[bnLine - 1].indexOf('batchNormalization') + 1;

  it('a functional 20-layer build in a helper gives no step; real calls on the same lines do, hit counted from 1', async () => {
    const p = fx.write('twenty.ts', buildScript);
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pause: { kind: 'next' } });
    const events: string[] = [];
    const building: { file: string; point: number; line: number }[] = [];
    let stepPoints: Record<string, { line: number }[]> = {};
    s.on('compiled', (c) => (stepPoints = c.stepPoints));
    s.on('modelBuilding', (b) => {
      building.push(b);
      events.push(`building ${b.line}`);
    });
    s.on('console', (t) => events.push(`console ${t.trim()}`));
    s.on('step', (step, paused) => {
      events.push(`step ${step.header.index} line ${step.header.line} hit ${step.header.hit}`);
      assert.equal(paused, true, 'policy next: every step pauses');
      s.resume({ kind: 'next' });
    });
    const r = await s.run();
    assert.equal(r.reason, 'done', JSON.stringify(r.error));
    // every model-building reach is silent but the first of each step point; no step before the real calls
    assert.deepEqual(events, [
      `building ${denseLine}`,
      `building ${bnLine}`,
      'console built 20',
      `step 1 line ${denseLine} hit 1`,
      `step 2 line ${bnLine} hit 1`,
      `step 3 line ${applyLine} hit 1`,
      `step 4 line ${mixedLine} hit 1`,
      `step 5 line ${tensorLine} hit 1`,
      'console end 2 3',
    ]);
    // the events name the step point as the compiled event does
    for (const b of building) {
      assert.equal(b.file, p);
      assert.equal(stepPoints[p][b.point].line, b.line);
    }
    const headers: StepHeader[] = r.steps.map((x) => x.header);
    assert.deepEqual(
      headers.map((h) => h.index),
      [1, 2, 3, 4, 5],
    );
    // step 3: the 10 BN layers of the model ran in training mode, plus the one block(x, 99) made
    const at3 = headers[2].layers;
    assert.equal(at3.length, 11);
    assert.deepEqual(
      at3.map((l) => l.updates),
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0],
    );
    for (const l of at3) assert.deepEqual(l.source, { file: p, line: bnLine, column: bnColumn }, l.name);
  });

  it('run to a model-building line pauses at the next real step (EngineSession, then bn-inspect --to)', async () => {
    const p = fx.write('twenty-to.ts', buildScript);
    const s = new EngineSession({ scriptPath: p, workerPath: WORKER, pause: { kind: 'line', file: p, line: bnLine } });
    const paused: number[] = [];
    s.on('step', (step, isPaused) => {
      if (!isPaused) return;
      paused.push(step.header.line);
      s.resume({ kind: 'none' });
    });
    const r = await s.run();
    assert.equal(r.reason, 'done');
    assert.deepEqual(paused, [denseLine], 'the first real step after the target was passed while building');
    assert.equal(r.steps.length, 5, 'and the run goes on to its end');

    // the same through bn-inspect: --to, alone and with --max-steps (the host-side pause policy)
    for (const extra of [[], ['--max-steps', '4']]) {
      const cli = await runCli(['run', p, '--json', '--to', String(bnLine), ...extra]);
      assert.equal(cli.code, 0, cli.stderr);
      const doc = parseDocument(cli, p);
      assert.equal(doc.end, 'to', `--to ${bnLine} ${extra.join(' ')}`);
      assert.deepEqual(
        doc.steps.map((x: any) => x.line),
        [denseLine],
      );
      assert.ok(!doc.output.includes('end'), 'nothing after the pause ran');
    }
  });

  it('run to a model-building line again after it was reported once: the worker still pauses at the next step', async () => {
    const script = `import * as tf from '@tensorflow/tfjs';
function build() {
  return tf.layers.batchNormalization().apply(tf.input({ shape: [2] }));
}
// @step
const a = tf.tensor([1]);
build();
// @step
const b = tf.tensor([2]);
build();
// @step
const c = tf.tensor([3]);
console.log(a.size + b.size + c.size);
`;
    const p = fx.write('again.ts', script);
    const buildLine = lineOf(script, '.apply(tf.input(');
    const s = new EngineSession({
      scriptPath: p,
      workerPath: WORKER,
      pause: { kind: 'line', file: p, line: lineOf(script, 'const a =') },
    });
    const events: string[] = [];
    s.on('modelBuilding', (b) => events.push(`building ${b.line}`));
    s.on('step', (step, paused) => {
      events.push(`step line ${step.header.line}${paused ? ' paused' : ''}`);
      if (paused) s.resume({ kind: 'line', file: p, line: buildLine });
    });
    const r = await s.run();
    assert.equal(r.reason, 'done');
    assert.deepEqual(events, [
      `step line ${lineOf(script, 'const a =')} paused`,
      `building ${buildLine}`,
      `step line ${lineOf(script, 'const b =')} paused`,
      `step line ${lineOf(script, 'const c =')} paused`,
    ]);
  });

  it('--max-steps counts only real steps; a model-building line that never runs for real is never a step', async () => {
    const script = `import * as tf from '@tensorflow/tfjs';
const input = tf.input({ shape: [2] });
let h: any = input;
for (let i = 0; i < 5; i++) h = tf.layers.batchNormalization().apply(h);
const model = tf.model({ inputs: input, outputs: h });
const x = tf.ones([4, 2]);
model.predict(x);
model.predict(x);
console.log('after two');
model.predict(x);
`;
    const p = fx.write('max-steps.ts', script);
    const r = await runCli(['run', p, '--json', '--max-steps', '2']);
    assert.equal(r.code, 0, r.stderr);
    const doc = parseDocument(r, p);
    assert.equal(doc.end, 'maxSteps');
    const predict = lineOf(script, 'model.predict(x);');
    assert.deepEqual(
      doc.steps.map((x: any) => [x.line, x.hit]),
      [
        [predict, 1],
        [predict + 1, 1],
      ],
    );
    assert.ok(!doc.output.includes('after two'));
    assert.equal(doc.steps[0].layers.length, 5);
    // and --to the building line with nothing real after it in that file: the first predict
    const to = await runCli(['run', p, '--json', '--to', String(lineOf(script, 'batchNormalization().apply'))]);
    const toDoc = parseDocument(to, p);
    assert.equal(toDoc.end, 'to');
    assert.deepEqual(
      toDoc.steps.map((x: any) => x.line),
      [predict],
    );
  });

  it('every way of running a model is a step: evaluate, execute, predictOnBatch, trainOnBatch, fitDataset, apply of a Sequential', async () => {
    const script = `import * as tf from '@tensorflow/tfjs';
const input = tf.input({ shape: [2] });
const normed = tf.layers.batchNormalization({ name: 'bn' }).apply(input) as tf.SymbolicTensor;
const out = tf.layers.dense({ units: 1, name: 'out' }).apply(normed) as tf.SymbolicTensor;
const model = tf.model({ inputs: input, outputs: out });
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
const seq = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [2], name: 'seq_bn' })] });
const x = tf.tensor2d([[1, 2], [3, 4], [5, 7]]);
const y = tf.tensor2d([[1], [0], [1]]);
const seqOut = seq.apply(tf.input({ shape: [2] }));
model.evaluate(x, y);
model.execute(x, model.outputs[0].name);
model.predictOnBatch(x);
await model.trainOnBatch(x, y);
await model.fitDataset(tf.data.zip({ xs: tf.data.array([[1, 2], [3, 4]]), ys: tf.data.array([[1], [0]]) }).batch(2), { epochs: 1, verbose: 0 });
seq.apply(x, { training: true });
console.log(seqOut !== null);
`;
    const p = fx.write('ways.ts', script);
    const r = await runCli(['run', p, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = parseDocument(r, p);
    const lines = [
      'model.evaluate(',
      'model.execute(',
      'model.predictOnBatch(',
      'model.trainOnBatch(',
      'model.fitDataset(',
      'seq.apply(x',
    ].map((n) => lineOf(script, n));
    assert.deepEqual(
      doc.steps.map((s: any) => s.line),
      lines,
      'no step for the two symbolic applies and seq.apply of a symbolic input',
    );
    const bn = (i: number) => doc.steps[i].layers.find((l: any) => l.name === 'bn');
    assert.equal(bn(0).calls, 1, 'evaluate ran the layer');
    assert.equal(bn(1).calls, 1, 'execute ran the layer');
    assert.equal(bn(2).calls, 1, 'predictOnBatch ran the layer');
    assert.equal(bn(3).updates, 1, 'trainOnBatch trained the layer');
    assert.equal(bn(4).updates, 1, 'fitDataset trained the layer');
    assert.equal(doc.steps[5].layers.find((l: any) => l.name === 'seq_bn').updates, 1);
  });

  it('examples/mobilenet-v2-finetune.ts: 2 steps (fit, predict) instead of 154', async () => {
    const script = 'examples/mobilenet-v2-finetune.ts';
    const r = await runCli(['run', script, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = parseDocument(r, script);
    const text = readFileSync(join(EXAMPLES, 'mobilenet-v2-finetune.ts'), 'utf8');
    assert.deepEqual(
      doc.steps.map((x: any) => [x.line, x.hit, x.layers.length]),
      [
        [lineOf(text, 'await model.fit('), 1, 52],
        [lineOf(text, 'model.predict('), 1, 52],
      ],
    );
    // fit trained every layer (the frozen backbone too: tfjs); predict updated none
    for (const l of doc.steps[0].layers) assert.ok(l.updates > 0 && l.trainable === false, l.name);
    for (const l of doc.steps[1].layers) assert.equal(l.updates, 0, l.name);
  });
});
