/** The sentences that describe a session: its state for the status bar and the panel, and how it ended. */
import type { ScriptError, SessionState } from '../shared/protocol';
import type { StepHeader } from '../shared/snapshotCodec';
import type { EndReason } from '../engineHost/engineApi';

/** what the sentences read of a session (ScriptSession has it all) */
export interface SessionFacts {
  state: SessionState;
  stepCount: number;
  lastStep: StepHeader | null;
  endReason: EndReason | null;
  error: ScriptError | null;
  stoppedBy: 'stop' | 'cancel' | 'closed' | 'restart' | 'deactivate' | null;
  memoryMb: number;
}

export function statusText(s: SessionFacts): string {
  const n = s.stepCount;
  const steps = `${n} step${n === 1 ? '' : 's'}`;
  switch (s.state) {
    case 'idle':
      return 'idle';
    case 'starting':
      return 'starting…';
    case 'running':
      return n ? `running · ${steps}` : 'running…';
    case 'paused': {
      const l = s.lastStep!;
      return `paused at line ${l.line} · step ${l.index} · hit ${l.hit}`;
    }
    case 'ended':
      return `${endText(s)} · ${steps}`;
  }
}

export function endText(s: SessionFacts): string {
  const e = s.error;
  switch (s.endReason) {
    case 'done':
      return 'ran to the end';
    case 'stopped':
      return s.stoppedBy === 'cancel' ? 'cancelled' : s.stoppedBy === 'closed' ? 'stopped (editor closed)' : 'stopped';
    case 'error':
      if (e?.kind === 'compile') return `did not compile${e.line ? ` (line ${e.line})` : ''}: ${e.message}`;
      return `threw${e?.line ? ` at line ${e.line}` : ''}: ${e?.message ?? 'error'}`;
    case 'oom':
      return `the worker ran out of memory (limit ${s.memoryMb} MB)`;
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
