/** Words and short numbers for drift (drift.ts) in the overview and the cards (pure, no DOM). */
import type { Drift } from './drift';
import { varRatio } from './drift';
import { short } from './format';

/** "0.31σ" */
export function sigma(v: number): string {
  return `${short(v)}σ`;
}

/** "×1.2" (the variance ratio: the larger of grown-by and shrunk-by) */
export function ratio(d: Drift): string {
  const r = varRatio(d);
  if (r !== r) return '×NaN';
  if (!Number.isFinite(r)) return '×∞';
  // near 1 the digits that matter are after the point: ×1.0021, not ×1
  return `×${r < 1.01 ? +r.toFixed(4) : r < 10 ? +r.toPrecision(3) : short(r)}`;
}

/** compact: "0.31σ · var ×1.2", "none", "NaN" */
export function driftShort(d: Drift | null): string {
  if (!d) return '—';
  if (d.meanShift !== d.meanShift || d.varLog !== d.varLog) return 'NaN';
  if (d.changed === 0) return 'none';
  return `${sigma(d.meanShift)} · var ${ratio(d)}`;
}

/** the measures, said in full (the cards and the overview's note) */
export const DRIFT_MEASURES =
  'mean shift = max over channels of |Δ moving mean| / √(baseline moving variance + ε), in baseline standard deviations (σ); variance ratio = max over channels of (variance + ε) / (baseline variance + ε) or its inverse, whichever is larger (×1 = unchanged)';

/** the baseline step in words: step 0 is the start of the run (each layer's statistics before its first call) */
export function baselineName(baseStep: number): string {
  return baseStep === 0 ? 'the start: before its first call' : `step ${baseStep}`;
}

/** one sentence for a card: the drift from the baseline */
export function driftSentence(d: Drift | null, baseStep: number | null, channels: number): string {
  if (baseStep == null) return 'Drift from the baseline: no baseline yet.';
  const since = `since the baseline (${baselineName(baseStep)})`;
  if (!d) return `Drift ${since}: the layer's shape changed, no comparison.`;
  if (d.meanShift !== d.meanShift || d.varLog !== d.varLog)
    return `Drift ${since}: not finite (NaN or Infinity in the moving statistics).`;
  if (d.changed === 0) return `No drift ${since}: the moving statistics are the baseline's, to the last bit.`;
  return `Drift ${since}: ${d.changed} of ${channels} channels moved; the moving mean by up to ${sigma(d.meanShift)} (channel ${d.meanChannel}), the moving variance by a factor of up to ${ratio(d)} (channel ${d.varChannel}).`;
}

/** the callout of a frozen layer whose statistics drifted from the baseline (null: nothing to call out) */
export function frozenDriftCallout(trainable: boolean, d: Drift | null, baseStep: number | null): string | null {
  if (trainable || !d || d.changed === 0 || baseStep == null) return null;
  const how =
    d.meanShift !== d.meanShift || d.varLog !== d.varLog
      ? 'to NaN or Infinity'
      : `by up to ${sigma(d.meanShift)} in mean and ${ratio(d)} in variance`;
  return `Frozen (trainable: false), yet its moving statistics drifted from the baseline (${baselineName(baseStep)}) ${how}: freezing did not freeze them.`;
}
