/**
 * The contract's JSON document (schema bn-inspector/v1, docs/headless-contract.md), built in one place for
 * both its writers: `bn-inspect --json` (cli.ts) and the extension's Export (src/extension/exportJson.ts).
 */
import {
  SCHEMA,
  type Backend,
  type CallRecord,
  type LayerWarning,
  type ScriptError,
  type Semantics,
  type SourcePosition,
  type StepSnapshot,
} from '../shared/protocol';
import { unpackStep } from '../shared/snapshotCodec';

/** A float32 value as the contract writes it: the nearest double, or "NaN" / "Infinity" / "-Infinity". */
export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export interface CallJson {
  training: boolean;
  statsUsed: 'batch' | 'moving';
  inputShape: number[];
  batchMean: JsonNumber[];
  batchVariance: JsonNumber[];
}

/** where a layer was constructed: absolute path (like a step's `file`), 1-based line and column */
export interface SourceJson {
  file: string;
  line: number;
  column: number;
}

export interface LayerJson {
  name: string;
  path: string[];
  /** null for a layer not made by the user's own code (a loaded model) */
  source: SourceJson | null;
  axis: number;
  channels: number;
  momentum: JsonNumber;
  epsilon: JsonNumber;
  trainable: boolean;
  calls: number;
  updates: number;
  movingMean: JsonNumber[];
  movingVariance: JsonNumber[];
  gamma: JsonNumber[] | null;
  beta: JsonNumber[] | null;
  movingUpdated: boolean;
  lastCall: CallJson | null;
  lastTrainingCall: CallJson | null;
  warnings: LayerWarning[];
}

export interface StepJson {
  index: number;
  line: number;
  /** additive */
  column: number;
  /** additive: absolute path of the user file holding the step point */
  file: string;
  hit: number;
  layers: LayerJson[];
}

export interface ErrorJson {
  message: string;
  line: number | null;
  column: number | null;
  stack: string;
  /** additive: the user file `line` belongs to, null when the error has no position in one */
  file: string | null;
  /** additive */
  kind: NonNullable<ScriptError['kind']>;
}

/**
 * Additive: how the run ended. bn-inspect writes the first seven; an exported file may also say `stopped`
 * (Stop in the editor), `paused` or `running` (exported before the run ended).
 */
export type RunEnd =
  'done' | 'to' | 'maxSteps' | 'error' | 'timeout' | 'crashed' | 'oom' | 'stopped' | 'paused' | 'running';

/** The semantics BatchNormalization layers ran under (`--semantics`; contract "Semantics"). */
export type { Semantics };

export interface RunDocument {
  schema: typeof SCHEMA;
  /** bn-inspect: as given on the command line; Export: the workspace-relative path */
  script: string;
  tfjs: string | null;
  backend: Backend;
  semantics: Semantics;
  steps: StepJson[];
  output: string;
  error: ErrorJson | null;
  end: RunEnd;
}

/** What an exported file adds (additive): what the extension knows beyond bn-inspect. */
export interface ExportExtras {
  /** absolute path of the script */
  scriptPath: string;
  /** steps dropped from the bounded in-memory history (0 = every step is in `steps`) */
  thinnedSteps: number;
}

export interface RunInput {
  script: string;
  tfjs: string | null;
  backend: Backend;
  /** the semantics the run followed; default 'tfjs' */
  semantics?: Semantics;
  /** the packed steps (snapshotCodec.packStep) in order, as the worker made them: decoded here one by one */
  steps: readonly ArrayBuffer[];
  output: string;
  error: ScriptError | null;
  end: RunEnd;
}

export function jsonNumber(v: number): JsonNumber {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

export function jsonVector(v: Float32Array): JsonNumber[] {
  const out = new Array<JsonNumber>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = jsonNumber(v[i]);
  return out;
}

function callJson(c: CallRecord | null): CallJson | null {
  return (
    c && {
      training: c.training,
      statsUsed: c.statsUsed,
      inputShape: c.inputShape,
      batchMean: jsonVector(c.batchMean),
      batchVariance: jsonVector(c.batchVariance),
    }
  );
}

function sourceJson(p: SourcePosition | null | undefined): SourceJson | null {
  return p ? { file: p.file, line: p.line, column: p.column } : null;
}

/** The contract's JSON object for one step. */
export function stepToJson(step: StepSnapshot): StepJson {
  return {
    index: step.index,
    line: step.line,
    column: step.column,
    file: step.file,
    hit: step.hit,
    layers: step.layers.map((l) => ({
      name: l.name,
      path: l.path,
      source: sourceJson(l.source),
      axis: l.axis,
      channels: l.channels,
      momentum: jsonNumber(l.momentum),
      epsilon: jsonNumber(l.epsilon),
      trainable: l.trainable,
      calls: l.calls,
      updates: l.updates,
      movingMean: jsonVector(l.movingMean),
      movingVariance: jsonVector(l.movingVariance),
      gamma: l.gamma && jsonVector(l.gamma),
      beta: l.beta && jsonVector(l.beta),
      movingUpdated: l.movingUpdated,
      lastCall: callJson(l.lastCall),
      lastTrainingCall: callJson(l.lastTrainingCall),
      warnings: l.warnings.map((w) => ({ code: w.code, message: w.message })),
    })),
  };
}

export function errorToJson(e: ScriptError | null): ErrorJson | null {
  if (!e) return null;
  return {
    message: e.message,
    line: e.line,
    column: e.column,
    stack: e.stack,
    file: e.file ?? null,
    kind: e.kind ?? 'run',
  };
}

/**
 * The same document as `JSON.stringify(buildRunDocument(run))`, character for character, in pieces: the fields
 * before `steps`, one piece per step, then the rest. A run whose document is too large for one string (V8 holds
 * about 512 MB) is written piece by piece, never refused; only one step is decoded and encoded at a time.
 */
export function* runDocumentChunks(run: RunInput): Generator<string> {
  const head: Omit<RunDocument, 'steps' | 'output' | 'error' | 'end'> = {
    schema: SCHEMA,
    script: run.script,
    tfjs: run.tfjs,
    backend: run.backend,
    semantics: run.semantics ?? 'tfjs',
  };
  const h = JSON.stringify(head);
  yield `${h.slice(0, -1)},"steps":[`;
  for (let i = 0; i < run.steps.length; i++)
    yield (i ? ',' : '') + JSON.stringify(stepToJson(unpackStep(run.steps[i])));
  const tail = JSON.stringify({ output: run.output, error: errorToJson(run.error), end: run.end });
  yield `],${tail.slice(1)}`;
}

/** The document; with `extras`, an exported file's (its extras last). */
export function buildRunDocument(run: RunInput): RunDocument;
export function buildRunDocument(run: RunInput, extras: ExportExtras): RunDocument & ExportExtras;
export function buildRunDocument(run: RunInput, extras?: ExportExtras): RunDocument | (RunDocument & ExportExtras) {
  const doc: RunDocument = {
    schema: SCHEMA,
    script: run.script,
    tfjs: run.tfjs,
    backend: run.backend,
    semantics: run.semantics ?? 'tfjs',
    steps: run.steps.map((b) => stepToJson(unpackStep(b))),
    output: run.output,
    error: errorToJson(run.error),
    end: run.end,
  };
  return extras ? { ...doc, scriptPath: extras.scriptPath, thinnedSteps: extras.thinnedSteps } : doc;
}
