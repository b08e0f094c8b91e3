/**
 * Where a snapshot is made: `snapshotLayers` builds the LayerSnapshot list of a step from the instrument's
 * records (part of the instrument, bnInstrument.ts). Read-back (the wasm heap or `dataSync`, copied into fresh
 * Float32Arrays) happens only here; a record's tensors are disposed when read back, so `tf.memory().numTensors`
 * stays flat.
 */
import type { CallRecord, LayerSnapshot } from '../shared/protocol';
import { StepVectors } from '../shared/snapshotCodec';
import type { BnCapture } from './bnCapture';
import {
  dropDisposedLayers,
  copyF32,
  readTensor,
  tensorValues,
  varDisposed,
  type InstrumentState,
  type LayerVar,
  type Rec,
  type TF,
  type VarRead,
} from './bnState';
import { nonFiniteChannels } from './bnWarnings';
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
 * The variable's values as read now: the previous snapshot's read if the variable still holds the same data
 * (`VarRead`: no read-back, no comparison; a predict step's moving statistics, gamma and beta), else read back.
 */
function readVar(tf: TF, v: LayerVar, prev: VarRead | null): VarRead {
  const t = v.read();
  if (prev !== null && prev.dataId === t.dataId) return prev;
  const src = tensorValues(tf, t);
  // no allocation at a step whose variables changed (training): the array of the read before last is filled again
  const spare = prev?.spare;
  let values: Float32Array;
  if (spare && spare.length === src.length) {
    spare.set(src);
    values = spare;
  } else values = copyF32(src);
  return { dataId: t.dataId, values, spare: prev?.values ?? null, nonFinite: nonFiniteChannels(values) };
}

function toCallRecord(capture: BnCapture, arena: StepVectors, r: Rec | null): CallRecord | null {
  if (!r) return null;
  capture.readBackCall(r);
  return {
    training: r.training,
    statsUsed: r.ranTraining ? 'batch' : 'moving',
    inputShape: r.inputShape.slice(),
    batchMean: arena.copy(r.meanArr!),
    batchVariance: arena.copy(r.varArr!),
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
  const tf = s.tf;
  // the step's vectors go straight into the buffer packStep packs the step into (snapshotCodec.ts), sized for them:
  // per layer the moving mean and variance, gamma, beta, the call records, the moving statistics before (first
  // snapshot); a vector beyond the size gets its own array, and packStep copies
  let estimate = 0;
  for (const st of ordered) {
    const read = st.lastRead.movingMean;
    const vectors =
      (read === null ? 4 : 2) +
      (st.layer.gamma ? 1 : 0) +
      (st.layer.beta ? 1 : 0) +
      (st.lastCall ? 2 : 0) +
      (st.lastTrainingCall ? 2 : 0);
    estimate += vectors * (read?.values.length ?? st.lastCall?.channels ?? 0);
  }
  const arena = new StepVectors(estimate, ordered.length);
  for (const st of ordered) {
    const layer = st.layer;
    const last = st.lastRead;
    let mmRead: VarRead, mvRead: VarRead;
    try {
      mmRead = readVar(tf, layer.movingMean!, last.movingMean);
      mvRead = readVar(tf, layer.movingVariance!, last.movingVariance);
    } catch {
      continue; // disposed under our feet
    }
    const gammaRead = layer.gamma && !varDisposed(layer.gamma) ? readVar(tf, layer.gamma, last.gamma) : null;
    const betaRead = layer.beta && !varDisposed(layer.beta) ? readVar(tf, layer.beta, last.beta) : null;
    // the step's own copies: a consumer may write into its vectors
    const mm = arena.copy(mmRead.values),
      mv = arena.copy(mvRead.values);
    const gamma = gammaRead ? arena.copy(gammaRead.values) : null,
      beta = betaRead ? arena.copy(betaRead.values) : null;
    // the moving statistics' data is the previous snapshot's: same values, same findings (a predict step)
    const sameMoving = mmRead === last.movingMean && mvRead === last.movingVariance;
    if (st.initMMT && st.initMVT) {
      st.initMM = readTensor(tf, st.initMMT);
      st.initMV = readTensor(tf, st.initMVT);
    }
    st.initMMT?.dispose();
    st.initMVT?.dispose();
    st.initMMT = st.initMVT = null;

    let refMM = last.movingMean?.values ?? null,
      refMV = last.movingVariance?.values ?? null;
    const firstSnapshot = refMM === null || refMV === null;
    if (refMM === null || refMV === null) {
      refMM = st.baseMM ? arena.copy(readTensor(tf, st.baseMM)) : mm;
      refMV = st.baseMV ? arena.copy(readTensor(tf, st.baseMV)) : mv;
    }
    st.baseMM?.dispose();
    st.baseMV?.dispose();
    st.baseMM = st.baseMV = null;
    const movingUpdated = !sameMoving && (!sameValues(mmRead.values, refMM) || !sameValues(mvRead.values, refMV));
    if (!sameMoving) {
      st.lastZeroOne = isZeroOne(mm, mv);
      st.lastAtInitial = st.lastZeroOne || (sameValues(mm, st.initMM) && sameValues(mv, st.initMV));
    }
    const zeroOne = st.lastZeroOne;
    const trainable = !!layer.trainable;

    const warnings = st.warnings({
      semantics: s.semantics,
      layerName: layer.name,
      trainable,
      updates: st.updates,
      updatesWhileFrozen: st.updatesWhileFrozen,
      inferenceCalls: st.inferenceCalls,
      batchOfOneShape: st.batchOfOneShape,
      everUpdated: st.everUpdated,
      movingAtInitial: st.lastAtInitial,
      movingIsZeroOne: zeroOne,
      momentum: layer.momentum,
      nonFinite: {
        movingMean: mmRead.nonFinite,
        movingVariance: mvRead.nonFinite,
        gamma: gammaRead?.nonFinite ?? null,
        beta: betaRead?.nonFinite ?? null,
      },
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

    st.lastRead = { movingMean: mmRead, movingVariance: mvRead, gamma: gammaRead, beta: betaRead };
    st.calls = st.updates = st.updatesWhileFrozen = st.inferenceCalls = 0;
    st.batchOfOneShape = null;
  }
  return out;
}
