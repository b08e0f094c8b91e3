/**
 * The one protocol module shared by the three faces of BatchNorm Inspector:
 * the worker engine (src/worker), its Node hosts (src/engineHost: the CLI; src/extension) and the webview (webview/).
 *
 * - Snapshot types: what a step records about every BatchNormalization layer (the contract's fields,
 *   see docs/headless-contract.md, schema `bn-inspector/v1`).
 * - Worker <-> host messages.
 * - Host <-> webview messages.
 *
 * A step travels as ONE packed ArrayBuffer (see snapshotCodec.ts), never as JSON arrays: the buffer the worker
 * makes is the one the webview decodes; the hosts in between keep it as it came and read only its header.
 * This file has no imports: it must load in Node, in a worker and in a browser.
 * One unit of ~280 lines, on purpose: every message of every boundary in one place (the project's one protocol).
 */

export const SCHEMA = 'bn-inspector/v1';

export type Backend = 'wasm' | 'cpu';

/**
 * Whose BatchNormalization rules the layers follow in a run (contract: "Semantics"; names, sentences and the rules
 * as data: semantics.ts). 'tfjs' is what tfjs 4.22 does; the others change the real computation of the run.
 */
export type Semantics = 'tfjs' | 'keras' | 'tf-keras' | 'pytorch';

export type WarningCode = 'TRAINABLE_FALSE_STILL_UPDATES' | 'BATCH_OF_ONE' | 'NON_FINITE' | 'STALE_MOVING_STATS';

export interface LayerWarning {
  code: WarningCode;
  message: string;
}

/**
 * The snapshot types are generic in how a vector is held: `Float32Array` once decoded (the default), or
 * `VectorRef` (where it lies in a packed step's buffer) in a packed step's header (snapshotCodec.ts).
 */
export type VectorRef = [offset: number, length: number];

/** One call of a BN layer: what the layer saw and what it normalised with. */
export interface CallRecord<V = Float32Array> {
  /** the `training` kwarg the layer saw (missing = false) */
  training: boolean;
  /**
   * what normalised the output: "batch" when the call ran in training mode, else "moving". Under tfjs and pytorch
   * semantics that is exactly `training`; under keras / tf-keras a `trainable = false` layer runs in inference mode
   * ("moving") even when `training` is true.
   */
  statsUsed: 'batch' | 'moving';
  inputShape: number[];
  /** mean of the call's input over every axis but the channel axis (the exact tensor tfjs used when training) */
  batchMean: V;
  /** biased (divide by N) variance over the same axes */
  batchVariance: V;
}

/** A position in a user file (absolute path; 1-based line and column). */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** The state of one BatchNormalization layer at one step. */
export interface LayerSnapshot<V = Float32Array> {
  name: string;
  /** enclosing models, outermost first, then the layer's name; [name] for a bare layer */
  path: string[];
  /**
   * where the layer was constructed: the innermost stack frame in the user's own files (inside a helper
   * function: the helper's line); null for a layer made elsewhere (a loaded model)
   */
  source: SourcePosition | null;
  axis: number;
  channels: number;
  momentum: number;
  epsilon: number;
  trainable: boolean;
  /** calls of this layer since the previous step */
  calls: number;
  /** moving-average updates since the previous step */
  updates: number;
  movingMean: V;
  movingVariance: V;
  gamma: V | null;
  beta: V | null;
  /** moving mean or variance differs from the previous step (first step: from its initial value) */
  movingUpdated: boolean;
  /**
   * only in the first snapshot that lists the layer (absent or null later): its moving statistics before its first
   * call in this run (a loaded model's: the loaded, e.g. pretrained, ones; a new layer's: its initial values).
   * The panel's default baseline for drift. Not part of the JSON document.
   */
  movingBefore?: { mean: V; variance: V } | null;
  lastCall: CallRecord<V> | null;
  lastTrainingCall: CallRecord<V> | null;
  warnings: LayerWarning[];
}

/** One step: the script reached a step point and the statement finished. */
export interface StepSnapshot<V = Float32Array> {
  /** 1, 2, 3 … in order */
  index: number;
  /** 1-based line of the step point's first character, in `file` */
  line: number;
  /** 1-based column of the step point's first character */
  column: number;
  /** absolute path of the user file holding the step point (an addition to the contract) */
  file: string;
  /** how many times this step point has been reached, this reach included */
  hit: number;
  layers: LayerSnapshot<V>[];
}

/** A script error, positioned in the user's own file. */
export interface ScriptError {
  message: string;
  /** 1-based; null when the error has no position in a user file */
  line: number | null;
  column: number | null;
  stack: string;
  /** absolute path of the user file the line belongs to (an addition to the contract) */
  file?: string | null;
  /** 'compile' (the script did not build), 'run' (it threw), 'timeout', 'oom', 'crash' (the worker died) */
  kind?: 'compile' | 'run' | 'timeout' | 'oom' | 'crash' | 'stopped';
}

/** A step point found in source text (the code lenses use the same finder as the engine). */
export interface StepPoint {
  /** 1-based line of the statement's first character */
  line: number;
  /** 1-based column of the statement's first character */
  column: number;
  /** 0-based offsets of the statement in the source text */
  start: number;
  end: number;
  /** why it is a step point: the method called (`fit`, `predict`, …) or '@step' */
  reason: string;
}

// ---------------------------------------------------------------------------------------------
// Worker <-> host
// ---------------------------------------------------------------------------------------------

/**
 * The name a runner's environment carries NODE_EXTRA_CA_CERTS under: the runner starts without the variable (its
 * start-up cost) and the worker gives it back (src/worker/deferredCaCerts.ts).
 */
export const DEFERRED_CA_ENV = 'BN_INSPECTOR_DEFERRED_EXTRA_CA_CERTS';

/** Where the worker should pause next. */
export type PausePolicy =
  /** never pause (record every step and go on) */
  | { kind: 'none' }
  /** pause at the next step point reached */
  | { kind: 'next' }
  /** pause when the step point at `line` of `file` is reached (`file` absolute; line 1-based) */
  | { kind: 'line'; file: string; line: number };

/**
 * workerData given to dist/worker.js. `Port` is the runtime's MessagePort (node:worker_threads on both sides):
 * this module sees no runtime's declarations, so each side names its own.
 */
export interface WorkerInit<Port> {
  /** absolute path of the entry script */
  scriptPath: string;
  /** text of the entry script to run instead of the file's contents (unsaved editor edits) */
  sourceText?: string;
  backend: Backend;
  /** whose BatchNormalization rules the layers follow (default 'tfjs') */
  semantics?: Semantics;
  /** where the pause policy starts */
  pause: PausePolicy;
  /** Int32Array view: [0] = wake-up counter the host bumps (Atomics.notify) after posting a HostToWorker message */
  control: SharedArrayBuffer;
  /** port the host writes HostToWorker commands to; the worker reads it synchronously while paused */
  commandPort: Port;
}

/**
 * workerData of a spare worker (a warm spare runner, src/engineHost/runnerPool.ts): it sets up tfjs on `backend` and
 * warms the compiler, says 'spareReady', then waits for its script: `{ type: 'init', init }` on its parentPort.
 */
export interface WorkerSpareData<Port> {
  spare: true;
  backend: Backend;
  control: SharedArrayBuffer;
  commandPort: Port;
}

/** runner -> spare worker: the run it is now for */
export type RunnerToSpareWorker = { type: 'init'; init: Omit<WorkerInit<never>, 'control' | 'commandPort'> };

/** spare worker -> runner (not relayed as a worker message): set up, waiting for its script */
export type SpareWorkerToRunner = { type: 'spareReady' };

export type HostToWorker = { type: 'resume'; pause: PausePolicy } | { type: 'stop' };

export type WorkerToHost =
  /** the script compiled; its step points per user file (absolute path -> points) */
  | { type: 'compiled'; stepPoints: Record<string, StepPoint[]>; tfjs: string; backend: Backend }
  /** captured console output of the script, in order */
  | { type: 'console'; stream: 'stdout' | 'stderr'; text: string }
  /**
   * a step point was reached but only built a model (every layer apply/call/execute since the previous reach got
   * symbolic tensors): not a step. Posted once per step point, the first time that happens; `point` indexes
   * `stepPoints[file]`. A later real step at the same point still comes as a 'step'.
   */
  | { type: 'modelBuilding'; file: string; point: number; line: number }
  /** a step: packed StepSnapshot (snapshotCodec.packStep), handed on unchanged to the webview; `paused` = the worker now waits for a command */
  | { type: 'step'; buffer: ArrayBuffer; paused: boolean }
  /** the script finished (normally or by throwing / failing to compile) */
  | { type: 'done'; error: ScriptError | null };

// ---------------------------------------------------------------------------------------------
// Host <-> the run's own process (src/runner/runner.ts): it starts the worker and relays, over the IPC channel

/** What the runner needs to start the worker: its path, its workerData (the runner adds control and port), limits. */
export interface RunnerStart {
  workerPath: string;
  init: Omit<WorkerInit<never>, 'control' | 'commandPort'>;
  /** the worker's JS heap limit (resourceLimits.maxOldGenerationSizeMb) */
  heapMb: number;
  /** the whole process's budget (resident set: JS heap, tensors, wasm memory); over it the runner ends the run */
  memoryMb: number;
  /** the script's working directory: the runner changes to it before the script runs (a spare was forked elsewhere) */
  cwd?: string;
}

/** What a spare runner prepares before it has a run: the worker, its heap limit and backend (RunnerStart must match). */
export interface RunnerPrepare {
  workerPath: string;
  heapMb: number;
  backend: Backend;
}

export type HostToRunner =
  | { type: 'start'; start: RunnerStart }
  | { type: 'command'; command: HostToWorker }
  /** a spare: start the worker now, set up, and wait for 'start' */
  | { type: 'prepare'; prepare: RunnerPrepare };

export type RunnerToHost =
  /** a message of the worker, as it posted it */
  | { type: 'worker'; message: WorkerToHost }
  /** the Worker's 'error' event (an uncaught error the worker did not report itself, or its heap limit) */
  | { type: 'workerError'; name: string; message: string; stack: string; code: string | null }
  /** the worker thread exited with this code (the runner then exits); `cpuMs`: the process's CPU time so far */
  | { type: 'workerExit'; code: number; cpuMs: number }
  /**
   * the process got a signal that ends it (SIGTERM, SIGINT, SIGHUP: the script's `process.kill(process.pid)`, or
   * someone else's); the runner let the worker's messages so far go first, and now ends the run and itself
   */
  | { type: 'signalled'; signal: string }
  /** the process went over its memory budget: the runner ends the run (and itself) right after this */
  | { type: 'overBudget'; rssMb: number; memoryMb: number }
  /** a spare's worker is set up (tfjs, backend, compiler) and waits for its run */
  | { type: 'spareReady' };

// ---------------------------------------------------------------------------------------------
// Host <-> webview
// ---------------------------------------------------------------------------------------------

export type SessionState = 'idle' | 'starting' | 'running' | 'paused' | 'ended';

export interface SessionInfo {
  /** absolute path of the script */
  script: string;
  /** display name (workspace-relative path) */
  scriptLabel: string;
  state: SessionState;
  backend: Backend | null;
  tfjs: string | null;
  /** present when the session ended with an error */
  error: ScriptError | null;
  /** a short human sentence about the state, e.g. "paused at line 14 (step 3, hit 2)" */
  status: string;
  /** whose BatchNormalization rules this run follows */
  semantics: Semantics;
}

/**
 * A second run of the same script under another semantics, kept in lockstep with the session (it is resumed to
 * the session's step index after each of the session's steps): the compare view.
 */
export interface CompareInfo {
  /** the second run's semantics (the session's own is SessionInfo.semantics) */
  semantics: Semantics;
  state: SessionState;
  error: ScriptError | null;
  /** a short human sentence, e.g. "keras: at step 3, in lockstep" or "keras: ended at step 2 (error)" */
  status: string;
}

export type HostToWebview =
  /** the whole session so far: info + the latest steps (the worker's packed buffers, oldest first) */
  | { type: 'reset'; session: SessionInfo | null; steps: ArrayBuffer[]; thinned: number }
  /** one more step (the worker's packed buffer) */
  | { type: 'step'; buffer: ArrayBuffer }
  /** session state changed */
  | { type: 'session'; session: SessionInfo | null }
  /**
   * the compare run: its info and all its steps so far (the worker's packed buffers, oldest first), or null when
   * there is none (compare stopped, or a new session); sent on every state change of the compare run
   */
  | { type: 'compare'; compare: CompareInfo | null; steps: ArrayBuffer[] }
  /** one more step of the compare run (the worker's packed buffer); pairs with the session's step of equal index */
  | { type: 'compareStep'; buffer: ArrayBuffer };

/**
 * Buttons of the panel. `pickSemantics`: choose the semantics of the next run (quick pick in the host);
 * `compare`: choose a second semantics and start the compare run; `stopCompare`: end the compare view.
 */
export type WebviewCommand =
  'step' | 'runToCursor' | 'restart' | 'stop' | 'continue' | 'pickSemantics' | 'compare' | 'stopCompare';

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'command'; command: WebviewCommand }
  | { type: 'revealLine'; file: string; line: number }
  /** the panel rendered a step (used by tests and the render benchmark) */
  | { type: 'rendered'; stepIndex: number; ms: number };
