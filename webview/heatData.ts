/**
 * The data behind the overview's heat strip (pure, no DOM): per step and per layer, one number for how much the
 * layer's moving statistics changed in that step (drift.ts's driftScore with the previous step as baseline).
 * Bounded whatever the number of steps: past `maxCols` steps, pairs of the older half are merged (keeping the
 * larger change), so a strip of 1,000s of steps costs a few hundred KB and a redraw O(kept steps × layers)
 * numbers, never DOM.
 * Cell values: a change >= 0; NaN = not finite; UNKNOWN = updated, but no earlier step to compare with;
 * ABSENT = the layer did not exist.
 */
export const ABSENT = -1;
export const UNKNOWN = -2;

export interface HeatCol {
  /** first and last step the column covers (equal unless merged) */
  from: number;
  to: number;
  /** by row (HeatData.rowOf); rows added after this column read as ABSENT */
  v: Float32Array;
}

export class HeatData {
  cols: HeatCol[] = [];
  private rows = new Map<string, number>();
  /** the step at which each row (layer) was first seen */
  private since = new Map<string, number>();
  /** bumped whenever existing columns change (merge, clear): a drawing of the old columns is stale */
  generation = 0;

  constructor(readonly maxCols = 2048) {}

  clear(): void {
    this.cols = [];
    this.rows.clear();
    this.since.clear();
    this.generation++;
  }

  rowOf(key: string): number {
    return this.rows.get(key) ?? -1;
  }

  get rowCount(): number {
    return this.rows.size;
  }

  /** value of row `r` in column `c` (ABSENT when the row did not exist then) */
  value(c: number, r: number): number {
    const col = this.cols[c];
    return r >= 0 && r < col.v.length ? col.v[r] : ABSENT;
  }

  /** the step at which layer `key` was first seen (Infinity: never) */
  firstStep(key: string): number {
    return this.since.get(key) ?? Infinity;
  }

  /** one step: `scores[i]` is the change of layer `keys[i]` */
  push(step: number, keys: string[], scores: ArrayLike<number>): void {
    for (const k of keys)
      if (!this.rows.has(k)) {
        this.rows.set(k, this.rows.size);
        this.since.set(k, step);
      }
    const v = new Float32Array(this.rows.size).fill(ABSENT);
    keys.forEach((k, i) => (v[this.rows.get(k)!] = scores[i]));
    this.cols.push({ from: step, to: step, v });
    if (this.cols.length > this.maxCols) this.merge();
  }

  /** merges pairs of columns in the older half (the larger change wins; NaN wins over any number) */
  private merge(): void {
    const half = Math.floor(this.cols.length / 2);
    const out: HeatCol[] = [];
    let i = 0;
    for (; i + 1 < half; i += 2) {
      const a = this.cols[i];
      const b = this.cols[i + 1];
      const n = Math.max(a.v.length, b.v.length);
      const v = new Float32Array(n);
      for (let r = 0; r < n; r++) v[r] = combine(r < a.v.length ? a.v[r] : ABSENT, r < b.v.length ? b.v[r] : ABSENT);
      out.push({ from: a.from, to: b.to, v });
    }
    for (; i < this.cols.length; i++) out.push(this.cols[i]);
    this.cols = out;
    this.generation++;
  }
}

/** the value shown for two merged cells */
export function combine(a: number, b: number): number {
  if (a !== a || b !== b) return NaN;
  if (a >= 0 || b >= 0) return Math.max(a, b);
  if (a === UNKNOWN || b === UNKNOWN) return UNKNOWN;
  return ABSENT;
}

/** 0..1 intensity of a change on the strip's fixed scale: 1e-4 or less -> 0, 1 or more -> 1 (log10) */
export function heatLevel(v: number): number {
  if (!(v > 0)) return 0;
  return Math.min(1, Math.max(0, (Math.log10(v) + 4) / 4));
}
