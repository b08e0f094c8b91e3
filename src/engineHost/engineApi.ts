/**
 * The engine host's API: what a run is given (EngineSessionOptions), what it tells (EngineSessionEvents) and what
 * it ends with (EngineRunResult). Implemented by EngineSession (engineSession.ts).
 */
import type { Backend, PausePolicy, ScriptError, Semantics, StepPoint } from '../shared/protocol';
import type { StepHeader } from '../shared/snapshotCodec';
import type { RunnerPool } from './runnerPool';
import type { EndReason } from './workerEnd';

export type { EndReason };

/** One step as the worker sent it: its packed buffer, untouched, and that buffer's header (no vector decoded). */
export interface PackedStep {
  readonly buffer: ArrayBuffer;
  readonly header: StepHeader;
}

export interface EngineSessionOptions {
  /** absolute path of the entry script */
  scriptPath: string;
  /** run this text instead of the entry file's contents (unsaved editor edits); imports still come from disk */
  sourceText?: string;
  backend?: Backend; // default 'wasm'
  /** whose BatchNormalization rules the layers follow (contract "Semantics"); default 'tfjs' */
  semantics?: Semantics;
  /** where to pause first; default { kind: 'none' } */
  pause?: PausePolicy;
  /** limit on the script's running time (from 'compiled'; pauses not counted); on expiry the worker is terminated and the run ends with reason 'timeout' */
  timeoutMs?: number;
  /** stop (terminate) after this many steps; the run ends with reason 'maxSteps' */
  maxSteps?: number;
  /**
   * memory budget of the run's process in MB (default 4096): its resident set (JS heap, tensors, wasm memory) and the
   * worker's JS heap limit; over it the run ends with reason 'oom'
   */
  memoryMb?: number;
  /** keep every step in `EngineRunResult.steps` (default true); the extension keeps its own bounded history and sets false */
  keepSteps?: boolean;
  /**
   * working directory of the script's process (relative paths, `file://./x`, `process.cwd()`); default: the
   * host's. The editor passes the script's workspace folder.
   */
  cwd?: string;
  /** path of dist/worker.js; default: worker.js next to the running bundle */
  workerPath?: string;
  /** path of dist/runner.js (the run's own process); default: runner.js next to the worker, else the bundle */
  runnerPath?: string;
  /**
   * warm spare runners (runnerPool.ts): the run takes the pool's spare if it is prepared for this run's backend,
   * memory budget and paths, else forks its own process as without a pool
   */
  pool?: RunnerPool;
}

export interface EngineRunResult {
  reason: EndReason;
  /** script error (compile or run), or a description of timeout / crash / oom; null when it ran to its end or was stopped */
  error: ScriptError | null;
  /** every step, in order, as packed by the worker (empty when `keepSteps` is false) */
  steps: PackedStep[];
  output: string;
  tfjs: string | null;
  backend: Backend;
  /** the semantics the run followed (the option, default 'tfjs') */
  semantics: Semantics;
  /** CPU time (user + system, ms) of the run's process, start-up included; null when it did not end by itself */
  cpuMs?: number | null;
}

export interface EngineSessionEvents {
  compiled(info: { stepPoints: Record<string, StepPoint[]>; tfjs: string; backend: Backend }): void;
  /** every step, in order; `paused` = the worker now waits for resume()/stop() */
  step(step: PackedStep, paused: boolean): void;
  console(text: string, stream: 'stdout' | 'stderr'): void;
  /**
   * a step point was reached but only built a model (no tensor computed): not a step. Once per step point, the
   * first time (see WorkerToHost 'modelBuilding'); `point` indexes `stepPoints[file]`
   */
  modelBuilding(info: { file: string; point: number; line: number }): void;
  /** exactly once */
  end(result: EngineRunResult): void;
}
