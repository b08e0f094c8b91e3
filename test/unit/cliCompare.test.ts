/**
 * `bn-inspect compare` end to end: the real CLI (dist/cli.js) as a child process, two real tfjs workers. Its
 * argument errors, the JSON document's shape (contract "Compare"), its values checked against two separate
 * `run --json` documents of the same script (the per-layer objects must be those documents' layers, and b − a
 * must be computed from their values) and against a float64 reference, a run that ends early (PyTorch's
 * last batch of one), and the text form (full and compact).
 */
import * as assert from 'node:assert/strict';
import { fmtNumber } from '../../src/engineHost/textReport';
import { Fixtures, checkLayer, ensureBuilt, lineOf, nums, parseDocument, runCli, type CliRun } from './cliHarness';
import {
  BRANCH_ON_RULES,
  FROZEN_FIT,
  LAST_BATCH_OF_ONE,
  MANY_FROZEN,
  TRAINABLE_ONLY,
  close,
  movingAfterFit,
  printedX,
} from './semanticsFixtures';

const TOP = ['schema', 'script', 'tfjs', 'backend', 'semantics', 'runs', 'steps', 'summary'];
const RUN = ['semantics', 'end', 'error', 'steps', 'output'];
const STEP = ['index', 'line', 'column', 'file', 'hit', 'samePoint', 'reachedBy', 'pointB', 'differs', 'layers'];
const PAIR = ['name', 'path', 'source', 'channels', 'a', 'b', 'differs', 'difference', 'why'];
const VECTORS = ['movingMean', 'movingVariance', 'gamma', 'beta'];
const DIFFERENCE = [...VECTORS, 'maxAbs', 'channel', 'differing'];
const SUMMARY = [
  'bothReached',
  'onlyA',
  'onlyB',
  'firstPointMismatch',
  'stepsDiffering',
  'firstDifference',
  'layersDiffering',
];

/** stdout as exactly one compare document, its shape checked (each side's layer as a run document's) */
function parseCompare(r: CliRun, script: string, semantics: [string, string]): any {
  let doc: any;
  try {
    doc = JSON.parse(r.stdout);
  } catch (e) {
    assert.fail(`stdout is one JSON document: ${(e as Error).message}\n${r.stdout.slice(0, 1000)}\n${r.stderr}`);
  }
  assert.deepEqual(Object.keys(doc), TOP);
  assert.equal(doc.schema, 'bn-inspector-compare/v1');
  assert.equal(doc.script, script);
  assert.equal(doc.tfjs, '4.22.0');
  assert.ok(doc.backend === 'wasm' || doc.backend === 'cpu');
  assert.deepEqual(doc.semantics, semantics);
  assert.equal(doc.runs.length, 2);
  doc.runs.forEach((run: any, i: number) => {
    assert.deepEqual(Object.keys(run), RUN, `runs[${i}]`);
    assert.equal(run.semantics, semantics[i]);
    assert.equal(run.error === null, ['done', 'to', 'maxSteps'].includes(run.end), `runs[${i}]: error iff end`);
    assert.equal(typeof run.output, 'string');
  });
  assert.equal(doc.steps.length, Math.max(doc.runs[0].steps, doc.runs[1].steps), 'one pair per index');
  doc.steps.forEach((s: any, i: number) => {
    const where = `steps[${i}]`;
    assert.deepEqual(Object.keys(s), STEP, where);
    assert.equal(s.index, i + 1);
    const reached = (i < doc.runs[0].steps ? 'a' : '') + (i < doc.runs[1].steps ? 'b' : '');
    assert.equal(s.reachedBy, reached === 'ab' ? 'both' : reached, `${where}.reachedBy`);
    assert.equal(s.differs, s.reachedBy !== 'both' || s.layers.some((l: any) => l.differs), `${where}.differs`);
    if (s.samePoint) assert.equal(s.pointB, null);
    for (const [j, l] of s.layers.entries()) {
      const at = `${where}.layers[${j}]`;
      assert.deepEqual(Object.keys(l), PAIR, at);
      assert.ok(l.a || l.b, `${at}: a side`);
      if (l.a) checkLayer(l.a, `${at}.a`, semantics[0]);
      if (l.b) checkLayer(l.b, `${at}.b`, semantics[1]);
      const one = l.a ?? l.b;
      assert.deepEqual([l.name, l.path, l.source, l.channels], [one.name, one.path, one.source, one.channels], at);
      assert.equal(typeof l.why, 'string');
      if (!l.a || !l.b) {
        assert.equal(l.difference, null, `${at}: one-sided, no difference`);
        assert.equal(l.differs, true, `${at}: one-sided differs`);
        continue;
      }
      assert.deepEqual(Object.keys(l.difference), DIFFERENCE, `${at}.difference`);
      for (const k of ['maxAbs', 'channel', 'differing']) assert.deepEqual(Object.keys(l.difference[k]), VECTORS);
      assert.equal(
        l.differs,
        VECTORS.some((k) => l.difference.differing[k] > 0),
        `${at}.differs`,
      );
    }
  });
  assert.deepEqual(Object.keys(doc.summary), SUMMARY);
  return doc;
}

/** exit 2, the message, nothing on stdout */
async function usageError(args: string[], message: string): Promise<void> {
  const r = await runCli(args);
  assert.equal(r.code, 2, args.join(' '));
  assert.equal(r.stdout, '', args.join(' '));
  assert.equal(r.stderr, `bn-inspect: ${message}\nRun "bn-inspect --help" for usage.\n`, args.join(' '));
}

describe('bn-inspect compare (CLI, two real tfjs runs)', function () {
  this.timeout(180_000);
  const fx = new Fixtures('bn-inspect-compare-');
  before(() => ensureBuilt());
  after(() => fx.cleanup());

  it('bad arguments: exit 2 with one line (one, three, the same twice, unknown, empty, no SCRIPT)', async () => {
    const ok = fx.write('fine.ts', 'console.log(1);\n');
    const ex = 'e.g. --semantics tfjs,keras';
    const two = `compare takes two of tfjs, keras, tf-keras, pytorch, ${ex}`;
    for (const [args, message] of [
      [['--semantics', 'keras'], `--semantics: compare takes exactly two semantics, A,B, got 1 ("keras"; ${ex})`],
      [
        ['--semantics', 'tfjs,keras,pytorch'],
        `--semantics: compare takes exactly two semantics, A,B, got 3 ("tfjs,keras,pytorch"; ${ex})`,
      ],
      [['--semantics=keras,keras'], `--semantics: compare needs two different semantics, got keras twice (${ex})`],
      [['--semantics', 'tfjs,torch'], `--semantics: "torch" is not a semantics (${two})`],
      [['--semantics', 'tfjs,'], `--semantics: an empty name in "tfjs," (${two})`],
      [['--semantics'], '--semantics needs a value: tfjs, keras, tf-keras, pytorch'],
    ] as const)
      await usageError(['compare', ok, ...args], message);
    await usageError(['compare'], 'missing SCRIPT: bn-inspect compare SCRIPT');
    await usageError(['compare', ok, '--json', '--full'], '--full is a layout of the text output: not with --json');
  });

  describe('a frozen layer in fit, tfjs vs keras (the default)', () => {
    let script = '';
    let cmp: any;
    let code: number | null = null;
    let stderr = '';
    const run: Record<string, any> = {};
    before(async function () {
      this.timeout(240_000);
      script = fx.write('frozen-fit.ts', FROZEN_FIT);
      const r = await runCli(['compare', script, '--json']);
      code = r.code;
      stderr = r.stderr;
      cmp = parseCompare(r, script, ['tfjs', 'keras']);
      const [t, k] = await Promise.all([
        runCli(['run', script, '--json', '--semantics', 'tfjs']),
        runCli(['run', script, '--json', '--semantics', 'keras']),
      ]);
      run.tfjs = parseDocument(t, script, 'tfjs');
      run.keras = parseDocument(k, script, 'keras');
    });

    it('exit 0, nothing on stderr, both runs done with 2 steps each, at the same step points', () => {
      assert.equal(code, 0, stderr);
      assert.equal(stderr, '');
      assert.deepEqual(
        cmp.runs.map((r: any) => [r.semantics, r.end, r.steps]),
        [
          ['tfjs', 'done', 2],
          ['keras', 'done', 2],
        ],
      );
      assert.equal(cmp.runs[0].output, run.tfjs.output);
      assert.deepEqual(
        cmp.steps.map((s: any) => [s.index, s.line, s.hit, s.samePoint, s.reachedBy, s.pointB]),
        [
          [1, lineOf(FROZEN_FIT, 'model.predict(x)'), 1, true, 'both', null],
          [2, lineOf(FROZEN_FIT, 'await model.fit('), 1, true, 'both', null],
        ],
      );
    });

    it("each side's layer is exactly the layer of a separate run document of that semantics (repeatable runs)", () => {
      for (const [i, s] of cmp.steps.entries()) {
        assert.equal(s.layers.length, 1);
        assert.deepEqual(s.layers[0].a, run.tfjs.steps[i].layers[0], `step ${i + 1}: a = the tfjs run's layer`);
        assert.deepEqual(s.layers[0].b, run.keras.steps[i].layers[0], `step ${i + 1}: b = the keras run's layer`);
      }
    });

    it('step 1 (predict): the same values, and the why says so', () => {
      const l = cmp.steps[0].layers[0];
      assert.equal(l.differs, false);
      assert.match(l.why, /^Same values\. tfjs: frozen, inference mode \(training = false\), not updated; Keras: /);
      assert.deepEqual(l.difference.movingMean, [0, 0, 0]);
      assert.deepEqual(l.difference.differing, { movingMean: 0, movingVariance: 0, gamma: 0, beta: 0 });
    });

    it('step 2 (fit): differs; difference = keras − tfjs from the two run documents; the why names both', () => {
      const l = cmp.steps[1].layers[0];
      const a = run.tfjs.steps[1].layers[0];
      const b = run.keras.steps[1].layers[0];
      assert.equal(l.differs, true);
      assert.equal(cmp.steps[1].differs, true);
      for (const k of ['movingMean', 'movingVariance']) {
        const expected = nums(b[k]).map((v, c) => v - nums(a[k])[c]);
        assert.deepEqual(l.difference[k], expected, `${k}: b − a`);
        const abs = expected.map(Math.abs);
        const max = Math.max(...abs);
        assert.equal(l.difference.maxAbs[k], max);
        assert.equal(l.difference.channel[k], abs.indexOf(max));
        assert.equal(l.difference.differing[k], 3);
      }
      // the frozen layer's gamma and beta do not learn under either rules
      assert.deepEqual(l.difference.gamma, [0, 0, 0]);
      assert.deepEqual(l.difference.beta, [0, 0, 0]);
      assert.equal(
        l.why,
        'tfjs: frozen, updated ×4 with batch statistics; Keras: frozen, inference mode although training = true, not updated.',
      );
      // and the values themselves: keras left the initial statistics, tfjs followed the float64 reference
      const ref = movingAfterFit(printedX(run.tfjs.output), 1);
      close(
        l.difference.movingMean,
        ref.mean.map((m) => 0 - m),
        1e-5,
        'difference.movingMean vs the reference',
      );
      close(
        l.difference.movingVariance,
        ref.variance.map((v) => 1 - v),
        1e-5,
        'difference.movingVariance vs the reference',
      );
    });

    it('summary: first difference at step 2, frozen_bn differs at 1 step', () => {
      assert.deepEqual(cmp.summary, {
        bothReached: 2,
        onlyA: 0,
        onlyB: 0,
        firstPointMismatch: null,
        stepsDiffering: 1,
        firstDifference: {
          step: 2,
          name: 'frozen_bn',
          path: ['sequential_1', 'frozen_bn'],
          why: cmp.steps[1].layers[0].why,
        },
        layersDiffering: [{ name: 'frozen_bn', path: ['sequential_1', 'frozen_bn'], firstStep: 2, steps: 1 }],
      });
    });

    it('text: a header per step, one line for the same values, the why and the largest difference per vector', async () => {
      const r = await runCli(['compare', script], { cwd: fx.dir });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const lines = r.stdout.split('\n');
      const head = (n: number) => lines.findIndex((l) => l.startsWith(`── step ${n} `));
      const h1 = head(1);
      const h2 = head(2);
      assert.ok(h1 >= 0 && h2 > h1);
      assert.match(
        lines[h1],
        /^── step 1 · frozen-fit\.ts:12 · hit 1 · 1 BatchNormalization layer · tfjs vs Keras: all the same ─+$/,
      );
      assert.deepEqual(lines.slice(h1 + 1, h2), ['  = sequential_1 › frozen_bn · same values']);
      assert.match(
        lines[h2],
        /^── step 2 · frozen-fit\.ts:13 · hit 1 · 1 BatchNormalization layer · tfjs vs Keras: 1 of 1 differ ─+$/,
      );
      const block = lines.slice(
        h2 + 1,
        lines.findIndex((l, i) => i > h2 && !l.startsWith('  ')),
      );
      assert.equal(block[0], '  ≠ sequential_1 › frozen_bn · 3 channels');
      assert.equal(
        block.slice(1, 3).join(' ').replace(/\s+/g, ' ').trim(),
        cmp.steps[1].layers[0].why,
        'the why sentence, wrapped',
      );
      const l = cmp.steps[1].layers[0];
      for (const k of ['movingMean', 'movingVariance']) {
        const c = l.difference.channel[k];
        assert.ok(
          block.includes(
            `    ${k.padEnd(15)}max |Keras − tfjs| ${fmtNumber(l.difference.maxAbs[k])} at channel ${c} ` +
              `(tfjs ${fmtNumber(l.a[k][c])} → Keras ${fmtNumber(l.b[k][c])}) · 3 of 3 channels differ`,
          ),
          `${k} line in\n${block.join('\n')}`,
        );
      }
      assert.ok(!block.some((x) => /^\s+(gamma|beta)\s/.test(x)), 'vectors with the same values are not listed');
      assert.match(
        r.stdout,
        /^tfjs: ran to its end, 2 steps · Keras: ran to its end, 2 steps · tfjs 4\.22\.0 · backend wasm$/m,
      );
      assert.match(r.stdout, /^first difference: step 2, sequential_1 › frozen_bn$/m);
      assert.match(r.stdout, /^1 layer differs: frozen_bn \(from step 2, 1 step\)$/m);
      assert.ok(!r.stdout.includes('x ['), "the scripts' output is not in the text");
    });

    it('--max-steps 1: both runs stop after one step, exit 0', async () => {
      const r = await runCli(['compare', script, '--json', '--max-steps', '1', '--semantics', 'keras,tfjs']);
      assert.equal(r.code, 0, r.stderr);
      const doc = parseCompare(r, script, ['keras', 'tfjs']);
      assert.deepEqual(
        doc.runs.map((x: any) => [x.end, x.steps]),
        [
          ['maxSteps', 1],
          ['maxSteps', 1],
        ],
      );
      assert.equal(doc.steps.length, 1);
      assert.equal(doc.steps[0].layers[0].differs, false);
    });
  });

  it('only trainable layers, tfjs vs keras: the rules agree, every pair has the same values', async () => {
    const script = fx.write('trainable-only.ts', TRAINABLE_ONLY);
    const r = await runCli(['compare', script, '--json', '--semantics', 'tfjs,keras']);
    assert.equal(r.code, 0, r.stderr);
    const doc = parseCompare(r, script, ['tfjs', 'keras']);
    assert.equal(doc.steps.length, 2);
    for (const s of doc.steps) {
      assert.equal(s.samePoint, true);
      assert.equal(s.differs, false);
      const l = s.layers[0];
      assert.equal(l.name, 'mid_bn');
      assert.equal(l.differs, false);
      assert.match(l.why, /^Same values\. tfjs: trainable, .*; Keras: trainable, /);
      assert.deepEqual(l.a, l.b, 'the same layer object under both (same seed, same rules for a trainable layer)');
    }
    assert.equal(doc.steps[0].layers[0].a.updates, 9, 'fit: 3 epochs × 3 batches');
    assert.equal(doc.summary.firstDifference, null);
    assert.equal(doc.summary.stepsDiffering, 0);
    assert.deepEqual(doc.summary.layersDiffering, []);
  });

  it('pytorch with a last batch of one: run b fails at the fit line, the later pairs are one-sided; exit 1', async () => {
    const script = fx.write('last-one.ts', LAST_BATCH_OF_ONE);
    const fitLine = lineOf(LAST_BATCH_OF_ONE, 'await model.fit(');
    const r = await runCli(['compare', script, '--json', '--semantics', 'tfjs,pytorch']);
    assert.equal(r.code, 1, r.stderr);
    const doc = parseCompare(r, script, ['tfjs', 'pytorch']);
    assert.equal(doc.runs[0].end, 'done');
    assert.equal(doc.runs[0].steps, 3);
    assert.equal(doc.runs[1].end, 'error');
    assert.equal(doc.runs[1].steps, 1);
    assert.equal(doc.runs[1].error.kind, 'run');
    assert.equal(doc.runs[1].error.line, fitLine);
    assert.equal(doc.runs[1].error.file, script);
    assert.equal(
      doc.runs[1].error.message,
      'Expected more than 1 value per channel when training, got input size [1, 3]',
    );
    assert.equal(doc.steps.length, 3);
    assert.equal(doc.steps[0].reachedBy, 'both');
    assert.equal(doc.steps[0].differs, false, 'predict before fit: the same');
    for (const s of doc.steps.slice(1)) {
      assert.equal(s.reachedBy, 'a');
      assert.equal(s.samePoint, false);
      assert.equal(s.differs, true);
      for (const l of s.layers) {
        assert.ok(l.a);
        assert.equal(l.b, null);
        assert.equal(l.difference, null);
        assert.equal(l.why, 'Only the tfjs run reached this step: the PyTorch run failed before it.');
      }
    }
    assert.equal(doc.steps[1].line, fitLine);
    assert.equal(doc.summary.onlyA, 2);
    assert.equal(doc.summary.bothReached, 1);
    assert.equal(doc.summary.firstDifference.step, 2);
    assert.deepEqual(doc.summary.layersDiffering, [], 'no layer differs where both runs have it');
    assert.match(
      r.stderr,
      new RegExp(
        `^bn-inspect: PyTorch run: error: ${script.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${fitLine}:\\d+: Expected more than 1 value per channel`,
        'm',
      ),
    );
  });

  it('the runs take different paths: samePoint false, pointB says where run b is, the text warns', async () => {
    const script = fx.write('branch.ts', BRANCH_ON_RULES);
    const [j, t] = await Promise.all([
      runCli(['compare', script, '--json']),
      runCli(['compare', script], { cwd: fx.dir }),
    ]);
    assert.equal(j.code, 0, j.stderr);
    const doc = parseCompare(j, script, ['tfjs', 'keras']);
    const fit = lineOf(BRANCH_ON_RULES, 'await model.fit(');
    const log = lineOf(BRANCH_ON_RULES, "console.log('the moving mean");
    const predict = lineOf(BRANCH_ON_RULES, 'model.predict(x)');
    assert.deepEqual(
      doc.steps.map((s: any) => [s.line, s.samePoint, s.reachedBy, s.pointB && s.pointB.line]),
      [
        [fit, true, 'both', null],
        [predict, false, 'both', log],
        [predict, false, 'b', null],
      ],
    );
    assert.deepEqual(doc.steps[1].pointB, { line: log, column: 3, file: script, hit: 1 });
    assert.equal(doc.summary.firstPointMismatch, 2);
    assert.equal(doc.summary.onlyB, 1);
    assert.equal(
      doc.steps[2].layers[0].why,
      'Only the Keras run reached this step: the tfjs run ran to its end before it.',
    );
    assert.equal(t.code, 0, t.stderr);
    assert.ok(
      t.stdout.includes(
        `  ⚠ not the same step point: the Keras run's step 2 is branch.ts:${log} hit 1 (the values below compare different moments)`,
      ),
      t.stdout,
    );
    assert.ok(t.stdout.includes('  only the Keras run reached this step (the tfjs run had ended)'));
    assert.ok(t.stdout.includes('⚠ the runs took different step points from step 2 on'));
  });

  it('text above 12 layers: one line per differing layer, the shared reason once, the same values counted', async () => {
    const script = fx.write('many-frozen.ts', MANY_FROZEN);
    const r = await runCli(['compare', script], { cwd: fx.dir });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const h = lines.findIndex((l) => l.startsWith('── step 1 '));
    assert.match(lines[h], /· 14 BatchNormalization layers · tfjs vs Keras: 14 of 14 differ ─/);
    const end = lines.findIndex((l, i) => i > h && !l.startsWith('  '));
    const block = lines.slice(h + 1, end);
    const rows = block.filter((l) => l.startsWith('  ≠ '));
    assert.equal(rows.length, 14, 'one line per differing layer');
    for (const [i, row] of rows.entries())
      assert.match(
        row,
        new RegExp(`^  ≠ sequential_1 › bn${i} +(· (movingMean|movingVariance) Δ[^@ ]+@\\d+ )+· why \\[1\\]$`),
      );
    assert.deepEqual(
      block.filter((l) => /^ {2}\[\d+\]/.test(l)),
      ['  [1] 14 layers:'],
      'the reason once',
    );
    const why =
      'tfjs: frozen, updated once with batch statistics; Keras: frozen, inference mode although training = true, not updated.';
    assert.equal(
      block
        .slice(block.indexOf('  [1] 14 layers:') + 1)
        .join(' ')
        .replace(/\s+/g, ' ')
        .trim(),
      why,
    );
    assert.ok(block.length <= 14 + 4, `bounded: ${block.length} lines for 14 layers`);
    const tail = lines.slice(end).join(' ').replace(/\s+/g, ' ');
    assert.ok(tail.includes('14 layers differ: bn0 (from step 1, 1 step), bn1 (from step 1, 1 step),'), tail);
    assert.ok(tail.includes('bn7 (from step 1, 1 step), … 6 more'), 'eight layers named, the rest counted');
  });
});
