/**
 * One run of one script: one engine worker, its state, its bounded step history, its output.
 * A restart makes a new ScriptSession (the controller keeps one per script).
 *
 * Each step's buffer is kept exactly as the engine delivered it (the worker packed it once); only its header
 * (line, hit, layer flags …) is read here, for the status bar, code lenses and diagnostics. The panel posts
 * those same buffers to the webview, which decodes them. The sentences that describe the session are in
 * sessionStatus.ts.
 *
 * ScriptSession (about 270 lines) stays one unit: it is the state of one run, the events that announce each
 * change of that state, and the two commands (resume, stop) that change it; every event is fired from one of
 * its own state transitions, so splitting it would spread one state machine over several files.
 */
import * as vscode from 'vscode';
import type {
  Backend,
  PausePolicy,
  ScriptError,
  Semantics,
  SessionInfo,
  SessionState,
  StepPoint,
  StepSnapshot,
} from '../shared/protocol';
import { unpackStep, type StepHeader } from '../shared/snapshotCodec';
import { samePath, startEngine, type EngineHandle, type EngineRunResult, type PackedStep } from './engine';
import { StepHistory } from './history';
import { endText, statusText } from './sessionStatus';

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
  /** whose BatchNormalization rules the run follows (setting batchnormInspector.semantics) */
  semantics?: Semantics;
  memoryMb: number;
  workerPath: string;
  /** working directory of the script's process: the script's workspace folder (relative paths resolve there) */
  cwd?: string;
  historySteps: number;
  historyBytes: number;
}

export type EndReason = EngineRunResult['reason'];

/** a step point reached only while building a model; `point` indexes `stepPoints[file]` */
export interface ModelBuildingPoint {
  file: string;
  point: number;
  line: number;
}

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
  readonly semantics: Semantics;
  readonly memoryMb: number;
  readonly workerPath: string;
  readonly cwd: string | undefined;
  readonly startedAt = Date.now();

  state: SessionState = 'starting';
  backend: Backend | null = null;
  tfjs: string | null = null;
  error: ScriptError | null = null;
  endReason: EndReason | null = null;
  /** step points per user file, from the worker's `compiled` message */
  stepPoints: Record<string, StepPoint[]> = {};
  /** step points the engine reported as reached only while building a model (not steps), in the order reported */
  modelBuilding: ModelBuildingPoint[] = [];
  output = '';
  outputTruncated = false;
  readonly history: StepHistory;
  /** the newest step's header (every scalar of the step, vectors as [offset, length]), null before the first */
  lastStep: StepHeader | null = null;
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
    /** the step's header */
    step: StepHeader;
    /** the step as the worker packed it: the same buffer the history keeps */
    buffer: ArrayBuffer;
  }>();
  readonly onDidStep = this._onDidStep.event;
  private readonly _onDidOutput = new vscode.EventEmitter<{ text: string; stream: 'stdout' | 'stderr' }>();
  readonly onDidOutput = this._onDidOutput.event;
  private readonly _onDidEnd = new vscode.EventEmitter<ScriptSession>();
  readonly onDidEnd = this._onDidEnd.event;
  private readonly _onDidBuildModel = new vscode.EventEmitter<ModelBuildingPoint>();
  /** the engine reached a step point that only built a model (once per step point) */
  readonly onDidBuildModel = this._onDidBuildModel.event;

  constructor(opts: SessionOptions) {
    this.uri = opts.uri;
    this.scriptPath = opts.uri.fsPath;
    this.label = opts.label;
    this.sourceText = opts.sourceText;
    this.docVersion = opts.docVersion;
    this.initialPause = opts.pause;
    this.backendRequested = opts.backend;
    this.semantics = opts.semantics ?? 'tfjs';
    this.memoryMb = opts.memoryMb;
    this.workerPath = opts.workerPath;
    this.cwd = opts.cwd;
    this.history = new StepHistory(opts.historySteps, opts.historyBytes);
    this.runToken++;
    this.engine = startEngine(
      {
        scriptPath: this.scriptPath,
        sourceText: opts.sourceText,
        backend: opts.backend,
        semantics: this.semantics,
        pause: opts.pause,
        memoryMb: opts.memoryMb,
        workerPath: opts.workerPath,
        cwd: opts.cwd,
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
        modelBuilding: (info) => {
          if (this.state === 'ended') return;
          this.modelBuilding.push(info);
          this._onDidBuildModel.fire(info);
        },
        end: (result) => this.onEnd(result),
      },
    );
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
  get pausedStep(): StepHeader | null {
    return this.state === 'paused' ? this.lastStep : null;
  }

  private onStep({ buffer, header }: PackedStep, paused: boolean): void {
    if (this.state === 'ended') return;
    this.history.push(header.index, buffer);
    this.lastStep = header;
    const wasState = this.state;
    this.state = paused ? 'paused' : 'running';
    this._onDidStep.fire({ session: this, step: header, buffer });
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

  /** the engine reported the step point at `line` of `file` as model building in this run */
  builtModelAt(file: string, line: number): boolean {
    return this.modelBuilding.some((m) => m.line === line && samePath(m.file, file));
  }

  /** the newest step's packed buffer (the history always keeps the newest), null before the first step */
  lastStepBuffer(): ArrayBuffer | null {
    const entries = this.history.entries();
    const last = entries[entries.length - 1];
    return last && this.lastStep && last.index === this.lastStep.index ? last.buffer : null;
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

  /** a short sentence for the status bar and the panel, e.g. "paused at line 14 · step 3 · hit 2" */
  statusText(): string {
    return statusText(this);
  }

  /** how the run ended, in words */
  endText(): string {
    return endText(this);
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
      semantics: this.semantics,
    };
  }

  /** stops the worker (if any); listeners still hear the end, then the emitters go */
  dispose(by: NonNullable<ScriptSession['stoppedBy']> = 'closed'): void {
    void this.stop(by).then(() => {
      this._onDidChangeState.dispose();
      this._onDidStep.dispose();
      this._onDidOutput.dispose();
      this._onDidEnd.dispose();
      this._onDidBuildModel.dispose();
    });
  }
}
