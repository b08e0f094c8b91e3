/**
 * Host side of the inspector panel: one WebviewPanel beside the editor, showing the current session.
 * Posts HostToWebview messages (packed step ArrayBuffers, never JSON arrays of numbers) and handles
 * WebviewToHost messages. A WebviewPanelSerializer brings the panel back after a window reload.
 *
 * One unit of ~260 lines: the panel's life (create, restore, dispose) and what it posts (reset, steps, compare) share
 * the one "is the webview ready, which session does it show" state.
 */
import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import type { HostToWebview, SessionInfo, WebviewCommand, WebviewToHost } from '../shared/protocol';
import { CMD } from './commandIds';
import type { CompareRuns } from './compareRuns';
import type { HostUi } from './hostUi';
import { panelHtml } from './panelHtml';
import type { ScriptSession } from './session';
import { samePath } from './engine';
import type { Sessions } from './sessions';
import { parseWebviewMessage } from '../shared/webviewMessages';

export const VIEW_TYPE = 'batchnormInspector.panel';
/** a reset carries at most this many bytes of history (the newest steps) */
const RESET_BYTES = 64 * 1024 * 1024;

/** the latest snapshot is kept across window reloads when it is at most this big */
const SAVED_MAX_BYTES = 8 * 1024 * 1024;
const SAVED_KEY = 'batchnormInspector.lastSnapshot';

interface SavedSnapshot {
  info: SessionInfo;
  /** packed step, base64 */
  step: string;
}

const COMMANDS: Record<WebviewCommand, string> = {
  step: CMD.step,
  runToCursor: CMD.runToCursor,
  restart: CMD.restart,
  stop: CMD.stop,
  continue: CMD.continue,
  pickSemantics: CMD.pickSemantics,
  compare: CMD.compare,
  stopCompare: CMD.stopCompare,
};

export class InspectorPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private session: ScriptSession | undefined;
  private sessionSubs: vscode.Disposable[] = [];
  private panelSubs: vscode.Disposable[] = [];
  /** the script of the snapshot shown from before a window reload */
  private restoredScript: string | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly sessions: Sessions,
    private readonly ui: HostUi,
    private readonly compares: CompareRuns,
  ) {
    this.subs.push(
      sessions.onDidChangeCurrent((s) => this.bind(s)),
      ui.registerWebviewPanelSerializer(VIEW_TYPE, {
        deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => {
          this.adopt(panel);
        },
      }),
    );
  }

  /** opens the panel beside the editor, or reveals it */
  show(preserveFocus = true): void {
    if (this.panel) {
      this.panel.reveal(undefined, preserveFocus);
      return;
    }
    const panel = this.ui.createWebviewPanel(
      VIEW_TYPE,
      'BatchNorm Inspector',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      this.webviewOptions(),
    );
    this.adopt(panel);
  }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    const ext = this.context.extensionUri;
    return {
      enableScripts: true,
      enableFindWidget: true,
      localResourceRoots: [vscode.Uri.joinPath(ext, 'dist'), vscode.Uri.joinPath(ext, 'media')],
    };
  }

  private adopt(panel: vscode.WebviewPanel): void {
    if (this.panel && this.panel !== panel) this.panel.dispose();
    this.panel = panel;
    this.ready = false;
    const ext = this.context.extensionUri;
    const w = panel.webview;
    w.options = this.webviewOptions();
    this.panelSubs.forEach((d) => d.dispose());
    this.panelSubs = [
      w.onDidReceiveMessage((raw: unknown) => {
        const m = parseWebviewMessage(raw);
        if (m) this.onMessage(m);
      }),
      panel.onDidDispose(() => {
        if (this.panel !== panel) return;
        this.panel = undefined;
        this.ready = false;
        this.panelSubs.forEach((d) => d.dispose());
        this.panelSubs = [];
      }),
    ];
    w.html = panelHtml({
      cspSource: w.cspSource,
      nonce: randomBytes(16).toString('base64'),
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(ext, 'dist', 'webview.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(ext, 'media', 'inspector.css')).toString(),
      codiconsUri: w.asWebviewUri(vscode.Uri.joinPath(ext, 'dist', 'codicons', 'codicon.css')).toString(),
    });
    this.bind(this.sessions.currentSession, true);
  }

  /** follow a session: its steps and state changes go to the panel */
  private bind(s: ScriptSession | undefined, force = false): void {
    if (s === this.session && !force) return;
    this.sessionSubs.forEach((d) => d.dispose());
    this.sessionSubs = [];
    this.session = s;
    if (s) {
      this.sessionSubs.push(
        s.onDidStep(({ buffer }) => this.post({ type: 'step', buffer })),
        // paused / running / ended (with its error), backend and tfjs once compiled
        s.onDidChangeState(() => {
          this.post({ type: 'session', session: s.info() });
          if (s.state === 'paused' || s.state === 'ended') this.save(s);
        }),
        // the compare run beside the session: its steps as they come, its state (and all its steps) on each change
        this.compares.onDidStep((e) => {
          if (e.session === s) this.post({ type: 'compareStep', buffer: e.buffer });
        }),
        this.compares.onDidChange((x) => {
          if (x === s) this.postCompare();
        }),
      );
    }
    this.postReset();
  }

  /** the compare run of the panel's session (all its steps, the newest first to go when too many), or null */
  private postCompare(): void {
    const s = this.session;
    const run = this.compares.compareOf(s);
    if (!s || !run) {
      this.post({ type: 'compare', compare: null, steps: [] });
      return;
    }
    const steps = run.history.newest(RESET_BYTES).map((e) => e.buffer);
    this.post({ type: 'compare', compare: run.info(s.lastStep?.index ?? 0), steps });
  }

  /** keeps the session's latest snapshot for after a window reload (the worker does not survive one) */
  private save(s: ScriptSession): void {
    const last = s.history.entries().at(-1);
    if (!last || last.buffer.byteLength > SAVED_MAX_BYTES) return;
    const saved: SavedSnapshot = { info: s.info(), step: Buffer.from(last.buffer).toString('base64') };
    void this.context.workspaceState.update(SAVED_KEY, saved);
  }

  private restored(): { info: SessionInfo; buffer: ArrayBuffer } | null {
    const saved = this.context.workspaceState.get<SavedSnapshot>(SAVED_KEY);
    if (!saved?.info || typeof saved.step !== 'string') return null;
    const b = Buffer.from(saved.step, 'base64');
    const buffer = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    const status =
      saved.info.state === 'ended'
        ? `${saved.info.status} (before the window reloaded)`
        : `was ${saved.info.status} when the window reloaded: the run is over`;
    return { info: { ...saved.info, state: 'ended', status }, buffer };
  }

  private postReset(): void {
    const s = this.session;
    if (!s) {
      // no session in this window (yet): the latest snapshot from before a reload, if any
      const r = this.restored();
      this.restoredScript = r?.info.script;
      this.post(
        r
          ? { type: 'reset', session: r.info, steps: [r.buffer], thinned: 0 }
          : { type: 'reset', session: null, steps: [], thinned: 0 },
      );
      return;
    }
    const sent = s.history.newest(RESET_BYTES);
    this.post({
      type: 'reset',
      session: s.info(),
      steps: sent.map((e) => e.buffer),
      thinned: s.history.thinned + (s.history.length - sent.length),
    });
    this.postCompare();
  }

  private post(m: HostToWebview): void {
    if (!this.panel || !this.ready) return;
    void this.panel.webview.postMessage(m);
  }

  private onMessage(m: WebviewToHost): void {
    switch (m?.type) {
      case 'ready':
        this.ready = true;
        this.postReset();
        break;
      case 'command': {
        const id = COMMANDS[m.command];
        const script = this.session?.uri ?? (this.restoredScript ? vscode.Uri.file(this.restoredScript) : undefined);
        if (id) void vscode.commands.executeCommand(id, ...(m.command === 'runToCursor' || !script ? [] : [script]));
        break;
      }
      case 'revealLine':
        // only a file of the panel's run (its script, the user files it ran, its error's file)
        if (this.runFiles().some((f) => samePath(f, m.file))) void this.revealLine(m.file, m.line);
        break;
      case 'rendered': // the panel's time for a render: nothing to do here (the render benchmark and tests watch it)
        break;
    }
  }

  /** the files the panel may show lines of: the session's script, its user files and its error's file */
  private runFiles(): string[] {
    const s = this.session;
    if (!s) return this.restoredScript ? [this.restoredScript] : [];
    return [s.scriptPath, ...Object.keys(s.stepPoints), ...(s.error?.file ? [s.error.file] : [])];
  }

  private async revealLine(file: string, line: number): Promise<void> {
    const uri = vscode.Uri.file(file);
    const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    const doc = await vscode.workspace.openTextDocument(uri);
    const l = Math.max(0, Math.min(doc.lineCount - 1, line - 1));
    const editor = await vscode.window.showTextDocument(doc, {
      viewColumn:
        shown?.viewColumn ??
        (this.panel?.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Two : vscode.ViewColumn.One),
      preserveFocus: false,
    });
    const pos = new vscode.Position(l, doc.lineAt(l).firstNonWhitespaceCharacterIndex);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  dispose(): void {
    this.sessionSubs.forEach((d) => d.dispose());
    this.panelSubs.forEach((d) => d.dispose());
    this.subs.forEach((d) => d.dispose());
    this.panel?.dispose();
  }
}
