// The panel host side, in a real VS Code: the panel opens beside the editor, gets the session as packed
// buffers, survives close/reopen; the webview's own rendering is tested in test/e2e.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../src/extension/commands';
import { unpackStep } from '../../src/shared/snapshotCodec';
import { LOOP } from './support/fixtures';
import { api, closeAllEditors, lineOf, open, stopAll, until, writeFixture } from './support/host';

suite('inspector panel (host side)', () => {
  const started: string[] = [];
  suiteTeardown(async () => {
    await stopAll(await api(), started);
    await closeAllEditors();
  });

  test('Run to here opens the panel; it gets a reset with the steps, then each step; reopening shows the latest', async () => {
    const a = await api();
    const file = writeFixture('panel.ts', LOOP);
    started.push(file);
    const { doc } = await open(file);
    const line = lineOf(LOOP, /LOOP-PREDICT/);
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToLine', doc.uri, line);
    assert.strictEqual(r.state, 'paused');
    assert.ok(a.panel.isOpen(), 'the panel is open');
    await until('the webview said ready', () => a.panel.isReady(), 30_000);
    await until('a reset was posted', () => a.panel.posted().reset >= 1);
    const s = a.getSession(doc.uri)!;
    const stepsBefore = a.panel.posted().step;
    await vscode.commands.executeCommand('batchnormInspector.step', doc.uri);
    await until('the new step was posted', () => a.panel.posted().step > stepsBefore);
    // the webview decoded the packed buffer and drew that step
    await until(
      `the panel rendered step ${s.lastStep!.index}`,
      () => a.panel.lastRendered()?.stepIndex === s.lastStep!.index,
      30_000,
    );
    // buffers the host keeps are still whole after posting (VS Code copies, nothing was detached)
    for (const e of s.history.entries()) assert.ok(e.buffer.byteLength > 0 && unpackStep(e.buffer).index === e.index);

    // close and reopen: a fresh webview, reset with the latest snapshot
    await until('panel tab present', () => findPanelTab());
    await vscode.window.tabGroups.close(findPanelTab()!);
    await until('panel closed', () => !a.panel.isOpen());
    a.panel.clearRendered();
    await vscode.commands.executeCommand('batchnormInspector.openInspector');
    await until('reopened and ready', () => a.panel.isOpen() && a.panel.isReady(), 30_000);
    await until('reset posted again', () => a.panel.posted().reset >= 1);
    await until(
      'the reopened panel rendered the latest step',
      () => a.panel.lastRendered()?.stepIndex === s.lastStep!.index,
      30_000,
    );
    assert.strictEqual(s.state, 'paused', 'closing the panel does not touch the session');
    await s.stop();
  });
});

function findPanelTab(): vscode.Tab | undefined {
  for (const g of vscode.window.tabGroups.all)
    for (const t of g.tabs)
      if (t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('batchnormInspector.panel')) return t;
  return undefined;
}
