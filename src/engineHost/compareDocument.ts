/**
 * The compare document (schema bn-inspector-compare/v1, docs/headless-contract.md "Compare"): one script run under
 * two semantics, its steps paired by index and each step's BatchNormalization layers paired by path, with b − a per
 * vector and why they differ. Built here for `bn-inspect compare --json`; its text form (compareReport.ts) is made
 * from the same step objects. Each side's layer is the run document's layer object (runDocument.ts stepToJson).
 * One unit of ~310 lines, a third of it the document's types: the types, the pairing and the summary describe one
 * document and change together (the contract's Compare section).
 */
import type { Backend, LayerSnapshot, ScriptError, Semantics, StepSnapshot } from '../shared/protocol';
import { SEMANTICS_LABEL } from '../shared/semantics';
import { compareLayers, pairLayers, type ComparedVector, type VectorDifference } from '../shared/semanticsCompare';
import { unpackStep } from '../shared/snapshotCodec';
import {
  errorToJson,
  jsonNumber,
  stepToJson,
  type ErrorJson,
  type JsonNumber,
  type LayerJson,
  type RunEnd,
  type SourceJson,
} from './runDocument';

/**
 * Not bn-inspector/v1: a reader that checks `schema` must not take a compare document for a run document (its
 * `steps[].layers` hold pairs, not layers). The layer objects inside (`a`, `b`) are bn-inspector/v1 layers.
 */
export const COMPARE_SCHEMA = 'bn-inspector-compare/v1';

/** one value per compared vector (movingMean, movingVariance, gamma, beta) */
export type PerVector<T> = Record<ComparedVector, T>;

export interface DifferenceJson extends PerVector<JsonNumber[] | null> {
  /** largest |b − a| of each vector; null when either side has no such vector ("NaN" when one side is NaN) */
  maxAbs: PerVector<JsonNumber | null>;
  /** the channel of maxAbs; null when either side has no such vector */
  channel: PerVector<number | null>;
  /** how many channels differ beyond the tolerance (relative 1e-6); 1 when only one side has the vector */
  differing: PerVector<number>;
}

export interface LayerPairJson {
  name: string;
  path: string[];
  source: SourceJson | null;
  channels: number;
  /** the layer in run a at this step, exactly as a run document writes it; null when run a has no such layer here */
  a: LayerJson | null;
  b: LayerJson | null;
  /** a vector differs beyond the tolerance, or one side has no such layer */
  differs: boolean;
  /** per vector b − a; null when a side is missing */
  difference: DifferenceJson | null;
  /** one sentence: why the two differ, or that they agree */
  why: string;
}

export interface StepPointJson {
  line: number;
  column: number;
  file: string;
  hit: number;
}

export interface StepPairJson {
  index: number;
  /** the step point (run a's; run b's when only b reached this step) */
  line: number;
  column: number;
  file: string;
  hit: number;
  /** both runs reached this step at the same step point (file, line, column, hit) */
  samePoint: boolean;
  /** which runs reached this step */
  reachedBy: 'both' | 'a' | 'b';
  /** run b's step point when both reached this step but at different step points; else null */
  pointB: StepPointJson | null;
  /** some layer pair differs */
  differs: boolean;
  /** pairs in run a's layer order, then the layers only run b has */
  layers: LayerPairJson[];
}

export interface CompareRunJson {
  semantics: Semantics;
  end: RunEnd;
  error: ErrorJson | null;
  /** how many steps the run took */
  steps: number;
  output: string;
}

export interface LayerDifferingJson {
  name: string;
  path: string[];
  /** the first step where both runs have this layer and its values differ */
  firstStep: number;
  /** how many such steps */
  steps: number;
}

export interface CompareSummaryJson {
  /** steps reached by both runs */
  bothReached: number;
  /** steps reached by one run only (the other had ended) */
  onlyA: number;
  onlyB: number;
  /** the first step reached by both at different step points, or null */
  firstPointMismatch: number | null;
  /** steps where some layer pair differs (one-sided steps included) */
  stepsDiffering: number;
  /** the first differing layer pair of the first differing step, or null when everything agrees */
  firstDifference: { step: number; name: string; path: string[]; why: string } | null;
  /** layers whose values differ at some step both runs have them, in order of first difference */
  layersDiffering: LayerDifferingJson[];
}

export interface CompareDocument {
  schema: typeof COMPARE_SCHEMA;
  script: string;
  tfjs: string | null;
  backend: Backend;
  semantics: [Semantics, Semantics];
  runs: [CompareRunJson, CompareRunJson];
  steps: StepPairJson[];
  summary: CompareSummaryJson;
}

/** the other side of a one-sided pair: its semantics and how its run ended (null: not known yet) */
interface RunEndNote {
  semantics: Semantics;
  end: RunEnd | null;
}

function point(s: StepSnapshot): StepPointJson {
  return { line: s.line, column: s.column, file: s.file, hit: s.hit };
}

function samePointOf(a: StepSnapshot, b: StepSnapshot): boolean {
  return a.file === b.file && a.line === b.line && a.column === b.column && a.hit === b.hit;
}

function differenceJson(v: PerVector<VectorDifference>): DifferenceJson {
  const vec = (k: ComparedVector) => {
    const d = v[k].diff;
    return d && Array.from(d, jsonNumber);
  };
  const per = <T>(f: (k: ComparedVector) => T): PerVector<T> => ({
    movingMean: f('movingMean'),
    movingVariance: f('movingVariance'),
    gamma: f('gamma'),
    beta: f('beta'),
  });
  return {
    ...per(vec),
    maxAbs: per((k) => (v[k].diff ? jsonNumber(v[k].maxAbs) : null)),
    channel: per((k) => (v[k].diff ? v[k].channel : null)),
    differing: per((k) => v[k].differing),
  };
}

const ENDED_HOW: Readonly<Record<RunEnd, string>> = {
  done: 'ran to its end',
  to: 'stopped at --to',
  maxSteps: 'stopped at --max-steps',
  error: 'failed',
  timeout: 'timed out',
  crashed: 'crashed',
  oom: 'ran out of memory',
  stopped: 'was stopped',
  paused: 'was paused',
  running: 'was still running',
};

function oneSidedWhy(has: Semantics, other: RunEndNote, path: string[], stepMissing: boolean): string {
  const h = SEMANTICS_LABEL[has];
  const o = SEMANTICS_LABEL[other.semantics];
  if (stepMissing)
    return `Only the ${h} run reached this step: the ${o} run ${other.end ? ENDED_HOW[other.end] : 'ended'} before it.`;
  return `Only in the ${h} run: the ${o} run has no layer ${path.join(' › ')} at this step.`;
}

interface Side {
  snap: LayerSnapshot;
  json: LayerJson;
  path: string[];
}

/**
 * Pair one step of each run (either may be null: that run ended before this step). `semantics` are runs a and b's;
 * `ends` say how each run ended (for the sentence of a one-sided step).
 */
export function compareStep(
  index: number,
  a: StepSnapshot | null,
  b: StepSnapshot | null,
  semantics: readonly [Semantics, Semantics],
  ends: readonly [RunEnd | null, RunEnd | null],
): StepPairJson {
  const first = a ?? b;
  if (!first) throw new Error('compareStep: neither run has this step');
  const [sa, sb] = semantics;
  const sides = (s: StepSnapshot | null): Side[] => {
    if (!s) return [];
    const json = stepToJson(s).layers;
    return s.layers.map((snap, i) => ({ snap, json: json[i], path: snap.path }));
  };
  const layers: LayerPairJson[] = pairLayers(sides(a), sides(b)).map(([la, lb]) => {
    const one = (la ?? lb)!;
    const head = { name: one.json.name, path: one.path, source: one.json.source, channels: one.json.channels };
    if (la && lb) {
      const c = compareLayers(la.snap, sa, lb.snap, sb);
      return {
        ...head,
        a: la.json,
        b: lb.json,
        differs: c.differs,
        difference: differenceJson(c.vectors),
        why: c.why,
      };
    }
    const stepMissing = la ? !b : !a;
    const why = la
      ? oneSidedWhy(sa, { semantics: sb, end: ends[1] }, one.path, stepMissing)
      : oneSidedWhy(sb, { semantics: sa, end: ends[0] }, one.path, stepMissing);
    return { ...head, a: la?.json ?? null, b: lb?.json ?? null, differs: true, difference: null, why };
  });
  const both = a !== null && b !== null;
  const same = both && samePointOf(a, b);
  return {
    index,
    ...point(first),
    samePoint: same,
    reachedBy: both ? 'both' : a ? 'a' : 'b',
    pointB: both && !same ? point(b) : null,
    differs: layers.some((l) => l.differs) || !both,
    layers,
  };
}

export interface CompareRunInput {
  semantics: Semantics;
  tfjs: string | null;
  backend: Backend;
  /** packed steps in order (snapshotCodec.packStep) */
  steps: readonly ArrayBuffer[];
  output: string;
  error: ScriptError | null;
  end: RunEnd;
}

/** The summary of a list of step pairs (the document's `summary`). */
export function summarize(steps: readonly StepPairJson[]): CompareSummaryJson {
  const layers = new Map<string, LayerDifferingJson>();
  let firstDifference: CompareSummaryJson['firstDifference'] = null;
  let firstPointMismatch: number | null = null;
  let stepsDiffering = 0;
  for (const s of steps) {
    if (s.reachedBy === 'both' && !s.samePoint && firstPointMismatch === null) firstPointMismatch = s.index;
    if (s.differs) stepsDiffering++;
    for (const l of s.layers) {
      if (!l.differs) continue;
      if (!firstDifference) firstDifference = { step: s.index, name: l.name, path: l.path, why: l.why };
      if (!l.a || !l.b) continue;
      const key = l.path.join('\u0000');
      const seen = layers.get(key);
      if (seen) seen.steps++;
      else layers.set(key, { name: l.name, path: l.path, firstStep: s.index, steps: 1 });
    }
  }
  return {
    bothReached: steps.filter((s) => s.reachedBy === 'both').length,
    onlyA: steps.filter((s) => s.reachedBy === 'a').length,
    onlyB: steps.filter((s) => s.reachedBy === 'b').length,
    firstPointMismatch,
    stepsDiffering,
    firstDifference,
    layersDiffering: [...layers.values()],
  };
}

/** The whole document, from the two runs (run a first). */
export function buildCompareDocument(script: string, a: CompareRunInput, b: CompareRunInput): CompareDocument {
  const semantics: [Semantics, Semantics] = [a.semantics, b.semantics];
  const ends = [a.end, b.end] as const;
  const n = Math.max(a.steps.length, b.steps.length);
  const steps: StepPairJson[] = [];
  for (let i = 0; i < n; i++) {
    const sa = i < a.steps.length ? unpackStep(a.steps[i]) : null;
    const sb = i < b.steps.length ? unpackStep(b.steps[i]) : null;
    steps.push(compareStep(i + 1, sa, sb, semantics, ends));
  }
  const run = (r: CompareRunInput): CompareRunJson => ({
    semantics: r.semantics,
    end: r.end,
    error: errorToJson(r.error),
    steps: r.steps.length,
    output: r.output,
  });
  return {
    schema: COMPARE_SCHEMA,
    script,
    tfjs: a.tfjs ?? b.tfjs,
    backend: a.backend,
    semantics,
    runs: [run(a), run(b)],
    steps,
    summary: summarize(steps),
  };
}
