// The layer hover, in a real VS Code: vscode.executeHoverProvider on `tf.layers.batchNormalization(` calls while a
// session is paused. The tests marked [engine] need each layer's `source` (engine branch of issue 8).
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../src/extension/commands';
import { api, closeAllEditors, lineOf, open, stopAll, workspaceDir, writeFixture } from './support/host';

/** the hovers our provider gives at `line` (1-based), on the first `needle` of that line */
async function hoversAt(
  doc: vscode.TextDocument,
  line: number,
  needle = 'batchNormalization',
): Promise<{ text: string; trusted: boolean; html: boolean }[]> {
  const col = doc.lineAt(line - 1).text.indexOf(needle);
  assert.ok(col >= 0, `line ${line} has ${needle}`);
  const pos = new vscode.Position(line - 1, col + 2);
  const hovers =
    (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos)) ?? [];
  return hovers
    .flatMap((h) => h.contents)
    .map((c) =>
      typeof c === 'string'
        ? { text: c, trusted: false, html: false }
        : 'language' in c
          ? { text: c.value, trusted: false, html: false }
          : { text: c.value, trusted: !!c.isTrusted, html: !!c.supportHtml },
    )
    .filter((c) => c.text.includes('BatchNorm Inspector'));
}

async function runTo(uri: vscode.Uri, line: number): Promise<RunOutcome> {
  return vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToLine', uri, line);
}

const TWO_LAYERS = `import * as tf from '@tensorflow/tfjs';
const x = tf.tensor2d([[1, 2], [3, 6], [5, -1]]);
const first = tf.layers.batchNormalization({ name: 'first_bn', momentum: 0.5 });
first.apply(x, { training: true }); // FIRST-APPLY
const second = tf.layers.batchNormalization({ name: 'second_bn' });
second.apply(x); // SECOND-APPLY
`;

suite('layer hover', () => {
  const started: string[] = [];
  teardown(async () => {
    await stopAll(await api(), started);
  });
  suiteTeardown(async () => {
    await closeAllEditors();
  });

  test('no paused session: no hover of ours', async () => {
    const a = await api();
    const file = path.join(workspaceDir(), 'mobilenet-v2-finetune.ts');
    const { doc } = await open(file);
    assert.strictEqual(a.getSession(doc.uri), undefined);
    const line = lineOf(doc.getText(), /x = tf\.layers\.batchNormalization\(/);
    assert.deepStrictEqual(await hoversAt(doc, line), []);
  });

  test('paused before a layer exists: the hover says no layer of this step was built on that line', async () => {
    const a = await api();
    const file = writeFixture('hover-two.ts', TWO_LAYERS);
    started.push(file);
    const { doc } = await open(file);
    const r = await runTo(doc.uri, lineOf(TWO_LAYERS, /FIRST-APPLY/));
    assert.strictEqual(r.state, 'paused', a.getSession(doc.uri)?.statusText());
    const h = await hoversAt(doc, lineOf(TWO_LAYERS, /const second/));
    assert.strictEqual(h.length, 1, 'one hover of ours');
    assert.match(h[0].text, /No BatchNormalization layer of this step was built on this line/);
    assert.strictEqual(h[0].trusted, false, 'not trusted: no command link runs');
    assert.strictEqual(h[0].html, false, 'no HTML');
    // not on a batchNormalization call: nothing
    assert.deepStrictEqual(await hoversAt(doc, lineOf(TWO_LAYERS, /FIRST-APPLY/), 'apply'), []);
  });

  // [engine] needs LayerSnapshot.source
  test('paused: the hover on the line that built one layer shows its state', async () => {
    const a = await api();
    const file = writeFixture('hover-two.ts', TWO_LAYERS);
    started.push(file);
    const { doc } = await open(file);
    const r = await runTo(doc.uri, lineOf(TWO_LAYERS, /FIRST-APPLY/));
    assert.strictEqual(r.state, 'paused', a.getSession(doc.uri)?.statusText());
    const h = await hoversAt(doc, lineOf(TWO_LAYERS, /const first/));
    assert.strictEqual(h.length, 1, 'one hover of ours');
    const t = h[0].text;
    console.log(t.replace(/^/gm, '      | '));
    // float64 reference: moving mean = 0.5 * batch mean = 0.5 * [3, 2.333…]
    assert.match(t, /\*\*first\\_bn\*\*/);
    assert.match(t, /trainable: \*\*true\*\* · 2 channels · momentum 0\.5/);
    assert.match(t, /moving mean: \\\[1\\\.5\\, 1\\\.167\\\] range \\\[1\\\.167\\, 1\\\.5\\\]/);
    assert.match(t, /in the last step: 1 call, 1 moving-average update \(moving statistics changed\)/);
    assert.match(t, /last call: training \(normalised with the batch statistics\)/);
    assert.match(t, /warnings: none/);
  });

  // [engine] needs LayerSnapshot.source
  test('mobilenet-v2-finetune.ts paused at fit: the batchNormalization line in convBn lists its 18 layers', async function () {
    this.timeout(180_000);
    const a = await api();
    const file = path.join(workspaceDir(), 'mobilenet-v2-finetune.ts');
    started.push(file);
    const { doc } = await open(file);
    const text = doc.getText();
    const r = await runTo(doc.uri, lineOf(text, /await model\.fit\(/));
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(r.state, 'paused', `${s.statusText()} ${s.error?.message ?? ''}`);
    // independent of `source`: the names convBn gives its BN layers (stem, each block's expansion, top)
    const names = s.lastStep!.layers.map((l) => l.name);
    assert.strictEqual(names.length, 52);
    const convBnNames = names.filter((n) => /^(stem|top|block\d+_expand)_bn$/.test(n));
    assert.strictEqual(convBnNames.length, 18);
    const h = await hoversAt(doc, lineOf(text, /x = tf\.layers\.batchNormalization\(/));
    assert.strictEqual(h.length, 1, 'one hover of ours');
    const t = h[0].text;
    console.log(t.replace(/^/gm, '      | '));
    assert.match(t, /\*\*18 layers built on this line\*\*/);
    assert.match(t, /18 with trainable false/);
    const rows = t.split('\n').filter((l) => l.startsWith('- '));
    assert.strictEqual(rows.length, 11, t);
    assert.deepStrictEqual(
      rows.slice(0, 10).map((row) => /^- \*\*(.+?)\*\*/.exec(row)![1].replace(/\\(.)/g, '$1')),
      convBnNames.slice(0, 10),
    );
    assert.strictEqual(rows[10], '- … and 8 more');
    // the other two lines in invertedResidual: 17 layers each (52 in all)
    for (const re of [
      /h = tf\.layers\.batchNormalization\(\{.*_dw_bn/,
      /h = tf\.layers\.batchNormalization\(\{.*_project_bn/,
    ]) {
      const hh = await hoversAt(doc, lineOf(text, re));
      assert.match(hh[0]?.text ?? '', /\*\*17 layers built on this line\*\*/, String(re));
    }
    await s.stop();
  });
});
