/**
 * The timeline history of the panel: per step and per layer, the mean over channels of the moving mean and
 * variance, plus enough to draw one channel the user picks. Bounded whatever the number of steps:
 * - at most `maxPoints` steps are kept; beyond that, every other step of the older half is dropped ("thinned");
 * - full per-channel vectors are kept only within a float budget (newest first); older points keep only the
 *   channel that was picked when they were recorded.
 * Pure (no DOM): tested in Node.
 */
import type { StepSnapshot } from '../src/shared/protocol';

export interface LayerPoint {
  /** mean over channels of the moving mean / moving variance (float64 sum) */
  mm: number;
  mv: number;
  /** copies of the full vectors while the budget allows, else null */
  vmm: Float32Array | null;
  vmv: Float32Array | null;
  /** the channel picked when recorded, and its values */
  pc: number;
  pmm: number;
  pmv: number;
}

export interface HistPoint {
  step: number;
  layers: Map<string, LayerPoint>;
}

export interface Series {
  steps: number[];
  meanMM: number[];
  meanMV: number[];
  chMM: number[];
  chMV: number[];
  /** points where the picked channel's value is unknown (thinned vectors, picked later) */
  missing: number;
}

/** Keys that identify layers across steps: the path joined by '/', made unique in a step by '#2', '#3' … */
export function layerKeys(step: StepSnapshot): string[] {
  const seen = new Map<string, number>();
  return step.layers.map((l) => {
    const base = l.path.length ? l.path.join('/') : l.name;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  });
}

export function meanOf(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return v.length ? s / v.length : NaN;
}

export class History {
  points: HistPoint[] = [];
  /** steps dropped by thinning here (the host's own thinning is added by the panel) */
  thinned = 0;
  private vecFloats = 0;

  constructor(
    readonly maxPoints = 500,
    readonly vecBudget = 4_000_000,
  ) {}

  clear(): void {
    this.points = [];
    this.thinned = 0;
    this.vecFloats = 0;
  }

  get length(): number {
    return this.points.length;
  }

  /**
   * Records a step. `picked(key)` gives the channel currently picked for a layer. `keepVectors` false: keep only
   * the aggregates and the picked channel (used for old steps of a reset that the budget would drop anyway).
   */
  push(step: StepSnapshot, keys: string[], picked: (key: string) => number, keepVectors = true): void {
    // a step with an index not after the last one replaces the tail (should not happen within a session)
    while (this.points.length && this.points[this.points.length - 1].step >= step.index)
      this.dropPoint(this.points.length - 1);
    const layers = new Map<string, LayerPoint>();
    step.layers.forEach((l, i) => {
      const key = keys[i];
      const pc = Math.min(Math.max(0, picked(key) | 0), Math.max(0, l.channels - 1));
      const vmm = keepVectors ? l.movingMean.slice() : null;
      const vmv = keepVectors ? l.movingVariance.slice() : null;
      if (vmm && vmv) this.vecFloats += vmm.length + vmv.length;
      layers.set(key, {
        mm: meanOf(l.movingMean),
        mv: meanOf(l.movingVariance),
        vmm,
        vmv,
        pc,
        pmm: l.movingMean[pc] ?? NaN,
        pmv: l.movingVariance[pc] ?? NaN,
      });
    });
    this.points.push({ step: step.index, layers });
    if (this.points.length > this.maxPoints) this.thin();
    this.enforceBudget();
  }

  private dropPoint(i: number): void {
    for (const p of this.points[i].layers.values()) this.vecFloats -= (p.vmm?.length ?? 0) + (p.vmv?.length ?? 0);
    this.points.splice(i, 1);
  }

  /** drops every other point of the older half (the first point is kept) */
  private thin(): void {
    const half = Math.floor(this.points.length / 2);
    const kept: HistPoint[] = [];
    for (let i = 0; i < this.points.length; i++) {
      const p = this.points[i];
      if (i < half && i % 2 === 1) {
        for (const lp of p.layers.values()) this.vecFloats -= (lp.vmm?.length ?? 0) + (lp.vmv?.length ?? 0);
        this.thinned++;
      } else kept.push(p);
    }
    this.points = kept;
  }

  private enforceBudget(): void {
    for (let i = 0; i < this.points.length - 1 && this.vecFloats > this.vecBudget; i++) {
      for (const lp of this.points[i].layers.values()) {
        if (lp.vmm) {
          this.vecFloats -= lp.vmm.length + (lp.vmv?.length ?? 0);
          lp.vmm = null;
          lp.vmv = null;
        }
      }
    }
  }

  /** The timeline of one layer, with `channel` as the picked channel. */
  series(key: string, channel: number): Series {
    const s: Series = { steps: [], meanMM: [], meanMV: [], chMM: [], chMV: [], missing: 0 };
    for (const p of this.points) {
      const lp = p.layers.get(key);
      if (!lp) continue;
      s.steps.push(p.step);
      s.meanMM.push(lp.mm);
      s.meanMV.push(lp.mv);
      if (lp.vmm && lp.vmv) {
        s.chMM.push(channel < lp.vmm.length ? lp.vmm[channel] : NaN);
        s.chMV.push(channel < lp.vmv.length ? lp.vmv[channel] : NaN);
      } else if (lp.pc === channel) {
        s.chMM.push(lp.pmm);
        s.chMV.push(lp.pmv);
      } else {
        s.chMM.push(NaN);
        s.chMV.push(NaN);
        s.missing++;
      }
    }
    return s;
  }

  /** how many kept steps have this layer, and how many of them lack `channel`'s value (cheap: no series built) */
  coverage(key: string, channel: number): { kept: number; missing: number } {
    let kept = 0;
    let missing = 0;
    for (const p of this.points) {
      const lp = p.layers.get(key);
      if (!lp) continue;
      kept++;
      if (!lp.vmm && lp.pc !== channel) missing++;
    }
    return { kept, missing };
  }

  /** floats the full vectors of a step take */
  static vectorFloatsOf(step: StepSnapshot): number {
    let n = 0;
    for (const l of step.layers) n += l.movingMean.length + l.movingVariance.length;
    return n;
  }

  /** floats held in full vectors (for tests and the benchmark) */
  get vectorFloats(): number {
    return this.vecFloats;
  }
}
