/**
 * The extension host side: one ScriptSession per script, the commands, the context keys, the status bar,
 * diagnostics, the output channel, progress notifications, trust.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { Backend, PausePolicy, SessionState, StepPoint } from '../shared/protocol';
import { sessionToJson } from './exportJson';
import { ScriptSession } from './session';
import { isScriptDocument, scanDocument } from './stepPointCache';

export const CMD = {
  openInspector: 'batchnormInspector.openInspector',
  runScript: 'batchnormInspector.runScript',
  runToCursor: 'batchnormInspector.runToCursor',
  runToLine: 'batchnormInspector.runToLine',
  step: 'batchnormInspector.step',
  continue: 'batchnormInspector.continue',
  restart: 'batchnormInspector.restart',
  stop: 'batchnormInspector.stop',
  exportSnapshots: 'batchnormInspector.exportSnapshots',
  trustWorkspace: 'batchnormInspector.trustWorkspace',
} as const;

export const OUTPUT_NAME = 'BatchNorm Inspector';
const PROGRESS_DELAY_MS = 500;
const HISTORY_BYTES = 256 * 1024 * 1024;

/** What a run command resolves with (tests and callers that await it). */
export interface RunOutcome {
  ran: boolean;
  /** why nothing ran, when ran is false */
  reason?: 'untrusted' | 'noDocument' | 'noStepPoint' | 'busy';
  /** the run restarted from the top because the text changed since the session started */
  restarted?: boolean;
  state?: SessionState;
  session?: ScriptSession;
}

export class Controller implements vscode.Disposable {
  private readonly sessions = new Map<string, ScriptSession>();
  private current: ScriptSession | undefined;
  readonly output = vscode.window.createOutputChannel(OUTPUT_NAME);
  readonly diagnostics = vscode.languages.createDiagnosticCollection('batchnormInspector');
  readonly status = vscode.window.createStatusBarItem('batchnormInspector.status', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  /** files that carry a diagnostic of a session, per script */
  private readonly diagFiles = new Map<string, vscode.Uri[]>();
  /** every session ever started whose worker has not ended yet (tests: "no worker remains") */
  private readonly liveSessions = new Set<ScriptSession>();
  private disposed = false;

  private readonly _onDidChange = new vscode.EventEmitter<void>();
  /** any session's state changed, or the current session changed (lenses, panel) */
  readonly onDidChange = this._onDidChange.event;
  private readonly _onDidChangeCurrent = new vscode.EventEmitter<ScriptSession | undefined>();
  readonly onDidChangeCurrent = this._onDidChangeCurrent.event;

  /** the last message shown to the user per kind (tests read it; the UI shows it) */
  readonly lastMessages: { kind: 'info' | 'warning' | 'error'; text: string }[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.status.name = 'BatchNorm Inspector';
    this.status.command = CMD.openInspector;
    this.disposables.push(
      this.output,
      this.diagnostics,
      this.status,
      this._onDidChange,
      this._onDidChangeCurrent,
      vscode.window.onDidChangeActiveTextEditor((e) => this.onActiveEditor(e)),
      vscode.window.tabGroups.onDidChangeTabs((e) => this.onTabsChanged(e.closed)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.endWorkerOf(doc.uri)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.refresh()),
    );
    const a = vscode.window.activeTextEditor;
    if (a && isScriptDocument(a.document)) this.lastScriptEditor = a;
    this.refresh();
  }

  // ---------------------------------------------------------------------------------------------
  // sessions

  getSession(uri: vscode.Uri | string): ScriptSession | undefined {
    return this.sessions.get(typeof uri === 'string' ? vscode.Uri.parse(uri).toString() : uri.toString());
  }
  allSessions(): ScriptSession[] {
    return [...this.sessions.values()];
  }
  get currentSession(): ScriptSession | undefined {
    return this.current;
  }
  /** sessions whose worker is still alive */
  liveWorkers(): number {
    return this.liveSessions.size;
  }

  /** the session paused at a step point in `file` (the entry script or a file it imports) */
  sessionPausedIn(file: string): ScriptSession | undefined {
    const cands = [...this.sessions.values()].filter(
      (s) => s.state === 'paused' && s.lastStep && samePath(s.lastStep.file, file),
    );
    if (cands.includes(this.current!)) return this.current;
    return cands[0];
  }

  /** the session running `file` itself or a script that imports it and is alive */
  sessionFor(file: vscode.Uri): ScriptSession | undefined {
    const own = this.sessions.get(file.toString());
    if (own) return own;
    const fsPath = file.fsPath;
    return [...this.sessions.values()].find(
      (s) => s.live && Object.keys(s.stepPoints).some((f) => samePath(f, fsPath)),
    );
  }

  private setCurrent(s: ScriptSession | undefined): void {
    if (this.current === s) return;
    this.current = s;
    this._onDidChangeCurrent.fire(s);
    this.refresh();
  }

  private settings(uri: vscode.Uri) {
    const c = vscode.workspace.getConfiguration('batchnormInspector', uri);
    const backend = c.get<string>('backend', 'wasm') === 'cpu' ? 'cpu' : 'wasm';
    const memoryMb = Math.max(128, Math.floor(c.get<number>('workerMemoryMb', 2048)));
    const historySteps = Math.max(10, Math.floor(c.get<number>('historySteps', 1000)));
    return { backend: backend as Backend, memoryMb, historySteps };
  }

  /** ends any session of this script and starts a new one from the document's current text */
  private startSession(doc: vscode.TextDocument, pause: PausePolicy, why: string): ScriptSession {
    const key = doc.uri.toString();
    const old = this.sessions.get(key);
    if (old) old.dispose('restart');
    const cfg = this.settings(doc.uri);
    const s = new ScriptSession({
      uri: doc.uri,
      label: vscode.workspace.asRelativePath(doc.uri, false),
      sourceText: doc.getText(),
      docVersion: doc.version,
      pause,
      backend: cfg.backend,
      memoryMb: cfg.memoryMb,
      workerPath: path.join(this.context.extensionPath, 'dist', 'worker.js'),
      historySteps: cfg.historySteps,
      historyBytes: HISTORY_BYTES,
    });
    this.sessions.set(key, s);
    this.liveSessions.add(s);
    this.evictOldSessions();
    this.clearDiagnostics(key);
    this.output.appendLine(
      `── ${new Date().toLocaleTimeString()} ${why}: ${s.label} (${cfg.backend}, worker heap ≤ ${cfg.memoryMb} MB)${doc.isDirty ? ' — unsaved edits included' : ''}`,
    );
    s.onDidChangeState(() => {
      if (this.sessions.get(key) === s || this.current === s) this.refresh();
    });
    s.onDidOutput(({ text }) => this.output.append(text));
    // while it runs without pausing, the status bar counts the steps (a few times a second at most)
    s.onDidStep(() => {
      if (s.stepCount === 1 && this.current === s) this.refresh(); // bnInspector.hasSteps
      if (this.current !== s || this.statusTimer) return;
      this.statusTimer = setTimeout(() => {
        this.statusTimer = undefined;
        if (this.current === s && !this.disposed) this.updateStatus();
      }, 250);
    });
    s.onDidEnd(() => this.onSessionEnd(s, key));
    this.watchProgress(s);
    this.setCurrent(s);
    this.refresh();
    return s;
  }

  /** ended sessions of other scripts keep their snapshots, but not without end: the oldest go first */
  private evictOldSessions(max = 8): void {
    const ended = [...this.sessions.entries()]
      .filter(([, s]) => !s.live && s !== this.current)
      .sort((a, b) => a[1].startedAt - b[1].startedAt);
    let extra = this.sessions.size - max;
    for (const [key, s] of ended) {
      if (extra-- <= 0) break;
      this.sessions.delete(key);
      this.clearDiagnostics(key);
      s.dispose();
    }
  }

  private onSessionEnd(s: ScriptSession, key: string): void {
    this.liveSessions.delete(s);
    const superseded = this.sessions.get(key) !== s;
    const steps = s.stepCount;
    const kept = steps
      ? ` The ${steps} snapshot${steps === 1 ? '' : 's'} taken so far ${steps === 1 ? 'is' : 'are'} kept.`
      : '';
    const e = s.error;
    if (!this.disposed) {
      this.output.appendLine(`── ${s.label}: ${s.endText()} (${steps} step${steps === 1 ? '' : 's'})`);
      if (e?.stack && (s.endReason === 'error' || s.endReason === 'crashed')) this.output.appendLine(e.stack);
    }
    if (superseded || this.disposed) return;
    switch (s.endReason) {
      case 'error': {
        if (e && e.line != null) {
          const file = e.file ? vscode.Uri.file(e.file) : s.uri;
          this.setDiagnostic(key, file, e.line, e.column, e.message, e.kind === 'compile');
        }
        const where =
          e?.line != null
            ? ` at ${e.file && !samePath(e.file, s.scriptPath) ? `${vscode.workspace.asRelativePath(e.file, false)}:` : 'line '}${e.line}`
            : '';
        const verb = e?.kind === 'compile' ? 'did not compile' : 'threw';
        this.notify('error', `${s.label} ${verb}${where}: ${e?.message ?? 'error'}`, 'Show output');
        break;
      }
      case 'oom':
        this.notify(
          'error',
          `The worker running ${s.label} ran out of memory (limit ${s.memoryMb} MB, setting batchnormInspector.workerMemoryMb): the session ended.${kept}`,
          'Show output',
        );
        break;
      case 'crashed':
        this.notify(
          'error',
          `The worker running ${s.label} died${e?.message ? ` (${e.message})` : ''}: the session ended.${kept}`,
          'Show output',
        );
        break;
      case 'timeout':
        this.notify('warning', `${s.label} timed out: the session ended.${kept}`, 'Show output');
        break;
      default:
        break;
    }
    this.refresh();
  }

  private notify(kind: 'info' | 'warning' | 'error', text: string, action?: string): void {
    this.lastMessages.push({ kind, text });
    if (this.lastMessages.length > 50) this.lastMessages.shift();
    const show =
      kind === 'error'
        ? vscode.window.showErrorMessage
        : kind === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    const p = action ? show(text, action) : show(text);
    void Promise.resolve(p).then((picked) => {
      if (picked === 'Show output') this.output.show(true);
      else if (picked === 'Manage Workspace Trust') void vscode.commands.executeCommand('workbench.trust.manage');
    });
  }

  private setDiagnostic(
    key: string,
    file: vscode.Uri,
    line: number,
    column: number | null,
    message: string,
    compile: boolean,
  ): void {
    const l = Math.max(0, line - 1);
    const c = Math.max(0, (column ?? 1) - 1);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === file.toString());
    const endCol = doc && l < doc.lineCount ? Math.max(c + 1, doc.lineAt(l).range.end.character) : c + 1;
    const d = new vscode.Diagnostic(new vscode.Range(l, c, l, endCol), message, vscode.DiagnosticSeverity.Error);
    d.source = 'BatchNorm Inspector';
    d.code = compile ? 'compile' : 'run';
    const prev = this.diagnostics.get(file) ?? [];
    this.diagnostics.set(file, [...prev, d]);
    const files = this.diagFiles.get(key) ?? [];
    files.push(file);
    this.diagFiles.set(key, files);
  }

  private clearDiagnostics(key: string): void {
    for (const f of this.diagFiles.get(key) ?? []) this.diagnostics.delete(f);
    this.diagFiles.delete(key);
  }

  /** progress notifications shown so far, and the Cancel action of the one on screen per session (tests) */
  progressShown = 0;
  readonly progressCancels = new Map<ScriptSession, () => void>();

  /** a progress notification with Cancel for a run that has not paused or ended after half a second */
  private watchProgress(s: ScriptSession): void {
    const token = s.runToken;
    const timer = setTimeout(() => {
      if (!s.busy || s.runToken !== token || this.disposed) return;
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `BatchNorm Inspector: ${s.label}`, cancellable: true },
        (progress, cancel) =>
          new Promise<void>((resolve) => {
            let done = false;
            const finish = () => {
              if (done) return;
              done = true;
              subs.forEach((d) => d.dispose());
              resolve();
            };
            const update = () => {
              if (!s.busy || s.runToken !== token) finish();
              else progress.report({ message: s.statusText() });
            };
            const onCancel = () => {
              this.progressCancels.delete(s);
              void s.stop('cancel');
              finish();
            };
            this.progressShown++;
            this.progressCancels.set(s, onCancel);
            const subs = [
              cancel.onCancellationRequested(onCancel),
              { dispose: () => this.progressCancels.delete(s) },
              s.onDidChangeState(update),
              s.onDidStep(update),
            ];
            update();
          }),
      );
    }, PROGRESS_DELAY_MS);
    const d = s.onDidChangeState(() => {
      if (!s.busy || s.runToken !== token) {
        clearTimeout(timer);
        d.dispose();
      }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // editors

  /** the text editor the user last worked in on a script (a focused webview has no active text editor) */
  private lastScriptEditor: vscode.TextEditor | undefined;

  scriptEditor(): vscode.TextEditor | undefined {
    const a = vscode.window.activeTextEditor;
    if (a && isScriptDocument(a.document)) return a;
    const visible = vscode.window.visibleTextEditors;
    if (this.lastScriptEditor && visible.some((v) => v.document === this.lastScriptEditor!.document)) {
      return (
        visible.find((v) => v === this.lastScriptEditor) ??
        visible.find((v) => v.document === this.lastScriptEditor!.document)
      );
    }
    const cur = this.current;
    return (
      (cur && visible.find((v) => v.document.uri.toString() === cur.uri.toString())) ||
      visible.find((v) => isScriptDocument(v.document))
    );
  }

  private onActiveEditor(e: vscode.TextEditor | undefined): void {
    if (e && isScriptDocument(e.document)) this.lastScriptEditor = e;
    if (e) {
      const s = this.sessionFor(e.document.uri);
      if (s) this.setCurrent(s);
    }
    this.refresh();
  }

  private onTabsChanged(closed: readonly vscode.Tab[]): void {
    if (!closed.length) return;
    const open = new Set<string>();
    for (const g of vscode.window.tabGroups.all)
      for (const t of g.tabs) if (t.input instanceof vscode.TabInputText) open.add(t.input.uri.toString());
    for (const t of closed) {
      if (!(t.input instanceof vscode.TabInputText)) continue;
      const u = t.input.uri;
      if (!open.has(u.toString())) this.endWorkerOf(u);
    }
  }

  /** closing the script's editor ends its worker; the session (and its snapshots) stay */
  private endWorkerOf(uri: vscode.Uri): void {
    const s = this.sessions.get(uri.toString());
    if (s && s.live) {
      this.output.appendLine(`── ${s.label}: its editor closed, stopping its worker`);
      void s.stop('closed');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // context keys, status bar

  private statusTimer: NodeJS.Timeout | undefined;
  private contextKeys = '';

  refresh(): void {
    if (this.disposed) return;
    const s = this.current;
    const state: SessionState = s?.state ?? 'idle';
    const keys = `${state}|${!!s}|${!!s && s.stepCount > 0}`;
    if (keys !== this.contextKeys) {
      this.contextKeys = keys;
      void vscode.commands.executeCommand('setContext', 'bnInspector.sessionState', state);
      void vscode.commands.executeCommand('setContext', 'bnInspector.hasSession', !!s);
      void vscode.commands.executeCommand('setContext', 'bnInspector.hasSteps', !!s && s.stepCount > 0);
    }
    this.updateStatus();
    this._onDidChange.fire();
  }

  private updateStatus(): void {
    const s = this.current;
    const editor = vscode.window.activeTextEditor;
    if (s) {
      const icon = {
        idle: '$(circle-outline)',
        starting: '$(loading~spin)',
        running: '$(loading~spin)',
        paused: '$(debug-pause)',
        ended: s.error ? '$(error)' : '$(check)',
      }[s.state];
      this.status.text = `${icon} BN: ${s.statusText()}`;
      this.status.tooltip = `BatchNorm Inspector — ${s.label}: ${s.statusText()}\nClick to open the inspector.`;
      this.status.show();
    } else if (editor && isScriptDocument(editor.document)) {
      this.status.text = vscode.workspace.isTrusted ? '$(beaker) BN: idle' : '$(shield) BN: untrusted';
      this.status.tooltip = vscode.workspace.isTrusted
        ? 'BatchNorm Inspector: no session. Click ▶ Run to here on a step point.'
        : 'BatchNorm Inspector runs nothing in an untrusted workspace.';
      this.status.show();
    } else this.status.hide();
  }

  // ---------------------------------------------------------------------------------------------
  // commands

  private checkTrust(): boolean {
    if (vscode.workspace.isTrusted) return true;
    this.notify(
      'warning',
      'BatchNorm Inspector runs your script, so it needs a trusted workspace: nothing was run.',
      'Manage Workspace Trust',
    );
    return false;
  }

  private async documentFor(arg: unknown): Promise<vscode.TextDocument | undefined> {
    let uri: vscode.Uri | undefined;
    if (arg instanceof vscode.Uri) uri = arg;
    else if (typeof arg === 'string') uri = arg.includes('://') ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
    if (uri) return vscode.workspace.openTextDocument(uri);
    const e = this.scriptEditor();
    if (e) return e.document;
    if (this.current) return vscode.workspace.openTextDocument(this.current.uri);
    return undefined;
  }

  private targetSession(arg: unknown): ScriptSession | undefined {
    if (arg instanceof vscode.Uri || typeof arg === 'string') {
      const u = arg instanceof vscode.Uri ? arg : arg.includes('://') ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
      return this.sessionFor(u);
    }
    return this.current;
  }

  private outcome(s: ScriptSession, restarted = false): RunOutcome {
    return { ran: true, restarted, state: s.state, session: s };
  }

  /** Run to here: pause at the step point at `line` (1-based) of `uri` */
  async runToLine(uriArg?: unknown, lineArg?: unknown): Promise<RunOutcome> {
    if (!this.checkTrust()) return { ran: false, reason: 'untrusted' };
    const doc = await this.documentFor(uriArg);
    if (!doc) return { ran: false, reason: 'noDocument' };
    const line =
      typeof lineArg === 'number' ? lineArg : (vscode.window.activeTextEditor?.selection.active.line ?? 0) + 1;
    const pause: PausePolicy = { kind: 'line', file: doc.uri.fsPath, line };
    const own = this.sessions.get(doc.uri.toString());
    // a paused session of this script (or of a script that imports this file) goes on to the line
    const s = own ?? this.sessionFor(doc.uri);
    if (s && s.state === 'paused') {
      if (this.unchanged(s)) {
        s.resume(pause);
        this.watchProgress(s);
        this.setCurrent(s);
        await s.settled();
        return this.outcome(s);
      }
      const entry = await vscode.workspace.openTextDocument(s.uri);
      this.notify('info', `${s.label} changed since this run started: running it again from the top.`);
      const n = this.startSession(entry, pause, 'restart (text changed)');
      await n.settled();
      return this.outcome(n, true);
    }
    const changed = !!own && !this.unchanged(own);
    if (own && own.busy) this.notify('info', `Running ${own.label} again from the top, to line ${line}.`);
    else if (changed)
      this.notify('info', `${own!.label} changed since the last run started: running it again from the top.`);
    const n = this.startSession(doc, pause, `run to line ${line}`);
    await n.settled();
    return this.outcome(n, changed);
  }

  /** the entry script's text is what the session started from */
  private unchanged(s: ScriptSession): boolean {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === s.uri.toString());
    if (!doc) return true;
    return doc.version === s.docVersion || doc.getText() === s.sourceText;
  }

  async runToCursor(): Promise<RunOutcome> {
    if (!this.checkTrust()) return { ran: false, reason: 'untrusted' };
    const e = this.scriptEditor();
    if (!e) {
      this.notify('info', 'Run to Cursor needs a TypeScript or JavaScript editor.');
      return { ran: false, reason: 'noDocument' };
    }
    const cursor = e.selection.active.line + 1;
    const { points, syntaxError } = scanDocument(e.document);
    const p: StepPoint | undefined = points.find((q) => q.line >= cursor);
    if (!p) {
      this.notify(
        'info',
        syntaxError
          ? `The script does not parse (line ${syntaxError.line}: ${syntaxError.message}).`
          : `No step point at or after line ${cursor}.`,
      );
      return { ran: false, reason: 'noStepPoint' };
    }
    return this.runToLine(e.document.uri, p.line);
  }

  async runScript(uriArg?: unknown): Promise<RunOutcome> {
    if (!this.checkTrust()) return { ran: false, reason: 'untrusted' };
    const doc = await this.documentFor(uriArg);
    if (!doc) return { ran: false, reason: 'noDocument' };
    const s = this.startSession(doc, { kind: 'none' }, 'run script');
    await s.settled();
    return this.outcome(s);
  }

  async step(uriArg?: unknown): Promise<RunOutcome> {
    if (!this.checkTrust()) return { ran: false, reason: 'untrusted' };
    const s = this.targetSession(uriArg);
    if (s && s.state === 'paused') {
      if (!this.unchanged(s)) {
        const entry = await vscode.workspace.openTextDocument(s.uri);
        this.notify('info', `${s.label} changed since this run started: running it again from the top.`);
        const n = this.startSession(entry, { kind: 'next' }, 'restart (text changed)');
        await n.settled();
        return this.outcome(n, true);
      }
      s.resume({ kind: 'next' });
      this.watchProgress(s);
      await s.settled();
      return this.outcome(s);
    }
    if (s && s.busy) return { ran: false, reason: 'busy', state: s.state, session: s };
    // no session (or it ended): start and pause at the first step point reached
    const doc = await this.documentFor(s ? s.uri : uriArg);
    if (!doc) return { ran: false, reason: 'noDocument' };
    const n = this.startSession(doc, { kind: 'next' }, 'step');
    await n.settled();
    return this.outcome(n);
  }

  async continue(uriArg?: unknown): Promise<RunOutcome> {
    if (!this.checkTrust()) return { ran: false, reason: 'untrusted' };
    const s = this.targetSession(uriArg);
    if (!s || s.state !== 'paused') return { ran: false, reason: 'busy', state: s?.state, session: s };
    s.resume({ kind: 'none' });
    this.watchProgress(s);
    await s.settled();
    return this.outcome(s);
  }

  async restart(uriArg?: unknown): Promise<RunOutcome> {
    if (!this.checkTrust()) return { ran: false, reason: 'untrusted' };
    const s = this.targetSession(uriArg);
    const doc = await this.documentFor(s ? s.uri : uriArg);
    if (!doc) return { ran: false, reason: 'noDocument' };
    const n = this.startSession(doc, s?.initialPause ?? { kind: 'next' }, 'restart');
    await n.settled();
    return this.outcome(n);
  }

  async stop(uriArg?: unknown): Promise<RunOutcome> {
    const s = this.targetSession(uriArg);
    if (!s || !s.live) return { ran: false, state: s?.state, session: s };
    await s.stop('stop');
    return this.outcome(s);
  }

  /** writes the whole session as the contract's JSON; `target` skips the save dialog */
  async exportSnapshots(target?: unknown, scriptArg?: unknown): Promise<vscode.Uri | undefined> {
    const s = scriptArg !== undefined ? this.targetSession(scriptArg) : this.current;
    if (!s || s.stepCount === 0) {
      this.notify('info', 'No snapshots to export yet: run a script to a step point first.');
      return undefined;
    }
    let uri: vscode.Uri | undefined =
      target instanceof vscode.Uri
        ? target
        : typeof target === 'string'
          ? target.includes('://')
            ? vscode.Uri.parse(target)
            : vscode.Uri.file(target)
          : undefined;
    if (!uri) {
      const base = s.uri.fsPath.replace(/\.[^./\\]+$/, '');
      uri = await vscode.window.showSaveDialog({
        title: 'Export BatchNorm Inspector snapshots',
        defaultUri: vscode.Uri.file(`${base}.bn-inspector.json`),
        filters: { JSON: ['json'] },
        saveLabel: 'Export',
      });
      if (!uri) return undefined;
    }
    const json = JSON.stringify(sessionToJson(s), null, 1);
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(json + '\n'));
    this.output.appendLine(`── exported ${s.stepCount - s.history.thinned} step(s) of ${s.label} to ${uri.fsPath}`);
    return uri;
  }

  dispose(): void {
    this.disposed = true;
    if (this.statusTimer) clearTimeout(this.statusTimer);
    for (const s of this.sessions.values()) s.dispose('deactivate');
    this.sessions.clear();
    this.disposables.forEach((d) => d.dispose());
  }

  /** for deactivate(): resolves once every worker has ended */
  async stopAll(): Promise<void> {
    await Promise.all([...this.liveSessions].map((s) => s.stop('deactivate')));
  }
}

function samePath(a: string, b: string): boolean {
  if (process.platform === 'win32' || process.platform === 'darwin') return a.toLowerCase() === b.toLowerCase();
  return a === b;
}
