// Issue 11, item 4 (in part, not met yet for the lenses): what activation costs, in a real VS Code extension host. The step-point finder and the
// TypeScript parser inside it are their own bundle (dist/stepPointFinder.js), loaded on the first scan; the bundle
// that activates whenever a TS/JS file opens is small. Figures are printed ([cost] lines) for the README.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { api, extensionPath, open, writeFixture } from './support/host';

/** a 2,000-line tfjs script: step points, helpers, comments */
function bigScript(): string {
  const lines = [`import * as tf from '@tensorflow/tfjs';`, `const model = tf.sequential();`];
  let i = 0;
  while (lines.length + 5 <= 2000) {
    i++;
    lines.push(`// block ${i}`);
    lines.push(`function helper${i}(x: tf.Tensor): tf.Tensor {`);
    lines.push(`  return tf.tidy(() => x.mul(${i}).add(1));`);
    lines.push(`}`);
    lines.push(`const y${i} = model.predict(tf.ones([1, 4])) as tf.Tensor;`);
  }
  while (lines.length < 2000) lines.push(`// end ${lines.length}`);
  return lines.join('\n') + '\n';
}

suite('activation cost', () => {
  test('dist/extension.js is small and loads fast; the parser is not in it', () => {
    const main = path.join(extensionPath(), 'dist', 'extension.js');
    const finder = path.join(extensionPath(), 'dist', 'stepPointFinder.js');
    const mainBytes = fs.statSync(main).size;
    const finderBytes = fs.statSync(finder).size;
    assert.ok(mainBytes < 1024 * 1024, `dist/extension.js is ${mainBytes} bytes`);
    assert.ok(finderBytes > 5 * mainBytes, 'the parser went to the finder bundle');
    // a fresh load of the shipped bundle in this host (the dev extension runs its own copy, so this one is not cached)
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(main);
    const loadMs = performance.now() - t0;
    console.log(`[cost] dist/extension.js ${(mainBytes / 1024).toFixed(0)} KB, loaded in ${loadMs.toFixed(1)} ms`);
    assert.ok(loadMs < 250, `loading dist/extension.js took ${loadMs.toFixed(1)} ms`);
  });

  test('code lenses for a 2,000-line file: first (the finder loads) and after an edit', async () => {
    const a = await api();
    const file = writeFixture('two-thousand-lines.ts', bigScript());
    const { doc, editor } = await open(file);
    const t0 = performance.now();
    const first = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
    const firstMs = performance.now() - t0;
    assert.ok(first.length >= 399, `${first.length} lenses`);
    await editor.edit((e) => e.insert(new vscode.Position(1, 0), '// edited\n'));
    const t1 = performance.now();
    const again = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
    const againMs = performance.now() - t1;
    assert.strictEqual(again.length, first.length);
    console.log(
      `[cost] lenses for 2,000 lines: ${firstMs.toFixed(1)} ms the first time (finder load ${a.finderLoadMs()?.toFixed(1) ?? 'earlier'} ms), ${againMs.toFixed(1)} ms after an edit`,
    );
    // issue 11's goal is 50 ms; the finder itself takes ~90-230 ms on this text in plain Node, more in a busy host:
    // not met yet. This bound only catches a hang or a quadratic blow-up.
    assert.ok(againMs < 10_000, `lenses after an edit took ${againMs.toFixed(1)} ms`);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
