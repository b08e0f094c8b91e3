/**
 * `bn-inspect compare`'s runs: the same script twice, under semantics a and b, with the same limits, at the same
 * time (two EngineSessions, two workers), and their steps handed on in pairs by index as soon as both runs have
 * taken the step (a run that ended leaves the other's later steps one-sided, handed on when both have ended).
 */
import type { Semantics } from '../shared/protocol';
import type { PackedStep } from './engineApi';
import { startHeadlessRun, type EndKind, type HeadlessResult, type HeadlessRunOptions } from './headlessRun';

export type CompareRunOptions = Omit<HeadlessRunOptions, 'semantics'> & {
  semantics: readonly [Semantics, Semantics];
};

export interface CompareRuns {
  a: HeadlessResult;
  b: HeadlessResult;
}

/**
 * step `index` (1-based) of run a and of run b; null for a run that ended before it. `ends`: how each run ended,
 * null while it runs (a one-sided pair comes once both have ended)
 */
export type OnPair = (
  index: number,
  a: PackedStep | null,
  b: PackedStep | null,
  ends: readonly [EndKind | null, EndKind | null],
) => void;

export interface CompareRunning {
  /** both runs' results, once both have ended (after the last onPair) */
  done: Promise<CompareRuns>;
  /** end both runs now (Ctrl-C): each says `error`, kind `stopped`, unless it had already ended */
  stop(): void;
}

export function startCompare(o: CompareRunOptions, onPair?: OnPair): CompareRunning {
  const queues: [PackedStep[], PackedStep[]] = [[], []];
  const ends: [EndKind | null, EndKind | null] = [null, null];
  let next = 1;
  const flush = () => {
    while (queues[0].length && queues[1].length) onPair?.(next++, queues[0].shift()!, queues[1].shift()!, ends);
  };
  const side = (i: 0 | 1) =>
    startHeadlessRun({ ...o, semantics: o.semantics[i] }, (step) => {
      queues[i].push(step);
      flush();
    });
  const a = side(0);
  const b = side(1);
  const done = Promise.all([a.done, b.done]).then(([ra, rb]) => {
    ends[0] = ra.end;
    ends[1] = rb.end;
    flush();
    while (queues[0].length || queues[1].length)
      onPair?.(next++, queues[0].shift() ?? null, queues[1].shift() ?? null, ends);
    return { a: ra, b: rb };
  });
  return {
    done,
    stop() {
      void a.session.stop();
      void b.session.stop();
    },
  };
}

/** compare's exit status: 1 when either run threw, did not compile, crashed or ran out of memory; else 3 when either
 * timed out; else 0 (both ran to their end, to --to or to --max-steps) */
export function compareExitCode(runs: CompareRuns): number {
  const ends = [runs.a.end, runs.b.end];
  if (ends.some((e) => e === 'error' || e === 'crashed' || e === 'oom')) return 1;
  if (ends.includes('timeout')) return 3;
  return 0;
}
