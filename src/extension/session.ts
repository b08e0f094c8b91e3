/**
 * One run of one script: one engine worker, its state, its bounded step history, its output.
 * A restart makes a new ScriptSession (the controller keeps one per script).
 */
import * as vscode from 'vscode';
import type {
  Backend,
  PausePolicy,
  ScriptError,
  SessionInfo,
  SessionState,
  StepPoint,
  StepSnapshot,
} from '../shared/protocol';
import { packStep, unpackStep } from '../shared/snapshotCodec';
import { startEngine, type EngineHandle, type EngineRunResult } from './engine';
import { StepHistory } from './history';

export interface SessionOptions {
  /** the script's document uri (scheme file) */
  uri: vscode.Uri;
  /** workspace-relative label */
  label: string;
  /** the text that runs (the editor's current text, unsaved edits included) */
  sourceText: string;
  /** the document version that text came from */
  docVersion: number;
  pause: PausePolicy;
  backend: Backend;
  memoryMb: number;
  workerPath: string;
  historySteps: number;
  historyBytes: number;
}

export type EndReason = EngineRunResult['reason'];

const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;
let nextId = 1;

export class ScriptSession implements vscode.Disposable {
  readonly id = nextId++;
  readonly uri: vscode.Uri;
  readonly scriptPath: string;
  readonly label: string;
  readonly sourceText: string;
  readonly docVersion: number;
  readonly initialPause: PausePolicy;
  readonly backendRequested: Backend;
  readonly memoryMb: number;
  readonly startedAt = Date.now();

  state: SessionState = 'starting';
  backend: Backend | null = null;
  tfjs: string | null = null;
  error: ScriptError | null = null;
  endReason: EndReason | null = null;
  /** step points per user file, from the worker's `compiled` message */
  stepPoints: Record<string, StepPoint[]> = {};
  output = '';
  outputTruncated = false;
  readonly history: StepHistory;
  /** the newest step (unpacked), null before the first */
  lastStep: StepSnapshot | null = null;
  /** increments each time the session starts or resumes running (the controller's progress notifications use it) */
  runToken = 0;
  /** the session was ended by the user (Stop / Cancel), and how */
  stoppedBy: 'stop' | 'cancel' | 'closed' | 'restart' | 'deactivate' | null = null;
  /** the engine's end arrived (its worker is gone) */
  workerExited = false;

  private engine: EngineHandle | null = null;
  private waiters: (() => void)[] = [];
  private endWaiters: (() => void)[] = [];

  private readonly _onDidChangeState = new vscode.EventEmitter<ScriptSession>();
  /** state, backend, error … changed (not fired for every step while running) */
  readonly onDidChangeState = this._onDidChangeState.event;
  private readonly _onDidStep = new vscode.EventEmitter<{
    session: ScriptSession;
    step: StepSnapshot;
    buffer: ArrayBuffer;
  }>();
  readonly onDidStep = this._onDidStep.event;
  private readonly _onDidOutput = new vscode.EventEmitter<{ text: string; stream: 'stdout' | 'stderr' }>();
  readonly onDidOutput = this._onDidOutput.event;
  private readonly _onDidEnd = new vscode.EventEmitter<ScriptSession>();
  readonly onDidEnd = this._onDidEnd.event;

  constructor(opts: SessionOptions) {
    this.uri = opts.uri;
    this.scriptPath = opts.uri.fsPath;
    this.label = opts.label;
    this.sourceText = opts.sourceText;
    this.docVersion = opts.docVersion;
    this.initialPause = opts.pause;
    this.backendRequested = opts.backend;
    this.memoryMb = opts.memoryMb;
    this.history = new StepHistory(opts.historySteps, opts.historyBytes);
    this.runToken++;
    try {
      this.engine = startEngine(
        {
          scriptPath: this.scriptPath,
          sourceText: opts.sourceText,
          backend: opts.backend,
          pause: opts.pause,
          memoryMb: opts.memoryMb,
          workerPath: opts.workerPath,
        },
        {
          compiled: (info) => {
            this.stepPoints = info.stepPoints;
            this.tfjs = info.tfjs;
            this.backend = info.backend;
            if (this.state === 'starting') this.state = 'running';
            this._onDidChangeState.fire(this);
          },
          step: (step, paused) => this.onStep(step, paused),
          console: (text, stream) => {
            if (this.output.length < MAX_OUTPUT_CHARS) this.output += text;
            else this.outputTruncated = true;
            this._onDidOutput.fire({ text, stream });
          },
          end: (result) => this.onEnd(result),
        },
      );
    } catch (e) {
      // the worker could not even start: end at once, as the engine would
      queueMicrotask(() =>
        this.onEnd({
          reason: 'crashed',
          error: {
            message: `could not start the worker: ${(e as Error).message}`,
            line: null,
            column: null,
            stack: String((e as Error).stack ?? e),
            kind: 'crash',
          },
          steps: [],
          output: '',
          tfjs: null,
          backend: opts.backend,
        }),
      );
    }
  }

  get busy(): boolean {
    return this.state === 'starting' || this.state === 'running';
  }
  get live(): boolean {
    return this.state !== 'ended';
  }
  get stepCount(): number {
    return this.history.total;
  }
  /** the step the worker is paused after, or null */
  get pausedStep(): StepSnapshot | null {
    return this.state === 'paused' ? this.lastStep : null;
  }

  private onStep(step: StepSnapshot, paused: boolean): void {
    if (this.state === 'ended') return;
    const buffer = packStep(step);
    this.history.push(step.index, buffer);
    // keep our own unpacked copy: views over our buffer, independent of what the engine reuses
    this.lastStep = unpackStep(buffer);
    const wasState = this.state;
    this.state = paused ? 'paused' : 'running';
    this._onDidStep.fire({ session: this, step: this.lastStep, buffer });
    if (paused || wasState !== this.state) this._onDidChangeState.fire(this);
    if (paused) this.flushWaiters();
  }

  private onEnd(result: EngineRunResult): void {
    if (this.state === 'ended') return;
    this.engine = null;
    this.workerExited = true;
    this.state = 'ended';
    this.endReason = result.reason;
    this.error = result.error;
    if (!this.tfjs && result.tfjs) this.tfjs = result.tfjs;
    if (!this.backend) this.backend = result.backend;
    this._onDidChangeState.fire(this);
    this._onDidEnd.fire(this);
    this.flushWaiters();
    for (const w of this.endWaiters.splice(0)) w();
  }

  private flushWaiters(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** resolves when the session is next paused or has ended (at once if it is not running) */
  settled(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** resolves when the worker is gone */
  ended(): Promise<void> {
    if (this.state === 'ended') return Promise.resolve();
    return new Promise((r) => this.endWaiters.push(r));
  }

  resume(pause: PausePolicy): boolean {
    if (this.state !== 'paused' || !this.engine) return false;
    this.state = 'running';
    this.runToken++;
    this.engine.resume(pause);
    this._onDidChangeState.fire(this);
    return true;
  }

  /** ends the worker; the snapshots stay. Resolves when the engine reported the end. */
  stop(by: NonNullable<ScriptSession['stoppedBy']> = 'stop'): Promise<void> {
    if (this.state === 'ended') return Promise.resolve();
    if (!this.stoppedBy) this.stoppedBy = by;
    const done = this.ended();
    this.engine?.stop();
    return done;
  }

  /** every step kept in the history, unpacked, oldest first */
  allSteps(): StepSnapshot[] {
    return this.history.entries().map((e) => unpackStep(e.buffer));
  }

  statusText(): string {
    const n = this.stepCount;
    const steps = `${n} step${n === 1 ? '' : 's'}`;
    switch (this.state) {
      case 'idle':
        return 'idle';
      case 'starting':
        return 'starting…';
      case 'running':
        return n ? `running · ${steps}` : 'running…';
      case 'paused': {
        const s = this.lastStep!;
        return `paused at line ${s.line} · step ${s.index} · hit ${s.hit}`;
      }
      case 'ended':
        return `${this.endText()} · ${steps}`;
    }
  }

  endText(): string {
    const e = this.error;
    switch (this.endReason) {
      case 'done':
        return 'ran to the end';
      case 'stopped':
        return this.stoppedBy === 'cancel'
          ? 'cancelled'
          : this.stoppedBy === 'closed'
            ? 'stopped (editor closed)'
            : 'stopped';
      case 'error':
        if (e?.kind === 'compile') return `did not compile${e.line ? ` (line ${e.line})` : ''}: ${e.message}`;
        return `threw${e?.line ? ` at line ${e.line}` : ''}: ${e?.message ?? 'error'}`;
      case 'oom':
        return `the worker ran out of memory (limit ${this.memoryMb} MB)`;
      case 'crashed':
        return `the worker died${e?.message ? `: ${e.message}` : ''}`;
      case 'timeout':
        return 'timed out';
      case 'maxSteps':
        return 'step limit reached';
      default:
        return 'ended';
    }
  }

  info(): SessionInfo {
    return {
      script: this.scriptPath,
      scriptLabel: this.label,
      state: this.state,
      backend: this.backend,
      tfjs: this.tfjs,
      error: this.error,
      status: this.statusText(),
    };
  }

  /** stops the worker (if any); listeners still hear the end, then the emitters go */
  dispose(by: NonNullable<ScriptSession['stoppedBy']> = 'closed'): void {
    void this.stop(by).then(() => {
      this._onDidChangeState.dispose();
      this._onDidStep.dispose();
      this._onDidOutput.dispose();
      this._onDidEnd.dispose();
    });
  }
}
