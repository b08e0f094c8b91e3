// Smoke test: the extension under development is installed in the host and activates.
// Relies only on the manifest identity (publisher.name), nothing of the extension's features.
import * as assert from 'assert';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'bn-inspector.batchnorm-inspector';

suite('activation', () => {
  test(`${EXTENSION_ID} is present and activates`, async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(
      ext,
      `${EXTENSION_ID} not found; installed: ${vscode.extensions.all
        .filter((e) => !e.id.startsWith('vscode.'))
        .map((e) => e.id)
        .join(', ')}`,
    );
    assert.strictEqual(`${ext.packageJSON.publisher}.${ext.packageJSON.name}`.toLowerCase(), EXTENSION_ID);
    await ext.activate();
    assert.strictEqual(ext.isActive, true);
  });

  test('never activates on *', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const events: string[] = ext.packageJSON.activationEvents ?? [];
    assert.ok(!events.includes('*'), `activationEvents: ${JSON.stringify(events)}`);
  });

  test('a workspace folder is open', () => {
    assert.ok(vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders.length > 0, 'no workspace folder');
  });
});
