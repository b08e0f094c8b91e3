/**
 * bn-inspect end to end: the real CLI (dist/cli.js) as a child process, real tfjs in its worker.
 * Every example and a set of bad inputs, each document checked against the bn-inspector/v1 contract,
 * and the numbers of the examples checked against a float64 reference of the formulas.
 *
 * One suite file per area (the CLI): its cases share the harness (cliHarness.ts) and the contract checks.
 */
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { moments64, movingUpdate64 } from './reference';
import { EXAMPLES, Fixtures, ROOT, ensureBuilt, lineOf, nums, parseDocument, runCli } from './cliHarness';

function lineText(text: string, needle: string): string {
  return text.split('\n')[lineOf(text, needle) - 1];
}

function close(actual: number[], expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i];
    assert.ok(
      Math.abs(actual[i] - e) <= tol * Math.max(1, Math.abs(e)),
      `${what}[${i}]: ${actual[i]} vs reference ${e}`,
    );
  }
}

describe('bn-inspect (CLI, real tfjs)', function () {
  this.timeout(120_000);
  const fx = new Fixtures();
  before(() => ensureBuilt());
  after(() => fx.cleanup());

  describe('examples', () => {
    const examples = readdirSync(EXAMPLES).filter((f) => /\.(ts|mts|js|mjs)$/.test(f));

    it('there are examples, each starting with a comment that says what to look at', () => {
      for (const need of [
        'frozen-predict.ts',
        'fit-then-predict.ts',
        'fine-tune-frozen.ts',
        'small-cnn.ts',
        'nested-model.ts',
      ])
        assert.ok(examples.includes(need), need);
      for (const f of examples) {
        const text = readFileSync(join(EXAMPLES, f), 'utf8');
        assert.match(text, /^\/\/ \S/, `${f} starts with a comment`);
        assert.match(text, /look at/i, `${f} says what to look at`);
        assert.match(text, /from '@tensorflow\/tfjs'/, `${f} imports @tensorflow/tfjs`);
      }
    });

    for (const f of readdirSync(EXAMPLES).filter((x) => /\.(ts|mts|js|mjs)$/.test(x))) {
      it(`${f}: exit 0, one contract-conforming document, at least one BN layer`, async () => {
        const script = `examples/${f}`;
        const r = await runCli(['run', script, '--json']);
        assert.equal(r.code, 0, r.stderr);
        const doc = parseDocument(r, script);
        assert.equal(doc.error, null);
        assert.equal(doc.backend, 'wasm');
        assert.ok(doc.steps.length > 0, 'has steps');
        assert.ok(
          doc.steps.some((s: any) => s.layers.length > 0),
          'sees a BN layer',
        );
        assert.ok(!/tfjs-node|already registered/.test(doc.output + r.stderr), 'no tfjs banner');
      });
    }

    it('frozen-predict.ts: ten predicts, nothing updated, identical outputs, STALE_MOVING_STATS', async () => {
      const script = 'examples/frozen-predict.ts';
      const doc = parseDocument(await runCli(['run', script, '--json']), script);
      assert.equal(doc.steps.length, 10);
      const text = readFileSync(join(ROOT, script), 'utf8');
      for (const [i, s] of doc.steps.entries()) {
        assert.equal(s.line, lineOf(text, 'model.predict(x)'));
        assert.equal(s.hit, i + 1);
        assert.equal(s.layers.length, 1);
        const l = s.layers[0];
        assert.equal(l.trainable, false);
        assert.equal(l.epsilon, 1e-9);
        assert.equal(l.calls, 1);
        assert.equal(l.updates, 0);
        assert.equal(l.movingUpdated, false);
        assert.deepEqual(l.movingMean, [0, 0, 0, 0, 0]);
        assert.deepEqual(l.movingVariance, [1, 1, 1, 1, 1]);
        assert.equal(l.lastCall.training, false);
        assert.equal(l.lastCall.statsUsed, 'moving');
        assert.deepEqual(l.lastCall.inputShape, [3, 5]);
        assert.equal(l.lastTrainingCall, null);
        assert.deepEqual(
          l.warnings.map((w: any) => w.code),
          ['STALE_MOVING_STATS'],
        );
      }
      const outs = doc.output
        .split('\n')
        .filter((l: string) => l.startsWith('predict '))
        .map((l: string) => l.replace(/^predict \d+:/, ''));
      assert.equal(outs.length, 10);
      assert.equal(new Set(outs).size, 1, 'ten identical outputs');
    });

    it('fit-then-predict.ts: the moving statistics follow new = old - (old - batch)(1 - momentum) (float64 reference)', async () => {
      const script = 'examples/fit-then-predict.ts';
      const doc = parseDocument(await runCli(['run', script, '--json']), script);
      assert.equal(doc.steps.length, 5);
      const L = doc.steps.map((s: any) => s.layers[0]);
      // 1: predict before fit
      assert.equal(L[0].updates, 0);
      assert.ok(L[0].warnings.some((w: any) => w.code === 'STALE_MOVING_STATS'));
      // 2: fit, 5 epochs of the one batch of 3: five updates toward the same batch statistics
      assert.equal(L[1].updates, 5);
      assert.equal(L[1].movingUpdated, true);
      const tc = L[1].lastTrainingCall;
      assert.equal(tc.training, true);
      assert.deepEqual(tc.inputShape, [3, 5]);
      let mm: ArrayLike<number> = nums(L[0].movingMean);
      let mv: ArrayLike<number> = nums(L[0].movingVariance);
      for (let e = 0; e < 5; e++) {
        mm = movingUpdate64(mm, nums(tc.batchMean), 0.99);
        mv = movingUpdate64(mv, nums(tc.batchVariance), 0.99);
      }
      close(nums(L[1].movingMean), mm, 1e-5, 'movingMean after fit');
      close(nums(L[1].movingVariance), mv, 1e-5, 'movingVariance after fit');
      // 3: predict: no update, but the output changed
      assert.equal(L[2].updates, 0);
      assert.deepEqual(L[2].movingMean, L[1].movingMean);
      assert.equal(L[2].lastCall.statsUsed, 'moving');
      // the batch stats of the inference call are those of the same x as the training call
      close(nums(L[2].lastCall.batchMean), nums(tc.batchMean), 1e-5, 'x mean');
      // 4: apply training: true: one more update with the same x
      assert.equal(L[3].updates, 1);
      assert.equal(L[3].lastCall.statsUsed, 'batch');
      close(
        nums(L[3].movingMean),
        movingUpdate64(nums(L[2].movingMean), nums(L[3].lastTrainingCall.batchMean), 0.99),
        1e-5,
        'movingMean after apply',
      );
      close(
        nums(L[3].movingVariance),
        movingUpdate64(nums(L[2].movingVariance), nums(L[3].lastTrainingCall.batchVariance), 0.99),
        1e-5,
        'movingVariance after apply',
      );
      // 5: predict again
      assert.equal(L[4].updates, 0);
      const out = doc.output.split('\n');
      const after = out.find((l: string) => l.startsWith('predict after fit:'));
      const again = out.find((l: string) => l.startsWith('predict again:'));
      assert.notEqual(after?.slice(22), again?.slice(22), 'predict differs after apply(training: true)');
    });

    it('fine-tune-frozen.ts: trainable = false, still updated during fit: TRAINABLE_FALSE_STILL_UPDATES; gamma frozen', async () => {
      const script = 'examples/fine-tune-frozen.ts';
      const doc = parseDocument(await runCli(['run', script, '--json']), script);
      const text = readFileSync(join(ROOT, script), 'utf8');
      const fitLine = lineOf(text, 'await fineTune.fit(');
      const i = doc.steps.findIndex((s: any) => s.line === fitLine);
      assert.ok(i > 0);
      const bn = doc.steps[i].layers.find((l: any) => l.name === 'base_bn');
      const prev = doc.steps[i - 1].layers.find((l: any) => l.name === 'base_bn');
      assert.equal(bn.trainable, false);
      assert.ok(bn.updates > 0);
      assert.equal(bn.movingUpdated, true);
      assert.ok(bn.warnings.some((w: any) => w.code === 'TRAINABLE_FALSE_STILL_UPDATES'));
      assert.equal(bn.lastTrainingCall.statsUsed, 'batch');
      assert.deepEqual(bn.gamma, prev.gamma, 'gamma frozen');
      assert.deepEqual(bn.beta, prev.beta, 'beta frozen');
      // the Keras-like recipe at the end: no more updates
      const last = doc.steps.at(-1).layers.find((l: any) => l.name === 'base_bn');
      assert.equal(last.updates, 0);
      assert.deepEqual(last.movingMean, bn.movingMean);
    });

    it('small-cnn.ts: rank-4 input, every BN updated once per trainOnBatch on the default (wasm) backend', async () => {
      const script = 'examples/small-cnn.ts';
      const doc = parseDocument(await runCli(['run', script, '--json']), script);
      const train = doc.steps.filter((s: any) => s.layers.every((l: any) => l.updates === 1));
      assert.ok(train.length >= 3);
      for (const s of train)
        for (const l of s.layers) {
          assert.equal(l.lastTrainingCall.inputShape.length, 4);
          assert.equal(l.lastTrainingCall.inputShape[0], 16);
          assert.equal(l.lastTrainingCall.inputShape[3], l.channels);
          for (const v of nums(l.lastTrainingCall.batchVariance)) assert.ok(v >= 0);
        }
      for (let k = 1; k < train.length; k++)
        for (let j = 0; j < train[k].layers.length; j++) {
          const l = train[k].layers[j];
          const prev = train[k - 1].layers[j];
          close(
            nums(l.movingMean),
            movingUpdate64(nums(prev.movingMean), nums(l.lastTrainingCall.batchMean), 0.99),
            1e-5,
            `${l.name} moving mean`,
          );
        }
      const last = doc.steps.at(-1);
      for (const l of last.layers) assert.equal(l.lastCall.training, false);
    });

    it('nested-model.ts: paths of enclosing models, a bare layer, creation order', async () => {
      const script = 'examples/nested-model.ts';
      const doc = parseDocument(await runCli(['run', script, '--json']), script);
      const last = doc.steps.at(-1);
      const paths = last.layers.map((l: any) => l.path.join('/'));
      assert.deepEqual(paths, ['outer/inner/inner_bn', 'outer/outer_bn', 'bare_bn']);
      assert.equal(last.layers[2].updates, 1);
      assert.equal(last.layers[0].updates, 0);
    });

    it('last-batch-of-one.ts: batches 4, 4, 1: variance 0 in the last, BATCH_OF_ONE', async () => {
      const script = 'examples/last-batch-of-one.ts';
      const doc = parseDocument(await runCli(['run', script, '--json']), script);
      const l = doc.steps[0].layers[0];
      assert.equal(l.updates, 3);
      assert.deepEqual(l.lastTrainingCall.inputShape, [1, 3]);
      assert.deepEqual(l.lastTrainingCall.batchVariance, [0, 0, 0]);
      assert.ok(l.warnings.some((w: any) => w.code === 'BATCH_OF_ONE'));
    });
  });

  describe('numbers against a float64 reference', () => {
    it('batch statistics of training and inference calls, and the moving update (momentum 0.9, rank 3, axis 1)', async () => {
      const text = `import * as tf from '@tensorflow/tfjs';
const data = Array.from({ length: 4 * 3 * 2 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 3)) + 0.25 * i);
const x = tf.tensor3d(data, [4, 3, 2]);
console.log(JSON.stringify(Array.from(x.dataSync())));
const bn = tf.layers.batchNormalization({ axis: 1, momentum: 0.9, epsilon: 1e-3 });
bn.apply(x, { training: true });
bn.apply(x.mul(2), { training: false });
`;
      const p = fx.write('ref.ts', text);
      const doc = parseDocument(await runCli(['run', p, '--json']), p);
      const xs = JSON.parse(doc.output.split('\n')[0]);
      const ref = moments64(xs, [4, 3, 2], 1);
      const [s1, s2] = doc.steps;
      const l1 = s1.layers[0];
      assert.equal(l1.channels, 3);
      assert.equal(l1.axis, 1);
      close(nums(l1.lastTrainingCall.batchMean), ref.mean, 1e-5, 'batch mean');
      close(nums(l1.lastTrainingCall.batchVariance), ref.variance, 1e-5, 'biased batch variance');
      close(nums(l1.movingMean), movingUpdate64([0, 0, 0], ref.mean, 0.9), 1e-5, 'moving mean');
      close(nums(l1.movingVariance), movingUpdate64([1, 1, 1], ref.variance, 0.9), 1e-5, 'moving variance');
      const l2 = s2.layers[0];
      assert.equal(l2.updates, 0);
      assert.equal(l2.lastCall.training, false);
      close(
        nums(l2.lastCall.batchMean),
        Array.from(ref.mean, (m) => 2 * m),
        1e-5,
        'inference-call mean',
      );
      close(
        nums(l2.lastCall.batchVariance),
        Array.from(ref.variance, (v) => 4 * v),
        1e-5,
        'inference-call variance',
      );
      assert.deepEqual(l2.lastTrainingCall, l1.lastTrainingCall, 'last training call kept apart from the last call');
    });

    it('NaN and Infinity are written as strings, with NON_FINITE', async () => {
      const p = fx.write(
        'nan.ts',
        `import * as tf from '@tensorflow/tfjs';
const bn = tf.layers.batchNormalization();
bn.apply(tf.tensor2d([[NaN, 1], [2, 3]]), { training: true });
`,
      );
      const doc = parseDocument(await runCli(['run', p, '--json']), p);
      const l = doc.steps[0].layers[0];
      assert.equal(l.movingMean[0], 'NaN');
      assert.equal(typeof l.movingMean[1], 'number');
      assert.ok(l.warnings.some((w: any) => w.code === 'NON_FINITE'));
    });
  });

  describe('bad input', () => {
    it('a throw at line N: exit 1, error.line N, the document still comes', async () => {
      const text = `import * as tf from '@tensorflow/tfjs';
const bn = tf.layers.batchNormalization();
bn.apply(tf.ones([2, 3]), { training: true });
console.log('before the throw');
if (bn.built) {
    throw new Error('thrown on purpose');
}
`;
      const p = fx.write('throws.ts', text);
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 1);
      const doc = parseDocument(r, p);
      assert.equal(doc.error.message, 'thrown on purpose');
      assert.equal(doc.error.line, lineOf(text, 'throw new Error'));
      assert.equal(doc.error.column, lineText(text, 'throw new Error').indexOf('new Error') + 1, 'column of the Error');
      assert.equal(doc.steps.length, 1, 'the steps before the throw are kept');
      assert.equal(doc.output, 'before the throw\n');
      assert.match(r.stderr, /thrown on purpose/);
    });

    it('an error inside tfjs is placed on the user line that called it', async () => {
      const text = `import * as tf from '@tensorflow/tfjs';
const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });

m.predict(tf.ones([2, 7]));
`;
      const p = fx.write('shape.ts', text);
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 1);
      const doc = parseDocument(r, p);
      assert.equal(doc.error.line, 4);
      assert.match(doc.error.message, /shape|expected/i);
    });

    it('an error inside an awaited fit (after tfjs has awaited) is placed on the fit line', async () => {
      const text = `import * as tf from '@tensorflow/tfjs';
const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });

await m.fit(tf.ones([8, 4]), tf.ones([8, 3]), { epochs: 1, verbose: 0 });
`;
      const p = fx.write('fitShape.ts', text);
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 1);
      const doc = parseDocument(r, p);
      assert.match(doc.error.message, /target expected/);
      assert.equal(doc.error.line, 5);
    });

    it('BatchNormalization with scale: false in training mode: what tfjs 4.22 cannot do, said plainly, at the fit line', async () => {
      const text = `import * as tf from '@tensorflow/tfjs';
const m = tf.sequential({
  layers: [tf.layers.dense({ inputShape: [4], units: 8 }), tf.layers.batchNormalization({ scale: false, name: 'bnNoScale' })],
});
m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
m.predict(tf.ones([2, 4]));
await m.fit(tf.ones([8, 4]), tf.ones([8, 8]), { epochs: 1, verbose: 0 });
`;
      const p = fx.write('noScale.ts', text);
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 1);
      const doc = parseDocument(r, p);
      assert.match(
        doc.error.message,
        /'bnNoScale' \(scale: false\) was called in training mode, which tfjs 4\.22 cannot do/,
      );
      assert.match(doc.error.message, /Create the layer with scale: true and center: true/);
      assert.equal(doc.error.line, 7);
      // inference mode (predict) works without gamma, as in tfjs
      assert.equal(doc.steps.length >= 1, true, 'the predict step came');
    });

    it('a syntax error: exit 1, its line, no step', async () => {
      const text = `import * as tf from '@tensorflow/tfjs';
const m = tf.sequential();
m.predict(tf.ones([1, 2]);
const ok = 1;
`;
      const p = fx.write('syntax.ts', text);
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 1);
      const doc = parseDocument(r, p);
      assert.equal(doc.steps.length, 0);
      assert.equal(doc.error.line, 3);
      assert.equal(doc.error.kind, 'compile');
    });

    it('a script with no BN layer: exit 0, steps with empty layers', async () => {
      const p = fx.write(
        'nobn.ts',
        `import * as tf from '@tensorflow/tfjs';
const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
m.predict(tf.ones([2, 3]));
`,
      );
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const doc = parseDocument(r, p);
      assert.equal(doc.steps.length, 1);
      assert.deepEqual(doc.steps[0].layers, []);
    });

    it('an endless loop with --timeout-ms: exit 3 within a few seconds, the steps so far kept', async () => {
      const p = fx.write(
        'endless.ts',
        `import * as tf from '@tensorflow/tfjs';
const bn = tf.layers.batchNormalization();
bn.apply(tf.ones([2, 2]), { training: true });
let n = 0;
while (true) n++;
`,
      );
      const r = await runCli(['run', p, '--json', '--timeout-ms', '1500']);
      assert.equal(r.code, 3);
      assert.ok(r.ms < 8000, `took ${r.ms} ms`);
      const doc = parseDocument(r, p);
      assert.equal(doc.steps.length, 1);
      assert.equal(doc.error.kind, 'timeout');
      assert.match(doc.error.message, /1500 ms/);
    });

    it('a missing import: exit 1, a clear message at the import line', async () => {
      const p = fx.write(
        'missing.ts',
        `import * as tf from '@tensorflow/tfjs';
import { thing } from 'no-such-package-here';
console.log(thing, tf.version);
`,
      );
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 1);
      const doc = parseDocument(r, p);
      assert.match(doc.error.message, /Could not resolve "no-such-package-here"/);
      assert.equal(doc.error.line, 2);
      assert.equal(doc.steps.length, 0);
    });

    it('a missing relative import: exit 1', async () => {
      const p = fx.write('missingrel.ts', `import { x } from './nope';\nconsole.log(x);\n`);
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 1);
      assert.match(parseDocument(r, p).error.message, /Could not resolve "\.\/nope"/);
    });

    it('a script that is not a file, a missing file, a non-script: exit 2, nothing on stdout', async () => {
      for (const bad of [fx.dir, join(fx.dir, 'does-not-exist.ts'), fx.write('data.txt', 'hello')]) {
        const r = await runCli(['run', bad, '--json']);
        assert.equal(r.code, 2, bad);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /bn-inspect: /);
      }
    });

    it('bad arguments: exit 2', async () => {
      const ok = fx.write('fine.ts', 'console.log(1);\n');
      for (const args of [
        ['run', ok, '--frobnicate'],
        ['run', ok, '--backend', 'webgl'],
        ['run', ok, '--to', 'x'],
        ['run', ok, '--max-steps', '0'],
        ['run', ok, '--timeout-ms'],
        ['run'],
        ['go', ok],
        [],
        ['run', ok, ok],
        ['run', ok, '--json=yes'],
        ['run', ok, '--to=0'],
        ['run', ok, '--backend='],
        ['run', ok, '-x'],
        ['run', ok, '--no-json'],
      ]) {
        const r = await runCli(args);
        assert.equal(r.code, 2, args.join(' '));
        assert.equal(r.stdout, '');
      }
    });

    it("bad arguments say what is wrong, in bn-inspect's own words", async () => {
      const ok = fx.write('fine2.ts', 'console.log(1);\n');
      const cases: [string[], string][] = [
        [['run', ok, '--frobnicate'], 'bn-inspect: unknown option --frobnicate\n'],
        [['run', ok, '--frobnicate=3'], 'bn-inspect: unknown option --frobnicate\n'],
        [['run', ok, '--json=1'], 'bn-inspect: --json takes no value\n'],
        [['run', ok, '--timeout-ms'], 'bn-inspect: --timeout-ms needs a positive whole number, got nothing\n'],
        [['run', ok, '--max-steps=0'], 'bn-inspect: --max-steps needs a positive whole number, got "0"\n'],
        [['run', ok, '--backend=webgl'], 'bn-inspect: --backend must be wasm or cpu, got "webgl"\n'],
        [['go', ok], 'bn-inspect: unknown command "go" (the commands are "run" and "compare")\n'],
        [[], 'bn-inspect: missing command: bn-inspect run SCRIPT, or bn-inspect compare SCRIPT\n'],
        [['run'], 'bn-inspect: missing SCRIPT: bn-inspect run SCRIPT\n'],
      ];
      for (const [args, first] of cases) {
        const r = await runCli(args);
        assert.equal(r.code, 2, args.join(' '));
        assert.equal(r.stderr, first + 'Run "bn-inspect --help" for usage.\n', args.join(' '));
      }
    });

    it('--flag=value works like --flag value', async () => {
      const script = 'examples/frozen-predict.ts';
      const r = await runCli(['run', script, '--json', '--max-steps=2', '--backend=cpu']);
      assert.equal(r.code, 0, r.stderr);
      const doc = parseDocument(r, script);
      assert.equal(doc.steps.length, 2);
      assert.equal(doc.backend, 'cpu');
      assert.equal(doc.end, 'maxSteps');
    });

    it('--version: the package version on stdout, exit 0', async () => {
      const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
      assert.match(version, /^\d+\.\d+\.\d+/);
      for (const args of [['--version'], ['run', 'x.ts', '--version']]) {
        const r = await runCli(args);
        assert.equal(r.code, 0, args.join(' '));
        assert.equal(r.stdout, `bn-inspect ${version} (BatchNorm Inspector), schema bn-inspector/v1\n`);
        assert.equal(r.stderr, '');
      }
    });

    it('--help: usage on stdout, exit 0', async () => {
      const r = await runCli(['--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /bn-inspect run SCRIPT/);
      assert.match(r.stdout, /--timeout-ms/);
    });
  });

  describe('options and script kinds', () => {
    it('--to LINE: stops at the first step point at or after LINE, prints only the steps so far, exit 0', async () => {
      const script = 'examples/fit-then-predict.ts';
      const text = readFileSync(join(ROOT, script), 'utf8');
      const fitLine = lineOf(text, 'await model.fit(');
      const r = await runCli(['run', script, '--json', '--to', String(fitLine - 1)]);
      assert.equal(r.code, 0, r.stderr);
      const doc = parseDocument(r, script);
      assert.equal(doc.steps.length, 2);
      assert.equal(doc.steps[1].line, fitLine);
      assert.equal(doc.error, null);
      assert.ok(!doc.output.includes('predict after fit'), 'the script did not go on');
    });

    it('--to inside a loop stops at the first reach; --to past every step point runs to the end', async () => {
      const script = 'examples/frozen-predict.ts';
      const r = await runCli(['run', script, '--json', '--to', '1']);
      assert.equal(parseDocument(r, script).steps.length, 1);
      const r2 = await runCli(['run', script, '--json', '--to', '999']);
      assert.equal(r2.code, 0);
      assert.equal(parseDocument(r2, script).steps.length, 10);
    });

    it('--max-steps N: N steps, exit 0', async () => {
      const script = 'examples/frozen-predict.ts';
      const r = await runCli(['run', script, '--json', '--max-steps', '3']);
      assert.equal(r.code, 0, r.stderr);
      const doc = parseDocument(r, script);
      assert.equal(doc.steps.length, 3);
      assert.deepEqual(
        doc.steps.map((s: any) => s.hit),
        [1, 2, 3],
      );
    });

    it('--max-steps N is exact: nothing after the Nth step runs (its console output never comes)', async () => {
      const script = 'examples/frozen-predict.ts';
      const r = await runCli(['run', script, '--json', '--max-steps', '3']);
      assert.equal(r.code, 0, r.stderr);
      const doc = parseDocument(r, script);
      assert.equal(doc.end, 'maxSteps');
      // step k is the k-th predict; "predict k" is printed by the statement after it
      assert.deepEqual(
        doc.output
          .split('\n')
          .filter((l: string) => l.startsWith('predict '))
          .map((l: string) => l.split(':')[0]),
        ['predict 1', 'predict 2'],
      );
    });

    it('--to through a symbolic link to the folder: stops there all the same', async () => {
      const real = fx.write('linked/real/loop.ts', readFileSync(join(ROOT, 'examples/frozen-predict.ts'), 'utf8'));
      const link = join(fx.dir, 'linked', 'via-link');
      symlinkSync(dirname(real), link, 'dir');
      const script = join(link, 'loop.ts');
      const line = lineOf(readFileSync(real, 'utf8'), 'model.predict(x)');
      const r = await runCli(['run', script, '--json', '--to', String(line)]);
      assert.equal(r.code, 0, r.stderr);
      const doc = parseDocument(r, script);
      assert.equal(doc.end, 'to');
      assert.deepEqual(
        doc.steps.map((s: any) => [s.line, s.hit]),
        [[line, 1]],
      );
    });

    it('--max-steps with --to: the run ends at whichever comes first, exactly', async () => {
      const script = 'examples/fit-then-predict.ts';
      const text = readFileSync(join(ROOT, script), 'utf8');
      const fitLine = lineOf(text, 'await model.fit(');
      const toFirst = parseDocument(
        await runCli(['run', script, '--json', '--to', String(fitLine), '--max-steps', '4']),
        script,
      );
      assert.equal(toFirst.end, 'to');
      assert.equal(toFirst.steps.length, 2);
      assert.equal(toFirst.steps.at(-1).line, fitLine);
      const limitFirst = parseDocument(
        await runCli(['run', script, '--json', '--to', String(fitLine), '--max-steps', '1']),
        script,
      );
      assert.equal(limitFirst.end, 'maxSteps');
      assert.equal(limitFirst.steps.length, 1);
    });

    it('--backend cpu: runs on cpu, no "install tfjs-node" banner anywhere', async () => {
      const script = 'examples/frozen-predict.ts';
      const r = await runCli(['run', script, '--json', '--backend', 'cpu']);
      assert.equal(r.code, 0, r.stderr);
      const doc = parseDocument(r, script);
      assert.equal(doc.backend, 'cpu');
      assert.equal(doc.steps.length, 10);
      assert.ok(!/tfjs-node|looks like you are running/i.test(doc.output + r.stderr));
    });

    it('the console output is captured in order (console.*, process.stdout/stderr.write), and only in the document', async () => {
      const p = fx.write(
        'order.ts',
        `import * as tf from '@tensorflow/tfjs';
console.log('one');
process.stdout.write('two\\n');
console.error('three');
console.warn('four', { five: 5 });
process.stderr.write('six\\n');
const bn = tf.layers.batchNormalization();
bn.apply(tf.ones([2, 2]));
console.info('seven', [8]);
`,
      );
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 0);
      const doc = parseDocument(r, p);
      assert.equal(doc.output, 'one\ntwo\nthree\nfour { five: 5 }\nsix\nseven [ 8 ]\n');
      assert.equal(r.stderr, '');
    });

    it('without --json: a readable table per step and the script output on stdout', async () => {
      const script = 'examples/fit-then-predict.ts';
      const r = await runCli(['run', script]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /step 1 · examples\/fit-then-predict\.ts:\d+ · hit 1/);
      assert.match(r.stdout, /sequential_\d+ › batch_normalization/);
      assert.match(r.stdout, /movingMean\s+\[/);
      assert.match(r.stdout, /STALE_MOVING_STATS/);
      assert.match(r.stdout, /predict before fit:/);
      assert.match(r.stdout, /ran to its end: 5 steps/);
      assert.equal(r.stderr, '');
    });

    it("a relative import of the user's own file: step points inside it, errors placed in it", async () => {
      const helper = `import * as tf from '@tensorflow/tfjs';
export function trainStep(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  const y = layer.apply(x, { training: true }) as tf.Tensor;
  return y;
}
export function fail(): never {
  throw new RangeError('from the helper');
}
`;
      const hp = fx.write('rel/lib/helper.ts', helper);
      const main = `import * as tf from '@tensorflow/tfjs';
import { trainStep, fail } from './lib/helper';
const bn = tf.layers.batchNormalization();
for (let i = 0; i < 3; i++) trainStep(bn, tf.randomNormal([4, 2]));
fail();
`;
      const p = fx.write('rel/main.ts', main);
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 1);
      const doc = parseDocument(r, p);
      assert.deepEqual(
        doc.steps.map((s: any) => [s.file, s.line, s.hit]),
        [
          [hp, 3, 1],
          [hp, 3, 2],
          [hp, 3, 3],
        ],
      );
      assert.equal(doc.error.file, hp);
      assert.equal(doc.error.line, 7);
      assert.match(doc.error.message, /from the helper/);
    });

    it('a CommonJS script (require, module.exports)', async () => {
      const p = fx.write(
        'common.js',
        `const tf = require('@tensorflow/tfjs');
const { layers } = require('@tensorflow/tfjs-layers');
const bn = layers.batchNormalization();
bn.apply(tf.ones([3, 2]), { training: true });
module.exports = { bn };
console.log('cjs', typeof module.exports.bn);
`,
      );
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const doc = parseDocument(r, p);
      assert.equal(doc.steps.length, 1);
      assert.equal(doc.steps[0].line, 4);
      assert.equal(doc.output, 'cjs object\n');
    });

    it('top-level await in a .mjs script, default and named imports of tfjs-core / tfjs-node', async () => {
      const p = fx.write(
        'tla.mjs',
        `import tf from '@tensorflow/tfjs-node';
import { ones } from '@tensorflow/tfjs-core';
const m = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [2] })] });
m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
await m.fit(ones([4, 2]), ones([4, 2]), { epochs: 2, verbose: 0 });
console.log('after fit');
`,
      );
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const doc = parseDocument(r, p);
      assert.equal(doc.steps.length, 1);
      assert.equal(doc.steps[0].layers[0].updates, 2, 'the step comes when the awaited fit has settled');
      assert.equal(doc.output, 'after fit\n');
    });

    it("an un-awaited async main(): the run ends when the script's work does; a rejection is an error", async () => {
      const p = fx.write(
        'later.ts',
        `import * as tf from '@tensorflow/tfjs';
async function main() {
  await new Promise((r) => setTimeout(r, 300));
  const bn = tf.layers.batchNormalization();
  bn.apply(tf.ones([2, 2]), { training: true });
  console.log('main done');
  throw new Error('late failure');
}
main();
`,
      );
      const r = await runCli(['run', p, '--json']);
      assert.equal(r.code, 1);
      const doc = parseDocument(r, p);
      assert.equal(doc.steps.length, 1);
      assert.equal(doc.output, 'main done\n');
      assert.equal(doc.error.message, 'late failure');
      assert.equal(doc.error.line, 7);
    });
  });
});
