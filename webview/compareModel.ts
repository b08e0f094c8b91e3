/**
 * What the panel keeps of the compare run (the same script under a second semantics, in lockstep with the
 * session): its info and its newest packed steps, and, for the step the panel shows, each layer paired with the
 * compare run's layer of the same key (pairLayers) and compared (compareLayers). Only a few packed steps are kept
 * (the panel shows the newest step, and the compare run is in lockstep with it); a step is decoded when it is
 * shown, once.
 */
import type { CompareInfo, HostToWebview, LayerSnapshot, Semantics, StepSnapshot } from '../src/shared/protocol';
import { type LayerComparison, compareLayers, pairLayers } from '../src/shared/semanticsCompare';
import { readStepHeader, unpackStep } from '../src/shared/snapshotCodec';
import { layerKeys } from './history';

type Msg<T extends HostToWebview['type']> = Extract<HostToWebview, { type: T }>;

/** packed compare steps kept (newest by index) */
export const KEEP_COMPARE_STEPS = 8;

export function toBuffer(b: unknown): ArrayBuffer | null {
  if (b instanceof ArrayBuffer || Object.prototype.toString.call(b) === '[object ArrayBuffer]') return b as ArrayBuffer;
  if (ArrayBuffer.isView(b)) return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  return null;
}

/** one layer of the shown step and its counterpart in the compare run */
export interface LayerPair {
  /** the compare run's layer of the same key (null: no such layer there) */
  other: LayerSnapshot | null;
  /** null when `other` is null */
  cmp: LayerComparison | null;
}

/**
 * Where the compare run is for the shown step:
 * - 'off': no compare run;
 * - 'paired': its step of the same index is here (pairs computed);
 * - 'waiting': not there yet, the compare run is still going;
 * - 'ended': the compare run ended (or failed) before this step.
 */
export type CompareStatus = 'off' | 'paired' | 'waiting' | 'ended';

export interface ShownCompare {
  status: CompareStatus;
  info: CompareInfo | null;
  /** the session's semantics and the compare run's */
  semA: Semantics;
  semB: Semantics | null;
  /** per key of the shown step (only when 'paired') */
  pairs: Map<string, LayerPair>;
  /** layers of the compare step that the shown step does not have (only when 'paired') */
  unpaired: number;
  /** how many shown layers differ (only when 'paired') */
  differing: number;
}

export class CompareModel {
  info: CompareInfo | null = null;
  private packed = new Map<number, ArrayBuffer>();
  private cacheIndex = -1;
  private cacheStep: StepSnapshot | null = null;
  private shown: ShownCompare | null = null;
  private shownFor: { step: StepSnapshot | null; semA: Semantics; other: StepSnapshot | null } | null = null;
  /** bumped whenever what is shown may change */
  version = 0;

  /** {type:'compare'}: the info and the whole history again (replaces what is kept) */
  set(msg: Msg<'compare'>): void {
    this.info = msg.compare ?? null;
    this.packed.clear();
    this.cacheIndex = -1;
    this.cacheStep = null;
    if (this.info) for (const b of msg.steps ?? []) this.add(b);
    this.version++;
  }

  /** {type:'compareStep'}: one more step; false when the message carried no buffer */
  step(msg: Msg<'compareStep'>): boolean {
    if (!this.add(msg.buffer)) return false;
    this.version++;
    return true;
  }

  clear(): void {
    this.set({ type: 'compare', compare: null, steps: [] });
  }

  private add(b: unknown): boolean {
    const buf = toBuffer(b);
    if (!buf) return false;
    // (only the header is read here: the vectors are decoded when the step is shown)
    const index = readStepHeader(buf).index;
    this.packed.set(index, buf);
    if (index === this.cacheIndex) this.cacheStep = null;
    while (this.packed.size > KEEP_COMPARE_STEPS) {
      let min = Infinity;
      for (const k of this.packed.keys()) min = Math.min(min, k);
      this.packed.delete(min);
    }
    return true;
  }

  /** the compare run's step of this index, when kept */
  stepAt(index: number): StepSnapshot | null {
    if (index === this.cacheIndex && this.cacheStep) return this.cacheStep;
    const buf = this.packed.get(index);
    if (!buf) return null;
    this.cacheIndex = index;
    this.cacheStep = unpackStep(buf);
    return this.cacheStep;
  }

  /** the compare view of the shown step (cached until a message changes it) */
  forStep(step: StepSnapshot | null, keys: string[], semA: Semantics): ShownCompare {
    const info = this.info;
    const other = step && info ? this.stepAt(step.index) : null;
    const f = this.shownFor;
    if (this.shown && f && f.step === step && f.semA === semA && f.other === other && this.shown.info === info)
      return this.shown;
    this.shownFor = { step, semA, other };
    const out: ShownCompare = {
      status: 'off',
      info,
      semA,
      semB: info ? info.semantics : null,
      pairs: new Map(),
      unpaired: 0,
      differing: 0,
    };
    if (info && step) {
      if (other) {
        out.status = 'paired';
        const mine = step.layers.map((l, i) => ({ path: [keys[i]], l }));
        const okeys = layerKeys(other);
        const theirs = other.layers.map((l, i) => ({ path: [okeys[i]], l }));
        for (const [a, b] of pairLayers(mine, theirs)) {
          if (!a) {
            out.unpaired++;
            continue;
          }
          const cmp = b ? compareLayers(a.l, semA, b.l, info.semantics) : null;
          if (!cmp || cmp.differs) out.differing++;
          out.pairs.set(a.path[0], { other: b ? b.l : null, cmp });
        }
      } else out.status = info.state === 'ended' || info.state === 'idle' ? 'ended' : 'waiting';
    }
    this.shown = out;
    return out;
  }
}
