// Code lenses, in a real VS Code: what vscode.executeCodeLensProvider returns.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../src/extension/commands';
import { findStepPoints } from '../../src/shared/stepPoints';
import { BROKEN, LOOP, NO_STEP_POINTS } from './support/fixtures';
import {
  api,
  closeAllEditors,
  exampleFiles,
  lensesOf,
  lineOf,
  open,
  setText,
  stopAll,
  until,
  writeFixture,
} from './support/host';

suite('code lenses', () => {
  const started: string[] = [];
  suiteTeardown(async () => {
    await stopAll(await api(), started);
    await closeAllEditors();
  });

  test('every example: one ▶ Run to here per engine step point, on its line', async () => {
    const a = await api();
    const files = exampleFiles();
    assert.ok(files.length >= 1, `the workspace holds the examples (found ${files.length})`);
    let total = 0;
    for (const file of files) {
      const t0 = Date.now();
      const { doc } = await open(file);
      const t1 = Date.now();
      const expected = findStepPoints(fs.readFileSync(file, 'utf8'), file);
      assert.strictEqual(expected.syntaxError, null, `${path.basename(file)} parses`);
      // the provider may be asked before the extension is fully up: wait until it answers
      const lenses = await until(
        `lenses of ${path.basename(file)}`,
        async () => {
          const l = await lensesOf(doc.uri);
          return l.length === expected.points.length ? l : null;
        },
        15_000,
      ).catch(async () => lensesOf(doc.uri));
      assert.deepStrictEqual(
        lenses.map((l) => [l.line, l.title, l.command]),
        expected.points.map((p) => [p.line, '▶ Run to here', 'batchnormInspector.runToLine']),
        `lenses of ${path.basename(file)}`,
      );
      // each lens runs to its own line of its own file
      for (const l of lenses) {
        assert.strictEqual((l.args[0] as vscode.Uri).toString(), doc.uri.toString());
        assert.strictEqual(l.args[1], l.line);
      }
      total += lenses.length;
      console.log(
        `    ${path.basename(file)}: ${lenses.length} lenses (open ${t1 - t0} ms, lenses ${Date.now() - t1} ms)`,
      );
    }
    assert.ok(total > 0, 'the examples have step points');
    assert.strictEqual(a.sessionCount(), 0, 'asking for lenses runs nothing');
  });

  test('a file with no step point gets no lens; a file that does not parse gets none and no popup', async () => {
    const a = await api();
    const before = a.messages().length;
    for (const [name, text] of [
      ['none.ts', NO_STEP_POINTS],
      ['broken.ts', BROKEN],
    ] as const) {
      const { doc } = await open(writeFixture(name, text));
      assert.deepStrictEqual(await lensesOf(doc.uri), [], name);
    }
    assert.ok(findStepPoints(BROKEN, 'broken.ts').syntaxError, 'the broken fixture really does not parse');
    assert.strictEqual(a.messages().length, before, 'no message shown');
  });

  test('lenses follow edits without running anything', async () => {
    const a = await api();
    const file = writeFixture('follow-edits.ts', LOOP);
    const { doc } = await open(file);
    const line = lineOf(LOOP, /LOOP-PREDICT/);
    assert.deepStrictEqual(
      (await lensesOf(doc.uri)).map((l) => l.line),
      [line],
    );
    const e = new vscode.WorkspaceEdit();
    e.insert(doc.uri, new vscode.Position(0, 0), '// one\n// two\n');
    assert.ok(await vscode.workspace.applyEdit(e));
    await until(
      'lenses moved two lines down',
      async () => (await lensesOf(doc.uri)).map((l) => l.line).join() === String(line + 2),
    );
    // a new step point typed in gets its lens; breaking the syntax removes them all
    await setText(doc, doc.getText() + 'model.predict(x);\n');
    await until('a lens on the new line', async () => (await lensesOf(doc.uri)).length === 2);
    await setText(doc, doc.getText() + 'const broken = (;\n');
    await until('no lens while the text does not parse', async () => (await lensesOf(doc.uri)).length === 0);
    assert.strictEqual(a.getSession(doc.uri), undefined, 'no session was started by editing');
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  test('paused: the line says where the run stands, with Step and ■ Stop', async () => {
    const a = await api();
    const file = writeFixture('paused-lens.ts', LOOP);
    started.push(file);
    const { doc } = await open(file);
    const line = lineOf(LOOP, /LOOP-PREDICT/);
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToLine', doc.uri, line);
    assert.strictEqual(r.state, 'paused', `paused (${a.getSession(doc.uri)?.statusText()})`);
    const lenses = await until('paused lenses', async () => {
      const l = await lensesOf(doc.uri);
      return l.some((x) => x.title.startsWith('paused here')) ? l : null;
    });
    assert.deepStrictEqual(
      lenses.map((l) => l.title),
      ['paused here · step 1 · hit 1', '$(debug-step-over) Step', '▶ Run to here', '■ Stop'],
    );
    assert.ok(lenses.every((l) => l.line === line));
    await vscode.commands.executeCommand('batchnormInspector.step', doc.uri);
    await until('lens shows hit 2', async () =>
      (await lensesOf(doc.uri)).some((l) => l.title === 'paused here · step 2 · hit 2'),
    );
    await vscode.commands.executeCommand('batchnormInspector.stop', doc.uri);
    await until(
      'back to ▶ Run to here only',
      async () => (await lensesOf(doc.uri)).map((l) => l.title).join() === '▶ Run to here',
    );
  });
});
