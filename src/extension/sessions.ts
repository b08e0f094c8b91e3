/**
 * The window's sessions: one ScriptSession per script (keyed by its URI), the current one (the panel, the status
 * bar and the commands without a script follow it), and every worker that has not ended yet. Starting a session,
 * letting go of old ended ones, and telling the user how a session ended (output, message, diagnostic) live here.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { Backend, PausePolicy, Semantics } from '../shared/protocol';
import { isSemantics } from '../shared/semantics';
import type { RunDiagnostics } from './diagnostics';
import type { UserMessages } from './messages';
import type { RunProgress } from './progress';
import { disposeEnginePool, prewarmEngine, samePath } from './engine';
import { LANGUAGES } from './stepPointCache';
import { ScriptSession } from './session';

const HISTORY_BYTES = 256 * 1024 * 1024;
/** ended sessions of other scripts keep their snapshots, up to this many sessions in all */
const MAX_SESSIONS = 8;

export interface SessionsDeps {
  extensionPath: string;
  output: vscode.OutputChannel;
  messages: UserMessages;
  diagnostics: RunDiagnostics;
  progress: RunProgress;
}

export class Sessions implements vscode.Disposable {
  private readonly byScript = new Map<string, ScriptSession>();
  private current: ScriptSession | undefined;
  /** every session ever started whose worker has not ended yet */
  private readonly live = new Set<ScriptSession>();
  private disposed = false;

  private readonly _onDidChange = new vscode.EventEmitter<void>();
  /** a session started, changed state or ended, or the current session changed (lenses, status bar) */
  readonly onDidChange = this._onDidChange.event;
  private readonly _onDidChangeCurrent = new vscode.EventEmitter<ScriptSession | undefined>();
  readonly onDidChangeCurrent = this._onDidChangeCurrent.event;
  private readonly _onDidStartSession = new vscode.EventEmitter<ScriptSession>();
  /** a new session was made (before its first event: listeners hear all of it) */
  readonly onDidStartSession = this._onDidStartSession.event;

  private prewarmTimer: NodeJS.Timeout | undefined;
  private readonly editorWatch: vscode.Disposable;

  constructor(private readonly deps: SessionsDeps) {
    // a script editor that uses tfjs: a warm spare runner for its run (not during activation: a moment later)
    this.editorWatch = vscode.window.onDidChangeActiveTextEditor((e) => this.prewarmFor(e?.document));
    this.prewarmFor(vscode.window.activeTextEditor?.document);
  }

  private prewarmFor(doc: vscode.TextDocument | undefined): void {
    if (!doc || !(LANGUAGES as readonly string[]).includes(doc.languageId) || doc.uri.scheme !== 'file') return;
    if (this.prewarmTimer) clearTimeout(this.prewarmTimer);
    this.prewarmTimer = setTimeout(() => {
      this.prewarmTimer = undefined;
      if (this.disposed || !vscode.workspace.isTrusted || !doc.getText().includes('@tensorflow/tfjs')) return;
      const cfg = settings(doc.uri);
      prewarmEngine({ workerPath: this.workerPath(), backend: cfg.backend, memoryMb: cfg.memoryMb });
    }, 500);
  }

  private workerPath(): string {
    return path.join(this.deps.extensionPath, 'dist', 'worker.js');
  }

  getSession(uri: vscode.Uri | string): ScriptSession | undefined {
    return this.byScript.get(typeof uri === 'string' ? vscode.Uri.parse(uri).toString() : uri.toString());
  }
  allSessions(): ScriptSession[] {
    return [...this.byScript.values()];
  }
  get currentSession(): ScriptSession | undefined {
    return this.current;
  }
  /** sessions whose worker is still alive (including replaced ones whose worker is still ending) */
  liveSessions(): ScriptSession[] {
    return [...this.live];
  }

  /** the session paused at a step point in `file` (the entry script or a file it imports) */
  sessionPausedIn(file: string): ScriptSession | undefined {
    const cands = this.allSessions().filter(
      (s) => s.state === 'paused' && s.lastStep && samePath(s.lastStep.file, file),
    );
    if (this.current && cands.includes(this.current)) return this.current;
    return cands[0];
  }

  /** the session running `file` itself or a script that imports it and is alive */
  sessionFor(file: vscode.Uri): ScriptSession | undefined {
    const own = this.byScript.get(file.toString());
    if (own) return own;
    const fsPath = file.fsPath;
    return this.allSessions().find((s) => s.live && Object.keys(s.stepPoints).some((f) => samePath(f, fsPath)));
  }

  setCurrent(s: ScriptSession | undefined): void {
    if (this.current === s) return;
    this.current = s;
    this._onDidChangeCurrent.fire(s);
    this.changed();
  }

  private changed(): void {
    if (!this.disposed) this._onDidChange.fire();
  }

  /**
   * ends any session of this script and starts a new one from the document's current text; it becomes current.
   * `semantics` overrides the setting batchnormInspector.semantics (the semantics pick restarts under its choice).
   */
  start(doc: vscode.TextDocument, pause: PausePolicy, why: string, semantics?: Semantics): ScriptSession {
    const key = doc.uri.toString();
    this.byScript.get(key)?.dispose('restart');
    const cfg = settings(doc.uri);
    const sem = semantics ?? cfg.semantics;
    const s = new ScriptSession({
      uri: doc.uri,
      label: vscode.workspace.asRelativePath(doc.uri, false),
      sourceText: doc.getText(),
      docVersion: doc.version,
      pause,
      backend: cfg.backend,
      semantics: sem,
      memoryMb: cfg.memoryMb,
      workerPath: this.workerPath(),
      // relative paths in the script (file://./model.json, fs.readFileSync('data.csv')) resolve against its workspace
      // folder, as when the user runs it from a terminal there; a file outside any folder: its own folder
      cwd: vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.fsPath ?? path.dirname(doc.uri.fsPath),
      historySteps: cfg.historySteps,
      historyBytes: HISTORY_BYTES,
    });
    this.byScript.set(key, s);
    this.live.add(s);
    this.evictOld();
    this.deps.diagnostics.clear(key);
    this.deps.output.appendLine(
      `── ${new Date().toLocaleTimeString()} ${why}: ${s.label} (${cfg.backend}, ${sem} rules, worker heap ≤ ${cfg.memoryMb} MB)${doc.isDirty ? ' — unsaved edits included' : ''}`,
    );
    s.onDidChangeState(() => {
      if (this.byScript.get(key) === s || this.current === s) this.changed();
    });
    s.onDidOutput(({ text }) => this.deps.output.append(text));
    s.onDidEnd(() => this.onEnd(s, key));
    this.deps.progress.watch(s);
    this._onDidStartSession.fire(s);
    this.setCurrent(s);
    this.changed();
    return s;
  }

  /** a paused session goes on, to the next pause the policy asks for */
  resume(s: ScriptSession, pause: PausePolicy): void {
    s.resume(pause);
    this.deps.progress.watch(s);
  }

  /** the oldest ended sessions of other scripts go first */
  private evictOld(): void {
    const ended = [...this.byScript.entries()]
      .filter(([, s]) => !s.live && s !== this.current)
      .sort((a, b) => a[1].startedAt - b[1].startedAt);
    let extra = this.byScript.size - MAX_SESSIONS;
    for (const [key, s] of ended) {
      if (extra-- <= 0) break;
      this.byScript.delete(key);
      this.deps.diagnostics.clear(key);
      s.dispose();
    }
  }

  private onEnd(s: ScriptSession, key: string): void {
    this.live.delete(s);
    const { output, messages, diagnostics } = this.deps;
    const superseded = this.byScript.get(key) !== s;
    const steps = s.stepCount;
    const kept = steps
      ? ` The ${steps} snapshot${steps === 1 ? '' : 's'} taken so far ${steps === 1 ? 'is' : 'are'} kept.`
      : '';
    const e = s.error;
    if (!this.disposed) {
      output.appendLine(`── ${s.label}: ${s.endText()} (${steps} step${steps === 1 ? '' : 's'})`);
      if (e?.stack && (s.endReason === 'error' || s.endReason === 'crashed')) output.appendLine(e.stack);
    }
    if (superseded || this.disposed) return;
    switch (s.endReason) {
      case 'error': {
        if (e && e.line != null) {
          const file = e.file ? vscode.Uri.file(e.file) : s.uri;
          diagnostics.add(key, file, e.line, e.column, e.message, e.kind === 'compile');
        }
        const where =
          e?.line != null
            ? ` at ${e.file && !samePath(e.file, s.scriptPath) ? `${vscode.workspace.asRelativePath(e.file, false)}:` : 'line '}${e.line}`
            : '';
        const verb = e?.kind === 'compile' ? 'did not compile' : 'threw';
        messages.notify('error', `${s.label} ${verb}${where}: ${e?.message ?? 'error'}`, 'Show output');
        break;
      }
      case 'oom':
        messages.notify(
          'error',
          `The worker running ${s.label} ran out of memory (limit ${s.memoryMb} MB, setting batchnormInspector.workerMemoryMb): the session ended.${kept}`,
          'Show output',
        );
        break;
      case 'crashed':
        messages.notify(
          'error',
          `The worker running ${s.label} died${e?.message ? ` (${e.message})` : ''}: the session ended.${kept}`,
          'Show output',
        );
        break;
      case 'timeout':
        messages.notify('warning', `${s.label} timed out: the session ended.${kept}`, 'Show output');
        break;
      default:
        break;
    }
    this.changed();
  }

  /** for deactivate(): resolves once every worker has ended */
  async stopAll(): Promise<void> {
    await Promise.all([...this.liveSessions().map((s) => s.stop('deactivate')), disposeEnginePool()]);
  }

  dispose(): void {
    this.disposed = true;
    if (this.prewarmTimer) clearTimeout(this.prewarmTimer);
    this.editorWatch.dispose();
    void disposeEnginePool();
    for (const s of this.byScript.values()) s.dispose('deactivate');
    this.byScript.clear();
    this._onDidChange.dispose();
    this._onDidChangeCurrent.dispose();
    this._onDidStartSession.dispose();
  }
}

/** the semantics setting for a script (an unknown value falls back to the default, tfjs) */
export function semanticsSetting(uri: vscode.Uri | undefined): Semantics {
  const v = vscode.workspace.getConfiguration('batchnormInspector', uri).get<string>('semantics', 'tfjs');
  return isSemantics(v) ? v : 'tfjs';
}

function settings(uri: vscode.Uri): {
  backend: Backend;
  semantics: Semantics;
  memoryMb: number;
  historySteps: number;
} {
  const c = vscode.workspace.getConfiguration('batchnormInspector', uri);
  const backend = c.get<string>('backend', 'wasm') === 'cpu' ? 'cpu' : 'wasm';
  const semantics = semanticsSetting(uri);
  const memoryMb = Math.max(128, Math.floor(c.get<number>('workerMemoryMb', 2048)));
  const historySteps = Math.max(10, Math.floor(c.get<number>('historySteps', 1000)));
  return { backend, semantics, memoryMb, historySteps };
}
