// The step-point cache of the lenses, in a real VS Code: a document's entry goes when VS Code closes the document,
// so opening and closing scripts does not make it grow.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { LOOP } from './support/fixtures';
import { api, closeAllEditors, lensesOf, until, writeFixture } from './support/host';

suite('step-point cache', () => {
  suiteTeardown(closeAllEditors);

  test('scripts opened and closed again leave nothing in the cache', async function () {
    this.timeout(240_000);
    const a = await api();
    await closeAllEditors();
    const closed = new Set<string>();
    const sub = vscode.workspace.onDidCloseTextDocument((d) => closed.add(d.uri.toString()));
    try {
      const start = a.stepPointCacheSize();
      const rounds = 3;
      const perRound = 4;
      for (let r = 0; r < rounds; r++) {
        const uris = Array.from({ length: perRound }, (_, i) =>
          vscode.Uri.file(writeFixture(`cache-${r}-${i}.ts`, LOOP)),
        );
        // opened by the workbench (not workspace.openTextDocument, whose documents VS Code keeps for minutes)
        for (const uri of uris) {
          await vscode.commands.executeCommand('vscode.open', uri, { preview: false });
          await until(`lenses on ${uri.fsPath}`, async () => (await lensesOf(uri)).length === 1);
        }
        const opened = a.stepPointCacheSize();
        assert.ok(opened >= perRound, `the ${perRound} scripts are cached (${opened} documents)`);
        await closeAllEditors();
        await until('VS Code closed the documents', () => uris.every((u) => closed.has(u.toString())), 60_000, 100);
        const after = a.stepPointCacheSize();
        assert.ok(opened - after >= perRound, `their ${perRound} entries went (${opened} -> ${after})`);
        assert.ok(after <= start, `round ${r + 1}: ${after} cached documents, ${start} at the start`);
      }
    } finally {
      sub.dispose();
    }
  });
});
