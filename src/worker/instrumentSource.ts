/**
 * Instruments a user's script file for the engine (the rewrite: stepRewrite.ts) from the light step-point finder
 * (src/shared/stepPointFinder/: tokens and a small statement parser, a few ms, part of dist/worker.js). A file it
 * cannot read (JSX, or a syntax error it reports) goes to the TypeScript parser instead (tsInstrument.ts, its own
 * bundle dist/tsInstrument.js, ~1 s to load without a code cache, so compileScript.ts loads it only once esbuild has
 * compiled the script: a real syntax error is reported by esbuild without it): JSX gets its step points, and a text
 * TypeScript cannot parse comes back unchanged with its error (compileScript.ts warns). Both ways give the same output
 * on what both read (test/unit/instrumentEquality.test.ts).
 */
import { scanStepPoints } from '../shared/stepPointFinder/stepPointFinder';
import { rewriteStepPoints, type InstrumentedSource } from './stepRewrite';
import type * as TsInstrument from './tsInstrument';

export type { InstrumentedSource };

/** .jsx / .tsx: the light finder does not read JSX */
const JSX_FILE = /\.[jt]sx$/i;

/**
 * dist/tsInstrument.js next to dist/worker.js (from the sources, as the tests run: ./tsInstrument.ts). Not a string
 * literal, so that esbuild leaves the require alone and the TypeScript compiler stays out of dist/worker.js.
 */
const TS_INSTRUMENT = './tsInstrument';
let tsInstrument: typeof TsInstrument | null = null;

/** the TypeScript-based instrumentation (loaded on first use) */
export function loadTsInstrument(): typeof TsInstrument {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  tsInstrument ??= require(TS_INSTRUMENT) as typeof TsInstrument;
  return tsInstrument;
}

/**
 * The instrumented text from the light finder, or null if it cannot read the file (JSX, or a syntax error it reports).
 * `isStep` is for tests (another set of step methods); the engine's are STEP_METHODS.
 */
export function instrumentLight(
  text: string,
  fileName: string,
  fileIndex: number,
  isStep?: (name: string) => boolean,
): InstrumentedSource | null {
  if (JSX_FILE.test(fileName)) return null;
  const scan = scanStepPoints(text, isStep);
  if (scan.syntaxError) return null;
  return rewriteStepPoints(text, fileName, fileIndex, scan.points, scan.statements);
}

/** The instrumented text: from the light finder, else from the TypeScript parser. */
export function instrumentSource(
  text: string,
  fileName: string,
  fileIndex: number,
  isStep?: (name: string) => boolean,
): InstrumentedSource {
  return (
    instrumentLight(text, fileName, fileIndex, isStep) ??
    loadTsInstrument().instrumentWithTypeScript(text, fileName, fileIndex, isStep)
  );
}
