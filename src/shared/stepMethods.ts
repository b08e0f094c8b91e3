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
