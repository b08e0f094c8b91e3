/**
 * Tells model building from computing: counts, between two reaches of step points, the layer calls that got
 * symbolic tensors (tf.SymbolicTensor: building a functional model's graph, no layer runs) and those that got
 * real tensors (a layer or model ran).
 *
 * The patch: tfjs-layers 4.22's base `Layer.prototype.apply` (every layer and model inherits it; no class
 * overrides it but InputLayer, which only throws), and any wrapper of it on a model class (applyOwners): `fit`, `evaluate`, `predict`, `predictOnBatch` and
 * `LayersModel.execute` run a model through its executor, which calls `apply` of each layer with real tensors;
 * `model.apply(x)` on a real tensor is itself such a call. A nested call (a model's sublayers) sees the same kind
 * of tensors as the outer one, so counting every call or only the outermost gives the same answer: two flags are
 * all that is kept, set without allocating (one `instanceof` per call).
 */
import { patchMethod, type Restore } from './monkeyPatch';

export type ReachKind =
  /** at least one layer call got real tensors, or no layer was called at all: a step */
  | 'step'
  /** every layer call since the previous reach got symbolic tensors (and there was one): not a step */
  | 'modelBuilding';

export interface ModelBuildingProbe {
  /** what the calls since the previous reach were; starts counting afresh */
  takeReach(): ReachKind;
  uninstall(): void;
}

interface LayersTf {
  SymbolicTensor: abstract new (...a: never[]) => object;
  LayersModel: { prototype: object };
  Sequential: { prototype: object };
  serialization: { SerializationMap: { getMap(): { classNameMap: Record<string, [unknown, unknown]> } } };
}

/**
 * Every prototype that holds its own `apply`, up the chains of a plain layer class (Dense), LayersModel and
 * Sequential: the base Layer's, and the wrappers another patch may have put on a model class before this one
 * (layerPaths.ts wraps `LayersModel.prototype.apply`, calling the base `apply` it saw then, not this patch).
 */
function applyOwners(tf: LayersTf): object[] {
  const dense = tf.serialization.SerializationMap.getMap().classNameMap.Dense?.[0] as { prototype: object } | undefined;
  const owners = new Set<object>();
  for (const start of [dense?.prototype, tf.LayersModel.prototype, tf.Sequential.prototype])
    for (
      let p: object | null = start ?? null;
      p && p !== Object.prototype;
      p = Object.getPrototypeOf(p) as object | null
    )
      if (Object.prototype.hasOwnProperty.call(p, 'apply')) owners.add(p);
  return [...owners];
}

export function installModelBuildingProbe(tf: LayersTf): ModelBuildingProbe {
  const Symbolic = tf.SymbolicTensor;
  let symbolic = false;
  let concrete = false;
  const restores: Restore[] = [];
  for (const owner of applyOwners(tf)) {
    const restore = patchMethod(
      owner,
      'apply',
      (orig) =>
        // apply(inputs, kwargs): both passed on as they came, nothing allocated
        function (this: unknown, inputs: unknown, kwargs: unknown) {
          // tfjs requires all inputs symbolic or all real: the first one says which
          const first = Array.isArray(inputs) ? (inputs[0] as unknown) : inputs;
          if (first instanceof Symbolic) symbolic = true;
          else concrete = true;
          return orig.call(this, inputs, kwargs);
        },
    );
    if (restore) restores.push(restore);
  }
  if (!restores.length) throw new Error('tfjs-layers: Layer.prototype.apply could not be patched');
  return {
    takeReach() {
      const kind: ReachKind = symbolic && !concrete ? 'modelBuilding' : 'step';
      symbolic = concrete = false;
      return kind;
    },
    uninstall() {
      for (const r of restores.reverse()) r();
    },
  };
}
