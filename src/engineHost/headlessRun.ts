/**
 * One headless run of a script to its end, as bn-inspect makes it (`run`, and each side of `compare`): an
 * EngineSession with bn-inspect's limits (--to, --max-steps, --timeout-ms), stopped at the --to step, and its
 * result told as the contract's `end` (done, to, maxSteps, error, timeout, crashed, oom) with its exit status.
 */
import type { Backend, ScriptError, Semantics } from '../shared/protocol';
import type { EngineRunResult, PackedStep } from './engineApi';
import { EngineSession } from './engineSession';
import type { RunEnd } from './runDocument';

/** the ends bn-inspect can have (an exported file can say more, see runDocument.ts) */
export type EndKind = Extract<RunEnd, 'done' | 'to' | 'maxSteps' | 'error' | 'timeout' | 'crashed' | 'oom'>;

export function exitCodeFor(end: EndKind): number {
  if (end === 'done' || end === 'to' || end === 'maxSteps') return 0;
  if (end === 'timeout') return 3;
  return 1;
}

export interface HeadlessRunOptions {
  /** absolute (real) path of the script */
  scriptPath: string;
  backend: Backend;
  semantics: Semantics;
  /** --to LINE of the script, or null */
  to: number | null;
  maxSteps: number | null;
  timeoutMs: number | null;
}

export interface HeadlessResult {
  result: EngineRunResult;
  end: EndKind;
  /** the run's error; for a run stopped before its --to step (Ctrl-C), an error of kind 'stopped' */
  error: ScriptError | null;
}

export interface HeadlessRun {
  /** stop() it to end the run early (Ctrl-C): the result then says `error`, kind `stopped` */
  session: EngineSession;
  done: Promise<HeadlessResult>;
}

/** Starts the run; `onStep` sees every step as it comes (`paused`: the run stops at it, the --to step). */
export function startHeadlessRun(
  o: HeadlessRunOptions,
  onStep?: (step: PackedStep, paused: boolean) => void,
): HeadlessRun {
  const session = new EngineSession({
    scriptPath: o.scriptPath,
    backend: o.backend,
    semantics: o.semantics,
    pause: o.to !== null ? { kind: 'line', file: o.scriptPath, line: o.to } : { kind: 'none' },
    timeoutMs: o.timeoutMs ?? undefined,
    maxSteps: o.maxSteps ?? undefined,
  });
  let reachedTo = false;
  session.on('step', (step, paused) => {
    onStep?.(step, paused);
    if (paused && o.to !== null) {
      reachedTo = true;
      void session.stop();
    }
  });
  const done = session.run().then((result): HeadlessResult => {
    let end: EndKind;
    switch (result.reason) {
      case 'stopped':
        end = reachedTo ? 'to' : 'error';
        break;
      case 'maxSteps':
        end = 'maxSteps';
        break;
      case 'done':
      case 'error':
      case 'timeout':
      case 'crashed':
      case 'oom':
        end = result.reason;
        break;
    }
    let error = result.error;
    if (result.reason === 'stopped' && !reachedTo)
      error = { kind: 'stopped', message: 'interrupted', line: null, column: null, stack: '' };
    return { result, end, error };
  });
  return { session, done };
}
