/**
 * Gradients known to be zero without reading them: a tensor marked here was made as zeros by the engine. A
 * BatchNormalization layer's normalisation gradient carries the paths through its batch moments and marks the
 * gradients it gives mean and variance (batchNormGradient.ts); the moments' gradient, given two marked zeros, gives a
 * marked zero (fusedMoments.ts); the engine's backpropagation (tfjsEngineFastPath.ts) adds such a gradient to
 * nothing: x + 0 is x, so the pass over x-sized data that tf.add would make is skipped. Marks are by data (a clone or
 * a reshape shares them); a sum with another gradient is a new tensor, unmarked.
 */
const zeros = new WeakSet<object>();

/** marks `t` (made as zeros) as a known zero; returns it */
export function markKnownZero<T extends { dataId: object }>(t: T): T {
  zeros.add(t.dataId);
  return t;
}

/** whether `t` was marked as a known zero */
export function isKnownZero(t: { dataId: object }): boolean {
  return zeros.has(t.dataId);
}
