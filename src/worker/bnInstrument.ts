/**
 * BatchNormalization instrumentation of tfjs 4.22 (see ../../../shared/reference/tfjs-facts.md).
 *
 * - Wraps `BatchNormalization.prototype.call` (every BN layer, whatever made it) and `.build` (registration:
 *   a layer is listed once it has weights; the listing is ordered by tfjs's own construction counter
 *   `layer.id`, i.e. creation order).
 * - Capture mode: while a training-mode BN call is in flight, tfjs-core's `moments` export (called by
 *   tfjs-layers through the CJS `exports` object) is wrapped, so the exact batch mean/variance tensors the
 *   layer normalised with are kept, zero-copy (`tf.keep(t.clone())`). Where that patch is impossible
 *   (ES-module build, two tfjs-core copies) or did not see the call, the batch statistics are recomputed
 *   exactly with `tf.moments` of the call's input (never derived from the moving-average delta).
 * - Inference-mode calls: mean and biased variance of the input over every axis but the channel axis (the
 *   statistics of that input, which the layer did not use), computed by channelMoments.ts (float64 two-pass,
 *   SIMD on the wasm heap). The input is kept (zero-copy clone, within a memory budget) and reduced only if it
 *   is still the layer's last call when the step is read back, so calls between two steps cost no arithmetic.
 * - Models are remembered when created or used (factories, `fromConfig` of deserialisation, LayersModel and
 *   Sequential methods); at snapshot time a layer's `path` is found by walking `model.layers` recursively.
 *   A Sequential's internal LayersModel (`<name>_model`) is never shown.
 * - Read-back (`dataSync`, copied into fresh Float32Arrays) happens only in `snapshotLayers()`; a record's
 *   tensors are disposed when it is read back or replaced, so `tf.memory().numTensors` stays flat.
 */
import type * as tfType from '@tensorflow/tfjs';
import type { CallRecord, LayerSnapshot } from '../shared/protocol';
import { layerWarnings } from './bnWarnings';
import { channelMoments, channelMomentsOnWasmHeap, type WasmBackendLike } from './channelMoments';

type TF = typeof tfType;
type Tensor = tfType.Tensor;

/** How the exact batch statistics of a training-mode call are obtained. */
export type CaptureMode = 'capture' | 'recompute';

export interface BnInstrument {
  /** Build the LayerSnapshot list for a step: every live (not disposed) BN layer, in creation order; resets per-step counters (calls, updates) and remembers this step's moving stats for movingUpdated. Vectors are fresh copies (never tfjs-owned storage). */
  snapshotLayers(): LayerSnapshot[];
  /** number of tfjs tensors the instrument itself keeps (for leak checks) */
  keptTensors(): number;
  uninstall(): void;
  /** 'capture': the tensors tfjs itself computed are kept; 'recompute': tf.moments of the input, exact but extra work */
  captureMode(): CaptureMode;
  /** why capture mode is not (or no longer) active; null while it is */
  captureNote(): string | null;
}

// ---------------------------------------------------------------------------------------------
// The parts of tfjs-layers objects we read (runtime fields of the 4.22 CJS build)
// ---------------------------------------------------------------------------------------------

interface LayerVar {
  read(): Tensor;
  val?: { isDisposed: boolean };
}

interface BnLayer {
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

interface ContainerLike {
  id: number;
  name: string;
  layers?: unknown[];
  model?: unknown;
  _refCount?: number | null;
}

/** One BN call as kept between steps. Tensors until read back, then arrays. */
interface Rec {
  training: boolean;
  inputShape: number[];
  channels: number;
  /** normalised channel axis of the input */
  axis: number;
  mean: Tensor | null;
  variance: Tensor | null;
  /** an input whose statistics tfjs did not compute: a zero-copy clone, reduced at read-back */
  input: Tensor | null;
  /** how to reduce `input`: 'exact' = tf.moments (bit-identical to what BN computes in training), 'f64' = float64 two-pass (SIMD on the wasm heap, else JS) */
  inputKind: 'exact' | 'f64';
  meanArr: Float32Array | null;
  varArr: Float32Array | null;
}

/**
 * Inputs whose statistics tfjs did not compute are kept (zero-copy clones) and reduced only if the call is
 * still the layer's last one when a step is read back: calls between two steps (predict or evaluate over
 * many batches) then cost no arithmetic. The inputs held at once stay under this many elements in all
 * (16 M float32 = 64 MiB); beyond it an input is reduced at call time instead.
 */
const LAZY_BUDGET_ELEMENTS = 1 << 24;

interface LayerState {
  layer: BnLayer;
  calls: number;
  updates: number;
  updatesWhileFrozen: number;
  inferenceCalls: number;
  batchOfOneShape: number[] | null;
  everUpdated: boolean;
  lastCall: Rec | null;
  lastTrainingCall: Rec | null;
  /** moving stats at the previous snapshot that listed this layer */
  prevMM: Float32Array | null;
  prevMV: Float32Array | null;
  /** moving stats just before the layer's first call (kept only until its first snapshot) */
  baseMM: Tensor | null;
  baseMV: Tensor | null;
  /** moving stats right after build (the initializer's values), tensors until the first snapshot */
  initMMT: Tensor | null;
  initMVT: Tensor | null;
  initMM: Float32Array | null;
  initMV: Float32Array | null;
}

const MODEL_METHODS = [
  'compile',
  'fit',
  'fitDataset',
  'evaluate',
  'evaluateDataset',
  'predict',
  'predictOnBatch',
  'trainOnBatch',
  'execute',
  'summary',
  'save',
  'apply',
  'call',
  'getLayer',
  'countParams',
];
const SEQUENTIAL_METHODS = [...MODEL_METHODS, 'add', 'pop', 'build'];

function copyF32(src: ArrayLike<number>): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i];
  return out;
}

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

function varDisposed(v: LayerVar | null | undefined): boolean {
  return !!v && !!v.val && v.val.isDisposed;
}

/** Our own `require`, where the module system has one (CJS: tsx, esbuild bundles). */
function tryRequire(load: () => unknown): Record<string, unknown> | null {
  try {
    const m = load();
    return typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

type Restore = () => void;

/** Replace `obj[name]` (own or inherited function) by `make(orig)`; returns the undo, or null if impossible. */
function patchMethod(
  obj: object,
  name: string,
  make: (orig: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown,
): Restore | null {
  const rec = obj as Record<string, unknown>;
  const own = Object.getOwnPropertyDescriptor(obj, name);
  if (own && !('value' in own)) return null; // accessor: leave it
  const orig = own ? own.value : rec[name];
  if (typeof orig !== 'function') return null;
  const wrapped = make(orig as (...a: unknown[]) => unknown);
  try {
    Object.defineProperty(obj, name, {
      value: wrapped,
      writable: true,
      configurable: true,
      enumerable: own ? own.enumerable : false,
    });
  } catch {
    try {
      rec[name] = wrapped;
    } catch {
      return null;
    }
  }
  if (rec[name] !== wrapped) return null;
  return () => {
    if (own) Object.defineProperty(obj, name, own);
    else delete rec[name];
  };
}

/** Assign an export (plain writable data property) and check it took. */
function patchExport(obj: Record<string, unknown>, name: string, value: unknown): Restore | null {
  const before = obj[name];
  try {
    obj[name] = value;
  } catch {
    return null;
  }
  if (obj[name] !== value) return null;
  return () => {
    try {
      obj[name] = before;
    } catch {
      /* ignore */
    }
  };
}

export interface BnInstrumentOptions {
  /** never patch tfjs-core's moments: always recompute the batch statistics (tests, benchmarks) */
  forceRecompute?: boolean;
  /** elements of call inputs that may be held for read-back at once (default 16 M = 64 MiB of float32) */
  lazyBudgetElements?: number;
  /** false: never the SIMD reduction on the wasm heap, always the JS one (tests, benchmarks) */
  simd?: boolean;
}

export function installBnInstrument(tf: TF, options: BnInstrumentOptions = {}): BnInstrument {
  const classMap = tf.serialization.SerializationMap.getMap().classNameMap as Record<string, [unknown, unknown]>;
  const BN = classMap.BatchNormalization?.[0] as { prototype: Record<string, unknown> } | undefined;
  if (!BN) throw new Error('BatchNormalization is not registered in this tfjs');
  const LayersModel = tf.LayersModel as unknown as { prototype: object };
  const Sequential = tf.Sequential as unknown as { prototype: object };
  const ContainerProto = Object.getPrototypeOf(LayersModel.prototype) as object;
  const isContainer = (x: unknown): x is ContainerLike =>
    typeof x === 'object' && x !== null && ContainerProto.isPrototypeOf(x);
  const isSequential = (x: unknown): boolean =>
    typeof x === 'object' && x !== null && Sequential.prototype.isPrototypeOf(x);

  const restores: Restore[] = [];
  const states = new Map<BnLayer, LayerState>();
  /** models created or used -> stamp of their last use (higher = more recent) */
  const knownModels = new Map<ContainerLike, number>();
  /** Sequential's internal LayersModels: never shown */
  const internalModels = new WeakSet<object>();
  let useStamp = 0;
  let capturing: Rec | null = null;
  let mode: CaptureMode = 'recompute';
  let modeNote: string | null = null;
  let installed = true;
  /** elements of the inputs kept for read-back */
  let lazyElements = 0;
  const lazyBudget = options.lazyBudgetElements ?? LAZY_BUDGET_ELEMENTS;

  const keepClone = (t: Tensor): Tensor => tf.keep(t.clone()); // clone = Identity: shares the data, no copy

  // ---- capture of tfjs-core's moments --------------------------------------------------------
  // literal require: bundlers must see it
  const core = options.forceRecompute ? null : tryRequire(() => require('@tensorflow/tfjs-core'));
  if (options.forceRecompute) {
    modeNote = 'recompute mode requested: batch statistics are recomputed with tf.moments';
  } else if (!core) {
    modeNote = 'tfjs-core cannot be required here (ES-module build): batch statistics are recomputed with tf.moments';
  } else if (core.moments !== tf.moments) {
    modeNote =
      'the tfjs-core this module sees is not the one tfjs uses: batch statistics are recomputed with tf.moments';
  } else {
    const origMoments = core.moments as (...a: unknown[]) => { mean: Tensor; variance: Tensor };
    const patchedMoments = function (this: unknown, ...args: unknown[]) {
      const r = origMoments.apply(this, args);
      const c = capturing;
      if (c !== null && c.mean === null) {
        capturing = null; // only the first moments of the call: the batch statistics
        c.mean = keepClone(r.mean);
        c.variance = keepClone(r.variance);
      }
      return r;
    };
    const undo = patchExport(core, 'moments', patchedMoments);
    if (undo) {
      restores.push(undo);
      mode = 'capture';
    } else {
      modeNote = "tfjs-core's moments export is not writable here: batch statistics are recomputed with tf.moments";
    }
  }

  // ---- per-layer bookkeeping ------------------------------------------------------------------
  const disposeRec = (r: Rec | null) => {
    if (!r) return;
    r.mean?.dispose();
    r.variance?.dispose();
    if (r.input) {
      lazyElements -= r.input.size;
      r.input.dispose();
    }
    r.mean = r.variance = r.input = null;
  };
  const disposeState = (st: LayerState) => {
    const recs = new Set([st.lastCall, st.lastTrainingCall]);
    for (const r of recs) disposeRec(r);
    st.lastCall = st.lastTrainingCall = null;
    for (const t of [st.baseMM, st.baseMV, st.initMMT, st.initMVT]) t?.dispose();
    st.baseMM = st.baseMV = st.initMMT = st.initMVT = null;
  };

  const register = (layer: BnLayer): LayerState | null => {
    let st = states.get(layer);
    if (st) return st;
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
      prevMM: null,
      prevMV: null,
      baseMM: null,
      baseMV: null,
      initMMT: keepClone(layer.movingMean.read()),
      initMVT: keepClone(layer.movingVariance.read()),
      initMM: null,
      initMV: null,
    };
    states.set(layer, st);
    return st;
  };

  const setRecord = (st: LayerState, rec: Rec) => {
    const olds = new Set([st.lastCall, st.lastTrainingCall]);
    st.lastCall = rec;
    if (rec.training) st.lastTrainingCall = rec;
    for (const o of olds) if (o && o !== st.lastCall && o !== st.lastTrainingCall) disposeRec(o);
  };

  /** exact tf.moments of the input over every axis but the channel axis */
  const computeMoments = (rec: Rec, x: Tensor) => {
    disposeRec(rec);
    const red: number[] = [];
    for (let i = 0; i < x.rank; i++) if (i !== rec.axis) red.push(i);
    tf.tidy(() => {
      const m = tf.moments(x, red);
      rec.mean = tf.keep(m.mean);
      rec.variance = tf.keep(m.variance);
    });
  };
  /**
   * The values of `x`, without a copy where the backend allows: the wasm backend's heap view (valid until the
   * next tfjs allocation: read it at once), else `dataSync()` (the cpu backend returns its own array, other
   * backends a copy). Never handed out: only reduced here.
   */
  const valuesOf = (x: Tensor): ArrayLike<number> => {
    const b = tf.backend() as unknown as WasmBackendLike;
    if (
      (x.dtype === 'float32' || x.dtype === 'int32') &&
      typeof b.typedArrayFromHeap === 'function' &&
      typeof b.dataIdMap?.has === 'function' &&
      b.dataIdMap.has(x.dataId)
    ) {
      const v = b.typedArrayFromHeap({ shape: x.shape, dtype: x.dtype, dataId: x.dataId });
      if (v.length === x.size) return v;
    }
    return x.dataSync() as ArrayLike<number>;
  };
  const useSimd = options.simd !== false;
  const reduceInput = (rec: Rec, x: Tensor) => {
    const m =
      (useSimd ? channelMomentsOnWasmHeap(tf, x, rec.axis) : null) ?? channelMoments(valuesOf(x), x.shape, rec.axis);
    rec.meanArr = m.mean;
    rec.varArr = m.variance;
  };

  /** the statistics of an input tfjs did not reduce itself: at read-back if the budget allows, else now */
  const statsOfInput = (rec: Rec, x: Tensor, kind: 'exact' | 'f64') => {
    disposeRec(rec);
    if (lazyElements + x.size <= lazyBudget) {
      rec.input = keepClone(x);
      rec.inputKind = kind;
      lazyElements += x.size;
    } else if (kind === 'exact') {
      computeMoments(rec, x);
    } else {
      reduceInput(rec, x);
    }
  };

  // ---- BatchNormalization.prototype.build / call ----------------------------------------------
  const undoBuild = patchMethod(
    BN.prototype,
    'build',
    (orig) =>
      function (this: BnLayer, ...args: unknown[]) {
        const r = orig.apply(this, args);
        if (installed) register(this);
        return r;
      },
  );
  if (undoBuild) restores.push(undoBuild);

  const undoCall = patchMethod(
    BN.prototype,
    'call',
    (orig) =>
      function (this: BnLayer, ...args: unknown[]) {
        const st = installed ? register(this) : null;
        const inputs = args[0];
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor | undefined;
        if (!st || !x || !Array.isArray(x.shape)) return orig.apply(this, args);
        const kwargs = args[1] as { training?: unknown } | null | undefined;
        const training = !!(kwargs && kwargs.training); // BN.call: training == null -> false
        const rank = x.shape.length;
        const axis = this.axis >= 0 ? this.axis : this.axis + rank;
        let reduced = 1;
        for (let i = 0; i < rank; i++) if (i !== axis) reduced *= x.shape[i];
        const frozen = !this.trainable;
        if (st.prevMM === null && st.baseMM === null) {
          // movingUpdated of the first snapshot compares with the values before the first call
          st.baseMM = keepClone(this.movingMean!.read());
          st.baseMV = keepClone(this.movingVariance!.read());
        }
        const rec: Rec = {
          training,
          inputShape: x.shape.slice() as number[],
          channels: x.shape[axis] as number,
          axis,
          mean: null,
          variance: null,
          input: null,
          inputKind: 'f64',
          meanArr: null,
          varArr: null,
        };
        const outer = capturing;
        capturing = training && mode === 'capture' ? rec : null;
        let out: unknown;
        try {
          out = orig.apply(this, args);
        } catch (e) {
          disposeRec(rec);
          throw e;
        } finally {
          capturing = outer;
        }
        // the records this call replaces go first: a replaced input no longer counts against the lazy budget
        setRecord(st, rec);
        try {
          if (training && mode === 'capture' && (rec.mean === null || rec.mean.size !== rec.channels)) {
            mode = 'recompute';
            modeNote =
              'the moments wrapper did not see a training-mode BatchNormalization call: batch statistics are recomputed with tf.moments';
          }
          // training: recompute exactly (tf.moments) what the layer computed; inference: the input's statistics
          if (rec.mean === null || rec.mean.size !== rec.channels) statsOfInput(rec, x, training ? 'exact' : 'f64');
        } catch {
          disposeRec(rec); // statistics unavailable (odd input, NaN at read-back); the call itself went through
        }
        st.calls++;
        if (training) {
          st.updates++;
          st.everUpdated = true;
          if (frozen) st.updatesWhileFrozen++;
          if (reduced === 1) st.batchOfOneShape = rec.inputShape.slice();
        } else {
          st.inferenceCalls++;
        }
        return out;
      },
  );
  if (!undoCall) {
    for (const r of restores.reverse()) r();
    throw new Error('cannot wrap BatchNormalization.prototype.call');
  }
  restores.push(undoCall);

  // ---- models: remember the ones created or used ----------------------------------------------
  const noteModel = (m: unknown) => {
    if (installed && isContainer(m)) knownModels.set(m, ++useStamp);
  };
  const markInternal = (seq: unknown) => {
    const inner = (seq as ContainerLike | null)?.model;
    if (isSequential(seq) && isContainer(inner) && inner !== seq) internalModels.add(inner);
  };
  const wrapModelMethods = (proto: object, names: string[]) => {
    for (const name of names) {
      const undo = patchMethod(
        proto,
        name,
        (orig) =>
          function (this: unknown, ...args: unknown[]) {
            if (!internalModels.has(this as object)) noteModel(this);
            const r = orig.apply(this, args);
            if (name === 'build') markInternal(this);
            return r;
          },
      );
      if (undo) restores.push(undo);
    }
  };
  wrapModelMethods(LayersModel.prototype, MODEL_METHODS);
  const seqOwn = SEQUENTIAL_METHODS.filter((n) => Object.prototype.hasOwnProperty.call(Sequential.prototype, n));
  wrapModelMethods(Sequential.prototype, seqOwn);

  // factories (tf.model, tf.sequential), where the tfjs-layers exports object is writable
  const layersMod = tryRequire(() => require('@tensorflow/tfjs-layers'));
  const factoriesPatched: string[] = [];
  if (layersMod) {
    for (const name of ['model', 'sequential']) {
      const orig = layersMod[name] as ((...a: unknown[]) => unknown) | undefined;
      if (typeof orig !== 'function' || orig !== (tf as unknown as Record<string, unknown>)[name]) continue;
      const wrapped = function (this: unknown, ...args: unknown[]) {
        const m = orig.apply(this, args);
        noteModel(m);
        return m;
      };
      const undo = patchExport(layersMod, name, wrapped);
      if (undo) {
        restores.push(undo);
        factoriesPatched.push(name);
      }
    }
  }
  // deserialisation (tf.loadLayersModel, tf.models.modelFromJSON, nested models in a loaded one)
  for (const cls of ['Model', 'Functional', 'Sequential']) {
    const entry = classMap[cls];
    if (!Array.isArray(entry) || typeof entry[1] !== 'function') continue;
    const fromConfig = entry[1] as (...a: unknown[]) => unknown;
    const wrapped = [
      entry[0],
      function (this: unknown, ...args: unknown[]) {
        const m = fromConfig.apply(this, args);
        noteModel(m);
        return m;
      },
    ] as [unknown, unknown];
    classMap[cls] = wrapped;
    restores.push(() => {
      if (classMap[cls] === wrapped) classMap[cls] = entry;
    });
  }

  // ---- paths --------------------------------------------------------------------------------
  const containerDisposed = (c: ContainerLike) => c._refCount === 0;

  const computePaths = (): Map<object, string[]> => {
    for (const m of [...knownModels.keys()]) {
      if (containerDisposed(m)) knownModels.delete(m);
      else markInternal(m);
    }
    const parents = new Map<object, ContainerLike[]>();
    const visited = new Set<object>();
    const stack: ContainerLike[] = [...knownModels.keys()].filter((m) => !internalModels.has(m));
    while (stack.length) {
      const c = stack.pop()!;
      if (visited.has(c)) continue;
      visited.add(c);
      const ls = c.layers;
      if (!Array.isArray(ls)) continue;
      for (const l of ls) {
        if (typeof l !== 'object' || l === null || l === c || internalModels.has(l)) continue;
        if (isContainer(l) && containerDisposed(l)) continue;
        let p = parents.get(l);
        if (!p) parents.set(l, (p = []));
        if (!p.includes(c)) p.push(c);
        if (isContainer(l)) stack.push(l);
      }
    }
    interface Chain {
      names: string[];
      stamp: number;
      rootId: number;
    }
    const memo = new Map<object, Chain>();
    const chainOf = (node: ContainerLike, guard: Set<object>): Chain => {
      const hit = memo.get(node);
      if (hit) return hit;
      let best: Chain | null = null;
      guard.add(node);
      for (const p of parents.get(node) ?? []) {
        if (guard.has(p)) continue;
        const c = chainOf(p, guard);
        // the outermost model used most recently wins; then the one created first
        if (!best || c.stamp > best.stamp || (c.stamp === best.stamp && c.rootId < best.rootId)) best = c;
      }
      guard.delete(node);
      const res: Chain = best
        ? { names: [...best.names, node.name], stamp: best.stamp, rootId: best.rootId }
        : { names: [node.name], stamp: knownModels.get(node) ?? 0, rootId: node.id };
      memo.set(node, res);
      return res;
    };
    const out = new Map<object, string[]>();
    for (const layer of states.keys()) out.set(layer, chainOf(layer as unknown as ContainerLike, new Set()).names);
    return out;
  };

  // ---- snapshot -----------------------------------------------------------------------------
  const readVec = (v: LayerVar): Float32Array => copyF32(v.read().dataSync() as ArrayLike<number>);
  const readTensor = (t: Tensor): Float32Array => copyF32(t.dataSync() as ArrayLike<number>);

  const materialize = (r: Rec) => {
    if (r.meanArr) return;
    if (r.input) {
      const input = r.input;
      r.input = null;
      lazyElements -= input.size;
      try {
        if (r.inputKind === 'exact') computeMoments(r, input);
        else reduceInput(r, input);
      } catch {
        /* NaN-filled below */
      } finally {
        input.dispose();
      }
      if (r.meanArr) return;
    }
    if (r.mean && r.variance) {
      r.meanArr = readTensor(r.mean);
      r.varArr = readTensor(r.variance);
    } else {
      r.meanArr = new Float32Array(r.channels).fill(NaN);
      r.varArr = new Float32Array(r.channels).fill(NaN);
    }
    disposeRec(r);
  };
  const toCallRecord = (r: Rec | null): CallRecord | null => {
    if (!r) return null;
    materialize(r);
    return {
      training: r.training,
      statsUsed: r.training ? 'batch' : 'moving',
      inputShape: r.inputShape.slice(),
      batchMean: r.meanArr!.slice(),
      batchVariance: r.varArr!.slice(),
    };
  };

  const snapshotLayers = (): LayerSnapshot[] => {
    for (const [layer, st] of [...states]) {
      if (varDisposed(layer.movingMean) || varDisposed(layer.movingVariance)) {
        disposeState(st);
        states.delete(layer);
      }
    }
    const paths = computePaths();
    const ordered = [...states.values()].sort((a, b) => a.layer.id - b.layer.id);
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
        path: paths.get(layer) ?? [layer.name],
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
        lastCall: toCallRecord(st.lastCall),
        lastTrainingCall: toCallRecord(st.lastTrainingCall),
        warnings,
      });

      st.prevMM = mm.slice();
      st.prevMV = mv.slice();
      st.calls = st.updates = st.updatesWhileFrozen = st.inferenceCalls = 0;
      st.batchOfOneShape = null;
    }
    return out;
  };

  const keptTensors = (): number => {
    let n = 0;
    for (const st of states.values()) {
      for (const r of new Set([st.lastCall, st.lastTrainingCall]))
        if (r) n += (r.mean ? 1 : 0) + (r.variance ? 1 : 0) + (r.input ? 1 : 0);
      for (const t of [st.baseMM, st.baseMV, st.initMMT, st.initMVT]) if (t) n++;
    }
    return n;
  };

  return {
    snapshotLayers,
    keptTensors,
    captureMode: () => mode,
    captureNote: () => modeNote,
    uninstall() {
      if (!installed) return;
      installed = false;
      for (const r of restores.reverse()) r();
      restores.length = 0;
      for (const st of states.values()) disposeState(st);
      states.clear();
      knownModels.clear();
      capturing = null;
    },
  };
}
