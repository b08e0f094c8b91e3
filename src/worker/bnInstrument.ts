/**
 * BatchNormalization instrumentation of tfjs 4.22 (see ../../../shared/reference/tfjs-facts.md): installs and
 * uninstalls the three parts, which share one InstrumentState (bnState.ts):
 *
 * - capture (bnCapture.ts): wraps `BatchNormalization.prototype.build` / `.call` and tfjs-core's `moments`, so
 *   each call's exact batch statistics are kept (or recomputed exactly; an inference call's input reduced);
 * - paths (layerPaths.ts): remembers the models created or used, and finds which models enclose a layer;
 * - snapshot (bnSnapshot.ts): `snapshotLayers`, the LayerSnapshot records of a step, with their warnings;
 * - sources (layerSources.ts): where each layer was constructed, recorded by the factory the user's script gets.
 *
 * Registration: a layer is listed once it has weights; the listing is ordered by tfjs's own construction
 * counter `layer.id`, i.e. creation order.
 */
import type { LayerSnapshot, Semantics } from '../shared/protocol';
import { installCapture, type CaptureMode } from './bnCapture';
import { LAZY_BUDGET_ELEMENTS } from './bnInputStats';
import { snapshotLayers } from './bnSnapshot';
import { disposeLayerState, keptTensorCount, newInstrumentState, type TF } from './bnState';
import { trackModels, type ClassMap } from './layerPaths';
import type { LayerSources } from './layerSources';
import { propagateModelTrainable } from './kerasTrainable';
import { recordUserCallSites } from './userCallSite';

export type { CaptureMode } from './bnCapture';

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
  /** where each layer was constructed: the user's factory records into it, its `userFiles` are set once compiled */
  readonly sources: LayerSources;
  /**
   * Whose BatchNormalization rules the calls follow from now on (bnSemantics.ts; set once, before the script
   * runs). keras / tf-keras also make `model.trainable = …` reach every layer inside (kerasTrainable.ts).
   */
  setSemantics(semantics: Semantics): void;
  semantics(): Semantics;
}

export interface BnInstrumentOptions {
  /** never patch tfjs-core's moments: always recompute the batch statistics (tests, benchmarks) */
  forceRecompute?: boolean;
  /** elements of call inputs that may be held for read-back at once (default 16 M = 64 MiB of float32) */
  lazyBudgetElements?: number;
  /** false: never the SIMD reduction on the wasm heap, always the JS one (tests, benchmarks) */
  simd?: boolean;
  /**
   * true: inference inputs kept for read-back on every backend, as on those whose values are not at hand (webgl,
   * webgpu); by default on the wasm and cpu backends they are reduced at call time (tests: the read-back path)
   */
  keepInputs?: boolean;
}

export function installBnInstrument(tf: TF, options: BnInstrumentOptions = {}): BnInstrument {
  const classMap = tf.serialization.SerializationMap.getMap().classNameMap as ClassMap;
  const BN = classMap.BatchNormalization?.[0] as { prototype: object } | undefined;
  if (!BN) throw new Error('BatchNormalization is not registered in this tfjs');

  const s = newInstrumentState(tf, options.lazyBudgetElements ?? LAZY_BUDGET_ELEMENTS);
  const capture = installCapture(s, BN.prototype, options);
  const paths = trackModels(s, classMap);
  // where the async training calls (fit, trainOnBatch, …) are made: an error inside one gets the user's line
  s.restores.push(
    ...recordUserCallSites([
      (tf.LayersModel as unknown as { prototype: object }).prototype,
      (tf.Sequential as unknown as { prototype: object }).prototype,
    ]),
  );

  return {
    snapshotLayers: () => snapshotLayers(s, capture, paths),
    keptTensors: () => keptTensorCount(s),
    captureMode: () => capture.mode(),
    captureNote: () => capture.note(),
    sources: s.sources,
    semantics: () => s.semantics,
    setSemantics(semantics: Semantics) {
      if (!s.installed || semantics === s.semantics) return;
      if (s.semantics !== 'tfjs') throw new Error('the semantics of a run are set once');
      s.semantics = semantics;
      const LayersModel = tf.LayersModel as unknown as { prototype: object };
      if (semantics === 'keras' || semantics === 'tf-keras') {
        const undo = propagateModelTrainable(Object.getPrototypeOf(LayersModel.prototype) as object);
        if (undo) s.restores.push(undo);
      }
    },
    uninstall() {
      if (!s.installed) return;
      s.installed = false;
      for (const r of s.restores.reverse()) r();
      s.semantics = 'tfjs';
      s.restores.length = 0;
      for (const st of s.layers.values()) disposeLayerState(s, st);
      s.layers.clear();
      paths.clear();
      capture.reset();
    },
  };
}
