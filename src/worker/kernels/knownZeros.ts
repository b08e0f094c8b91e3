/**
 * Gradients known to be zero without reading them: a tensor marked here was made as zeros by the engine (the
 * moments' gradient of a BatchNormalization layer whose normalisation's gradient already carries that path,
 * batchNormGradient.ts). The engine's backpropagation (tfjsEngineFastPath.ts) adds such a gradient to nothing: x + 0
 * is x, so the pass over x-sized data that tf.add would make is skipped. Marks are by data (a clone shares them).
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
