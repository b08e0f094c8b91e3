// The extension as the extension-host tests load it; never shipped. scripts/build.mjs bundles this file to
// out/dev-extension/extension.js and writes out/dev-extension/package.json (the real manifest, `main` pointing here,
// dist/ and media/ linked to the real ones); scripts/vscode-host.mjs loads that folder as the development extension.
//
// activate() activates exactly what src/extension/extension.ts activates, with `vscode.window` wrapped so that what
// the extension shows (messages, progress notifications, the panel's webviews) is watched on the real objects, and
// returns BnInspectorApi, built from the real parts (sessions, status bar item, step-point cache).
import * as vscode from 'vscode';
import { activateInspector, deactivateInspector, type Inspector } from '../../../src/extension/activation';
import type { HostUi } from '../../../src/extension/hostUi';
import type { CompareRun } from '../../../src/extension/compareRun';
import type { ScriptSession } from '../../../src/extension/session';
import type { CompareInfo, HostToWebview, WebviewToHost } from '../../../src/shared/protocol';
import { readStepHeader } from '../../../src/shared/snapshotCodec';
import type { Scan } from '../../../src/extension/stepPointCache';
import type { LensTiming } from '../../../src/extension/codeLens';

export type MessageKind = 'info' | 'warning' | 'error';

/** What activate() of the extension under test returns (test/vscode/support/host.ts's api()). */
export interface BnInspectorApi {
  getSession(uri: vscode.Uri | string): ScriptSession | undefined;
  currentSession(): ScriptSession | undefined;
  sessionCount(): number;
  /** sessions whose worker has not ended */
  liveWorkers(): number;
  /** messages shown to the user, oldest first */
  messages(): readonly { kind: MessageKind; text: string }[];
  /** step points of a document, from the engine's finder (the lenses use the same cache) */
  stepPoints(doc: vscode.TextDocument): Scan;
  /** documents whose step points are cached */
  stepPointCacheSize(): number;
  /** ms the last step-point scan that was not cached took (the finder alone; null: none yet) */
  lastScanMs(): number | null;
  /** the lens provider's last answers (document version, wall and CPU ms inside provideCodeLenses, when it ended) */
  lensesProvided(): readonly LensTiming[];
  /** ms activateInspector took (what activate() of dist/extension.js runs): wall, and CPU of the thread (null: no
   * process.threadCpuUsage before Node 23.9) */
  activationMs(): { wall: number; cpu: number | null };
  /** step-point lines of a document a run reported as model building (the lenses leave them out) */
  modelBuildingLines(doc: vscode.TextDocument): number[];
  panel: {
    isOpen(): boolean;
    isReady(): boolean;
    /** what the open panel's webview reported last ('rendered') */
    lastRendered(): { stepIndex: number; ms: number } | null;
    clearRendered(): void;
    /** messages posted to the open panel's webview, by type */
    posted(): Record<HostToWebview['type'], number>;
    /**
     * the compare messages posted to the open panel, oldest first: 'compare' with its info and its steps' indices,
     * 'compareStep' and 'step' with the step index their buffer holds
     */
    compareLog(): readonly PostedCompare[];
  };
  /** the compare run beside a script's session, if any */
  compareOf(uri: vscode.Uri | string): CompareRun | undefined;
  /** compare runs whose worker has not ended */
  liveCompareWorkers(): number;
  /** the semantics status bar item's text, tooltip and command */
  semanticsStatusBar(): { text: string; tooltip: string; command: string | undefined };
  /** the quick picks the extension showed, oldest first (the real objects: items, active items) */
  quickPicks(): readonly vscode.QuickPick<vscode.QuickPickItem>[];
  outputText(uri: vscode.Uri | string): string | undefined;
  /** the status bar item's text and command */
  statusBar(): { text: string; command: string | undefined };
  progress: {
    /** progress notifications shown so far */
    shown(): number;
    /** is a progress notification on screen for this script's session */
    isShowing(uri: vscode.Uri | string): boolean;
    /** does what the notification's Cancel button does: cancels its token */
    cancel(uri: vscode.Uri | string): boolean;
  };
}

export type PostedCompare =
  { type: 'compare'; compare: CompareInfo | null; steps: number[] } | { type: 'compareStep' | 'step'; index: number };

/** the webview of the inspector panel on screen, watched through its own events */
class PanelWatch {
  compareLog: PostedCompare[] = [];
  panel: vscode.WebviewPanel | undefined;
  ready = false;
  lastRendered: { stepIndex: number; ms: number } | null = null;
  posted: Record<HostToWebview['type'], number> = { reset: 0, step: 0, session: 0, compare: 0, compareStep: 0 };

  watch(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    this.lastRendered = null;
    this.posted = { reset: 0, step: 0, session: 0, compare: 0, compareStep: 0 };
    const mine = () => this.panel === panel;
    const w = panel.webview;
    this.compareLog = [];
    const post = w.postMessage.bind(w);
    w.postMessage = (m: HostToWebview) => {
      if (mine()) {
        this.posted[m.type]++;
        if (m.type === 'compare')
          this.compareLog.push({
            type: 'compare',
            compare: m.compare,
            steps: m.steps.map((b) => readStepHeader(b).index),
          });
        else if (m.type === 'compareStep' || m.type === 'step')
          this.compareLog.push({ type: m.type, index: readStepHeader(m.buffer).index });
      }
      return post(m);
    };
    w.onDidReceiveMessage((m: WebviewToHost) => {
      if (!mine()) return;
      if (m?.type === 'ready') this.ready = true;
      else if (m?.type === 'rendered') this.lastRendered = { stepIndex: m.stepIndex, ms: m.ms };
    });
    panel.onDidDispose(() => {
      if (!mine()) return;
      this.panel = undefined;
      this.ready = false;
    });
  }
}

/** progress notifications on screen: the title VS Code shows, and the token source standing in for its Cancel */
interface ShownProgress {
  title: string;
  cancel: vscode.CancellationTokenSource;
}

/** `vscode.window`, with what the extension shows through it recorded */
class WindowWatch {
  readonly messages: { kind: MessageKind; text: string }[] = [];
  readonly panel = new PanelWatch();
  progressShown = 0;
  readonly progressOnScreen = new Set<ShownProgress>();
  readonly quickPicks: vscode.QuickPick<vscode.QuickPickItem>[] = [];

  readonly ui: HostUi = {
    showInformationMessage: this.recorded('info', vscode.window.showInformationMessage),
    showWarningMessage: this.recorded('warning', vscode.window.showWarningMessage),
    showErrorMessage: this.recorded('error', vscode.window.showErrorMessage),
    withProgress: (options, task) => {
      this.progressShown++;
      return vscode.window.withProgress(options, (progress, token) => {
        const shown: ShownProgress = { title: options.title ?? '', cancel: new vscode.CancellationTokenSource() };
        const link = token.onCancellationRequested(() => shown.cancel.cancel());
        this.progressOnScreen.add(shown);
        return Promise.resolve(task(progress, shown.cancel.token)).finally(() => {
          this.progressOnScreen.delete(shown);
          link.dispose();
          shown.cancel.dispose();
        });
      });
    },
    createWebviewPanel: (...args: Parameters<typeof vscode.window.createWebviewPanel>) => {
      const panel = vscode.window.createWebviewPanel(...args);
      this.panel.watch(panel);
      return panel;
    },
    createQuickPick: <T extends vscode.QuickPickItem>() => {
      const qp = vscode.window.createQuickPick<T>();
      this.quickPicks.push(qp as unknown as vscode.QuickPick<vscode.QuickPickItem>);
      return qp;
    },
    registerWebviewPanelSerializer: (viewType, serializer) =>
      vscode.window.registerWebviewPanelSerializer(viewType, {
        deserializeWebviewPanel: (panel, state) => {
          this.panel.watch(panel);
          return serializer.deserializeWebviewPanel(panel, state);
        },
      }),
  };

  /** a show…Message function (all its overloads) that records the message, then shows it */
  private recorded<F>(kind: MessageKind, show: F): F {
    const f = show as unknown as (...args: unknown[]) => Thenable<unknown>;
    const wrapped = (...args: unknown[]) => {
      this.messages.push({ kind, text: String(args[0]) });
      return f(...args);
    };
    return wrapped as unknown as F;
  }
}

export function activate(context: vscode.ExtensionContext): BnInspectorApi {
  const w = new WindowWatch();
  const cpu = () => {
    const p = process as { threadCpuUsage?: () => { user: number; system: number } };
    const u = typeof p.threadCpuUsage === 'function' ? p.threadCpuUsage() : null;
    return u ? (u.user + u.system) / 1000 : null;
  };
  const t0 = performance.now();
  const c0 = cpu();
  const inspector = activateInspector(context, w.ui);
  const c1 = cpu();
  const wall = performance.now() - t0;
  return testApi(inspector, w, { wall, cpu: c0 === null || c1 === null ? null : c1 - c0 });
}

export function deactivate(): Promise<void> {
  return deactivateInspector();
}

function testApi(x: Inspector, w: WindowWatch, activationMs: { wall: number; cpu: number | null }): BnInspectorApi {
  const progressOf = (uri: vscode.Uri | string): ShownProgress | undefined => {
    const s = x.sessions.getSession(uri);
    if (!s) return undefined;
    return [...w.progressOnScreen].find((p) => p.title === `BatchNorm Inspector: ${s.label}`);
  };
  return {
    getSession: (uri) => x.sessions.getSession(uri),
    currentSession: () => x.sessions.currentSession,
    sessionCount: () => x.sessions.allSessions().length,
    liveWorkers: () => x.sessions.liveSessions().length,
    messages: () => w.messages,
    stepPoints: (doc) => x.stepPoints.scanDocument(doc),
    stepPointCacheSize: () => x.stepPoints.size,
    lastScanMs: () => x.stepPoints.lastScanMs,
    lensesProvided: () => x.lenses.provided,
    activationMs: () => activationMs,
    modelBuildingLines: (doc) => x.modelBuilding.reportedLines(doc),
    panel: {
      isOpen: () => !!w.panel.panel,
      isReady: () => w.panel.ready,
      lastRendered: () => w.panel.lastRendered,
      clearRendered: () => void (w.panel.lastRendered = null),
      posted: () => ({ ...w.panel.posted }),
      compareLog: () => w.panel.compareLog,
    },
    compareOf: (uri) => x.compares.compareOf(x.sessions.getSession(uri)),
    liveCompareWorkers: () => x.compares.liveRuns().length,
    semanticsStatusBar: () => {
      const i = x.semanticsStatusBar.item;
      const c = i.command;
      return {
        text: i.text,
        tooltip: typeof i.tooltip === 'string' ? i.tooltip : (i.tooltip?.value ?? ''),
        command: typeof c === 'string' ? c : c?.command,
      };
    },
    quickPicks: () => w.quickPicks,
    outputText: (uri) => x.sessions.getSession(uri)?.output,
    statusBar: () => {
      const c = x.statusBar.item.command;
      return { text: x.statusBar.item.text, command: typeof c === 'string' ? c : c?.command };
    },
    progress: {
      shown: () => w.progressShown,
      isShowing: (uri) => !!progressOf(uri),
      cancel: (uri) => {
        const p = progressOf(uri);
        p?.cancel.cancel();
        return !!p;
      },
    },
  };
}
