// The first-run walkthrough: contributed with its four steps and their media, its open-example command opens the
// examples from the workspace, and the workbench opens the walkthrough itself.
import * as assert from 'assert';
import * as vscode from 'vscode';

const EXTENSION_ID = 'bn-inspector.batchnorm-inspector';
const OPEN_EXAMPLE = 'batchnormInspector.openExample';

interface WalkthroughStep {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string };
  completionEvents?: string[];
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} not installed`);
  return ext;
}

async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

suite('walkthrough', () => {
  suiteSetup(async () => {
    await extension().activate();
  });
  teardown(closeAll);

  test('is contributed: firstRun, four steps, each with media that is in the extension', async () => {
    const ext = extension();
    const walkthroughs = ext.packageJSON.contributes?.walkthroughs ?? [];
    const w = walkthroughs.find((x: { id: string }) => x.id === 'firstRun');
    assert.ok(w, `walkthroughs: ${JSON.stringify(walkthroughs.map((x: { id: string }) => x.id))}`);
    const steps: WalkthroughStep[] = w.steps;
    assert.deepStrictEqual(
      steps.map((s) => s.id),
      ['openExample', 'runToHere', 'stepThrough', 'cli'],
    );
    for (const s of steps) {
      const media = s.media.markdown ?? s.media.image;
      assert.ok(media, `step ${s.id} has no media`);
      const bytes = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(ext.extensionUri, media));
      assert.ok(bytes.byteLength > 100, `${media}: ${bytes.byteLength} bytes`);
    }
    // the first step's button opens the question example; the second step is about the run lens above predict
    assert.match(steps[0].description, /\(command:batchnormInspector\.openExample\?%5B%22frozen-predict\.ts%22%5D\)/);
    assert.match(steps[1].title, /▶ Run until this statement finishes/);
    assert.ok(steps[1].completionEvents?.includes('onCommand:batchnormInspector.runToLine'));
    assert.match(steps[2].description, /\(command:batchnormInspector\.openExample\?%5B%22fit-then-predict\.ts%22%5D\)/);
    // its command activates the extension even when no TS file is open
    assert.ok((ext.packageJSON.activationEvents as string[]).includes(`onCommand:${OPEN_EXAMPLE}`));
    // the icon the manifest names is in the extension
    const icon = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(ext.extensionUri, ext.packageJSON.icon));
    assert.deepStrictEqual([...icon.subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
  });

  test("the open-example command opens the workspace's frozen-predict.ts, and fit-then-predict.ts when asked", async () => {
    const ws = vscode.workspace.workspaceFolders![0].uri;
    // the link's argument, as the walkthrough passes it (a JSON array decoded into the arguments)
    let editor = (await vscode.commands.executeCommand(OPEN_EXAMPLE, 'frozen-predict.ts')) as vscode.TextEditor;
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.toString(), editor.document.uri.toString());
    assert.strictEqual(editor.document.uri.toString(), vscode.Uri.joinPath(ws, 'frozen-predict.ts').toString());
    assert.match(editor.document.getText(), /model\.predict\(x\)/);
    assert.strictEqual(editor.document.languageId, 'typescript');

    editor = (await vscode.commands.executeCommand(OPEN_EXAMPLE, 'fit-then-predict.ts')) as vscode.TextEditor;
    assert.strictEqual(editor.document.uri.toString(), vscode.Uri.joinPath(ws, 'fit-then-predict.ts').toString());
    assert.match(editor.document.getText(), /await model\.fit\(/);

    // no argument, or one that is not an example: the question example (never an arbitrary path)
    editor = (await vscode.commands.executeCommand(OPEN_EXAMPLE, '../../etc/passwd')) as vscode.TextEditor;
    assert.strictEqual(editor.document.uri.toString(), vscode.Uri.joinPath(ws, 'frozen-predict.ts').toString());
  });

  test('the workbench opens the walkthrough (a Welcome editor beside the example)', async () => {
    await vscode.commands.executeCommand(OPEN_EXAMPLE);
    const before = vscode.window.tabGroups.all.flatMap((g) => g.tabs).length;
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${EXTENSION_ID}#firstRun`, true);
    let tabs: vscode.Tab[] = [];
    for (let i = 0; i < 50; i++) {
      tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
      if (tabs.length > before) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const added = tabs.filter((t) => !(t.input instanceof vscode.TabInputText));
    assert.strictEqual(tabs.length, before + 1, `tabs: ${tabs.map((t) => t.label).join(', ')}`);
    assert.strictEqual(added.length, 1, `tabs: ${tabs.map((t) => t.label).join(', ')}`);
    // beside the example: two editor groups, the example still visible
    assert.strictEqual(vscode.window.tabGroups.all.length, 2);
    assert.ok(vscode.window.visibleTextEditors.some((e) => e.document.uri.path.endsWith('/frozen-predict.ts')));
  });
});
