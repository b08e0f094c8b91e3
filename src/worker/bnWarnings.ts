/**
 * The contract's per-layer warnings (headless-contract.md, "Warning codes"): when each one fires and
 * the human sentence that explains it. Pure functions over plain numbers: no tfjs here.
 */
import type { LayerWarning, Semantics } from '../shared/protocol';

/**
 * What one layer did during one step, as the instrument counted it. "Training-mode" and "inference-mode" calls
 * are the mode the call RAN in under the run's semantics (under keras / tf-keras a trainable = false layer runs in
 * inference mode even when fit passes training: true; bnSemantics.ts).
 */
export interface StepFacts {
  /** the run's semantics (default 'tfjs'): some sentences name its rule */
  semantics?: Semantics;
  layerName: string;
  trainable: boolean;
  /** training-mode calls (= moving-average updates) in this step */
  updates: number;
  /** of those, calls made while the layer's trainable flag was false */
  updatesWhileFrozen: number;
  /** inference-mode calls in this step */
  inferenceCalls: number;
  /** input shape of a training-mode call in this step that reduced over exactly one value per channel, or null */
  batchOfOneShape: number[] | null;
  /** a training-mode call ever happened on this layer (since the instrument was installed) */
  everUpdated: boolean;
  /** the moving statistics still hold the values the layer was built with (or exactly mean 0 / variance 1) */
  movingAtInitial: boolean;
  /** the moving statistics are exactly mean 0 / variance 1 */
  movingIsZeroOne: boolean;
  momentum: number;
  /** the channels whose value is NaN or ±Infinity (`nonFiniteChannels`), per vector; null: the layer has none */
  nonFinite: {
    movingMean: number[];
    movingVariance: number[];
    gamma: number[] | null;
    beta: number[] | null;
  };
}

/** the channels of `v` whose value is NaN or ±Infinity */
export function nonFiniteChannels(v: ArrayLike<number> | null): number[] {
  const out: number[] = [];
  if (!v) return out;
  // x · 0 is ±0 for a finite x and NaN for NaN or ±Infinity: one pass without branches finds whether to look
  let probe = 0;
  for (let i = 0; i < v.length; i++) probe += v[i] * 0;
  if (probe === 0) return out;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) out.push(i);
  return out;
}

function channelList(idx: number[]): string {
  const shown = idx.slice(0, 5).join(', ');
  return idx.length > 5 ? `${shown} and ${idx.length - 5} more` : shown;
}

/**
 * The same sentence object for the same key: the sentences that depend on a few flags or a count are built once,
 * not for every layer at every step (packStep writes a sentence many layers share once, found by its hash, which
 * V8 keeps on a string it has seen). Bounded: past 256 keys, built anew each time.
 */
const sentences = new Map<string, string>();
function sentence(key: string, build: () => string): string {
  let s = sentences.get(key);
  if (s === undefined) {
    s = build();
    if (sentences.size < 256) sentences.set(key, s);
  }
  return s;
}

/** Every warning of the contract's table that applies, each code at most once, in the table's order. */
export function layerWarnings(f: StepFacts): LayerWarning[] {
  const w: LayerWarning[] = [];

  const semantics = f.semantics ?? 'tfjs';
  // keras / tf-keras: a frozen layer never runs in training mode, so this cannot fire there
  if (f.updatesWhileFrozen > 0) {
    const n = f.updatesWhileFrozen;
    const calls = `${n} training-mode call${n === 1 ? '' : 's'}`;
    w.push({
      code: 'TRAINABLE_FALSE_STILL_UPDATES',
      message: sentence(`frozen ${semantics === 'pytorch'} ${n}`, () =>
        semantics === 'pytorch'
          ? `trainable is false, yet ${calls} in this step updated the running mean and variance (and normalised ` +
            `with the batch statistics). That is PyTorch's rule, which this run follows: requires_grad = False only ` +
            `freezes the weight and bias; only eval() mode (here: calling the layer with training: false, as predict ` +
            `does) stops the running statistics. Keras differs: there trainable = False runs the layer in inference ` +
            `mode, so its moving statistics stay frozen and are used.`
          : `trainable is false, yet ${calls} in this step updated the moving mean and ` +
            `variance (and normalised with the batch statistics). In tfjs, trainable = false only freezes gamma and beta: ` +
            `BatchNormalization reads the training flag of the call (fit and trainOnBatch pass training: true) and ignores ` +
            `trainable. TF2 Keras differs: there trainable = False runs the layer in inference mode, so its moving ` +
            `statistics stay frozen and are used. To keep them fixed in tfjs, do not call this layer in training mode ` +
            `(for example a custom training loop that calls it with training: false).`,
      ),
    });
  }

  if (f.batchOfOneShape) {
    w.push({
      code: 'BATCH_OF_ONE',
      message:
        `A training-mode call in this step saw one value per channel (input shape [${f.batchOfOneShape.join(', ')}]): ` +
        `its batch variance is 0 and its batch mean is the sample itself, so the output is just beta, and the moving ` +
        `variance was pulled toward 0 (by 1 - momentum = ${+(1 - f.momentum).toPrecision(6)} of the way). With fit this ` +
        `happens when the number of samples leaves a last batch of one (samples % batchSize == 1).`,
    });
  }

  const bad: string[] = [];
  const vecs: [string, number[] | null][] = [
    ['moving mean', f.nonFinite.movingMean],
    ['moving variance', f.nonFinite.movingVariance],
    ['gamma', f.nonFinite.gamma],
    ['beta', f.nonFinite.beta],
  ];
  for (const [label, idx] of vecs) {
    if (idx?.length) bad.push(`${label} (channel${idx.length === 1 ? '' : 's'} ${channelList(idx)})`);
  }
  if (bad.length) {
    w.push({
      code: 'NON_FINITE',
      message:
        `NaN or Infinity in ${bad.join(', ')}. Every output of this layer that uses these channels is now non-finite, ` +
        `and a non-finite moving statistic never recovers through the moving average. Usual causes: a diverging ` +
        `training run (learning rate too high), NaN or Infinity in the input data, or a negative/zero variance with a ` +
        `tiny epsilon.`,
    });
  }

  if (f.inferenceCalls > 0 && !f.everUpdated && f.movingAtInitial) {
    const init = f.movingIsZeroOne
      ? 'its initial moving mean 0 and moving variance 1'
      : 'its initial moving statistics';
    const kerasFrozen = (semantics === 'keras' || semantics === 'tf-keras') && !f.trainable;
    w.push({
      code: 'STALE_MOVING_STATS',
      message: sentence(
        `stale ${kerasFrozen} ${f.movingIsZeroOne}`,
        () =>
          (kerasFrozen
            ? `Ran in inference mode in this step (trainable is false: under Keras rules that holds even inside fit), `
            : `Called in inference mode in this step (predict, evaluate, or apply without training: true), `) +
          `but its moving statistics have never been updated: the layer normalises with ${init}` +
          (f.movingIsZeroOne ? `, so its output is about gamma * x + beta, nearly the input unchanged` : '') +
          (kerasFrozen
            ? `. Under Keras rules a trainable = false layer never updates them: load trained statistics (pretrained ` +
              `weights) or train the layer before freezing it.`
            : `. Moving statistics change only in training mode: fit, trainOnBatch, or apply(x, {training: true}).`),
      ),
    });
  }
  return w;
}

/** every field of StepFacts (the type below fails to compile if one is missing) */
const FACT_KEYS = [
  'semantics',
  'layerName',
  'trainable',
  'updates',
  'updatesWhileFrozen',
  'inferenceCalls',
  'everUpdated',
  'movingAtInitial',
  'movingIsZeroOne',
  'momentum',
] as const;
type Unlisted = Exclude<keyof StepFacts, (typeof FACT_KEYS)[number] | 'nonFinite' | 'batchOfOneShape'>;
const allListed: [Unlisted] extends [never] ? true : Unlisted = true;
void allListed;

/** the same facts: every field the same value (nonFinite: the same lists; batchOfOneShape: the same shape) */
function sameFacts(a: StepFacts, b: StepFacts): boolean {
  for (const k of FACT_KEYS) if (a[k] !== b[k]) return false;
  const n = a.nonFinite,
    m = b.nonFinite;
  if (
    n.movingMean !== m.movingMean ||
    n.movingVariance !== m.movingVariance ||
    n.gamma !== m.gamma ||
    n.beta !== m.beta
  )
    return false;
  const x = a.batchOfOneShape,
    y = b.batchOfOneShape;
  return x === y || (x !== null && y !== null && x.join() === y.join());
}

/**
 * layerWarnings for one layer step after step: the previous list again (the same objects, never written) when the
 * facts are those of the previous step (a predict loop: the same counts, the same variables' data).
 */
export function warningsOfLayer(): (f: StepFacts) => LayerWarning[] {
  let last: StepFacts | null = null;
  let lastWarnings: LayerWarning[] = [];
  return (f) => {
    if (last === null || !sameFacts(f, last)) lastWarnings = layerWarnings(f);
    last = f;
    return lastWarnings;
  };
}
