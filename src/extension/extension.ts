/**
 * BatchNorm Inspector: the VS Code extension host side.
 * Activation: on TypeScript / JavaScript files, on its commands, and on its panel (restored after reload). Never `*`.
 */
import * as vscode from 'vscode';
import { StepPointLensProvider } from './codeLens';
import { CMD, Controller } from './controller';
import { InspectorPanel } from './inspectorPanel';
import type { ScriptSession } from './session';
import { LANGUAGES, scanDocument } from './stepPointCache';
import { registerWalkthrough } from './walkthrough';

/** What activate() returns: a small API for the tests that run inside VS Code (and nothing else relies on it). */
export interface BnInspectorApi {
  getSession(uri: vscode.Uri | string): ScriptSession | undefined;
  currentSession(): ScriptSession | undefined;
  sessionCount(): number;
  /** sessions whose worker has not ended */
  liveWorkers(): number;
  /** messages shown to the user, newest last */
  messages(): readonly { kind: 'info' | 'warning' | 'error'; text: string }[];
  /** the diagnostics the extension set (all files) */
  diagnostics(): [vscode.Uri, readonly vscode.Diagnostic[]][];
  /** step points of a document, from the engine's finder (the lenses use the same) */
  stepPoints(doc: vscode.TextDocument): ReturnType<typeof scanDocument>;
  panel: {
    isOpen(): boolean;
    isReady(): boolean;
    lastRendered(): { stepIndex: number; ms: number } | null;
    clearRendered(): void;
    posted(): Record<'reset' | 'step' | 'session', number>;
  };
  outputText(uri: vscode.Uri | string): string | undefined;
  /** the status bar item's text and whether it is shown */
  statusBar(): { text: string; command: string | undefined };
  progress: {
    /** progress notifications shown so far */
    shown(): number;
    /** is a progress notification with Cancel on screen for this script's session */
    isShowing(uri: vscode.Uri | string): boolean;
    /** does what the notification's Cancel button does */
    cancel(uri: vscode.Uri | string): boolean;
  };
}

let controller: Controller | undefined;

export function activate(context: vscode.ExtensionContext): BnInspectorApi {
  const c = new Controller(context);
  controller = c;
  const panel = new InspectorPanel(context, c);
  const lenses = new StepPointLensProvider(c);
  const selector: vscode.DocumentSelector = LANGUAGES.map((language) => ({ language, scheme: 'file' }));

  const reg = (id: string, fn: (...args: any[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  reg(CMD.openInspector, () => panel.show(true));
  // a run opens the panel beside the editor (without taking the focus)
  const withPanel = <T>(run: () => T): T => {
    if (vscode.workspace.isTrusted) panel.show(true);
    return run();
  };
  reg(CMD.runScript, (uri?: unknown) => withPanel(() => c.runScript(uri)));
  reg(CMD.runToCursor, () => withPanel(() => c.runToCursor()));
  reg(CMD.runToLine, (uri?: unknown, line?: unknown) => withPanel(() => c.runToLine(uri, line)));
  reg(CMD.step, (uri?: unknown) => withPanel(() => c.step(uri)));
  reg(CMD.continue, (uri?: unknown) => c.continue(uri));
  reg(CMD.restart, (uri?: unknown) => withPanel(() => c.restart(uri)));
  reg(CMD.stop, (uri?: unknown) => c.stop(uri));
  reg(CMD.exportSnapshots, (target?: unknown, script?: unknown) => c.exportSnapshots(target, script));
  reg(CMD.trustWorkspace, () => vscode.commands.executeCommand('workbench.trust.manage'));

  context.subscriptions.push(c, panel, lenses, vscode.languages.registerCodeLensProvider(selector, lenses));
  registerWalkthrough(context);

  return {
    getSession: (uri) => c.getSession(uri),
    currentSession: () => c.currentSession,
    sessionCount: () => c.allSessions().length,
    liveWorkers: () => c.liveWorkers(),
    messages: () => c.lastMessages,
    diagnostics: () => {
      const out: [vscode.Uri, readonly vscode.Diagnostic[]][] = [];
      c.diagnostics.forEach((u, d) => void out.push([u, d]));
      return out;
    },
    stepPoints: (doc) => scanDocument(doc),
    panel: {
      isOpen: () => panel.isOpen,
      isReady: () => panel.isReady,
      lastRendered: () => panel.lastRendered,
      clearRendered: () => void (panel.lastRendered = null),
      posted: () => ({ ...panel.posted }),
    },
    outputText: (uri) => c.getSession(uri)?.output,
    statusBar: () => ({
      text: c.status.text,
      command: typeof c.status.command === 'string' ? c.status.command : c.status.command?.command,
    }),
    progress: {
      shown: () => c.progressShown,
      isShowing: (uri) => {
        const s = c.getSession(uri);
        return !!s && c.progressCancels.has(s);
      },
      cancel: (uri) => {
        const s = c.getSession(uri);
        const f = s && c.progressCancels.get(s);
        if (!f) return false;
        f();
        return true;
      },
    },
  };
}

/** ends every worker (VS Code waits for the returned promise, briefly) */
export async function deactivate(): Promise<void> {
  const c = controller;
  controller = undefined;
  if (!c) return;
  const all = c.stopAll();
  c.dispose();
  await Promise.race([all, new Promise((r) => setTimeout(r, 2000))]);
}
