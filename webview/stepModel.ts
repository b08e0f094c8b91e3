/**
 * What the panel knows of the run: the session, the current step and the previous one's layers (for the
 * change since the previous step), the bounded timeline (History), the baseline that drift is measured from
 * (baseline.ts) and the heat strip's per-step changes (heatData.ts). Fed by the host's messages; the steps
 * arrive packed (snapshotCodec) and are unpacked here, once.
 */
import type { HostToWebview, LayerSnapshot, SessionInfo, StepSnapshot } from '../src/shared/protocol';
import { unpackStep } from '../src/shared/snapshotCodec';
import { Baseline } from './baseline';
import { type Drift, driftOf, driftScore, type StatsVectors } from './drift';
import { HeatData, UNKNOWN } from './heatData';
import { History, layerKeys } from './history';

type Msg<T extends HostToWebview['type']> = Extract<HostToWebview, { type: T }>;

function toBuffer(b: unknown): ArrayBuffer | null {
  if (b instanceof ArrayBuffer || Object.prototype.toString.call(b) === '[object ArrayBuffer]') return b as ArrayBuffer;
  if (ArrayBuffer.isView(b)) return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  return null;
}

export class StepModel {
  readonly history = new History(500);
  readonly heat = new HeatData();
  readonly baseline: Baseline;
  /** per layer of the current step: the change since the previous step (null: no previous, or reshaped) */
  stepChange: (Drift | null)[] = [];
  session: SessionInfo | null = null;
  current: StepSnapshot | null = null;
  /** the layer keys of the current step, in model order */
  currentKeys: string[] = [];
  /** the previous step's layers by key, and its index (0: none) */
  prevByKey = new Map<string, LayerSnapshot>();
  prevIndex = 0;
  /** steps the host thinned before sending the session */
  hostThinned = 0;

  /** `channel(key)`: the channel whose values the timeline keeps for a layer */
  /** `pinned`: the baseline step the person pinned (null: each layer's first snapshot) */
  constructor(
    private channel: (key: string) => number,
    pinned: number | null = null,
  ) {
    this.baseline = new Baseline(pinned);
  }

  /** the full vectors of an earlier step, while the timeline still keeps them */
  stepVectors(index: number): Map<string, StatsVectors> | null {
    const p = this.history.points.find((x) => x.step === index);
    if (!p) return null;
    const out = new Map<string, StatsVectors>();
    for (const [k, lp] of p.layers) {
      if (!lp.vmm || !lp.vmv) return null;
      out.set(k, { movingMean: lp.vmm, movingVariance: lp.vmv });
    }
    return out;
  }

  /** pins step `index` as the baseline (null: the first snapshots); false when its vectors are gone */
  pinBaseline(index: number | null): boolean {
    const cur = this.current ? { step: this.current, keys: this.currentKeys } : null;
    return this.baseline.pinTo(index, cur, (i) => this.stepVectors(i));
  }

  /** steps thinned in all (host + panel) */
  thinned(): number {
    return this.hostThinned + this.history.thinned;
  }

  private clearSteps(): void {
    this.history.clear();
    this.hostThinned = 0;
    this.current = null;
    this.currentKeys = [];
    this.prevByKey.clear();
    this.prevIndex = 0;
    this.stepChange = [];
    this.baseline.clear();
    this.heat.clear();
  }

  /** the whole session again (the panel was shown anew, or a new run) */
  reset(msg: Msg<'reset'>): void {
    this.clearSteps();
    this.session = msg.session ?? null;
    this.hostThinned = Number(msg.thinned) || 0;
    const steps: StepSnapshot[] = [];
    for (const b of msg.steps ?? []) {
      const buf = toBuffer(b);
      if (buf) steps.push(unpackStep(buf));
    }
    // copy full vectors only for the newest steps that fit the history's budget
    let budget = this.history.vecBudget;
    const keep = new Array<boolean>(steps.length);
    for (let i = steps.length - 1; i >= 0; i--) {
      budget -= History.vectorFloatsOf(steps[i]);
      keep[i] = budget >= 0 || i === steps.length - 1;
    }
    steps.forEach((st, i) => this.ingest(st, keep[i]));
  }

  /** one new step; false when the message carried no buffer */
  step(msg: Msg<'step'>): boolean {
    const buf = toBuffer(msg.buffer);
    if (!buf) return false;
    this.ingest(unpackStep(buf));
    return true;
  }

  /** the session changed; a new run announced without a reset drops the old steps */
  setSession(msg: Msg<'session'>): void {
    const prev = this.session;
    const s = (this.session = msg.session ?? null);
    // another script, or the same one starting again
    if (
      s &&
      prev &&
      this.current &&
      (prev.script !== s.script || (s.state === 'starting' && prev.state !== 'starting'))
    )
      this.clearSteps();
    if (!s) this.clearSteps();
  }

  private ingest(step: StepSnapshot, keepVectors = true): void {
    const keys = layerKeys(step);
    // a new run without a reset: start over
    if (this.current && step.index <= this.current.index) this.clearSteps();
    this.prevByKey.clear();
    if (this.current) {
      this.prevIndex = this.current.index;
      this.current.layers.forEach((l, i) => this.prevByKey.set(this.currentKeys[i], l));
    } else this.prevIndex = 0;
    this.current = step;
    this.currentKeys = keys;
    const scores = new Float32Array(keys.length);
    this.stepChange = step.layers.map((l, i) => {
      const p = this.prevByKey.get(keys[i]);
      // the layer's first snapshot: compared with its statistics before its first call, when the engine sent them
      const ref =
        p ?? (l.movingBefore ? { movingMean: l.movingBefore.mean, movingVariance: l.movingBefore.variance } : null);
      const d = ref ? driftOf(l, ref, l.epsilon) : null;
      // no earlier snapshot to compare with: updated (size unknown) or unchanged
      scores[i] = d ? driftScore(d) : ref || l.updates > 0 || l.movingUpdated ? UNKNOWN : 0;
      return d;
    });
    this.heat.push(step.index, keys, scores);
    this.baseline.onStep(step, keys);
    this.history.push(step, keys, this.channel, keepVectors);
  }
}
