/**
 * Host side of the engine (no `vscode` import): owns one worker that runs one script, turns its
 * messages into events, and sends it commands. Used by bn-inspect (src/cli.ts) and by the
 * extension's session (src/extension/). The host is never blocked by the worker.
 *
 * STATUS: interface fixed; implementation in progress (see issue 2).
 */
import type { Backend, PausePolicy, ScriptError, StepPoint, StepSnapshot } from '../shared/protocol';

export interface EngineSessionOptions {
  /** absolute path of the entry script */
  scriptPath: string;
  /** run this text instead of the entry file's contents (unsaved editor edits); imports still come from disk */
  sourceText?: string;
  backend?: Backend; // default 'wasm'
  /** where to pause first; default { kind: 'none' } */
  pause?: PausePolicy;
  /** wall-clock limit for the whole run; on expiry the worker is terminated and the run ends with kind 'timeout' */
  timeoutMs?: number;
  /** stop (terminate) after this many steps; the run ends with reason 'maxSteps' */
  maxSteps?: number;
  /** worker heap limit (resourceLimits.maxOldGenerationSizeMb); default 4096 */
  memoryMb?: number;
  /** path of dist/worker.js; default: worker.js next to the running bundle */
  workerPath?: string;
}

export type EndReason = 'done' | 'error' | 'stopped' | 'timeout' | 'maxSteps' | 'crashed' | 'oom';

export interface EngineRunResult {
  reason: EndReason;
  /** script error (compile or run), or a description of timeout / crash / oom; null when it ran to its end or was stopped */
  error: ScriptError | null;
  steps: StepSnapshot[];
  output: string;
  tfjs: string | null;
  backend: Backend;
}

export interface EngineSessionEvents {
  compiled(info: { stepPoints: Record<string, StepPoint[]>; tfjs: string; backend: Backend }): void;
  /** every step, in order; `paused` = the worker now waits for resume()/stop() */
  step(step: StepSnapshot, paused: boolean): void;
  console(text: string, stream: 'stdout' | 'stderr'): void;
  /** exactly once */
  end(result: EngineRunResult): void;
}
