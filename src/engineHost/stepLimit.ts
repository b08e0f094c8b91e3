/**
 * Pause policies in the worker's terms, and an exact step limit.
 *
 * An exact step limit (EngineSessionOptions.maxSteps): the worker is told to pause at every step (policy 'next'),
 * so the run can end at the limit while the worker waits, with nothing after that step run. This keeps the
 * caller's own pause policy and says at which steps the caller wanted a pause; at the others the host resumes
 * the worker at once. A 'line' policy resolves as the worker resolves it (src/worker/worker.ts, resolvePolicy):
 * the first step point, in source order, at or after the line of that file; and when that step point is reached
 * only as model building (the worker's 'modelBuilding' message), the next step is where the caller wanted a pause.
 */
import type { PausePolicy, StepPoint } from '../shared/protocol';
import type { StepHeader } from '../shared/snapshotCodec';
import { realPath } from './filePaths';

/**
 * A 'line' policy with its file named as the worker names it. The worker knows an imported file by the path its
 * bundler resolved (symbolic links followed) and the entry script by the path it was given; an editor may name
 * the same file through a link (a workspace folder opened through one). A file the worker does not know by that
 * name is matched to the one with the same real path among `stepPoints` (the worker's files).
 */
export function inWorkerTerms(p: PausePolicy, stepPoints: Record<string, StepPoint[]>): PausePolicy {
  if (p.kind !== 'line' || p.file in stepPoints) return p;
  const real = realPath(p.file);
  const known = real && Object.keys(stepPoints).find((f) => realPath(f) === real);
  return known ? { ...p, file: known } : p;
}

export const PAUSE_AT_EVERY_STEP: PausePolicy = { kind: 'next' };

export class CallerPolicy {
  private stepPoints: Record<string, StepPoint[]> = {};
  private target: { file: string; line: number; column: number } | null = null;
  /** the target was reached as model building: the next step is the pause */
  private targetPassed = false;

  constructor(private policy: PausePolicy) {}

  /** `policy` in the worker's terms (inWorkerTerms) */
  set(policy: PausePolicy): void {
    this.policy = policy;
    this.resolve();
  }

  /** the script compiled: its step points per file */
  compiled(stepPoints: Record<string, StepPoint[]>): void {
    this.stepPoints = stepPoints;
    this.policy = inWorkerTerms(this.policy, stepPoints);
    this.resolve();
  }

  /**
   * The worker reached step point `point` of `file` only as model building (it says so once per step point, the
   * first time: enough for a policy set before the run, as bn-inspect's `--to`; a policy set later by resume()
   * whose target was already reported is not told again).
   */
  modelBuilding(file: string, point: number): void {
    const p = this.stepPoints[file]?.[point];
    const t = this.target;
    if (p && t && t.file === file && t.line === p.line && t.column === p.column) this.targetPassed = true;
  }

  /** the caller's policy would have paused at this step */
  wantsPause(step: StepHeader): boolean {
    if (this.policy.kind === 'next' || this.targetPassed) return true;
    const t = this.target;
    return t !== null && step.file === t.file && step.line === t.line && step.column === t.column;
  }

  private resolve(): void {
    this.target = null;
    this.targetPassed = false;
    const p = this.policy;
    if (p.kind !== 'line') return;
    let best: StepPoint | null = null;
    for (const q of this.stepPoints[p.file] ?? []) if (q.line >= p.line && (!best || q.start < best.start)) best = q;
    if (best) this.target = { file: p.file, line: best.line, column: best.column };
  }
}
