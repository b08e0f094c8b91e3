/**
 * Builds the extension's parts, wires them together and registers them with VS Code; deactivation ends every worker.
 * src/extension/extension.ts activates with `vscode.window` as the HostUi.
 */
import * as vscode from 'vscode';
import { StepPointLensProvider } from './codeLens';
import { RunCommands, registerCommands } from './commands';
import { CompareRuns } from './compareRuns';
import { RunDiagnostics } from './diagnostics';
import type { HostUi } from './hostUi';
import { InspectorPanel } from './inspectorPanel';
import { LayerHover } from './layerHover';
import { UserMessages } from './messages';
import { ModelBuildingLines } from './modelBuildingLines';
import { RunProgress } from './progress';
import { ScriptEditors } from './scriptEditors';
import { SemanticsCommands, registerSemanticsCommands } from './semanticsCommands';
import { SemanticsStatusBar } from './semanticsStatusBar';
import { Sessions } from './sessions';
import { StatusBar } from './statusBar';
import { LANGUAGES, StepPointCache } from './stepPointCache';
import { registerWalkthrough } from './walkthrough';

export const OUTPUT_NAME = 'BatchNorm Inspector';

/** the parts of an activated extension */
export interface Inspector {
  output: vscode.OutputChannel;
  messages: UserMessages;
  diagnostics: RunDiagnostics;
  progress: RunProgress;
  stepPoints: StepPointCache;
  sessions: Sessions;
  editors: ScriptEditors;
  statusBar: StatusBar;
  commands: RunCommands;
  compares: CompareRuns;
  semantics: SemanticsCommands;
  semanticsStatusBar: SemanticsStatusBar;
  panel: InspectorPanel;
  lenses: StepPointLensProvider;
  modelBuilding: ModelBuildingLines;
  hover: LayerHover;
}

let active: Inspector | undefined;

export function activateInspector(context: vscode.ExtensionContext, ui: HostUi): Inspector {
  const output = vscode.window.createOutputChannel(OUTPUT_NAME);
  const messages = new UserMessages(ui, output);
  const diagnostics = new RunDiagnostics();
  const progress = new RunProgress(ui);
  const stepPoints = new StepPointCache();
  const sessions = new Sessions({ extensionPath: context.extensionPath, output, messages, diagnostics, progress });
  const editors = new ScriptEditors(sessions, output);
  const statusBar = new StatusBar(sessions);
  const modelBuilding = new ModelBuildingLines(sessions);
  const compares = new CompareRuns(sessions, output);
  const commands = new RunCommands({ sessions, editors, messages, output, stepPoints, modelBuilding, compares });
  const semantics = new SemanticsCommands({ sessions, compares, runs: commands, editors, messages, ui });
  const semanticsStatusBar = new SemanticsStatusBar(sessions, compares);
  const panel = new InspectorPanel(context, sessions, ui, compares);
  const lenses = new StepPointLensProvider(sessions, stepPoints, modelBuilding);
  const hover = new LayerHover(sessions);
  registerCommands(context, commands, panel);
  registerSemanticsCommands(context, semantics, panel);
  registerWalkthrough(context);
  const selector: vscode.DocumentSelector = LANGUAGES.map((language) => ({ language, scheme: 'file' }));
  context.subscriptions.push(
    output,
    diagnostics,
    progress,
    stepPoints,
    compares,
    sessions,
    editors,
    statusBar,
    semanticsStatusBar,
    panel,
    modelBuilding,
    lenses,
    vscode.languages.registerCodeLensProvider(selector, lenses),
    vscode.languages.registerHoverProvider(selector, hover),
  );
  // after activation returns: the finder's first pass through the interpreter, on a small script
  stepPoints.warmUp();
  active = {
    output,
    messages,
    diagnostics,
    progress,
    stepPoints,
    sessions,
    editors,
    statusBar,
    commands,
    compares,
    semantics,
    semanticsStatusBar,
    panel,
    lenses,
    modelBuilding,
    hover,
  };
  return active;
}

/** ends every worker (VS Code waits for the returned promise, briefly) */
export async function deactivateInspector(): Promise<void> {
  const a = active;
  active = undefined;
  if (!a) return;
  const all = Promise.all([a.compares.stopAll(), a.sessions.stopAll()]);
  a.compares.dispose();
  a.sessions.dispose();
  await Promise.race([all, new Promise((r) => setTimeout(r, 2000))]);
}
