/**
 * LayerSnapshot.source (issue 8): where each BatchNormalization layer was constructed, the innermost frame in
 * the user's own files (a helper's line inside a helper, an imported user file), null for a layer the user's
 * code did not make (a loaded or deserialised model, a library in node_modules). Through bn-inspect --json,
 * real worker, real tfjs; lines and columns checked against the script text.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES, Fixtures, ensureBuilt, lineOf, parseDocument, runCli } from './cliHarness';

/** 1-based line and column of the first `needle` after the first line holding `lineNeedle` */
function positionOf(text: string, lineNeedle: string, needle = 'batchNormalization'): { line: number; column: number } {
  const line = lineOf(text, lineNeedle);
  const column = text.split('\n')[line - 1].indexOf(needle) + 1;
  assert.ok(column > 0, `line ${line} holds ${needle}`);
  return { line, column };
}

async function lastLayers(script: string, cwd?: string): Promise<any[]> {
  const r = await runCli(['run', script, '--json'], { cwd });
  assert.equal(r.code, 0, r.stderr);
  const doc = parseDocument(r, script);
  assert.equal(doc.error, null);
  return doc.steps.at(-1).layers;
}

describe('LayerSnapshot.source: where each layer was constructed (bn-inspect, real tfjs)', function () {
  this.timeout(120_000);
  const fx = new Fixtures('bn-source-test-');
  before(() => ensureBuilt());
  after(() => fx.cleanup());

  it('examples/mobilenet-v2-finetune.ts: 52 layers, each at its line in convBn or invertedResidual', async () => {
    const file = join(EXAMPLES, 'mobilenet-v2-finetune.ts');
    const text = readFileSync(file, 'utf8');
    const convBn = { file, ...positionOf(text, 'name: `${name}_bn`') };
    const dw = { file, ...positionOf(text, 'name: `${name}_dw_bn`') };
    const project = { file, ...positionOf(text, 'name: `${name}_project_bn`') };
    // the three lines are inside the helpers, not where the helpers are called
    assert.ok(convBn.line < lineOf(text, 'function invertedResidual('));
    assert.ok(
      dw.line > lineOf(text, 'function invertedResidual(') && project.line < lineOf(text, 'function mobileNetV2('),
    );
    const layers = await lastLayers('examples/mobilenet-v2-finetune.ts');
    assert.equal(layers.length, 52);
    const counts = { convBn: 0, dw: 0, project: 0 };
    for (const l of layers) {
      const kind = l.name.endsWith('_dw_bn') ? 'dw' : l.name.endsWith('_project_bn') ? 'project' : 'convBn';
      assert.deepEqual(l.source, { convBn, dw, project }[kind], l.name);
      counts[kind]++;
    }
    // stem + top + 16 expansions; 17 inverted residual blocks
    assert.deepEqual(counts, { convBn: 18, dw: 17, project: 17 });
  });

  it('examples/nested-model.ts: a layer inside a nested model, one in the outer model, a bare one', async () => {
    const file = join(EXAMPLES, 'nested-model.ts');
    const text = readFileSync(file, 'utf8');
    const layers = await lastLayers('examples/nested-model.ts');
    assert.deepEqual(
      layers.map((l) => [l.name, l.source]),
      [
        ['inner_bn', { file, ...positionOf(text, "name: 'inner_bn'") }],
        ['outer_bn', { file, ...positionOf(text, "name: 'outer_bn'") }],
        ['bare_bn', { file, ...positionOf(text, "name: 'bare_bn'") }],
      ],
    );
  });

  it('a loaded or deserialised model: null, also when awaited from a helper in the user file', async () => {
    const script = `import * as tf from '@tensorflow/tfjs';

const original = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [3], name: 'bn' })] });

async function roundTrip(m: tf.LayersModel): Promise<tf.LayersModel[]> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await m.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
  const fromJson = await tf.models.modelFromJSON({ modelTopology: artifacts!.modelTopology } as any);
  return [loaded, fromJson];
}

const copies = await roundTrip(original);
const x = tf.ones([2, 3]);
for (const m of [original, ...copies]) m.predict(x);
`;
    const p = fx.write('loaded.ts', script);
    const layers = await lastLayers(p);
    assert.equal(layers.length, 3);
    assert.deepEqual(layers[0].source, { file: p, ...positionOf(script, "name: 'bn'") });
    assert.equal(layers[1].source, null, 'tf.loadLayersModel');
    assert.equal(layers[2].source, null, 'tf.models.modelFromJSON');
  });

  it('an imported user file, named imports, Array.map over the factory; a library in node_modules gives null', async () => {
    const lib = `import { layers } from '@tensorflow/tfjs-layers';
export function makeNorm(name: string) {
  return layers.batchNormalization({ name });
}
`;
    const main = `import * as tf from '@tensorflow/tfjs';
import { makeNorm } from './norms';
// eslint-disable-next-line
const { makeLibraryNorm } = require('bnlib');

const fromHelper = makeNorm('helper_bn');
const mapped = [{ name: 'mapped_bn' }].map(tf.layers.batchNormalization);
const fromLibrary = makeLibraryNorm('library_bn');
const x = tf.ones([2, 3]);
for (const l of [fromHelper, ...mapped, fromLibrary]) l.apply(x);
// @step
console.log('done');
`;
    const libPath = fx.write('src/norms.ts', lib);
    const p = fx.write('src/main.ts', main);
    fx.write(
      'src/node_modules/bnlib/index.js',
      `const tf = require('@tensorflow/tfjs');\nexports.makeLibraryNorm = (name) => tf.layers.batchNormalization({ name });\n`,
    );
    fx.write('src/node_modules/bnlib/package.json', '{"name": "bnlib", "main": "index.js"}');
    const layers = await lastLayers(p);
    assert.deepEqual(
      layers.map((l) => [l.name, l.source]),
      [
        ['helper_bn', { file: libPath, ...positionOf(lib, 'layers.batchNormalization(') }],
        ['mapped_bn', { file: p, ...positionOf(main, 'const mapped', 'map(') }],
        ['library_bn', null],
      ],
    );
  });
});
