/**
 * The first-run walkthrough (`contributes.walkthroughs` "firstRun" in package.json, media/walkthrough/): the command
 * its buttons use to open an example, and showing it once.
 *
 * Shown once per user (a globalState flag) when the extension first activates, unless the user turned start-up
 * editors off (`workbench.startupEditor: none`: test and dev profiles do) or VS Code runs the extension's tests;
 * `npm start` asks for it explicitly (BN_INSPECTOR_WALKTHROUGH=1 in the extension host's environment).
 */
import * as vscode from 'vscode';

export const WALKTHROUGH_ID = 'firstRun';
export const OPEN_EXAMPLE = 'batchnormInspector.openExample';
/** the examples the walkthrough opens; the .vsix carries them (for a workspace without them) */
export const WALKTHROUGH_EXAMPLES = ['frozen-predict.ts', 'fit-then-predict.ts'] as const;
const SHOWN_KEY = 'bnInspector.walkthroughShown';

/** The example's file: in an open workspace folder (at its top or in its examples/), else the copy in the extension. */
export async function findExample(context: vscode.ExtensionContext, name: string): Promise<vscode.Uri> {
  for (const folder of vscode.workspace.workspaceFolders ?? [])
    for (const rel of [name, `examples/${name}`]) {
      const uri = vscode.Uri.joinPath(folder.uri, rel);
      try {
        await vscode.workspace.fs.stat(uri);
        return uri;
      } catch {
        /* not in this folder */
      }
    }
  return vscode.Uri.joinPath(context.extensionUri, 'examples', name);
}

async function openExample(context: vscode.ExtensionContext, arg?: unknown): Promise<vscode.TextEditor> {
  const name = WALKTHROUGH_EXAMPLES.find((n) => n === arg) ?? WALKTHROUGH_EXAMPLES[0];
  const doc = await vscode.workspace.openTextDocument(await findExample(context, name));
  return vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
}

export function registerWalkthrough(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(OPEN_EXAMPLE, (arg?: unknown) => openExample(context, arg)),
  );
  const asked = process.env.BN_INSPECTOR_WALKTHROUGH === '1';
  const firstTime =
    !context.globalState.get<boolean>(SHOWN_KEY) &&
    context.extensionMode !== vscode.ExtensionMode.Test &&
    vscode.workspace.getConfiguration('workbench').get<string>('startupEditor') !== 'none';
  if (!asked && !firstTime) return;
  void context.globalState.update(SHOWN_KEY, true);
  // beside the editor: the example the user opened stays in view
  void vscode.commands.executeCommand(
    'workbench.action.openWalkthrough',
    `${context.extension.id}#${WALKTHROUGH_ID}`,
    true,
  );
}
