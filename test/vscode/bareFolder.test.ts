// No false errors in a bare folder: the engine runs a script whose folder has no node_modules (it brings its own
// tfjs 4.22.0), and the editor must not underline `import * as tf from '@tensorflow/tfjs'` with "Cannot find module".
// The extension contributes a TypeScript server plugin (tsPlugin/, package bn-inspector-tfjs-types) that resolves
// @tensorflow/tfjs, -node, -core and -layers to the declarations it ships. These tests read the diagnostics the
// built-in TypeScript extension publishes (source 'ts') for scripts in a folder with no node_modules anywhere above
// it. The workspace copy of examples/ lives under the checkout (.cache/vscode-host/runs/…), whose node_modules has
// tfjs, so the bare folder is made in the OS temp folder instead. Controls in the same run: a misspelt tfjs member
// and a type error are reported (tsserver runs, and with real tfjs types), and a fifth tfjs package that the plugin
// does not cover still gets "Cannot find module" (what every tfjs import would get without the plugin).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { closeAllEditors, exampleFiles, setText, sleep, until } from './support/host';

const PROBE = `\nconst bnProbe: number = 'probe'; // BN-PROBE\n`;
/** TS2322 "Type 'string' is not assignable to type 'number'" on the probe line */
const isProbe = (d: vscode.Diagnostic, doc: vscode.TextDocument) =>
  d.range.start.line < doc.lineCount && doc.lineAt(d.range.start.line).text.includes('BN-PROBE');

const tsDiagnostics = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'ts');
const describe = (ds: vscode.Diagnostic[]) =>
  ds.map((d) => `${d.range.start.line + 1}: TS${codeOf(d)} ${d.message.split('\n')[0]}`).join('\n  ');
const codeOf = (d: vscode.Diagnostic) =>
  typeof d.code === 'object' && d.code !== null ? String(d.code.value) : String(d.code);

/** the four names the engine provides, used with their types (a wrong type anywhere would be an error) */
const ALL_FOUR = `import * as tf from '@tensorflow/tfjs';
import * as tfnode from '@tensorflow/tfjs-node';
import * as core from '@tensorflow/tfjs-core';
import * as layers from '@tensorflow/tfjs-layers';

const model: layers.Sequential = tf.sequential({
  layers: [tf.layers.dense({ units: 3, inputShape: [4] }), tf.layers.batchNormalization({ momentum: 0.9 })],
});
const bn = model.layers[1] as layers.layers.Layer;
const y = model.predict(tf.randomNormal([8, 4])) as core.Tensor2D;
const z: core.Tensor = tfnode.add(y, core.scalar(1));
const shape: number[] = z.shape;
console.log(bn.name, shape, tf.version.tfjs, tfnode.memory().numTensors);
`;

/** a bare-folder script as a user writes it: train, then predict */
const TRAIN_PREDICT = `import * as tf from '@tensorflow/tfjs';

const model = tf.sequential();
model.add(tf.layers.dense({ units: 8, inputShape: [4], useBias: false }));
model.add(tf.layers.batchNormalization());
model.add(tf.layers.dense({ units: 1 }));
model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
const x = tf.randomNormal([32, 4]);
const y = tf.randomNormal([32, 1]);
const history = await model.fit(x, y, { epochs: 2, batchSize: 8 });
const out = model.predict(x) as tf.Tensor;
console.log(history.history.loss, out.shape);
`;

/** must be reported: a misspelt layer (TS2551, with the right name suggested) and a layer used as a number (TS2322) */
const TYPE_ERRORS = `import * as tf from '@tensorflow/tfjs';

const bn = tf.layers.batchNormalisation({ axis: -1 });
const n: number = tf.layers.dense({ units: 1 });
console.log(bn, n);
`;

/** must be reported: a tfjs package the plugin does not cover (TS2307 Cannot find module) */
const UNCOVERED = `import * as tf from '@tensorflow/tfjs';
import * as vis from '@tensorflow/tfjs-vis';

console.log(tf.version.tfjs, vis);
`;

/** the folders from `dir` up to the root that have node_modules/@tensorflow */
function tensorflowAbove(dir: string): string[] {
  const found: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'node_modules', '@tensorflow'))) found.push(d);
    if (path.dirname(d) === d) return found;
  }
}

/** the diagnostics TypeScript publishes for `file` (as it is on disk), once it has checked that text */
async function checkedDiagnostics(file: string): Promise<vscode.Diagnostic[]> {
  // A probe error is added in the editor, then edited out: once it is gone, the diagnostics are TypeScript's answer
  // for the file's own text (empty diagnostics before the first answer would prove nothing).
  const text = fs.readFileSync(file, 'utf8');
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  await vscode.window.showTextDocument(doc, { preview: false });
  await setText(doc, text + PROBE);
  await until(
    `TypeScript's probe error in ${path.basename(file)}`,
    () => tsDiagnostics(doc.uri).some((d) => isProbe(d, doc)),
    120_000,
    100,
  );
  await setText(doc, text);
  await until(
    `the probe error in ${path.basename(file)} to go after the edit`,
    () => tsDiagnostics(doc.uri).every((d) => d.range.start.line < doc.lineCount && !isProbe(d, doc)),
    60_000,
    100,
  );
  await sleep(1000); // suggestion diagnostics come after the semantic ones
  const diagnostics = tsDiagnostics(doc.uri);
  assert.strictEqual(doc.getText(), text, 'the editor holds the file as it is on disk');
  await vscode.commands.executeCommand('workbench.action.files.revert'); // no unsaved editor left behind
  return diagnostics;
}

suite('bare folder: tfjs types without node_modules (TypeScript server plugin)', function () {
  this.timeout(300_000);
  let bare = '';

  suiteSetup(async function () {
    this.timeout(60_000);
    bare = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'bn-bare-'));
    assert.deepStrictEqual(tensorflowAbove(bare), [], `no node_modules/@tensorflow above the bare folder ${bare}`);
    // the TypeScript the built-in TypeScript extension bundles (VS Code: extensions/node_modules/typescript; an
    // install of code-server whose postinstall skipped lib/vscode/extensions would lack it, and nothing would run)
    const tsExt = vscode.extensions.getExtension('vscode.typescript-language-features');
    assert.ok(tsExt, 'the built-in TypeScript extension is installed');
    const bundled = path.join(tsExt.extensionPath, '..', 'node_modules', 'typescript');
    assert.ok(fs.existsSync(path.join(bundled, 'lib', 'tsserver.js')), `the bundled TypeScript in ${bundled}`);
    const version = JSON.parse(fs.readFileSync(path.join(bundled, 'package.json'), 'utf8')).version;
    console.log(`[bareFolder] tsserver: the TypeScript extension's bundled TypeScript ${version}; bare folder ${bare}`);
    await tsExt.activate();
  });

  suiteTeardown(async () => {
    await closeAllEditors();
    if (bare) fs.rmSync(bare, { recursive: true, force: true });
  });

  teardown(closeAllEditors);

  test('controls: a misspelt tfjs member and a type error are reported', async () => {
    const file = path.join(bare, 'type-errors.ts');
    fs.writeFileSync(file, TYPE_ERRORS);
    const ds = await checkedDiagnostics(file);
    const codes = ds.map(codeOf).sort();
    assert.deepStrictEqual(codes, ['2322', '2551'], `the two errors, and only them:\n  ${describe(ds)}`);
    assert.match(ds.find((d) => codeOf(d) === '2551')!.message, /batchNormalization/, 'the right name is suggested');
  });

  test('control: a tfjs package the plugin does not cover still gets "Cannot find module"', async () => {
    const file = path.join(bare, 'uncovered.ts');
    fs.writeFileSync(file, UNCOVERED);
    const ds = await checkedDiagnostics(file);
    assert.deepStrictEqual(
      ds.map((d) => `${d.range.start.line + 1}:${codeOf(d)}`),
      ['2:2307'],
      `only the uncovered import is an error:\n  ${describe(ds)}`,
    );
    assert.match(ds[0].message, /Cannot find module '@tensorflow\/tfjs-vis'/);
  });

  test('a script that trains and predicts has no problems', async () => {
    const file = path.join(bare, 'train-predict.ts');
    fs.writeFileSync(file, TRAIN_PREDICT);
    const ds = await checkedDiagnostics(file);
    assert.strictEqual(ds.length, 0, `diagnostics:\n  ${describe(ds)}`);
  });

  test('all four names resolve (tfjs, tfjs-node, tfjs-core, tfjs-layers), with their types', async () => {
    const file = path.join(bare, 'all-four.ts');
    fs.writeFileSync(file, ALL_FOUR);
    const ds = await checkedDiagnostics(file);
    assert.strictEqual(ds.length, 0, `diagnostics:\n  ${describe(ds)}`);
  });

  test('every example script, copied into the bare folder, has no problems', async function () {
    const examples = exampleFiles();
    assert.ok(examples.length >= 5, `the example scripts (${examples.length})`);
    this.timeout(120_000 * examples.length);
    const problems: string[] = [];
    for (const ex of examples) {
      const file = path.join(bare, path.basename(ex));
      fs.copyFileSync(ex, file);
      const ds = await checkedDiagnostics(file);
      if (ds.length) problems.push(`${path.basename(ex)}:\n  ${describe(ds)}`);
    }
    assert.deepStrictEqual(problems, [], `problems in ${examples.length} examples`);
  });
});
