/**
 * Where a snapshot is made: `snapshotLayers` builds the LayerSnapshot list of a step from the instrument's
 * records (part of the instrument, bnInstrument.ts). Read-back (the wasm heap or `dataSync`, copied into fresh
 * Float32Arrays) happens only here; a record's tensors are disposed when read back, so `tf.memory().numTensors`
 * stays flat.
 */
import type { CallRecord, LayerSnapshot } from '../shared/protocol';
import type { BnCapture } from './bnCapture';
import {
  dropDisposedLayers,
  readTensor,
  tensorValues,
  varDisposed,
  type InstrumentState,
  type LayerVar,
  type Rec,
  type TF,
} from './bnState';
import { layerWarnings } from './bnWarnings';
import type { LayerPaths } from './layerPaths';

/** element-wise equality where NaN equals NaN (a NaN that stays NaN is not an update) */
function sameValues(a: ArrayLike<number> | null, b: ArrayLike<number> | null): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i],
      y = b[i];
    if (x !== y && !(x !== x && y !== y)) return false;
  }
  return true;
}

function isZeroOne(mm: ArrayLike<number>, mv: ArrayLike<number>): boolean {
  for (let i = 0; i < mm.length; i++) if (mm[i] !== 0) return false;
  for (let i = 0; i < mv.length; i++) if (mv[i] !== 1) return false;
  return true;
}

/**
 * The vectors of one snapshot: views of few Float32Arrays, not one allocation each (an ArrayBuffer costs ~2 us to
 * allocate, measured: for the 10 layers of a dense model, most of a step's snapshot). Fresh copies all the same,
 * never tfjs-owned storage.
 */
class VectorArena {
  private buf: Float32Array;
  private off = 0;
  constructor(estimate: number) {
    this.buf = new Float32Array(Math.max(estimate, 64));
  }
  /** a fresh copy of `src` */
  copy(src: ArrayLike<number>): Float32Array {
    const n = src.length;
    if (this.off + n > this.buf.length) {
      this.buf = new Float32Array(Math.max(n, this.buf.length));
      this.off = 0;
    }
    const v = this.buf.subarray(this.off, this.off + n);
    v.set(src);
    this.off += n;
    return v;
  }
}

/** a fresh copy of the variable's values */
const readVec = (tf: TF, arena: VectorArena, v: LayerVar): Float32Array => arena.copy(tensorValues(tf, v.read()));

function toCallRecord(capture: BnCapture, arena: VectorArena, r: Rec | null): CallRecord | null {
  if (!r) return null;
  r.seen = true;
  capture.readBackCall(r);
  return {
    training: r.training,
    statsUsed: r.ranTraining ? 'batch' : 'moving',
    inputShape: r.inputShape.slice(),
    batchMean: arena.copy(r.meanArr!),
    batchVariance: arena.copy(r.varArr!),
  };
}

/** `prev` overwritten with `v` (allocated once per layer) */
function keepCopy(prev: Float32Array | null, v: Float32Array): Float32Array {
  if (prev === null || prev.length !== v.length) return v.slice();
  prev.set(v);
  return prev;
}

/**
 * The LayerSnapshot list for a step: every live (not disposed) BN layer, in creation order (tfjs's `layer.id`),
 * with its warnings (bnWarnings.ts). Resets the per-step counters (calls, updates) and remembers this step's
 * moving stats for `movingUpdated`. Vectors are fresh copies (never tfjs-owned storage).
 */
export function snapshotLayers(s: InstrumentState, capture: BnCapture, paths: LayerPaths): LayerSnapshot[] {
  dropDisposedLayers(s);
  const pathOf = paths.compute();
  const ordered = [...s.layers.values()].sort((a, b) => a.layer.id - b.layer.id);
  const out: LayerSnapshot[] = [];
  const tf = s.tf;
  let estimate = 0; // moving mean and variance, gamma, beta, two call records
  for (const st of ordered) estimate += 8 * (st.prevMM?.length ?? st.lastCall?.channels ?? 0);
  const arena = new VectorArena(estimate);
  for (const st of ordered) {
    const layer = st.layer;
    let mm: Float32Array, mv: Float32Array;
    try {
      mm = readVec(tf, arena, layer.movingMean!);
      mv = readVec(tf, arena, layer.movingVariance!);
    } catch {
      continue; // disposed under our feet
    }
    const gamma = layer.gamma && !varDisposed(layer.gamma) ? readVec(tf, arena, layer.gamma) : null;
    const beta = layer.beta && !varDisposed(layer.beta) ? readVec(tf, arena, layer.beta) : null;
    if (st.initMMT && st.initMVT) {
      st.initMM = readTensor(st.initMMT);
      st.initMV = readTensor(st.initMVT);
    }
    st.initMMT?.dispose();
    st.initMVT?.dispose();
    st.initMMT = st.initMVT = null;

    let refMM = st.prevMM,
      refMV = st.prevMV;
    const firstSnapshot = refMM === null || refMV === null;
    if (refMM === null || refMV === null) {
      refMM = st.baseMM ? readTensor(st.baseMM) : mm;
      refMV = st.baseMV ? readTensor(st.baseMV) : mv;
    }
    st.baseMM?.dispose();
    st.baseMV?.dispose();
    st.baseMM = st.baseMV = null;
    const movingUpdated = !sameValues(mm, refMM) || !sameValues(mv, refMV);
    const zeroOne = isZeroOne(mm, mv);
    const trainable = !!layer.trainable;

    const warnings = layerWarnings({
      semantics: s.semantics,
      layerName: layer.name,
      trainable,
      updates: st.updates,
      updatesWhileFrozen: st.updatesWhileFrozen,
      inferenceCalls: st.inferenceCalls,
      batchOfOneShape: st.batchOfOneShape,
      everUpdated: st.everUpdated,
      movingAtInitial: zeroOne || (sameValues(mm, st.initMM) && sameValues(mv, st.initMV)),
      movingIsZeroOne: zeroOne,
      momentum: layer.momentum,
      movingMean: mm,
      movingVariance: mv,
      gamma,
      beta,
    });

    out.push({
      name: layer.name,
      path: pathOf.get(layer) ?? [layer.name],
      source: s.sources.of(layer),
      axis: layer.axis,
      channels: mm.length,
      momentum: layer.momentum,
      epsilon: layer.epsilon,
      trainable,
      calls: st.calls,
      updates: st.updates,
      movingMean: mm,
      movingVariance: mv,
      gamma,
      beta,
      movingUpdated,
      movingBefore: firstSnapshot ? { mean: refMM, variance: refMV } : null,
      lastCall: toCallRecord(capture, arena, st.lastCall),
      lastTrainingCall: toCallRecord(capture, arena, st.lastTrainingCall),
      warnings,
    });

    st.prevMM = keepCopy(st.prevMM, mm);
    st.prevMV = keepCopy(st.prevMV, mv);
    st.calls = st.updates = st.updatesWhileFrozen = st.inferenceCalls = 0;
    // one call with input statistics between two steps (predict, step, predict, step …): the next at call time
    if (st.inputStatCalls > 0) st.eagerInputStats = st.inputStatCalls === 1;
    st.inputStatCalls = 0;
    st.batchOfOneShape = null;
  }
  return out;
}
