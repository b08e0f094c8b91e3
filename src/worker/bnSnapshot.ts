/**
 * Where a snapshot is made: `snapshotLayers` builds the LayerSnapshot list of a step from the instrument's
 * records (part of the instrument, bnInstrument.ts). Read-back (`dataSync`, copied into fresh Float32Arrays)
 * happens only here; a record's tensors are disposed when read back, so `tf.memory().numTensors` stays flat.
 */
import type { CallRecord, LayerSnapshot } from '../shared/protocol';
import type { BnCapture } from './bnCapture';
import {
  copyF32,
  dropDisposedLayers,
  readTensor,
  varDisposed,
  type InstrumentState,
  type LayerVar,
  type Rec,
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

/** a fresh copy of the variable's values (a float32 array is copied at once, not value by value) */
const readVec = (v: LayerVar): Float32Array => {
  const d = v.read().dataSync() as ArrayLike<number>;
  return d instanceof Float32Array ? d.slice() : copyF32(d);
};

function toCallRecord(capture: BnCapture, r: Rec | null): CallRecord | null {
  if (!r) return null;
  capture.readBackCall(r);
  return {
    training: r.training,
    statsUsed: r.ranTraining ? 'batch' : 'moving',
    inputShape: r.inputShape.slice(),
    batchMean: r.meanArr!.slice(),
    batchVariance: r.varArr!.slice(),
  };
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
  for (const st of ordered) {
    const layer = st.layer;
    let mm: Float32Array, mv: Float32Array;
    try {
      mm = readVec(layer.movingMean!);
      mv = readVec(layer.movingVariance!);
    } catch {
      continue; // disposed under our feet
    }
    const gamma = layer.gamma && !varDisposed(layer.gamma) ? readVec(layer.gamma) : null;
    const beta = layer.beta && !varDisposed(layer.beta) ? readVec(layer.beta) : null;
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
      lastCall: toCallRecord(capture, st.lastCall),
      lastTrainingCall: toCallRecord(capture, st.lastTrainingCall),
      warnings,
    });

    st.prevMM = mm.slice();
    st.prevMV = mv.slice();
    st.calls = st.updates = st.updatesWhileFrozen = st.inferenceCalls = 0;
    st.batchOfOneShape = null;
  }
  return out;
}
