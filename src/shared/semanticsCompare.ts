/**
 * Compare one BatchNormalization layer at one step under two semantics (the compare view and `bn-inspect compare`):
 * per-vector differences (b − a) and one sentence that says why the two differ, e.g.
 * "Keras: frozen, inference mode (training = true ignored), not updated; tfjs: frozen, updated ×5 with batch
 * statistics". Pure functions over decoded LayerSnapshots; no runtime imports.
 */
import type { LayerSnapshot, Semantics } from './protocol';
import { SEMANTICS_LABEL, varianceUpdateFactor } from './semantics';

export type ComparedVector = 'movingMean' | 'movingVariance' | 'gamma' | 'beta';
export const COMPARED_VECTORS: readonly ComparedVector[] = ['movingMean', 'movingVariance', 'gamma', 'beta'];

/** Two float32 values are "the same" when they differ by at most this, relative to max(1, |a|, |b|). */
export const SAME_TOLERANCE = 1e-6;

export interface VectorDifference {
  /** b − a per channel; null when either side has no such vector (no scale / no center) */
  diff: Float64Array | null;
  /** largest |b − a| (NaN when a side is NaN where the other is not); 0 when diff is null */
  maxAbs: number;
  /** channel of maxAbs (-1 when diff is null) */
  channel: number;
  /** channels whose values differ beyond SAME_TOLERANCE */
  differing: number;
}

export interface LayerComparison {
  /** any compared vector differs beyond the tolerance, or one side is missing */
  differs: boolean;
  vectors: Record<ComparedVector, VectorDifference>;
  /** why the two differ (or that they agree), one sentence for a person */
  why: string;
}

export function sameValue(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= SAME_TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b));
}

export function compareVectors(a: ArrayLike<number> | null, b: ArrayLike<number> | null): VectorDifference {
  if (!a || !b || a.length !== b.length) return { diff: null, maxAbs: 0, channel: -1, differing: a === b ? 0 : 1 };
  const diff = new Float64Array(a.length);
  let maxAbs = 0;
  let channel = a.length ? 0 : -1;
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    const d = b[i] - a[i];
    diff[i] = d;
    if (!sameValue(a[i], b[i])) differing++;
    const m = Number.isNaN(d) ? (Number.isNaN(a[i]) && Number.isNaN(b[i]) ? 0 : Infinity) : Math.abs(d);
    if (m > maxAbs) {
      maxAbs = m;
      channel = i;
    }
  }
  return { diff, maxAbs: maxAbs === Infinity ? NaN : maxAbs, channel, differing };
}

/** What this layer did in this step under its semantics, in a few words ("frozen, updated ×5 with batch statistics"). */
export function describeLayerStep(layer: LayerSnapshot, semantics: Semantics): string {
  const parts = [layer.trainable ? 'trainable' : 'frozen'];
  if (layer.calls === 0) {
    parts.push('not called in this step');
  } else if (layer.updates > 0) {
    const t = layer.lastTrainingCall;
    const n = t ? valuesPerChannel(t.inputShape, layer.axis) : 0;
    const f = t ? varianceUpdateFactor(semantics, t.inputShape.length, positiveAxis(layer.axis, t), n) : 1;
    const times = layer.updates === 1 ? 'once' : `×${layer.updates}`;
    parts.push(
      f === 1
        ? `updated ${times} with batch statistics`
        : `updated ${times} with batch statistics, the variance unbiased (× n/(n−1) = ${f.toPrecision(6)})`,
    );
  } else if (layer.lastCall && layer.lastCall.training) {
    parts.push('inference mode although training = true, not updated');
  } else {
    parts.push('inference mode (training = false), not updated');
  }
  return `${SEMANTICS_LABEL[semantics]}: ${parts.join(', ')}`;
}

function positiveAxis(axis: number, call: { inputShape: number[] }): number {
  return axis >= 0 ? axis : axis + call.inputShape.length;
}

function valuesPerChannel(shape: readonly number[], axis: number): number {
  const ax = axis >= 0 ? axis : axis + shape.length;
  let n = 1;
  for (let i = 0; i < shape.length; i++) if (i !== ax) n *= shape[i];
  return n;
}

/** Compare layer `a` (semantics `sa`) with layer `b` (semantics `sb`) at the same step. */
export function compareLayers(a: LayerSnapshot, sa: Semantics, b: LayerSnapshot, sb: Semantics): LayerComparison {
  const vectors = {
    movingMean: compareVectors(a.movingMean, b.movingMean),
    movingVariance: compareVectors(a.movingVariance, b.movingVariance),
    gamma: compareVectors(a.gamma, b.gamma),
    beta: compareVectors(a.beta, b.beta),
  };
  const differs = COMPARED_VECTORS.some((k) => vectors[k].differing > 0);
  const da = describeLayerStep(a, sa);
  const db = describeLayerStep(b, sb);
  const ra = da.slice(da.indexOf(':') + 2);
  const rb = db.slice(db.indexOf(':') + 2);
  let why: string;
  if (!differs) why = `Same values. ${da}; ${db}.`;
  else if (ra !== rb) why = `${da}; ${db}.`;
  else if (a.updates === 0 && b.updates === 0)
    why =
      `Both ${ra}: neither changed its moving statistics in this step, so the difference was made in an ` +
      `earlier step and carries over.`;
  else
    why =
      `Both ${ra}, so the rules agree here: the values differ because this layer's input or weights differ ` +
      `(an earlier layer, or what training learned, followed the other rules).`;
  return { differs, vectors, why };
}

/** Pair the layers of two snapshots of the same step: by path (the same script names its layers alike), else null. */
export function pairLayers<L extends { path: string[] }>(
  a: readonly L[],
  b: readonly L[],
): Array<[L | null, L | null]> {
  const key = (l: L) => l.path.join('\u0000');
  const byKey = new Map(b.map((l) => [key(l), l] as const));
  const used = new Set<L>();
  const out: Array<[L | null, L | null]> = [];
  for (const l of a) {
    const m = byKey.get(key(l)) ?? null;
    if (m) used.add(m);
    out.push([l, m]);
  }
  for (const l of b) if (!used.has(l)) out.push([null, l]);
  return out;
}
