/**
 * How a run ended, decided from what the worker left behind when it exited: its 'done' message (if it
 * sent one), the 'error' event (the worker's, or processWorker.ts's account of how the run's process ended: a
 * signal, the memory budget), its exit code and the tail of its stderr.
 */
import type { ScriptError } from '../shared/protocol';
import type { StepHeader } from '../shared/snapshotCodec';

export type EndReason = 'done' | 'error' | 'stopped' | 'timeout' | 'maxSteps' | 'crashed' | 'oom';

export interface RunEndState {
  reason: EndReason;
  /** script error (compile or run), or a description of timeout / crash / oom; null when it ran to its end or was stopped */
  error: ScriptError | null;
}

export interface WorkerExit {
  code: number;
  /** the worker's 'done' message, null if it never sent one */
  done: { error: ScriptError | null } | null;
  /** the Worker's 'error' event, if any */
  workerError: (Error & { code?: string }) | null;
  stderrTail: string;
  memoryMb: number;
  stepCount: number;
  lastStep: StepHeader | null;
}

const plural = (n: number) => `${n} step${n === 1 ? '' : 's'}`;

export function endOfWorker(x: WorkerExit): RunEndState {
  if (x.done) {
    const err = x.done.error;
    if (err && err.kind === 'stopped') return { reason: 'stopped', error: null };
    if (err && err.kind === 'crash') return { reason: 'crashed', error: err };
    return { reason: err ? 'error' : 'done', error: err };
  }
  const we = x.workerError;
  if (we?.code === 'ERR_WORKER_OUT_OF_MEMORY')
    return {
      reason: 'oom',
      error: {
        kind: 'oom',
        message: we.message.startsWith("the script's process")
          ? `${we.message} after ${plural(x.stepCount)}`
          : `the script ran out of memory (JS heap limit ${x.memoryMb} MB) after ${plural(x.stepCount)}`,
        line: x.lastStep?.line ?? null,
        column: x.lastStep?.column ?? null,
        file: x.lastStep?.file ?? null,
        stack: String(we.stack ?? we.message),
      },
    };
  // the script called process.exit(0), or the worker ended without its 'done' message
  if (x.code === 0 && !we) return { reason: 'done', error: null };
  // the worker reports its own failures ('done' first): an exit code without it is the script's process.exit(n)
  if (!we)
    return {
      reason: 'error',
      error: {
        kind: 'run',
        message: `the script called process.exit(${x.code}) after ${plural(x.stepCount)}`,
        line: null,
        column: null,
        stack: x.stderrTail.trim(),
      },
    };
  return {
    reason: 'crashed',
    error: {
      kind: 'crash',
      message: we.message.startsWith("the script's process")
        ? `${we.message}, after ${plural(x.stepCount)}`
        : `the engine worker crashed: ${we.message}`,
      line: null,
      column: null,
      stack: String(we.stack ?? we.message),
    },
  };
}
