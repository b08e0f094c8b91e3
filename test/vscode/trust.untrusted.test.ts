// Runs in a separate, UNTRUSTED workspace (see test/vscode/README.md): nothing runs, the lenses say why.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../src/extension/commands';
import { LOOP } from './support/fixtures';
import { api, lensesOf, lineOf, open, sleep, writeFixture } from './support/host';

suite('untrusted workspace', () => {
  test('the workspace is untrusted', () => {
    assert.strictEqual(vscode.workspace.isTrusted, false);
  });

  test('the lenses say why nothing runs; no command runs anything', async () => {
    const a = await api();
    const file = writeFixture('untrusted.ts', LOOP);
    const { doc } = await open(file);
    const line = lineOf(LOOP, /LOOP-PREDICT/);
    const lenses = await lensesOf(doc.uri);
    assert.deepStrictEqual(
      lenses.map((l) => [l.line, l.command]),
      [[line, 'batchnormInspector.trustWorkspace']],
    );
    assert.match(lenses[0].title, /trust this workspace to run scripts/);
    for (const [cmd, args] of [
      ['batchnormInspector.runToLine', [doc.uri, line]],
      ['batchnormInspector.runScript', [doc.uri]],
      ['batchnormInspector.step', [doc.uri]],
      ['batchnormInspector.restart', [doc.uri]],
      ['batchnormInspector.runToCursor', []],
      ['batchnormInspector.compare', [doc.uri, 'keras']],
    ] as const) {
      const r = await vscode.commands.executeCommand<RunOutcome>(cmd, ...args);
      assert.strictEqual(r?.ran, false, cmd);
      assert.strictEqual(r?.reason, 'untrusted', cmd);
    }
    await sleep(500);
    assert.strictEqual(a.sessionCount(), 0, 'no session');
    assert.strictEqual(a.liveWorkers(), 0, 'no worker');
    assert.ok(
      a.messages().some((m) => /trusted workspace/.test(m.text)),
      'the user is told why',
    );
  });
});
