/**
 * Gradients known to be zero without reading them: a tensor marked here was made as zeros by the engine. A
 * BatchNormalization layer's normalisation gradient carries the paths through its batch moments and marks the
 * gradients it gives mean and variance (batchNormGradient.ts); the moments' gradient, given two marked zeros, gives a
 * marked zero (fusedMoments.ts); the engine's backpropagation (tfjsEngineFastPath.ts) adds such a gradient to
 * nothing: x + 0 is x, so the pass over x-sized data that tf.add would make is skipped. Marks are by data (a clone or
 * a reshape shares them); a sum with another gradient is a new tensor, unmarked.
 *
 * A gradient function can also say so before the zeros are made: its thunk marked by `knownZeroThunk` is not called
 * where the input already has a gradient (the zeros would only be dropped), only where it has none yet.
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

/**
 * The mark on a thunk: a property under a global symbol, so that code wrapping a tape node's thunks (the benchmark's
 * kernel timers, bench/kernelTimers.mjs) can carry it over to its wrappers
 */
export const KNOWN_ZERO_THUNK = Symbol.for('bn-inspector.knownZeroThunk');

/** marks a gradient thunk that returns a known zero (made only if needed: see the top); returns it */
export function knownZeroThunk<T extends () => unknown>(thunk: T): T {
  (thunk as unknown as Record<symbol, boolean>)[KNOWN_ZERO_THUNK] = true;
  return thunk;
}

/** whether `thunk` was marked by knownZeroThunk */
export function isKnownZeroThunk(thunk: unknown): boolean {
  return typeof thunk === 'function' && (thunk as unknown as Record<symbol, unknown>)[KNOWN_ZERO_THUNK] === true;
}
