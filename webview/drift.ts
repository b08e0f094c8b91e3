/**
 * Drift of a layer's moving statistics from a baseline, in scale-free terms (pure, no DOM; tested against a
 * float64 reference in test/unit/drift.test.ts):
 * - mean shift: max over channels of |mean - baseline mean| / sqrt(baseline variance + epsilon), i.e. how many
 *   of the baseline's standard deviations the moving mean moved, at most;
 * - variance ratio: max over channels of max(r, 1/r) with r = (variance + epsilon) / (baseline variance + epsilon),
 *   i.e. by what factor the moving variance grew or shrank, at most (1 = unchanged); `varLog` = its natural log.
 * The same measure with the previous step as baseline gives the change in one step (the overview's heat strip).
 */

export interface StatsVectors {
  movingMean: ArrayLike<number>;
  movingVariance: ArrayLike<number>;
}

export interface Drift {
  /** max over channels of |Δmean| / sqrt(baseline var + eps); NaN when a value is not finite */
  meanShift: number;
  /** channel of the largest mean shift (-1 when no channel) */
  meanChannel: number;
  /** max over channels of |ln((var + eps) / (baseline var + eps))|; NaN when a value is not finite */
  varLog: number;
  /** channel of the largest variance ratio (-1 when no channel) */
  varChannel: number;
  /** channels whose moving mean or variance differs from the baseline at all */
  changed: number;
}

/** exp(varLog): the largest factor by which a channel's variance grew or shrank (1 = unchanged) */
export function varRatio(d: Drift): number {
  return Math.exp(d.varLog);
}

/** One number per layer for a picture: the larger of the mean shift and |ln variance ratio| (NaN stays NaN). */
export function driftScore(d: Drift | null): number {
  if (!d) return NaN;
  if (d.meanShift !== d.meanShift || d.varLog !== d.varLog) return NaN;
  return Math.max(d.meanShift, d.varLog);
}

/**
 * Drift of `cur` from `base` (the same layer at the baseline step); `epsilon` is the layer's.
 * null when the two have different channel counts (the layer was rebuilt).
 */
export function driftOf(cur: StatsVectors, base: StatsVectors, epsilon: number): Drift | null {
  const n = cur.movingMean.length;
  if (
    base.movingMean.length !== n ||
    cur.movingVariance.length !== n ||
    base.movingVariance.length !== n ||
    !(epsilon >= 0)
  )
    return null;
  let meanShift = 0;
  let meanChannel = n ? 0 : -1;
  let varLog = 0;
  let varChannel = n ? 0 : -1;
  let changed = 0;
  let bad = false;
  const cm = cur.movingMean;
  const bm = base.movingMean;
  const cv = cur.movingVariance;
  const bv = base.movingVariance;
  for (let i = 0; i < n; i++) {
    const m = cm[i];
    const m0 = bm[i];
    const v = cv[i];
    const v0 = bv[i];
    if (m !== m0 || v !== v0) changed++;
    if (!Number.isFinite(m) || !Number.isFinite(m0) || !Number.isFinite(v) || !Number.isFinite(v0)) {
      bad = true;
      continue;
    }
    const s0 = v0 + epsilon;
    if (m !== m0) {
      const shift = s0 > 0 ? Math.abs(m - m0) / Math.sqrt(s0) : Infinity;
      if (shift > meanShift) {
        meanShift = shift;
        meanChannel = i;
      }
    }
    if (v !== v0) {
      const s = v + epsilon;
      const l = s > 0 && s0 > 0 ? Math.abs(Math.log(s / s0)) : Infinity;
      if (l > varLog) {
        varLog = l;
        varChannel = i;
      }
    }
  }
  if (bad) return { meanShift: NaN, meanChannel: -1, varLog: NaN, varChannel: -1, changed };
  return { meanShift, meanChannel, varLog, varChannel, changed };
}
