/**
 * What a step point is called by, and the shapes of a scan: shared by the light finder (stepPointFinder/, without the
 * TypeScript parser: the editor's lenses and the engine's instrumentation) and the TypeScript one (stepPoints.ts: the
 * engine's fallback for files the light finder cannot read, and the tests' oracle). No import of `typescript` here:
 * the extension's and the worker's bundles take this file and must stay small.
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

/**
 * What the engine's instrumentation (src/worker/stepRewrite.ts) needs of a step point's statement, offsets in the text:
 * - kind 'value': `return expr` / `throw expr`, the step wraps the expression (valueStart..valueEnd);
 * - kind 'before': `return;`, `throw` without an expression, `break`, `continue`: the step is reported before it;
 * - kind 'after': any other statement: the step is reported after it;
 * - unitStart: where the statement starts with the labels around it (`a: b: for …`: the unit that is wrapped, so that
 *   `continue a` still finds its label); the unit ends where the statement does;
 * - inList: the unit sits in a statement list (a block, the file, a case clause), else it is the sole body of
 *   if/else/for/while/do/with and is wrapped in a block;
 * - depth: nesting depth (>= 1), deeper statements deeper; orders the texts inserted at one position (only the order
 *   among nested statements counts, so the finders may count levels differently).
 */
export interface StepPointStatement {
  kind: 'after' | 'before' | 'value';
  valueStart: number;
  valueEnd: number;
  unitStart: number;
  inList: boolean;
  depth: number;
}
