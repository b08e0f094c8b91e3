/**
 * The window's compare runs: at most one per script, tied to that script's session and kept in lockstep with it
 * (compareRun.ts says how). What ends or restarts a compare run:
 * - the session pauses at step k: the compare run goes to step k;
 * - the session ends by itself (ran to the end, threw …): the compare run goes to the session's last step, then stops;
 * - the session is stopped, cancelled, closed or the window goes: the compare run stops at once (its steps stay
 *   shown, as the session's do) and the compare is off for the next run of the script;
 * - the session is replaced by a new run of the script (Restart, Run to here …) while the compare is on: a new
 *   compare run starts beside the new session, under the same second semantics (none if the new session already
 *   runs under it);
 * - Stop Compare: the compare run stops and the compare view goes.
 * A compare run's worker never outlives its session's: every path that ends a session's worker ends the compare's.
 */
import * as vscode from 'vscode';
import type { Semantics } from '../shared/protocol';
import { CompareRun } from './compareRun';
import type { ScriptSession } from './session';
import type { Sessions } from './sessions';

interface Entry {
  session: ScriptSession;
  run: CompareRun;
  subs: vscode.Disposable[];
}

export class CompareRuns implements vscode.Disposable {
  /** the compare run of each script (by URI), the last one started; kept after it ended for the panel */
  private readonly byScript = new Map<string, Entry>();
  /** scripts whose next session also gets a compare run, and under which semantics */
  private readonly wanted = new Map<string, Semantics>();
  /** every compare run whose worker has not ended yet */
  private readonly live = new Set<CompareRun>();
  private readonly subs: vscode.Disposable[];
  private disposed = false;

  private readonly _onDidChange = new vscode.EventEmitter<ScriptSession>();
  /** the compare of this session started, settled, ended or went (compareOf() says which) */
  readonly onDidChange = this._onDidChange.event;
  private readonly _onDidStep = new vscode.EventEmitter<{ session: ScriptSession; buffer: ArrayBuffer }>();
  /** one more step of this session's compare run */
  readonly onDidStep = this._onDidStep.event;

  constructor(
    private readonly sessions: Sessions,
    private readonly output: vscode.OutputChannel,
  ) {
    this.subs = [sessions.onDidStartSession((s) => this.onNewSession(s))];
  }

  /** the compare run shown beside `s`, if any */
  compareOf(s: ScriptSession | undefined): CompareRun | undefined {
    const e = s && this.byScript.get(s.uri.toString());
    return e && e.session === s ? e.run : undefined;
  }

  /** compare runs whose worker has not ended */
  liveRuns(): CompareRun[] {
    return [...this.live];
  }

  /** starts (or restarts) the compare run of `s` under `semantics`; it goes to the step `s` is at */
  start(s: ScriptSession, semantics: Semantics): CompareRun {
    const key = s.uri.toString();
    this.drop(key);
    this.wanted.set(key, semantics);
    const target = s.lastStep?.index ?? 0;
    const run = new CompareRun({
      scriptPath: s.scriptPath,
      sourceText: s.sourceText,
      backend: s.backend ?? s.backendRequested,
      semantics,
      memoryMb: s.memoryMb,
      workerPath: s.workerPath,
      historySteps: s.history.maxSteps,
      historyBytes: s.history.maxBytes,
      target,
    });
    this.live.add(run);
    this.output.appendLine(
      `── ${s.label}: compare run under ${semantics} rules beside the ${s.semantics} session, to step ${target}`,
    );
    const entry: Entry = { session: s, run, subs: [] };
    entry.subs.push(
      run.onDidStep(({ buffer }) => this._onDidStep.fire({ session: s, buffer })),
      run.onDidChange(() => {
        if (!run.live) this.onRunEnd(s, run);
        this.changed(s);
      }),
      s.onDidChangeState(() => {
        if (s.state === 'paused' && s.lastStep) run.follow(s.lastStep.index);
      }),
      s.onDidEnd(() => {
        if (s.stoppedBy && s.stoppedBy !== 'restart') this.wanted.delete(key);
        if (s.stoppedBy) void run.stop();
        else run.finishAt(s.lastStep?.index ?? 0);
      }),
    );
    this.byScript.set(key, entry);
    // the session may already have ended (a compare of a finished run): catch up, then stop
    if (!s.live) run.finishAt(target);
    this.changed(s);
    return run;
  }

  /** Stop (the session's end came first): the compare run stops where it is; its steps stay shown */
  async stopRun(s: ScriptSession): Promise<void> {
    this.wanted.delete(s.uri.toString());
    await this.compareOf(s)?.stop();
  }

  /** Stop Compare: the compare run of `s`'s script stops and its view goes */
  stopCompare(s: ScriptSession): boolean {
    const key = s.uri.toString();
    this.wanted.delete(key);
    const had = this.byScript.has(key);
    this.drop(key);
    this.changed(s);
    return had;
  }

  private onRunEnd(s: ScriptSession, run: CompareRun): void {
    this.live.delete(run);
    if (this.disposed) return;
    const how = run.statusText(s.lastStep?.index ?? 0);
    this.output.appendLine(`── ${s.label} (compare run): ${how}`);
    if (run.error?.stack && (run.endReason === 'error' || run.endReason === 'crashed'))
      this.output.appendLine(run.error.stack);
  }

  /** a new session of a script: its compare run restarts beside it if the compare is on */
  private onNewSession(s: ScriptSession): void {
    const key = s.uri.toString();
    const semantics = this.wanted.get(key);
    this.drop(key);
    for (const [k, e] of this.byScript) if (this.sessions.getSession(k) !== e.session) this.drop(k);
    if (!semantics) return;
    if (semantics === s.semantics) {
      this.wanted.delete(key);
      this.output.appendLine(`── ${s.label}: the compare ends: this run follows ${semantics} rules itself`);
      return;
    }
    this.start(s, semantics);
  }

  /** stops the script's compare run (if any) and forgets it */
  private drop(key: string): void {
    const e = this.byScript.get(key);
    if (!e) return;
    this.byScript.delete(key);
    e.subs.forEach((d) => d.dispose());
    // its end still counts: the live set follows the worker, not the entry
    e.run.onDidChange(() => {
      if (!e.run.live) this.live.delete(e.run);
    });
    e.run.dispose();
  }

  private changed(s: ScriptSession): void {
    if (!this.disposed) this._onDidChange.fire(s);
  }

  /** for deactivate(): resolves once every compare worker has ended */
  async stopAll(): Promise<void> {
    await Promise.all(this.liveRuns().map((r) => r.stop()));
  }

  dispose(): void {
    this.disposed = true;
    for (const key of [...this.byScript.keys()]) this.drop(key);
    this.subs.forEach((d) => d.dispose());
    this._onDidChange.dispose();
    this._onDidStep.dispose();
  }
}
