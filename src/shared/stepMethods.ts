/**
 * What a step point is called by, and the shapes of a scan: shared by the engine's finder (stepPoints.ts, with the
 * TypeScript parser) and the editor's (src/extension/stepPointFinder.ts, without it). No import of `typescript` here:
 * the extension's bundle takes this file and must stay small.
 */
import type { StepPoint } from './protocol';

export const STEP_METHODS: ReadonlySet<string> = new Set([
  'fit',
  'fitDataset',
  'trainOnBatch',
  'predict',
  'predictOnBatch',
  'evaluate',
  'evaluateDataset',
  'apply',
  'execute',
]);

/**
 * `f.apply(this, …)`, `f.apply(null, …)`, `f.apply(undefined, …)` (these first arguments, nothing more) call
 * Function.prototype.apply, not a layer's `apply` (whose first argument is its input): not a step call, in both
 * finders. A wrapper that forwards its arguments this way would otherwise take a step at every call.
 */
export const FUNCTION_APPLY_THIS_ARGS: ReadonlySet<string> = new Set(['this', 'null', 'undefined']);

export interface SyntaxErrorInfo {
  message: string;
  /** 1-based */
  line: number;
  column: number;
}

export interface StepPointScan {
  points: StepPoint[];
  /** the first syntax error, if the text does not parse (then `points` is empty) */
  syntaxError: SyntaxErrorInfo | null;
}
