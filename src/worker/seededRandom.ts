/**
 * Repeatable runs: the script's `Math.random` becomes a fixed-seed PRNG (the same seed every run, under every
 * semantics), so two runs of one script start from the same initial weights and shuffle `fit`'s batches the same
 * way. tfjs draws from Math.random when no seed is given: the random initializers (rand_util's seed), dropout,
 * and util.shuffle (fit's shuffle: true).
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counter, 128-bit state, passes PractRand); each value
 * takes 53 bits from two outputs, uniform in [0, 1) like Math.random.
 */

/** The seed of every run (contract "Semantics": runs are repeatable). */
export const RUN_SEED = 0x5eed_b417;

/** A Math.random-like generator: the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = 0x9e3779b9,
    b = 0x243f6a88,
    c = 0xb7e15162,
    d = seed >>> 0;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) next(); // mix the seed into the state
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
}

/** Replaces `Math.random` of this thread (the worker's: the script's) by the seeded generator. */
export function seedMathRandom(seed: number = RUN_SEED): void {
  Math.random = seededRandom(seed);
}
