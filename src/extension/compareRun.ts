/**
 * The compare run: a second engine run of a session's script (the same text, the same backend) under another
 * semantics, kept in lockstep with the session by step index.
 *
 * How lockstep works: the compare run starts from the top with `{ kind: 'next' }` and is resumed one step at a
 * time until its step index reaches the target (the index of the step the session is paused at). It never runs
 * ahead: the target only grows while the session runs on, and the compare run pauses at every step. Both runs are
 * fresh runs of the same text, and the engine seeds the script's Math.random the same way in every run, so the
 * compare run's step k is the k-th step of the same program under the other rules; the session is never restarted
 * for it. When the session ends by itself, the compare run is brought to the session's last step and then stopped;
 * `stop()` ends it at once (the session was stopped, restarted or closed, or the user ended the compare).
 */
import * as vscode from 'vscode';
import type { Backend, CompareInfo, ScriptError, Semantics, SessionState } from '../shared/protocol';
import { SEMANTICS_LABEL } from '../shared/semantics';
import type { StepHeader } from '../shared/snapshotCodec';
import { startEngine, type EngineHandle, type EngineRunResult, type PackedStep } from './engine';
import { StepHistory } from './history';
import type { EndReason } from './session';
import { endText } from './sessionStatus';

export interface CompareRunOptions {
  scriptPath: string;
  /** the session's text (what the session ran, unsaved edits included) */
  sourceText: string;
  /** the backend the session ran on */
  backend: Backend;
  semantics: Semantics;
  memoryMb: number;
  workerPath: string;
  /** the session's working directory (its workspace folder) */
  cwd?: string;
  historySteps: number;
  historyBytes: number;
  /** the step index to reach first (0: none yet, the run pauses at its first step) */
  target: number;
}

export class CompareRun implements vscode.Disposable {
  readonly semantics: Semantics;
  readonly memoryMb: number;
  readonly history: StepHistory;
  state: SessionState = 'starting';
  error: ScriptError | null = null;
  endReason: EndReason | null = null;
  lastStep: StepHeader | null = null;
  /** how the run was ended from outside: 'session' = brought to the session's last step, then stopped */
  stoppedBy: 'stop' | 'session' | null = null;
  /** the step index the run goes to (the session's); Infinity never (the run does not run ahead) */
  private target: number;
  /** stop once the target is reached (the session has ended) */
  private finishing = false;
  private engine: EngineHandle | null = null;
  private waiters: (() => void)[] = [];
  private endWaiters: (() => void)[] = [];

  private readonly _onDidChange = new vscode.EventEmitter<CompareRun>();
  /** started, settled at the target, ended (not fired for the steps of a catch-up) */
  readonly onDidChange = this._onDidChange.event;
  private readonly _onDidStep = new vscode.EventEmitter<{ run: CompareRun; step: StepHeader; buffer: ArrayBuffer }>();
  readonly onDidStep = this._onDidStep.event;

  constructor(o: CompareRunOptions) {
    this.semantics = o.semantics;
    this.memoryMb = o.memoryMb;
    this.target = o.target;
    this.history = new StepHistory(o.historySteps, o.historyBytes);
    this.engine = startEngine(
      {
        scriptPath: o.scriptPath,
        sourceText: o.sourceText,
        backend: o.backend,
        semantics: o.semantics,
        pause: { kind: 'next' },
        memoryMb: o.memoryMb,
        workerPath: o.workerPath,
        cwd: o.cwd,
      },
      {
        compiled: () => {
          if (this.state !== 'starting') return;
          this.state = 'running';
          this._onDidChange.fire(this);
        },
        step: (step, paused) => this.onStep(step, paused),
        console: () => {}, // the session shows the script's output; the compare run's is the same script's
        end: (r) => this.onEnd(r),
      },
    );
  }

  get live(): boolean {
    return this.state !== 'ended';
  }
  /** starting, or running towards its target */
  get busy(): boolean {
    return this.state === 'starting' || this.state === 'running';
  }
  get stepCount(): number {
    return this.history.total;
  }
  get stepIndex(): number {
    return this.lastStep?.index ?? 0;
  }

  private onStep({ buffer, header }: PackedStep, paused: boolean): void {
    if (this.state === 'ended') return;
    this.history.push(header.index, buffer);
    this.lastStep = header;
    this._onDidStep.fire({ run: this, step: header, buffer });
    if (paused && !this.stoppedBy) this.advance();
  }

  /** paused at a step: go on to the target, or settle there (and stop, if the session has ended) */
  private advance(): void {
    if (this.stepIndex < this.target && this.engine) {
      this.state = 'running';
      this.engine.resume({ kind: 'next' });
      return;
    }
    if (this.finishing) {
      this.stoppedBy ??= 'session';
      this.engine?.stop();
      return;
    }
    this.state = 'paused';
    this._onDidChange.fire(this);
    this.flushWaiters();
  }

  private onEnd(r: EngineRunResult): void {
    if (this.state === 'ended') return;
    this.engine = null;
    this.state = 'ended';
    this.endReason = r.reason;
    this.error = r.error;
    this._onDidChange.fire(this);
    this.flushWaiters();
    for (const w of this.endWaiters.splice(0)) w();
  }

  private flushWaiters(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** the session paused at step `index`: go there (a paused run resumes at once) */
  follow(index: number): void {
    if (index <= this.target) return;
    this.target = index;
    if (this.state === 'paused') this.advance();
  }

  /** the session ended by itself after step `index`: go there, then stop */
  finishAt(index: number): void {
    this.target = Math.max(this.target, index);
    this.finishing = true;
    if (this.state === 'paused') this.advance();
  }

  /** resolves when the run is paused at its target or has ended */
  settled(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** ends the worker now; resolves when the engine reported the end */
  stop(): Promise<void> {
    if (this.state === 'ended') return Promise.resolve();
    this.stoppedBy ??= 'stop';
    const done = this.ended();
    this.engine?.stop();
    return done;
  }

  /** resolves when the worker is gone */
  ended(): Promise<void> {
    if (this.state === 'ended') return Promise.resolve();
    return new Promise((r) => this.endWaiters.push(r));
  }

  info(sessionStep: number): CompareInfo {
    return { semantics: this.semantics, state: this.state, error: this.error, status: this.statusText(sessionStep) };
  }

  /** e.g. "Keras: at step 3, in lockstep", "PyTorch: threw at line 9: … (after step 2; the session is at step 4)" */
  statusText(sessionStep: number): string {
    const name = SEMANTICS_LABEL[this.semantics];
    const k = this.stepIndex;
    switch (this.state) {
      case 'idle':
      case 'starting':
        return `${name}: starting…`;
      case 'running':
        return this.target > k ? `${name}: catching up, step ${k} of ${this.target}` : `${name}: running…`;
      case 'paused':
        return k === sessionStep ? `${name}: at step ${k}, in lockstep` : `${name}: at step ${k}`;
      case 'ended': {
        if (this.endReason === 'stopped' && this.stoppedBy === 'session')
          return `${name}: stopped at step ${k}, where the session ended`;
        const how = endText({
          state: this.state,
          stepCount: this.stepCount,
          lastStep: this.lastStep,
          endReason: this.endReason,
          error: this.error,
          stoppedBy: this.stoppedBy === 'stop' ? 'stop' : null,
          memoryMb: this.memoryMb,
        });
        const behind = k < sessionStep ? `; the session is at step ${sessionStep}` : '';
        return `${name}: ${how} (after step ${k}${behind})`;
      }
    }
  }

  dispose(): void {
    void this.stop().then(() => {
      this._onDidChange.dispose();
      this._onDidStep.dispose();
    });
  }
}
