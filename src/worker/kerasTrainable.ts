/**
 * Keras's `model.trainable = …` under the keras / tf-keras semantics: setting it on a model sets it on every layer
 * inside (recursively, Keras's setter), so `base.trainable = false` puts the base's BatchNormalization layers in
 * inference mode, as in Keras. tfjs's own setter only flips the trainable flag of the direct layers' weights and
 * leaves each layer's `trainable` alone (the layer would keep running in training mode inside fit).
 *
 * Only a change of the model's value propagates: tfjs itself copies a Sequential's value onto its internal model
 * when it builds it, which must not undo a `trainable: false` given to one of its layers.
 */
import type { Restore } from './monkeyPatch';

interface ContainerLike {
  trainable: boolean;
  layers?: unknown[];
}

/** Replaces the `trainable` setter of tfjs's Container prototype; returns the undo, or null if impossible. */
export function propagateModelTrainable(containerProto: object): Restore | null {
  const own = Object.getOwnPropertyDescriptor(containerProto, 'trainable');
  if (!own || typeof own.set !== 'function' || typeof own.get !== 'function') return null;
  const get = own.get;
  const set = own.set;
  try {
    Object.defineProperty(containerProto, 'trainable', {
      ...own,
      set(this: ContainerLike, value: boolean) {
        const changed = !!get.call(this) !== !!value;
        set.call(this, value);
        if (!changed || !Array.isArray(this.layers)) return;
        for (const layer of this.layers)
          if (typeof layer === 'object' && layer !== null) (layer as ContainerLike).trainable = value;
      },
    });
  } catch {
    return null;
  }
  return () => Object.defineProperty(containerProto, 'trainable', own);
}
