/** Number formatting for the panel (pure). */

/** The exact value as the contract's JSON writes it: the float32 as its nearest double, full precision. */
export function exact(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return String(v);
}

/** A short form for badges, axes and summaries (about 4 significant digits). */
export function short(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  let s: string;
  if (a < 1e-3 || a >= 1e5) {
    s = v
      .toExponential(2)
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  } else {
    s = String(+v.toPrecision(4));
  }
  return s.replace(/^-/, '−');
}

/** Thousands separators for counts. */
export function count(n: number): string {
  // (toLocaleString is slow enough to show up in a 53-layer render)
  const s = String(Math.trunc(n));
  if (s.length <= 4 || !Number.isFinite(n)) return s;
  const neg = s[0] === '-';
  const d = neg ? s.slice(1) : s;
  let out = '';
  for (let i = 0; i < d.length; i++) {
    if (i > 0 && (d.length - i) % 3 === 0) out += ',';
    out += d[i];
  }
  return (neg ? '-' : '') + out;
}

export function shape(s: number[]): string {
  return `[${s.join(', ')}]`;
}

/**
 * A float32 in as few digits as read back as the same float32 (at most 9 significant digits): narrower than
 * `exact`, for the compare tables that show two values and their difference side by side.
 */
export function float32Text(v: number): string {
  if (!Number.isFinite(v) || v === 0) return exact(v);
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(f);
}

/** A difference to 9 significant digits (as precise as the float32 values it comes from) */
export function diffText(v: number): string {
  if (!Number.isFinite(v) || v === 0) return exact(v);
  return String(Number(v.toPrecision(9)));
}
