/**
 * The state one install of the BatchNormalization instrument keeps, shared by its parts (bnCapture.ts records
 * calls, bnSnapshot.ts reads them back, layerPaths.ts names the layers, bnInstrument.ts wires and undoes
 * them): the tfjs-layers fields read, the per-layer records, and the bookkeeping that keeps
 * `tf.memory().numTensors` flat (every tensor kept here is disposed when read back, replaced, or at uninstall).
 * About 300 lines, one unit: the types of tfjs-layers' fields and the records they fill are read by every part.
 */
import type * as tfType from '@tensorflow/tfjs';
import type { LayerWarning, Semantics } from '../shared/protocol';
import { warningsOfLayer, type StepFacts } from './bnWarnings';
import { LayerSources } from './layerSources';
import type { Restore } from './monkeyPatch';

export type TF = typeof tfType;
export type Tensor = tfType.Tensor;

// ---------------------------------------------------------------------------------------------
// The parts of tfjs-layers objects we read (runtime fields of the 4.22 CJS build)
// ---------------------------------------------------------------------------------------------

export interface LayerVar {
  read(): Tensor;
  write(value: Tensor): unknown;
  val?: { isDisposed: boolean };
}

/** the variables of a BatchNormalization layer that a snapshot reads */
export type VarName = 'movingMean' | 'movingVariance' | 'gamma' | 'beta';

/**
 * A variable's values as a snapshot read them. tfjs tensors are immutable and a variable's assign / write gives it
 * another tensor's data: the same `dataId` object means the same values, read again without a read-back.
 */
export interface VarRead {
  dataId: object;
  /**
   * a copy (never tfjs-owned storage), shared by the snapshots that read the same data; written again only when it is
   * two reads old (`spare` of the next read: the values before last, which nothing else holds)
   */
  values: Float32Array;
  /** the array of the read before this one, which the next read of new data fills instead of allocating */
  spare: Float32Array | null;
  /** the channels whose value is NaN or ±Infinity */
  nonFinite: number[];
}

export interface BnLayer {
  id: number;
  name: string;
  axis: number;
  momentum: number;
  epsilon: number;
  trainable: boolean;
  built: boolean;
  movingMean?: LayerVar;
  movingVariance?: LayerVar;
  gamma?: LayerVar | null;
  beta?: LayerVar | null;
}

/** One BN call as kept between steps. Tensors until read back, then arrays. */
export interface Rec {
  /** the `training` flag the call received */
  training: boolean;
  /** the call ran in training mode (batch statistics, moving update): `training` under tfjs, see bnSemantics.ts */
  ranTraining: boolean;
  inputShape: number[];
  channels: number;
  /** normalised channel axis of the input */
  axis: number;
  mean: Tensor | null;
  variance: Tensor | null;
  /**
   * an input whose float64 statistics are reduced at read-back (a zero-copy clone; bnInputStats.ts: where a backend's
   * values are not at hand)
   */
  input: Tensor | null;
  meanArr: Float32Array | null;
  varArr: Float32Array | null;
}

export interface LayerState {
  layer: BnLayer;
  calls: number;
  updates: number;
  updatesWhileFrozen: number;
  inferenceCalls: number;
  batchOfOneShape: number[] | null;
  everUpdated: boolean;
  lastCall: Rec | null;
  /** the most recent call that received training = true (under keras / tf-keras it may have run in inference mode) */
  lastTrainingCall: Rec | null;
  /**
   * each variable's values as the previous snapshot that listed this layer read them, by the identity of its data
   * (bnSnapshot.ts); all null before the first
   */
  lastRead: Record<VarName, VarRead | null>;
  /** the moving statistics of lastRead still equal their initial values / mean 0 and variance 1 */
  lastAtInitial: boolean;
  lastZeroOne: boolean;
  /** its warnings step after step (bnWarnings.ts) */
  warnings: (f: StepFacts) => LayerWarning[];
  /** moving stats just before the layer's first call (kept only until its first snapshot) */
  baseMM: Tensor | null;
  baseMV: Tensor | null;
  /** moving stats right after build (the initializer's values), tensors until the first snapshot */
  initMMT: Tensor | null;
  initMVT: Tensor | null;
  initMM: Float32Array | null;
  initMV: Float32Array | null;
}

/** Per-install state shared by the instrument's parts. */
export interface InstrumentState {
  tf: TF;
  /** false once uninstalled: the wrappers (which may outlive the install in a caller's reference) do nothing */
  installed: boolean;
  /** undo of every patch made, in the order made */
  restores: Restore[];
  /** every registered (built, not disposed) BN layer */
  layers: Map<BnLayer, LayerState>;
  /** elements of the inputs kept for read-back (Rec.input) */
  lazyElements: number;
  /** at most this many (see LAZY_BUDGET_ELEMENTS in bnInputStats.ts) */
  lazyBudget: number;
  /** where each layer was constructed (filled by the user's `tf.layers.batchNormalization`, layerSources.ts) */
  sources: LayerSources;
  /** whose BatchNormalization rules the calls follow (bnSemantics.ts); 'tfjs' = tfjs 4.22 untouched */
  semantics: Semantics;
}

export function newInstrumentState(tf: TF, lazyBudget: number): InstrumentState {
  return {
    tf,
    installed: true,
    restores: [],
    layers: new Map(),
    lazyElements: 0,
    lazyBudget,
    sources: new LayerSources(),
    semantics: 'tfjs',
  };
}

/** the parts of tfjs-core's Engine that keepClone uses (4.22) */
interface EngineLike {
  state?: { tensorInfo?: { get?(id: object): { backend?: { incRef?(id: object): void } } | undefined } };
  makeTensorFromTensorInfo?(info: { dataId: object; shape: number[]; dtype: string }, backend: unknown): Tensor;
}

/**
 * A kept second tensor on `t`'s data, no copy: what `t.clone()` (the Identity kernel) makes, the backend's count of
 * the data's owners raised and the engine tracking it, without the kernel call's overhead (one per BatchNormalization
 * call: ~3 us through runKernel, measured); `t.clone()` where those internals are not there.
 */
export function keepClone(s: InstrumentState, t: Tensor): Tensor {
  const e = s.tf.engine() as unknown as EngineLike;
  const backend = t.dtype === 'float32' || t.dtype === 'int32' ? e.state?.tensorInfo?.get?.(t.dataId)?.backend : null;
  if (backend && typeof backend.incRef === 'function' && typeof e.makeTensorFromTensorInfo === 'function') {
    backend.incRef(t.dataId);
    return s.tf.keep(e.makeTensorFromTensorInfo({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }, backend));
  }
  return s.tf.keep(t.clone());
}

/** a Float32Array copy of `src` (one memcpy from a Float32Array: a wasm heap view, a backend's own array) */
export function copyF32(src: ArrayLike<number>): Float32Array {
  return src instanceof Float32Array ? src.slice() : Float32Array.from(src);
}
/** a copy of `t`'s values, read where they lie (tensorValues: no intermediate copy on the wasm backend) */
export const readTensor = (tf: TF, t: Tensor): Float32Array => copyF32(tensorValues(tf, t));

/** the parts of tfjs-backend-wasm's BackendWasm read by tensorValues (4.22) */
interface HeapBackend {
  dataIdMap?: { has?(id: object): boolean };
  typedArrayFromHeap?(t: { shape: number[]; dtype: string; dataId: object }): ArrayLike<number>;
}

/**
 * The values of `t`, without a copy where the backend allows: the wasm backend's heap view (valid until the next
 * tfjs allocation: read it at once), else `dataSync()` (the cpu backend returns its own array, other backends a
 * copy). Never handed out: read or copied at once.
 */
export function tensorValues(tf: TF, t: Tensor): ArrayLike<number> {
  const b = tf.backend() as unknown as HeapBackend;
  if (
    (t.dtype === 'float32' || t.dtype === 'int32') &&
    typeof b.typedArrayFromHeap === 'function' &&
    typeof b.dataIdMap?.has === 'function' &&
    b.dataIdMap.has(t.dataId)
  ) {
    const v = b.typedArrayFromHeap({ shape: t.shape, dtype: t.dtype, dataId: t.dataId });
    if (v.length === t.size) return v;
  }
  return t.dataSync() as ArrayLike<number>;
}

export function varDisposed(v: LayerVar | null | undefined): boolean {
  return !!v && !!v.val && v.val.isDisposed;
}

// ---------------------------------------------------------------------------------------------
// per-layer bookkeeping
// ---------------------------------------------------------------------------------------------

export function disposeRec(s: InstrumentState, r: Rec | null): void {
  if (!r) return;
  r.mean?.dispose();
  r.variance?.dispose();
  if (r.input) {
    s.lazyElements -= r.input.size;
    r.input.dispose();
  }
  r.mean = r.variance = r.input = null;
}

export function disposeLayerState(s: InstrumentState, st: LayerState): void {
  const recs = new Set([st.lastCall, st.lastTrainingCall]);
  for (const r of recs) disposeRec(s, r);
  st.lastCall = st.lastTrainingCall = null;
  for (const t of [st.baseMM, st.baseMV, st.initMMT, st.initMVT]) t?.dispose();
  st.baseMM = st.baseMV = st.initMMT = st.initMVT = null;
}

/**
 * A BatchNormalization layer with this property set is left alone by the instrument (its calls run as if it were not
 * installed): bench/engineBench.ts compares such a model with an instrumented twin in one process.
 */
export const UNINSTRUMENTED = Symbol.for('bn-inspector.uninstrumented');

/** The layer's state, registering it (with its initial moving stats) on first sight; null if not built yet. */
export function registerLayer(s: InstrumentState, layer: BnLayer): LayerState | null {
  let st = s.layers.get(layer);
  if (st) return st;
  if ((layer as unknown as Record<symbol, unknown>)[UNINSTRUMENTED]) return null; // never listed, never recorded
  if (!layer.movingMean || !layer.movingVariance || varDisposed(layer.movingMean)) return null; // not built
  st = {
    layer,
    calls: 0,
    updates: 0,
    updatesWhileFrozen: 0,
    inferenceCalls: 0,
    batchOfOneShape: null,
    everUpdated: false,
    lastCall: null,
    lastTrainingCall: null,
    lastRead: { movingMean: null, movingVariance: null, gamma: null, beta: null },
    lastAtInitial: false,
    lastZeroOne: false,
    warnings: warningsOfLayer(),
    baseMM: null,
    baseMV: null,
    initMMT: keepClone(s, layer.movingMean.read()),
    initMVT: keepClone(s, layer.movingVariance.read()),
    initMM: null,
    initMV: null,
  };
  s.layers.set(layer, st);
  return st;
}

/**
 * `rec` becomes the layer's last call (and last training call if it is one); the records it replaces go.
 */
export function setLastCall(s: InstrumentState, st: LayerState, rec: Rec): void {
  const a = st.lastCall,
    b = st.lastTrainingCall;
  st.lastCall = rec;
  if (rec.training) st.lastTrainingCall = rec;
  if (a && a !== rec && a !== st.lastTrainingCall) disposeRec(s, a);
  if (b && b !== a && b !== rec && b !== st.lastTrainingCall) disposeRec(s, b);
}

/** Forgets the layers whose moving statistics were disposed (with their model), disposing what we kept. */
export function dropDisposedLayers(s: InstrumentState): void {
  for (const [layer, st] of s.layers) {
    // deleting the entry being visited is safe in a Map's iteration
    if (varDisposed(layer.movingMean) || varDisposed(layer.movingVariance)) {
      disposeLayerState(s, st);
      s.layers.delete(layer);
    }
  }
}

/** number of tfjs tensors kept (for leak checks) */
export function keptTensorCount(s: InstrumentState): number {
  let n = 0;
  for (const st of s.layers.values()) {
    for (const r of new Set([st.lastCall, st.lastTrainingCall]))
      if (r) n += (r.mean ? 1 : 0) + (r.variance ? 1 : 0) + (r.input ? 1 : 0);
    for (const t of [st.baseMM, st.baseMV, st.initMMT, st.initMVT]) if (t) n++;
  }
  return n;
}
