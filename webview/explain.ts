/**
 * Pure text logic of the inspector panel: the one plain sentence that says why a layer's statistics
 * did (or did not) change, its mode badges, and the long explanation of each contract warning.
 * No DOM here: tested in Node (test/unit/webviewExplain.test.ts).
 */
import type { LayerSnapshot, Semantics, WarningCode } from '../src/shared/protocol';
import { SEMANTICS_LABEL, TRAINABLE_MEANING } from '../src/shared/semantics';

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

function hasWarning(l: LayerSnapshot, code: WarningCode): boolean {
  return l.warnings.some((w) => w.code === code);
}

/** A training-mode call in this step saw one sample per channel (the engine's BATCH_OF_ONE, or the shape says so). */
export function isBatchOfOne(l: LayerSnapshot): boolean {
  if (hasWarning(l, 'BATCH_OF_ONE')) return true;
  const c = l.lastTrainingCall;
  if (!c || l.updates === 0 || l.channels <= 0) return false;
  const n = c.inputShape.reduce((a, b) => a * b, 1);
  return n > 0 && n / l.channels === 1;
}

function mode(training: boolean): string {
  return training ? 'training' : 'inference';
}

/**
 * One plain sentence (sometimes two short ones) saying why the layer's moving statistics did or did not
 * change in this step, and what normalised its output.
 * `prev` is the same layer at the previous step, when there was one.
 */
export function explainLayer(l: LayerSnapshot, prev?: LayerSnapshot | null, semantics: Semantics = 'tfjs'): string {
  const last = l.lastCall;
  const setDirectly = 'they were set directly (setWeights or loaded weights), not by a call of the layer';
  if (!last) {
    if (l.movingUpdated) return `Never called, yet its moving statistics changed: ${setDirectly}.`;
    return 'Not called yet: its moving statistics still hold their initial values (mean 0, variance 1 unless initialised otherwise) and nothing has used them.';
  }
  if (l.calls === 0) {
    if (l.movingUpdated) return `Not called in this step, yet its moving statistics changed: ${setDirectly}.`;
    return `Not called in this step, so nothing changed; its last call, in an earlier step, was in ${mode(last.statsUsed === 'batch')} mode and normalised with the ${last.statsUsed} statistics.`;
  }
  const u = l.updates;
  const n = l.calls;
  if (u > 0 && !l.trainable) {
    if (semantics === 'pytorch')
      return 'trainable is false but the moving statistics were updated: PyTorch, like tfjs, ignores it for this (requires_grad = False only stops gamma and beta); in Keras this layer would run in inference mode.';
    // (the issue's wording, verbatim; the number of updates is on the badge)
    return 'trainable is false but the moving statistics were updated: tfjs ignores trainable for this; in TF2 Keras this layer would run in inference mode.';
  }
  if (u > 0 && isBatchOfOne(l)) {
    return `Called in training mode on a batch of one sample per channel: the batch variance is 0, so the output is just beta, and the moving variance was pulled toward 0 (${plural(u, 'update')}).`;
  }
  if (u > 0 && u < n) {
    const inf = n - u;
    return `Called ${plural(n, 'time')} in this step: ${u} in training mode (normalised with the batch statistics, each call moving the moving statistics toward them) and ${inf} in inference mode (normalised with the moving statistics, as validation and predict do); the last call was in ${mode(last.statsUsed === 'batch')} mode.`;
  }
  if (u > 0) {
    const keep = Number.isFinite(l.momentum)
      ? `; momentum ${l.momentum} keeps ${+(l.momentum * 100).toPrecision(6)}% of the old value at each update`
      : '';
    return `Called in training mode (fit, or apply with training: true): normalised with each batch's own mean and variance, and the moving statistics moved toward them (${plural(u, 'update')}${keep}).`;
  }
  // no update recorded in this step
  if (l.movingUpdated) {
    return `Called in ${mode(last.statsUsed === 'batch')} mode, and the moving statistics changed without a training-mode update: ${setDirectly}.`;
  }
  if (last.training && last.statsUsed === 'moving') {
    return `Called with training = true${n > 1 ? ` (${plural(n, 'call')})` : ''}, but under ${SEMANTICS_LABEL[semantics]} trainable = false runs this layer in inference mode, even in fit: normalised with the moving statistics, which did not change.`;
  }
  if (last.training) {
    const why = l.momentum === 1 ? ': momentum is 1, so the moving statistics never move' : '';
    return `Called in training mode (normalised with the batch statistics) but the moving statistics did not change${why}.`;
  }
  const times = n > 1 ? ` ${plural(n, 'time')}` : '';
  const stale = hasWarning(l, 'STALE_MOVING_STATS')
    ? ' They have never been updated, so they are still the initial mean 0 and variance 1.'
    : '';
  void prev;
  return `Called${times} in inference mode (predict, evaluate, or apply without training: true): normalised with the moving statistics, which did not change.${stale} Moving statistics change only in training mode: fit, or apply with training: true.`;
}

export type BadgeTone = 'neutral' | 'train' | 'infer' | 'updated' | 'warn' | 'muted';

export interface Badge {
  /** short visible text */
  text: string;
  /** what the badge means, for the tooltip and accessible name */
  title: string;
  tone: BadgeTone;
  /** the badge that says the cause (the mode): drawn stronger */
  prominent?: boolean;
}

/**
 * The badges of a layer, in display order. The first, prominent one is the mode of the last call and what it did
 * to the moving statistics ("inference mode: moving statistics, not updated"): the cause. `trainable` is a
 * neutral flag: it is not what decides whether the moving statistics move (under tfjs and PyTorch it plays no part;
 * under Keras it acts only through the mode, which the mode badge already says). An update of a frozen layer is
 * the one warning tone (tfjs's trap, TRAINABLE_FALSE_STILL_UPDATES).
 */
export function layerBadges(l: LayerSnapshot, semantics: Semantics = 'tfjs'): Badge[] {
  const out: Badge[] = [];
  const last = l.lastCall;
  const changed = l.updates > 0 || l.movingUpdated;
  if (!last) out.push({ text: 'never called', title: 'the layer has not been called yet', tone: 'muted' });
  else if (l.calls === 0)
    out.push({
      text: 'not called in this step',
      title: `its last call, in an earlier step, was in ${mode(last.statsUsed === 'batch')} mode`,
      tone: 'muted',
    });
  else {
    const batch = last.statsUsed === 'batch';
    out.push({
      text: batch
        ? 'training mode: batch statistics'
        : `inference mode: moving statistics${changed ? '' : ', not updated'}`,
      title: batch
        ? "the last call ran in training mode: it normalised with its batch's own mean and variance, and moved the moving statistics toward them"
        : 'the last call ran in inference mode: it normalised with the moving mean and variance, and inference mode never updates them',
      tone: batch ? 'train' : 'infer',
      prominent: true,
    });
  }
  if (last)
    out.push({
      text: `training: ${last.training}`,
      title: `the training flag the layer saw on its last call${l.calls === 0 ? ' (in an earlier step)' : ''}${last.training && last.statsUsed === 'moving' ? `; ${SEMANTICS_LABEL[semantics]} ran it in inference mode all the same, because trainable is false` : ''}`,
      tone: 'neutral',
    });
  out.push({
    text: `trainable: ${l.trainable}`,
    title: `the layer's trainable flag. ${TRAINABLE_MEANING[semantics]}`,
    tone: 'neutral',
  });
  if (l.updates > 0)
    out.push({
      text: `updated ×${l.updates}`,
      title: `the moving statistics were updated ${plural(l.updates, 'time')} in this step${l.trainable ? '' : ', although the layer is frozen (trainable: false)'}`,
      tone: l.trainable ? 'updated' : 'warn',
    });
  else if (l.movingUpdated)
    out.push({
      text: 'changed (set directly)',
      title: 'the moving statistics changed without a training-mode update',
      tone: 'warn',
    });
  else if (!last || l.calls === 0)
    out.push({ text: 'not updated', title: 'the moving statistics did not change in this step', tone: 'muted' });
  out.push({
    text: plural(l.calls, 'call'),
    title: `calls of this layer in this step (since the previous step)`,
    tone: l.calls ? 'neutral' : 'muted',
  });
  return out;
}

export interface WarningAdvice {
  /** why it happens and what it does */
  why: string;
  /** what to do about it */
  fix: string;
}

/** The explanation of a contract warning in two parts: why (and what it does), and what to do. */
export function warningAdvice(code: WarningCode | string): WarningAdvice {
  switch (code) {
    case 'TRAINABLE_FALSE_STILL_UPDATES':
      return {
        why: "tfjs's BatchNormalization reads only the training flag of each call, never trainable: freezing stops gamma and beta from learning, but fit still normalises with the batch statistics and updates the moving mean and variance. TF2 Keras runs a frozen layer in inference mode instead.",
        fix: 'To keep them fixed in tfjs, keep the layer out of training-mode calls (for example run the frozen part with predict as a separate model) or restore the moving statistics after fit.',
      };
    case 'BATCH_OF_ONE':
      return {
        why: 'With one sample per channel the batch mean is that sample and the (biased) batch variance is 0: the output is beta, and each update pulls the moving variance toward 0.',
        fix: 'A last partial batch of size 1 in fit does this: choose a batch size that divides the data, or drop the remainder.',
      };
    case 'NON_FINITE':
      return {
        why: 'NaN or Infinity in a moving statistic, gamma or beta spreads to every later output.',
        fix: 'Usual causes: a learning rate that is too high, an input that holds NaN, or an epsilon of 0 with a zero variance.',
      };
    case 'STALE_MOVING_STATS':
      return {
        why: 'This layer normalises with its initial moving mean 0 and variance 1, as if its inputs were already standardised.',
        fix: 'Train it first (fit, or apply with training: true) or load trained weights.',
      };
    default:
      return { why: '', fix: '' };
  }
}

/** Long explanation of a contract warning (why, then what to do), said once for all the layers it concerns. */
export function warningExplanation(code: WarningCode | string): string {
  const a = warningAdvice(code);
  return a.why && a.fix ? `${a.why} ${a.fix}` : a.why || a.fix;
}

/** Human title of a warning code. */
export function warningTitle(code: WarningCode | string): string {
  switch (code) {
    case 'TRAINABLE_FALSE_STILL_UPDATES':
      return 'Frozen, but still updated';
    case 'BATCH_OF_ONE':
      return 'Batch of one';
    case 'NON_FINITE':
      return 'NaN or Infinity';
    case 'STALE_MOVING_STATS':
      return 'Stale moving statistics';
    default:
      return String(code);
  }
}
