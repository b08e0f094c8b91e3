/**
 * tfjs-node's `file://` model IO in the engine (src/worker/nodeFileSystemIo.ts), the pretrained example that
 * uses it, and the CLI's text layout (grouped warnings, --compact / --full): the real CLI (dist/cli.js) as a
 * child process, real tfjs in its worker. Files written by the engine are read back here with this file's own
 * decoder (manifest + little-endian float32), never through tfjs.
 *
 * One file for issue 8's tfjs-node and text-output parts: its cases share the fixtures folder, the weight-file
 * decoder and one (slow) MobileNetV2 run for the text checks.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { EngineSession } from '../../src/engineHost/engineSession';
import { unpackStep } from '../../src/shared/snapshotCodec';
import { EXAMPLES, Fixtures, ROOT, WORKER, ensureBuilt, lineOf, parseDocument, runCli } from './cliHarness';

type Json = any;

/** the lines a script printed as `RESULT <json>` */
function results(doc: Json): Json[] {
  return String(doc.output)
    .split('\n')
    .filter((l) => l.startsWith('RESULT '))
    .map((l) => JSON.parse(l.slice(7)));
}

/** float32 weights of a model.json's manifest, by name, decoded from its files (paths relative to it) */
function readWeights(modelJsonPath: string): Map<string, { shape: number[]; hex: string }> {
  const modelJSON = JSON.parse(readFileSync(modelJsonPath, 'utf8'));
  const dir = join(modelJsonPath, '..');
  const out = new Map<string, { shape: number[]; hex: string }>();
  for (const group of modelJSON.weightsManifest) {
    const bytes = Buffer.concat(group.paths.map((p: string) => readFileSync(join(dir, p))));
    let offset = 0;
    for (const spec of group.weights) {
      assert.equal(spec.dtype, 'float32', `${spec.name}: float32`);
      const n = spec.shape.reduce((a: number, b: number) => a * b, 1);
      out.set(spec.name, { shape: spec.shape, hex: bytes.subarray(offset, offset + 4 * n).toString('hex') });
      offset += 4 * n;
    }
    assert.equal(offset, bytes.length, 'the group files hold exactly the weights of the group');
  }
  return out;
}

/** float32 bit patterns of JSON numbers, as hex (little-endian, like a weights file) */
function f32hex(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('hex');
}

/** prints every weight of `m` as {name, shape, hex of its float32 bytes} */
const DUMP = `
function dump(m: tf.LayersModel) {
  return m.weights.map((w) => {
    const a = w.read().dataSync() as Float32Array;
    return { name: w.originalName, shape: w.shape, hex: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex') };
  });
}
`;

describe('tfjs-node file:// IO, the pretrained example, text layout (CLI, real tfjs)', function () {
  this.timeout(120_000);
  const fx = new Fixtures('bn-inspect-nodeio-');
  before(() => ensureBuilt());
  after(() => fx.cleanup());

  describe("file:// save and load (tfjs-node's handlers)", () => {
    it('save then load: model.json + weights.bin in a new folder under the working directory; weights bit for bit, topology equal', async () => {
      const text = `import * as tf from '@tensorflow/tfjs-node';
${DUMP}
const model = tf.sequential({ name: 'roundtrip', layers: [
  tf.layers.conv2d({ name: 'c', filters: 3, kernelSize: 3, inputShape: [6, 6, 2], kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
  tf.layers.batchNormalization({ name: 'bn', momentum: 0.8 }),
  tf.layers.flatten(),
  tf.layers.dense({ name: 'd', units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }),
] });
model.apply(tf.randomNormal([8, 6, 6, 2], 2, 3, 'float32', 7), { training: true });
const saved = await model.save('file://./saved');
const loaded = await tf.loadLayersModel('file://./saved/model.json');
console.log('RESULT ' + JSON.stringify({ info: saved.modelArtifactsInfo, original: dump(model), loaded: dump(loaded),
  topology: model.toJSON(null, false), loadedTopology: loaded.toJSON(null, false), cwd: process.cwd() }));
`;
      const script = fx.write('scripts/roundtrip.ts', text);
      const cwd = join(fx.dir, 'work');
      mkdirSync(cwd);
      const r = await runCli(['run', script, '--json'], { cwd });
      assert.equal(r.code, 0, r.stderr);
      const [res] = results(parseDocument(r, script));
      assert.equal(res.cwd, cwd, "the worker's working directory is the CLI's");
      const modelJson = join(cwd, 'saved', 'model.json');
      assert.ok(existsSync(modelJson), 'saved/ created under the working directory (not the script folder)');
      assert.ok(!existsSync(join(fx.dir, 'scripts', 'saved')));
      const json = JSON.parse(readFileSync(modelJson, 'utf8'));
      assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin'], "tfjs-node's layout: one weights.bin");
      assert.equal(json.weightsManifest.length, 1);
      assert.deepEqual(json.modelTopology, res.topology, 'model.json holds the topology of the model');
      assert.deepEqual(res.loadedTopology, res.topology, 'the loaded model has the same topology');
      assert.equal(res.info.modelTopologyType, 'JSON');
      assert.equal(res.info.weightDataBytes, readFileSync(join(cwd, 'saved', 'weights.bin')).length);

      const onDisk = readWeights(modelJson);
      assert.equal(res.original.length, 8, 'conv kernel+bias, bn gamma/beta/mean/variance, dense kernel+bias');
      assert.equal(onDisk.size, res.original.length);
      for (const w of res.original) {
        if (!/\/(bias|beta)$/.test(w.name)) assert.ok(!/^(00)+$/.test(w.hex), `${w.name} is not all zero`);
        assert.equal(onDisk.get(w.name)?.hex, w.hex, `${w.name}: weights.bin holds the model's bits`);
      }
      assert.deepEqual(
        res.loaded.map((w: Json) => w.hex),
        res.original.map((w: Json) => w.hex),
        'the loaded model has the same weights, bit for bit',
      );
      // moving statistics really trained (not 0 / 1), so their round trip means something
      const mean = res.original.find((w: Json) => w.name === 'bn/moving_mean');
      assert.notEqual(mean.hex, f32hex([0, 0, 0]));
    });

    it('load: weights sharded over several files in the manifest (paths relative to model.json), bit for bit', async () => {
      // a dense 3→4 and a BN(4): the weights this test writes itself, split as tfjs's converter shards them
      const kernel = Array.from({ length: 12 }, (_, i) => Math.fround(Math.sin(i + 1) * 1.7));
      const bias = [0.25, -0.5, 1.125, 3];
      const gamma = [1.5, 0.75, 1, 2];
      const beta = [0.1, -0.2, 0.3, -0.4];
      const mean = [0.01, -3.5, 7.25, 100];
      const variance = [0.5, 2, 9, 1e-3];
      const topology = {
        class_name: 'Sequential',
        config: {
          name: 'sharded',
          layers: [
            {
              class_name: 'Dense',
              config: { name: 'd', units: 4, batch_input_shape: [null, 3], dtype: 'float32', use_bias: true },
            },
            { class_name: 'BatchNormalization', config: { name: 'bn', axis: -1, momentum: 0.9, epsilon: 0.001 } },
          ],
        },
        keras_version: 'tfjs-layers 4.22.0',
        backend: 'tensor_flow.js',
      };
      const group1 = Buffer.from(new Float32Array([...kernel, ...bias]).buffer);
      const group2 = Buffer.from(new Float32Array([...gamma, ...beta, ...mean, ...variance]).buffer);
      const dir = join(fx.dir, 'sharded');
      mkdirSync(join(dir, 'shards'), { recursive: true });
      // group 1 in two files (split mid-tensor), group 2 in one file in a subfolder
      writeFileSync(join(dir, 'group1-shard1of2.bin'), group1.subarray(0, 20));
      writeFileSync(join(dir, 'group1-shard2of2.bin'), group1.subarray(20));
      writeFileSync(join(dir, 'shards', 'group2-shard1of1.bin'), group2);
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          modelTopology: topology,
          format: 'layers-model',
          weightsManifest: [
            {
              paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
              weights: [
                { name: 'd/kernel', shape: [3, 4], dtype: 'float32' },
                { name: 'd/bias', shape: [4], dtype: 'float32' },
              ],
            },
            {
              paths: ['shards/group2-shard1of1.bin'],
              weights: ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((n) => ({
                name: `bn/${n}`,
                shape: [4],
                dtype: 'float32',
              })),
            },
          ],
        }),
      );
      const text = `import * as tf from '@tensorflow/tfjs-node';
${DUMP}
const m = await tf.loadLayersModel('file://${join(dir, 'model.json')}');
console.log('RESULT ' + JSON.stringify(dump(m)));
// @step
m.predict(tf.ones([2, 3]));
`;
      const script = fx.write('sharded.ts', text);
      const r = await runCli(['run', script, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const doc = parseDocument(r, script);
      const byName = new Map(results(doc)[0].map((w: Json) => [w.name, w.hex]));
      const expected: [string, number[]][] = [
        ['d/kernel', kernel],
        ['d/bias', bias],
        ['bn/gamma', gamma],
        ['bn/beta', beta],
        ['bn/moving_mean', mean],
        ['bn/moving_variance', variance],
      ];
      for (const [name, values] of expected) assert.equal(byName.get(name), f32hex(values), name);
      // and the engine's snapshot of the loaded BN layer shows the file's statistics
      const bn = doc.steps.at(-1).layers.find((l: Json) => l.name === 'bn');
      assert.equal(f32hex(bn.movingMean), f32hex(mean));
      assert.equal(f32hex(bn.movingVariance), f32hex(variance));
    });

    it('tf.io.fileSystem, the router for file:// only (a string or an array of file:// URLs)', async () => {
      const text = `import * as tf from '@tensorflow/tfjs-node';
const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
await m.save(tf.io.fileSystem('./via-fileSystem'));
console.log('RESULT ' + JSON.stringify({
  save: tf.io.getSaveHandlers('file:///tmp/x').length,
  load: tf.io.getLoadHandlers('file:///tmp/x/model.json').length,
  pair: tf.io.getLoadHandlers(['file:///a.pb', 'file:///b.json']).length,
  mixed: tf.io.getLoadHandlers(['file:///a.pb', 'http://b.json']).length,
  other: tf.io.getSaveHandlers('localstorage://x').length,
}));
`;
      const script = fx.write('router.ts', text);
      const r = await runCli(['run', script, '--json'], { cwd: fx.dir });
      assert.equal(r.code, 0, r.stderr);
      const [res] = results(parseDocument(r, script));
      assert.deepEqual(res, { save: 1, load: 1, pair: 1, mixed: 0, other: 0 });
      assert.ok(existsSync(join(fx.dir, 'via-fileSystem', 'weights.bin')));
    });

    const failures: [string, string, string, RegExp][] = [
      [
        'a model.json that does not exist',
        "await tf.loadLayersModel('file://./nowhere/model.json');",
        'loadLayersModel',
        /^Path \S+\/nowhere\/model\.json does not exist: loading failed$/,
      ],
      [
        'a folder instead of model.json',
        "await tf.loadLayersModel('file://.');",
        'loadLayersModel',
        /^The path to load from must be a file\. Loading from a directory is not supported\.$/,
      ],
      [
        'a weight file missing',
        "await tf.loadLayersModel('file://./noweights/model.json');",
        'loadLayersModel',
        /^Weight file \S+\/noweights\/weights\.bin does not exist: loading failed$/,
      ],
      [
        'save under a folder that does not exist',
        "await m.save('file://./no/such/folder');",
        'm.save',
        /^Cannot save to \S+\/no\/such\/folder: its parent folder \S+\/no\/such does not exist/,
      ],
      [
        'save to a path that is a file',
        "await m.save('file://./a-file');",
        'm.save',
        /^Path \S+\/a-file exists as a file\. The path must be nonexistent or point to a directory\.$/,
      ],
    ];
    for (const [what, call, callee, message] of failures)
      it(`${what}: exit 1, tfjs-node's message, at the user's line`, async () => {
        const cwd = join(fx.dir, 'bad');
        mkdirSync(join(cwd, 'noweights'), { recursive: true });
        writeFileSync(join(cwd, 'a-file'), 'x');
        writeFileSync(
          join(cwd, 'noweights', 'model.json'),
          JSON.stringify({
            modelTopology: {
              class_name: 'Sequential',
              config: { layers: [{ class_name: 'Dense', config: { units: 1, batch_input_shape: [null, 2] } }] },
            },
            weightsManifest: [
              { paths: ['weights.bin'], weights: [{ name: 'dense/kernel', shape: [2, 1], dtype: 'float32' }] },
            ],
          }),
        );
        const text = `import * as tf from '@tensorflow/tfjs-node';
const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
console.log('before');
${call}
console.log('after');
`;
        const script = fx.write(`bad-${callee}-${what.length}.ts`, text);
        const r = await runCli(['run', script, '--json'], { cwd });
        assert.equal(r.code, 1, r.stderr);
        const doc = parseDocument(r, script);
        assert.equal(doc.output, 'before\n');
        assert.match(doc.error.message, message);
        assert.equal(doc.error.file, script);
        assert.equal(doc.error.line, lineOf(text, call), `the error is placed at the user's call: ${doc.error.stack}`);
      });
  });

  describe('examples/pretrained-finetune.ts', () => {
    const modelJson = join(EXAMPLES, 'pretrained', 'model.json');

    it('the committed model is small, and its BN statistics are pretrained ones (not 0 / 1)', () => {
      const size = readFileSync(modelJson).length + readFileSync(join(EXAMPLES, 'pretrained', 'weights.bin')).length;
      assert.ok(size < 300_000, `a few hundred KB at most (${size} bytes)`);
      const w = readWeights(modelJson);
      for (const bn of ['bn1', 'bn2', 'bn3']) {
        const mean = new Float32Array(Buffer.from(w.get(`${bn}/moving_mean`)!.hex, 'hex').buffer.slice(0));
        const variance = new Float32Array(Buffer.from(w.get(`${bn}/moving_variance`)!.hex, 'hex').buffer.slice(0));
        assert.ok(
          mean.some((v) => Math.abs(v) > 0.05),
          `${bn} moving mean is not 0`,
        );
        assert.ok(
          variance.some((v) => Math.abs(v - 1) > 0.1),
          `${bn} moving variance is not 1`,
        );
      }
    });

    for (const [where, cwd, scriptArg] of [
      ['from the repo root', ROOT, 'examples/pretrained-finetune.ts'],
      ['from another folder', '/', join(EXAMPLES, 'pretrained-finetune.ts')],
    ] as const)
      it(`${where}: loads the file's statistics; frozen BN layers are updated by fit and drift from them`, async () => {
        const r = await runCli(['run', scriptArg, '--json'], { cwd });
        assert.equal(r.code, 0, r.stderr);
        const doc = parseDocument(r, scriptArg);
        assert.equal(doc.steps.length, 3, 'the @step line, fit, predict');
        const text = readFileSync(join(EXAMPLES, 'pretrained-finetune.ts'), 'utf8');
        assert.equal(doc.steps[1].line, lineOf(text, 'await model.fit('));
        const onDisk = readWeights(modelJson);
        for (const name of ['bn1', 'bn2', 'bn3']) {
          const [base, fit, predict] = doc.steps.map((s: Json) => s.layers.find((l: Json) => l.name === name));
          // step 1: exactly the pretrained statistics of weights.bin
          assert.equal(f32hex(base.movingMean), onDisk.get(`${name}/moving_mean`)!.hex, `${name} mean as in the file`);
          assert.equal(f32hex(base.movingVariance), onDisk.get(`${name}/moving_variance`)!.hex);
          assert.equal(base.trainable, false);
          assert.equal(base.updates, 0);
          // step 2 (fit): trainable false, updated anyway, moved away from the pretrained statistics
          assert.equal(fit.trainable, false);
          assert.ok(fit.updates > 0 && fit.movingUpdated, `${name} updated by fit`);
          assert.ok(
            fit.warnings.some((w: Json) => w.code === 'TRAINABLE_FALSE_STILL_UPDATES'),
            `${name}: the trainable-false warning`,
          );
          // drift: max over channels of |Δmean| / sqrt(pretrained variance + eps), and the variance ratios
          let maxShift = 0;
          let maxLogRatio = 0;
          for (let c = 0; c < base.channels; c++) {
            maxShift = Math.max(
              maxShift,
              Math.abs(fit.movingMean[c] - base.movingMean[c]) / Math.sqrt(base.movingVariance[c] + base.epsilon),
            );
            maxLogRatio = Math.max(maxLogRatio, Math.abs(Math.log(fit.movingVariance[c] / base.movingVariance[c])));
          }
          assert.ok(maxShift > 0.02 || maxLogRatio > 0.02, `${name} drifted (${maxShift}, ${maxLogRatio})`);
          if (name === 'bn1') assert.ok(maxShift > 0.2, `bn1, after the shifted input, drifted far: ${maxShift}`);
          // step 3 (predict): inference, no further change
          assert.equal(predict.updates, 0);
          assert.deepEqual(predict.movingMean, fit.movingMean);
        }
      });
    it("the drift baseline: a layer's first snapshot carries its statistics before its first call (the loaded ones; a new layer's 0 / 1)", async () => {
      // without the `// @step` line the first step is fit: the loaded statistics are only in `movingBefore`
      const scriptPath = join(EXAMPLES, 'pretrained-finetune.ts');
      const sourceText = readFileSync(scriptPath, 'utf8').replace('// @step\n', '\n');
      const r = await new EngineSession({ scriptPath, sourceText, workerPath: WORKER }).run();
      assert.equal(r.error, null);
      assert.equal(r.steps.length, 2, 'fit, predict');
      const [fit, predict] = r.steps.map((s) => unpackStep(s.buffer));
      const onDisk = readWeights(modelJson);
      for (const name of ['bn1', 'bn2', 'bn3']) {
        const l = fit.layers.find((x) => x.name === name)!;
        assert.ok(l.movingBefore, `${name}: movingBefore in its first snapshot`);
        assert.equal(f32hex([...l.movingBefore.mean]), onDisk.get(`${name}/moving_mean`)!.hex, `${name}: as loaded`);
        assert.equal(f32hex([...l.movingBefore.variance]), onDisk.get(`${name}/moving_variance`)!.hex);
        assert.notEqual(f32hex([...l.movingMean]), onDisk.get(`${name}/moving_mean`)!.hex, `${name}: fit moved it`);
        assert.equal(
          predict.layers.find((x) => x.name === name)!.movingBefore ?? null,
          null,
          'only the first snapshot',
        );
      }
      // a new layer: its initial values
      const fresh = await new EngineSession({
        scriptPath: join(EXAMPLES, 'fit-then-predict.ts'),
        workerPath: WORKER,
      }).run();
      const first = unpackStep(fresh.steps[0].buffer).layers[0];
      assert.ok(first.movingBefore);
      assert.ok(first.movingBefore.mean.every((v) => v === 0) && first.movingBefore.variance.every((v) => v === 1));
    });
  });

  describe('text output: warnings once per step, --compact / --full', () => {
    let mobileText = '';
    let mobileDoc: Json;
    const mobile = 'examples/mobilenet-v2-finetune.ts';
    before(async function () {
      this.timeout(240_000);
      const [t, j] = await Promise.all([runCli(['run', mobile]), runCli(['run', mobile, '--json'])]);
      assert.equal(t.code, 0, t.stderr);
      assert.equal(j.code, 0, j.stderr);
      mobileText = t.stdout;
      mobileDoc = parseDocument(j, mobile);
    });

    /** the text of each step: its header line and what follows, up to the next step */
    function stepBlocks(text: string): string[] {
      return text.split(/^(?=── step )/m).filter((b) => b.startsWith('── step '));
    }

    it('MobileNetV2 fit: TRAINABLE_FALSE_STILL_UPDATES explained once, with the 52 layer names', () => {
      const fitIndex = mobileDoc.steps.findIndex((s: Json) =>
        s.layers.some((l: Json) => l.warnings.some((w: Json) => w.code === 'TRAINABLE_FALSE_STILL_UPDATES')),
      );
      assert.ok(fitIndex >= 0, 'a step with the warning');
      const step = mobileDoc.steps[fitIndex];
      const names = step.layers.map((l: Json) => l.name);
      assert.equal(names.length, 52);
      const block = stepBlocks(mobileText)[fitIndex];
      assert.ok(block.startsWith(`── step ${step.index} `));
      const explanation = step.layers[0].warnings[0].message.slice(0, 60);
      assert.equal(block.split(explanation).length - 1, 1, 'the explanation once in the step');
      assert.equal(mobileText.split('In tfjs, trainable = false only freezes gamma').length - 1, 1, 'once in the run');
      assert.match(block, /^ {2}⚠ TRAINABLE_FALSE_STILL_UPDATES · 52 layers$/m);
      const list = block.slice(block.indexOf('    layers: ') + 12, block.indexOf(explanation));
      assert.deepEqual(
        list.split(/,\s*/).map((s) => s.trim()),
        names,
        'the layers it concerns, in model order',
      );
    });

    it('MobileNetV2: a step of 52 layers is compact by default, one line per layer with its warning code', () => {
      const blocks = stepBlocks(mobileText);
      assert.equal(blocks.length, mobileDoc.steps.length);
      mobileDoc.steps.forEach((s: Json, i: number) => {
        if (s.layers.length <= 12) return;
        const rows = blocks[i].split('\n').filter((l) => /^ {2}\S.* · +\d+ ch · /.test(l));
        assert.equal(rows.length, s.layers.length, `step ${s.index}: one row per layer`);
        s.layers.forEach((l: Json, j: number) => {
          assert.ok(rows[j].startsWith(`  ${l.path.join(' › ')} `), `row ${j} is ${l.name}`);
          assert.match(rows[j], new RegExp(`· +${l.channels} ch · ${l.trainable ? 'trainable' : 'frozen'} `));
          assert.match(rows[j], new RegExp(`calls ${l.calls} · updates ${l.updates} `));
          for (const w of l.warnings) assert.ok(rows[j].endsWith(`⚠ ${w.code}`) || rows[j].includes(`⚠ ${w.code}`));
        });
        assert.doesNotMatch(blocks[i], /movingMean/, 'no vectors in compact rows');
      });
    });

    it('--full shows blocks, --compact one line per layer on a small model; each warning once', async () => {
      const text = `import * as tf from '@tensorflow/tfjs';
const a = tf.layers.batchNormalization({ name: 'a' });
const b = tf.layers.batchNormalization({ name: 'b' });
a.trainable = false;
b.trainable = false;
const x = tf.randomNormal([4, 3], 0, 1, 'float32', 1);
// @step
b.apply(a.apply(x, { training: true }), { training: true });
`;
      const script = fx.write('two.ts', text);
      const [full, compact] = await Promise.all([
        runCli(['run', script, '--full'], { cwd: fx.dir }),
        runCli(['run', script, '--compact'], { cwd: fx.dir }),
      ]);
      assert.equal(full.code, 0, full.stderr);
      assert.equal(compact.code, 0, compact.stderr);
      const once = 'In tfjs, trainable = false only freezes gamma';
      for (const r of [full, compact]) {
        assert.equal(r.stdout.split(once).length - 1, 1, 'the explanation once');
        assert.match(r.stdout, /⚠ TRAINABLE_FALSE_STILL_UPDATES · 2 layers\n {4}layers: a, b\n/);
      }
      assert.match(full.stdout, /^ {4}movingMean/m);
      assert.match(full.stdout, /^ {4}⚠ TRAINABLE_FALSE_STILL_UPDATES \(explained below the layers\)$/m);
      const rows = compact.stdout.split('\n').filter((l) => /^ {2}[ab] +· /.test(l));
      assert.equal(rows.length, 2);
      assert.match(
        rows[0],
        /^ {2}a · 3 ch · frozen {4}· calls 1 · updates 1 · moving CHANGED {3}· last call training · ⚠ TRAINABLE_FALSE_STILL_UPDATES$/,
      );
      assert.doesNotMatch(compact.stdout, /movingMean/);
    });

    it('two layers of one name (a model and its copy): the list names them by path', async () => {
      const text = `import * as tf from '@tensorflow/tfjs';
const make = (name: string) => tf.sequential({ name, layers: [tf.layers.batchNormalization({ name: 'bn', inputShape: [3] })] });
const m1 = make('first');
const m2 = make('second');
m1.layers[0].trainable = false;
m2.layers[0].trainable = false;
// @step
m2.apply(m1.apply(tf.randomNormal([4, 3], 0, 1, 'float32', 1), { training: true }), { training: true });
`;
      const script = fx.write('dup.ts', text);
      const r = await runCli(['run', script], { cwd: fx.dir });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /⚠ TRAINABLE_FALSE_STILL_UPDATES · 2 layers\n {4}layers: first › bn, second › bn\n/);
    });

    it('bad layout arguments: exit 2 with a message', async () => {
      const script = fx.write('fine.ts', 'console.log(1);\n');
      for (const [args, message] of [
        [['--compact', '--json'], '--compact is a layout of the text output: not with --json'],
        [['--full', '--compact'], '--compact and --full: one or the other'],
        [['--compact=1'], '--compact takes no value'],
      ] as const) {
        const r = await runCli(['run', script, ...args]);
        assert.equal(r.code, 2);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr, `bn-inspect: ${message}\nRun "bn-inspect --help" for usage.\n`);
      }
    });
  });
});
