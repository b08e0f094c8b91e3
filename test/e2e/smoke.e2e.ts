// UI smoke test: the workbench loads on a copy of examples/ with the packaged extension installed, and a
// TypeScript example opens from the explorer, in the light and the dark theme.
import * as assert from 'assert';
import { readdirSync } from 'fs';
import { join } from 'path';
import { ROOT } from '../../scripts/lib/tools.mjs';
import { startVsCode, VsCode } from './harness';

suite('UI smoke: workbench with the packaged extension', () => {
  let vs: VsCode;
  const example = readdirSync(join(ROOT, 'examples'))
    .filter((f) => f.endsWith('.ts'))
    .sort()[0];

  suiteSetup(async function () {
    this.timeout(180_000);
    assert.ok(example, 'examples/ has no .ts file');
    vs = await startVsCode({ theme: 'dark' });
  });
  teardown(async function () {
    if (this.currentTest?.state === 'failed') await vs?.describeFailure(this.currentTest.title);
  });
  suiteTeardown(async () => {
    await vs?.close();
  });

  test('the explorer lists the examples', async () => {
    await vs.explorerRow(example).first().waitFor();
    await vs.screenshot('smoke-01-workbench-dark');
  });

  test('a .ts example opens from the explorer', async () => {
    await vs.openFile(example);
    await vs.editor().filter({ hasText: '@tensorflow/tfjs' }).waitFor();
    await vs.screenshot('smoke-02-editor-dark');
  });

  test('the extension is installed from the .vsix and enabled', async () => {
    await vs.runCommand('Extensions: Show Installed Extensions');
    const item = vs.page
      .locator('.extensions-viewlet .extension-list-item', { hasText: 'BatchNorm Inspector' })
      .first();
    await item.waitFor();
    assert.ok(!(await item.getAttribute('class'))?.includes('disabled'), 'extension shown as disabled');
  });

  test('light and dark themes switch', async () => {
    await vs.setTheme('light');
    await vs.screenshot('smoke-03-editor-light');
    await vs.setTheme('dark');
    await vs.page.locator('.monaco-workbench.vs-dark').waitFor();
  });

  test('the workbench threw no uncaught error', () => {
    assert.deepStrictEqual(vs.pageErrors, []);
  });
});
