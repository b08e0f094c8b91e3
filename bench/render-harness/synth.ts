/**
 * Synthetic but realistic StepSnapshots for the browser harness (tests and render benchmark):
 * a ResNet-50-sized set of BatchNormalization layers (53 layers, 26,560 channels) whose moving statistics
 * follow the tfjs update rule `new = old - (old - batch) * (1 - momentum)` during "fit" steps and stay put
 * during "predict" steps. Pure (no DOM).
 */
import type { CallRecord, LayerSnapshot, LayerWarning, SourcePosition, StepSnapshot } from '../../src/shared/protocol';

export interface LayerSpec {
  name: string;
  path: string[];
  channels: number;
  /** where the layer was built (default null: made outside the user's code) */
  source?: SourcePosition | null;
}

/** the example the MobileNetV2 spec imitates, and the lines of its batchNormalization calls */
export const MOBILENET_FILE = '/work/examples/mobilenet-v2-finetune.ts';
export const MOBILENET_LINES = { convBn: 23, dw: 34, project: 37 };

/**
 * The 52 BN layers of MobileNetV2 (alpha 1) as examples/mobilenet-v2-finetune.ts builds them, in model order
 * (17,056 channels in all), each with the source line of its batchNormalization call (helpers convBn and
 * invertedResidual).
 */
export function mobilenetV2Spec(file = MOBILENET_FILE): LayerSpec[] {
  const out: LayerSpec[] = [];
  const add = (name: string, channels: number, line: number) =>
    out.push({ name, path: ['finetune', 'mobilenetv2', name], channels, source: { file, line, column: 7 } });
  add('stem_bn', 32, MOBILENET_LINES.convBn);
  const settings = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  let ch = 32;
  let id = 0;
  for (const [t, c, n] of settings) {
    for (let i = 0; i < n; i++) {
      const name = `block${id++}`;
      if (t !== 1) add(`${name}_expand_bn`, ch * t, MOBILENET_LINES.convBn);
      add(`${name}_dw_bn`, ch * t, MOBILENET_LINES.dw);
      add(`${name}_project_bn`, c, MOBILENET_LINES.project);
      ch = c;
    }
  }
  add('top_bn', 1280, MOBILENET_LINES.convBn);
  return out;
}

/** The 53 BN layers of Keras' ResNet50 in model order (26,560 channels in all). */
export function resnet50Spec(): LayerSpec[] {
  const out: LayerSpec[] = [];
  const add = (name: string, channels: number) => out.push({ name, path: ['resnet50', name], channels });
  add('conv1_bn', 64);
  const stages: [number, number, number][] = [
    [2, 3, 64],
    [3, 4, 128],
    [4, 6, 256],
    [5, 3, 512],
  ];
  for (const [stage, blocks, f] of stages) {
    for (let b = 1; b <= blocks; b++) {
      const p = `conv${stage}_block${b}`;
      if (b === 1) add(`${p}_0_bn`, 4 * f);
      add(`${p}_1_bn`, f);
      add(`${p}_2_bn`, f);
      add(`${p}_3_bn`, 4 * f);
    }
  }
  return out;
}

/** xorshift32 in [0, 1) */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

interface LayerState {
  spec: LayerSpec;
  mm: Float32Array;
  mv: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  /** the "true" activation statistics the batches are drawn around (drift slowly) */
  tm: Float32Array;
  tv: Float32Array;
  lastCall: CallRecord | null;
  lastTrainingCall: CallRecord | null;
  trainable: boolean;
  everUpdated: boolean;
}

export type SynthKind = 'fit' | 'predict' | 'none';

export class SynthRun {
  private layers: LayerState[];
  private rand: () => number;
  private index = 0;
  private file: string;
  readonly momentum: number;

  constructor(
    spec: LayerSpec[],
    seed = 1,
    opts: { frozen?: (name: string) => boolean; momentum?: number; file?: string } = {},
  ) {
    this.rand = rng(seed);
    this.momentum = opts.momentum ?? 0.99;
    this.file = opts.file ?? '/work/examples/resnet50.ts';
    this.layers = spec.map((s) => {
      const n = s.channels;
      const tm = new Float32Array(n);
      const tv = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        tm[i] = (this.rand() - 0.5) * 2;
        tv[i] = 0.2 + this.rand() * 2;
      }
      return {
        spec: s,
        mm: new Float32Array(n),
        mv: new Float32Array(n).fill(1),
        gamma: new Float32Array(n).fill(1),
        beta: new Float32Array(n),
        tm,
        tv,
        lastCall: null,
        lastTrainingCall: null,
        trainable: !opts.frozen?.(s.name),
        everUpdated: false,
      };
    });
  }

  private batch(st: LayerState, training: boolean, batchSize: number): CallRecord {
    const n = st.spec.channels;
    const bm = new Float32Array(n);
    const bv = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      bm[i] = st.tm[i] + (this.rand() - 0.5) * 0.2;
      bv[i] = batchSize === 1 ? 0 : st.tv[i] * (0.8 + this.rand() * 0.4);
    }
    return {
      training,
      statsUsed: training ? 'batch' : 'moving',
      inputShape: [batchSize, 7, 7, n],
      batchMean: bm,
      batchVariance: bv,
    };
  }

  /** One step: `fit` = `updates` training calls per layer, `predict` = one inference call, `none` = no call. */
  step(kind: SynthKind, updates = 1, batchSize = 32): StepSnapshot {
    this.index++;
    const m = this.momentum;
    const layers: LayerSnapshot[] = this.layers.map((st) => {
      const n = st.spec.channels;
      let calls = 0;
      let ups = 0;
      if (kind === 'fit') {
        for (let u = 0; u < updates; u++) {
          // the activation statistics drift a little as the weights train
          for (let i = 0; i < n; i++) st.tm[i] += (this.rand() - 0.5) * 0.01;
          const c = this.batch(st, true, batchSize);
          for (let i = 0; i < n; i++) {
            st.mm[i] = st.mm[i] - (st.mm[i] - c.batchMean[i]) * (1 - m);
            st.mv[i] = st.mv[i] - (st.mv[i] - c.batchVariance[i]) * (1 - m);
            if (st.trainable) {
              st.gamma[i] += (this.rand() - 0.5) * 0.002;
              st.beta[i] += (this.rand() - 0.5) * 0.002;
            }
          }
          st.lastCall = c;
          st.lastTrainingCall = c;
          calls++;
          ups++;
        }
        st.everUpdated = true;
      } else if (kind === 'predict') {
        st.lastCall = this.batch(st, false, batchSize);
        calls = 1;
      }
      const warnings: LayerWarning[] = [];
      if (ups > 0 && !st.trainable)
        warnings.push({
          code: 'TRAINABLE_FALSE_STILL_UPDATES',
          message: 'trainable is false, but the moving statistics were updated (tfjs does this; TF2 Keras does not)',
        });
      if (ups > 0 && batchSize === 1)
        warnings.push({
          code: 'BATCH_OF_ONE',
          message: 'a training call saw one sample per channel: batch variance is 0',
        });
      if (kind === 'predict' && !st.everUpdated)
        warnings.push({
          code: 'STALE_MOVING_STATS',
          message: 'called in inference mode but never updated: normalised with the initial mean 0 / variance 1',
        });
      return {
        name: st.spec.name,
        path: st.spec.path,
        source: st.spec.source ?? null,
        axis: -1,
        channels: n,
        momentum: m,
        epsilon: 0.001,
        trainable: st.trainable,
        calls,
        updates: ups,
        movingMean: st.mm.slice(),
        movingVariance: st.mv.slice(),
        gamma: st.gamma.slice(),
        beta: st.beta.slice(),
        movingUpdated: ups > 0,
        lastCall: st.lastCall,
        lastTrainingCall: st.lastTrainingCall,
        warnings,
      };
    });
    return {
      index: this.index,
      line: kind === 'fit' ? 42 : 57,
      column: 1,
      file: this.file,
      hit: this.index,
      layers,
    };
  }
}

/** A JSON-able step (vectors as number arrays, null allowed) -> StepSnapshot with Float32Arrays. */
export function stepFromPlain(o: any): StepSnapshot {
  const f = (a: any) =>
    a == null ? null : Float32Array.from(a as number[], (x) => (typeof x === 'string' ? Number(x) : x));
  const call = (c: any): CallRecord | null =>
    c && { ...c, batchMean: f(c.batchMean)!, batchVariance: f(c.batchVariance)! };
  return {
    index: o.index,
    line: o.line,
    column: o.column ?? 1,
    file: o.file ?? '/work/examples/script.ts',
    hit: o.hit ?? 1,
    layers: (o.layers as any[]).map((l) => ({
      name: l.name,
      path: l.path ?? [l.name],
      source: l.source ?? null,
      axis: l.axis ?? -1,
      channels: l.channels ?? l.movingMean.length,
      momentum: l.momentum ?? 0.99,
      epsilon: l.epsilon ?? 0.001,
      trainable: l.trainable ?? true,
      calls: l.calls ?? 0,
      updates: l.updates ?? 0,
      movingMean: f(l.movingMean)!,
      movingVariance: f(l.movingVariance)!,
      gamma: f(l.gamma === undefined ? new Array(l.movingMean.length).fill(1) : l.gamma),
      beta: f(l.beta === undefined ? new Array(l.movingMean.length).fill(0) : l.beta),
      movingUpdated: l.movingUpdated ?? false,
      lastCall: call(l.lastCall ?? null),
      lastTrainingCall: call(l.lastTrainingCall ?? null),
      warnings: l.warnings ?? [],
    })),
  };
}
