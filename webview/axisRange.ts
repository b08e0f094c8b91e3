/** The y axis of a chart: padded, never across 0 needlessly, and flat for float noise around a constant. */
export interface Range {
  lo: number;
  hi: number;
}

/** Fraction of the data's span added above and below it. */
const AXIS_PAD = 0.06;
/** Spans below this fraction of max(1, |values|) are float noise around a constant: drawn as a flat line. */
const NOISE_REL = 1e-6;

/**
 * The y axis for data in [lo, hi] (finite, lo <= hi). Data whose span is below NOISE_REL·max(1, |values|)
 * (float noise around a constant, e.g. a beta of all ≈ 1e-10) gets a flat line in the middle of a window of
 * ±max(5 % of the value, NOISE_REL·max(1, |value|)), instead of a full-height zig-zag that looks like signal;
 * otherwise the span is padded by 6 %. The padding never takes the axis across 0 when all data is on one
 * side of it, and with `nonNegative` (a variance) an all-zero series gets an axis from 0 up, too.
 */
export function axisRange(lo: number, hi: number, nonNegative = false): Range {
  const mag = Math.max(1, Math.abs(lo), Math.abs(hi));
  let a: number;
  let b: number;
  if (hi - lo < NOISE_REL * mag) {
    const c = (lo + hi) / 2;
    const half = Math.max(Math.abs(c) * 0.05, NOISE_REL * Math.max(1, Math.abs(c)));
    a = c - half;
    b = c + half;
  } else {
    const pad = (hi - lo) * AXIS_PAD;
    a = lo - pad;
    b = hi + pad;
  }
  // (a <= lo and b >= hi always, so clamping at 0 never cuts off data)
  if (a < 0 && lo >= 0 && (hi > 0 || nonNegative)) a = 0;
  else if (b > 0 && hi <= 0 && lo < 0) b = 0;
  return { lo: a, hi: b };
}

/** Axis range over the finite values of all series, or null when there are none. */
export function rangeOf(series: { data: ArrayLike<number> | null }[], nonNegative: boolean): Range | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    const d = s.data;
    if (!d) continue;
    for (let i = 0; i < d.length; i++) {
      const x = d[i];
      if (Number.isFinite(x)) {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
  }
  return lo <= hi ? axisRange(lo, hi, nonNegative) : null;
}
