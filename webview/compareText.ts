/**
 * The words of the compare view and of the `trainable` trap (pure, no DOM; tested in Node): an overview row's
 * paired indicator ("≠ Keras: max Δ var 0.31" / "= Keras"), the card's compare line, what to say while the compare
 * step is not there, the sentence that `trainable` is not why an inference-mode layer's statistics stay put, and
 * PyTorch's momentum beside tfjs's.
 */
import type { CompareInfo, LayerSnapshot, Semantics } from '../src/shared/protocol';
import { SEMANTICS_LABEL, TRAINABLE_MEANING, pytorchMomentum } from '../src/shared/semantics';
import { COMPARED_VECTORS, type ComparedVector, type LayerComparison } from '../src/shared/semanticsCompare';
import type { CompareStatus, LayerPair } from './compareModel';
import { short } from './format';

export const VECTOR_LABEL: Readonly<Record<ComparedVector, string>> = {
  movingMean: 'moving mean',
  movingVariance: 'moving variance',
  gamma: 'gamma',
  beta: 'beta',
};

const VECTOR_SHORT: Readonly<Record<ComparedVector, string>> = {
  movingMean: 'mean',
  movingVariance: 'var',
  gamma: 'gamma',
  beta: 'beta',
};

/** the vector that differs most (NaN against a number counts as most), or null when none differs */
export function largestDifference(cmp: LayerComparison): ComparedVector | null {
  let best: ComparedVector | null = null;
  let bestAbs = -1;
  for (const k of COMPARED_VECTORS) {
    const v = cmp.vectors[k];
    if (v.differing === 0) continue;
    const m = Number.isNaN(v.maxAbs) || v.diff === null ? Infinity : v.maxAbs;
    if (m > bestAbs) [best, bestAbs] = [k, m];
  }
  return best;
}

export interface RowIndicator {
  text: string;
  /** the why sentence (tooltip and accessible description) */
  title: string;
  differs: boolean;
}

/** An overview row's paired indicator for one layer. */
export function rowIndicator(pair: LayerPair | undefined, semB: Semantics): RowIndicator {
  const B = SEMANTICS_LABEL[semB];
  if (!pair || !pair.cmp)
    return {
      text: `≠ ${B}: no such layer`,
      title: `The ${B} run has no layer at this path in this step.`,
      differs: true,
    };
  const cmp = pair.cmp;
  if (!cmp.differs) return { text: `= ${B}`, title: cmp.why, differs: false };
  const k = largestDifference(cmp);
  const v = k ? cmp.vectors[k] : null;
  const text = k && v ? `≠ ${B}: max Δ ${VECTOR_SHORT[k]} ${v.diff ? short(v.maxAbs) : '(missing)'}` : `≠ ${B}`;
  return { text, title: cmp.why, differs: true };
}

/** The line under the card's sentence: what the compare run says of this layer, or why there is nothing yet. */
export function cardCompareLine(
  status: CompareStatus,
  pair: LayerPair | undefined,
  semB: Semantics,
  stepIndex: number,
  info: CompareInfo | null,
): string {
  const B = SEMANTICS_LABEL[semB];
  if (status === 'waiting')
    return `Compared with ${B}: step ${stepIndex} of the ${B} run is not there yet (it is running).`;
  if (status === 'ended') return endedText(B, stepIndex, info);
  if (!pair || !pair.cmp) return `Compared with ${B}: the ${B} run has no layer at this path in step ${stepIndex}.`;
  return `Compared with ${B}: ${pair.cmp.why}`;
}

function endedText(B: string, stepIndex: number, info: CompareInfo | null): string {
  const err = info?.error;
  return `Compared with ${B}: the ${B} run ended before step ${stepIndex}${err ? ` (${err.message})` : ''}, so there is nothing to compare here.`;
}

/** The overview's one line about the compare run for the shown step. */
export function compareBanner(
  status: CompareStatus,
  semB: Semantics,
  stepIndex: number,
  info: CompareInfo | null,
  differing: number,
  layers: number,
): string {
  const B = SEMANTICS_LABEL[semB];
  if (status === 'waiting')
    return `Compared with ${B}: step ${stepIndex} of the ${B} run is not there yet (it is running).`;
  if (status === 'ended') return endedText(B, stepIndex, info);
  return differing === 0
    ? `Compared with ${B} at step ${stepIndex}: all ${layers} layers have the same values.`
    : `Compared with ${B} at step ${stepIndex}: ${differing} of ${layers} layers differ.`;
}

/**
 * The question's trap, said in plain view: a `trainable = false` layer whose last call ran in inference mode
 * (normalised with the moving statistics) and that was not updated. null when it does not apply.
 */
export function trainableTrap(l: LayerSnapshot, sem: Semantics): string | null {
  const last = l.lastCall;
  if (l.trainable || !last || last.statsUsed !== 'moving' || l.updates > 0 || l.movingUpdated) return null;
  if (!last.training)
    return (
      'trainable = false is not why its moving statistics stay put: the call ran in inference mode ' +
      '(training = false: predict, evaluate, or apply without training: true), and inference mode never updates ' +
      'them; a trainable layer would not change either.'
    );
  return (
    `Its moving statistics stay put because the call ran in inference mode: under ${SEMANTICS_LABEL[sem]}, ` +
    'trainable = false forces inference mode even when training = true (in fit). It is inference mode that keeps ' +
    'them; tfjs and PyTorch would update them here.'
  );
}

/** What `trainable = false` means under each framework (Keras and tf.keras say the same: one of them, as used). */
export function trainableMeanings(sems: readonly Semantics[]): string[] {
  const keras: Semantics = sems.includes('tf-keras') && !sems.includes('keras') ? 'tf-keras' : 'keras';
  return (['tfjs', keras, 'pytorch'] as Semantics[]).map((s) => TRAINABLE_MEANING[s]);
}

/** "momentum 0.99", with PyTorch's momentum (1 − m) beside it when PyTorch is in the picture */
export function momentumText(m: number, withPyTorch: boolean): string {
  if (!withPyTorch || !Number.isFinite(m)) return `momentum ${m}`;
  return `momentum ${m} (PyTorch momentum = ${+pytorchMomentum(m).toPrecision(6)})`;
}
