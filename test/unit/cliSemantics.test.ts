/**
 * `bn-inspect run --semantics S` end to end: the real CLI (dist/cli.js) as a child process, real tfjs in its
 * worker. Its argument errors, its --help, the document's `semantics`, the text header, and the values of a
 * frozen BatchNormalization layer in fit under tfjs, keras and pytorch against a float64 reference of the rules
 * (the layer is the model's first, so its statistics depend on the script's seeded data alone).
 */
import * as assert from 'node:assert/strict';
import { SEMANTICS, SEMANTICS_DETAIL } from '../../src/shared/semantics';
import { Fixtures, ensureBuilt, lineOf, nums, parseDocument, runCli } from './cliHarness';
import { FROZEN_FIT, close, movingAfterFit, printedX } from './semanticsFixtures';

describe('bn-inspect run --semantics (CLI, real tfjs)', function () {
  this.timeout(120_000);
  const fx = new Fixtures('bn-inspect-semantics-');
  before(() => ensureBuilt());
  after(() => fx.cleanup());

  it('a bad --semantics: exit 2, one line naming the four, nothing on stdout', async () => {
    const ok = fx.write('fine.ts', 'console.log(1);\n');
    const four = 'one of tfjs, keras, tf-keras, pytorch';
    const cases: [string[], string][] = [
      [['--semantics', 'torch'], `--semantics must be ${four}, got "torch"`],
      [['--semantics=Keras'], `--semantics must be ${four}, got "Keras"`],
      [['--semantics='], `--semantics must be ${four}, got ""`],
      [['--semantics'], '--semantics needs a value: tfjs, keras, tf-keras, pytorch'],
      [['--semantics', 'tfjs,keras'], `--semantics: run takes one semantics (${four}); two are for bn-inspect compare`],
    ];
    for (const [extra, message] of cases) {
      const r = await runCli(['run', ok, ...extra]);
      assert.equal(r.code, 2, extra.join(' '));
      assert.equal(r.stdout, '', extra.join(' '));
      assert.equal(r.stderr, `bn-inspect: ${message}\nRun "bn-inspect --help" for usage.\n`, extra.join(' '));
    }
  });

  it('--help names --semantics and says what each of the four changes', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /bn-inspect run SCRIPT \[--semantics S\]/);
    assert.match(r.stdout, /bn-inspect compare SCRIPT \[--semantics A,B\]/);
    const flat = r.stdout.replace(/\s+/g, ' ');
    for (const s of SEMANTICS) assert.ok(flat.includes(`${s} ${SEMANTICS_DETAIL[s]}`), `--help explains ${s}`);
  });

  describe('a frozen layer in fit', () => {
    const docs = new Map<string, any>();
    let script = '';
    before(async function () {
      this.timeout(240_000);
      script = fx.write('frozen-fit.ts', FROZEN_FIT);
      for (const s of [null, 'tfjs', 'keras', 'pytorch']) {
        const r = await runCli(['run', script, '--json', ...(s ? ['--semantics', s] : [])]);
        assert.equal(r.code, 0, r.stderr);
        docs.set(s ?? 'default', parseDocument(r, script, s ?? 'tfjs'));
      }
    });

    it("the document's semantics is the one that ran (default tfjs)", () => {
      assert.equal(docs.get('default').semantics, 'tfjs');
      for (const s of ['tfjs', 'keras', 'pytorch']) assert.equal(docs.get(s).semantics, s);
    });

    it('tfjs: the frozen layer is updated ×4 with the biased batch variance (float64 reference)', () => {
      const doc = docs.get('tfjs');
      const l = doc.steps[1].layers[0];
      assert.equal(l.trainable, false);
      assert.equal(l.updates, 4);
      assert.equal(l.lastTrainingCall.statsUsed, 'batch');
      const ref = movingAfterFit(printedX(doc.output), 1);
      close(nums(l.movingMean), ref.mean, 1e-5, 'tfjs movingMean');
      close(nums(l.movingVariance), ref.variance, 1e-5, 'tfjs movingVariance');
      assert.deepEqual(docs.get('default').steps[1].layers[0].movingMean, l.movingMean, 'the default is tfjs');
    });

    it('keras: the frozen layer runs in inference mode inside fit: moving statistics used, never updated', () => {
      const doc = docs.get('keras');
      const l = doc.steps[1].layers[0];
      assert.equal(l.calls, 4);
      assert.equal(l.updates, 0);
      assert.equal(l.movingUpdated, false);
      assert.deepEqual(l.movingMean, [0, 0, 0]);
      assert.deepEqual(l.movingVariance, [1, 1, 1]);
      assert.equal(l.lastCall.training, true);
      assert.equal(l.lastCall.statsUsed, 'moving');
      assert.ok(!l.warnings.some((w: any) => w.code === 'TRAINABLE_FALSE_STILL_UPDATES'));
    });

    it('pytorch: updated ×4 with the unbiased variance, × 4/3 (float64 reference)', () => {
      const doc = docs.get('pytorch');
      const l = doc.steps[1].layers[0];
      assert.equal(l.updates, 4);
      const ref = movingAfterFit(printedX(doc.output), 4 / 3);
      close(nums(l.movingMean), ref.mean, 1e-5, 'pytorch movingMean');
      close(nums(l.movingVariance), ref.variance, 1e-5, 'pytorch movingVariance');
    });

    it('text output: each step header and the last line name the semantics', async () => {
      const r = await runCli(['run', script, '--semantics', 'keras'], { cwd: fx.dir });
      assert.equal(r.code, 0, r.stderr);
      const headers = r.stdout.split('\n').filter((l) => l.startsWith('── step '));
      assert.equal(headers.length, 2);
      for (const h of headers) assert.match(h, / · Keras semantics ─/);
      assert.match(r.stdout, /^the script ran to its end: 2 steps · Keras semantics · tfjs 4\.22\.0 · backend wasm$/m);
      assert.equal(lineOf(FROZEN_FIT, 'model.predict(x)'), 12);
      assert.match(headers[0], /^── step 1 · frozen-fit\.ts:12 · hit 1 · 1 BatchNormalization layer · Keras semantics/);
    });
  });
});
