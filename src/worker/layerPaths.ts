/**
 * A BatchNormalization layer's `path` in a snapshot: the names of the models that enclose it, outermost first
 * (part of the instrument, bnInstrument.ts).
 *
 * - Models are remembered when created or used: the factories `tf.model` / `tf.sequential` (where the
 *   tfjs-layers exports object is writable), `fromConfig` of deserialisation (loadLayersModel, nested models of
 *   a loaded one), and the methods of LayersModel and Sequential (fit, predict, apply, …).
 * - At snapshot time the known models' `layers` are walked recursively; a layer inside several models gets the
 *   chain of the outermost model used most recently (then the one created first).
 * - A Sequential's internal LayersModel (`<name>_model`) is never shown; disposed models are forgotten.
 */
import type { InstrumentState, TF } from './bnState';
import { patchExport, patchMethod, tryRequire } from './monkeyPatch';

interface ContainerLike {
  id: number;
  name: string;
  layers?: unknown[];
  model?: unknown;
  _refCount?: number | null;
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

/** tfjs's class registry: class name -> [class, fromConfig] */
export type ClassMap = Record<string, [unknown, unknown]>;

export interface LayerPaths {
  /** every registered layer (`s.layers`) -> its path, outermost model first, the layer's own name last */
  compute(): Map<object, string[]>;
  /** forget the models (uninstall) */
  clear(): void;
}

/** Wraps the model factories, `fromConfig`s and model methods (undos go to `s.restores`). */
export function trackModels(s: InstrumentState, classMap: ClassMap): LayerPaths {
  const tf: TF = s.tf;
  const LayersModel = tf.LayersModel as unknown as { prototype: object };
  const Sequential = tf.Sequential as unknown as { prototype: object };
  const ContainerProto = Object.getPrototypeOf(LayersModel.prototype) as object;
  const isContainer = (x: unknown): x is ContainerLike =>
    typeof x === 'object' && x !== null && Object.prototype.isPrototypeOf.call(ContainerProto, x);
  const isSequential = (x: unknown): boolean =>
    typeof x === 'object' && x !== null && Object.prototype.isPrototypeOf.call(Sequential.prototype, x);

  /** models created or used -> stamp of their last use (higher = more recent) */
  const knownModels = new Map<ContainerLike, number>();
  /** Sequential's internal LayersModels: never shown */
  const internalModels = new WeakSet<object>();
  let useStamp = 0;

  // ---- models: remember the ones created or used ----------------------------------------------
  const noteModel = (m: unknown) => {
    if (s.installed && isContainer(m)) knownModels.set(m, ++useStamp);
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
      if (undo) s.restores.push(undo);
    }
  };
  wrapModelMethods(LayersModel.prototype, MODEL_METHODS);
  const seqOwn = SEQUENTIAL_METHODS.filter((n) => Object.prototype.hasOwnProperty.call(Sequential.prototype, n));
  wrapModelMethods(Sequential.prototype, seqOwn);

  // factories (tf.model, tf.sequential), where the tfjs-layers exports object is writable;
  // a literal require: the bundler must see it, and the patch must reach tfjs-layers' own CJS exports object
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  const layersMod = tryRequire(() => require('@tensorflow/tfjs-layers'));
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
      if (undo) s.restores.push(undo);
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
    s.restores.push(() => {
      if (classMap[cls] === wrapped) classMap[cls] = entry;
    });
  }

  // ---- paths --------------------------------------------------------------------------------
  const containerDisposed = (c: ContainerLike) => c._refCount === 0;

  /**
   * What the previous result was computed from (`unchanged`): the models by recency, every container walked with its
   * `layers` array and length, whether it was disposed, and the layers listed. The same again (a predict loop): the
   * same paths, not walked again.
   */
  let last: {
    byRecency: ContainerLike[];
    walked: Walked[];
    out: Map<object, string[]>;
  } | null = null;
  /** a container as the walk saw it: its layers array, that array's length, disposed or not */
  type Walked = [ContainerLike, unknown[] | undefined, number, boolean];
  const walkedEntry = (c: ContainerLike): Walked => [
    c,
    c.layers,
    Array.isArray(c.layers) ? c.layers.length : 0,
    containerDisposed(c),
  ];
  const byRecency = () => [...knownModels.entries()].sort((a, b) => b[1] - a[1]).map((e) => e[0]);
  const unchanged = (models: ContainerLike[]): boolean => {
    if (last === null || models.length !== last.byRecency.length || last.out.size !== s.layers.size) return false;
    for (let i = 0; i < models.length; i++) if (models[i] !== last.byRecency[i]) return false;
    for (const [c, ls, n, disposed] of last.walked) {
      const now = walkedEntry(c);
      if (now[1] !== ls || now[2] !== n || now[3] !== disposed || internalModels.has(c)) return false;
    }
    for (const layer of s.layers.keys()) if (!last.out.has(layer)) return false;
    return true;
  };

  const compute = (): Map<object, string[]> => {
    for (const m of [...knownModels.keys()]) {
      if (containerDisposed(m)) knownModels.delete(m);
      else markInternal(m);
    }
    const models = byRecency();
    if (unchanged(models)) return last!.out;
    const walked: Walked[] = [];
    const parents = new Map<object, ContainerLike[]>();
    const visited = new Set<object>();
    const stack: ContainerLike[] = [...knownModels.keys()].filter((m) => !internalModels.has(m));
    while (stack.length) {
      const c = stack.pop()!;
      if (visited.has(c)) continue;
      visited.add(c);
      const ls = c.layers;
      walked.push(walkedEntry(c));
      if (!Array.isArray(ls)) continue;
      for (const l of ls) {
        if (typeof l !== 'object' || l === null || l === c || internalModels.has(l)) continue;
        if (isContainer(l) && containerDisposed(l)) {
          walked.push(walkedEntry(l));
          continue;
        }
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
    for (const layer of s.layers.keys()) out.set(layer, chainOf(layer as unknown as ContainerLike, new Set()).names);
    last = { byRecency: models, walked, out };
    return out;
  };

  return {
    compute,
    clear: () => {
      knownModels.clear();
      last = null;
    },
  };
}
