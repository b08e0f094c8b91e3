/**
 * The baseline that drift is measured from (pure, no DOM): by default each layer's statistics before its first
 * call in the run (`movingBefore` of its first snapshot, "step 0": for a loaded pretrained model, the pretrained
 * statistics; for a new layer its initial values), else its first snapshot; or a step the person pinned (kept
 * in the panel state by its index). Layers that did not exist at the pinned step fall back to their first
 * snapshot. The vectors are held by reference (the unpacked steps' own arrays, never written to).
 */
import type { StepSnapshot } from '../src/shared/protocol';
import type { StatsVectors } from './drift';

export interface BaseStats extends StatsVectors {
  /** the step this layer's baseline comes from */
  step: number;
}

/** a step's vectors, when the panel still has them (from the timeline History) */
export type StepVectors = (index: number) => Map<string, StatsVectors> | null;

export class Baseline {
  private first = new Map<string, BaseStats>();
  private pin = new Map<string, BaseStats>();
  /** the pinned step's vectors are held (it was seen, or found in the history) */
  private pinHeld = false;

  /** `pinned`: the pinned step index (null: the first snapshot) */
  constructor(public pinned: number | null = null) {}

  /** a new run: forget every snapshot (the pin, an index, stays) */
  clear(): void {
    this.first.clear();
    this.pin.clear();
    this.pinHeld = false;
  }

  /** a step was ingested (in order) */
  onStep(step: StepSnapshot, keys: string[]): void {
    step.layers.forEach((l, i) => {
      const k = keys[i];
      if (this.first.has(k)) return;
      // the statistics before the layer's first call (step 0: the start of the run), else its first snapshot
      if (l.movingBefore)
        this.first.set(k, { step: 0, movingMean: l.movingBefore.mean, movingVariance: l.movingBefore.variance });
      else this.first.set(k, { step: step.index, movingMean: l.movingMean, movingVariance: l.movingVariance });
    });
    if (this.pinned === step.index) this.hold(step, keys);
  }

  private hold(step: StepSnapshot, keys: string[]): void {
    this.pin.clear();
    step.layers.forEach((l, i) =>
      this.pin.set(keys[i], { step: step.index, movingMean: l.movingMean, movingVariance: l.movingVariance }),
    );
    this.pinHeld = true;
  }

  /**
   * Pins step `index` (null: back to the first snapshots). `current` is the step on screen; an earlier step's
   * vectors come from `older` (null when no longer kept). Returns false when that step's vectors are gone
   * (the pin is kept; drift falls back to the first snapshots until the step is seen again).
   */
  pinTo(index: number | null, current: { step: StepSnapshot; keys: string[] } | null, older: StepVectors): boolean {
    this.pinned = index;
    this.pin.clear();
    this.pinHeld = false;
    if (index == null) return true;
    if (current && current.step.index === index) {
      this.hold(current.step, current.keys);
      return true;
    }
    const v = older(index);
    if (!v) return false;
    for (const [k, s] of v)
      this.pin.set(k, { step: index, movingMean: s.movingMean, movingVariance: s.movingVariance });
    this.pinHeld = true;
    return true;
  }

  /** the pinned step is set but its vectors are not held (not reached yet, or no longer kept) */
  get pinMissing(): boolean {
    return this.pinned != null && !this.pinHeld;
  }

  /** the baseline of one layer (null: the layer was never seen) */
  of(key: string): BaseStats | null {
    return (this.pinHeld ? this.pin.get(key) : undefined) ?? this.first.get(key) ?? null;
  }
}
