/**
 * Independent float64 reference of what BatchNormalization should compute, in plain JS numbers
 * (no tfjs): batch moments over every axis but the channel axis (biased variance, divide by N),
 * the moving-average update `new = old - (old - batch) * (1 - momentum)`, and the normalised output.
 * Inputs are flat row-major data (as `dataSync()` returns them) plus a shape. Also each framework's rules for one
 * BN call (`bnCall64`: tfjs, keras, tf-keras, pytorch) and the few other float64 ops the semantics tests need.
 */
import * as assert from 'node:assert/strict';

export interface Moments64 {
  mean: Float64Array;
  variance: Float64Array;
  /** number of values reduced per channel */
  n: number;
}

function normAxis(axis: number, rank: number): number {
  return axis >= 0 ? axis : axis + rank;
}

/** channel index of each flat element for a row-major `shape` and channel `axis` */
function channelOf(shape: number[], axis: number): (flat: number) => number {
  const a = normAxis(axis, shape.length);
  let inner = 1;
  for (let i = a + 1; i < shape.length; i++) inner *= shape[i];
  const c = shape[a];
  return (flat) => Math.floor(flat / inner) % c;
}

/** two-pass float64 batch mean and biased variance over every axis but `axis` */
export function moments64(data: ArrayLike<number>, shape: number[], axis = -1): Moments64 {
  const a = normAxis(axis, shape.length);
  const c = shape[a];
  const size = shape.reduce((p, d) => p * d, 1);
  assert.equal(data.length, size, 'data length matches shape');
  const n = size / c;
  const ch = channelOf(shape, axis);
  const mean = new Float64Array(c);
  for (let i = 0; i < size; i++) mean[ch(i)] += data[i];
  for (let k = 0; k < c; k++) mean[k] /= n;
  const variance = new Float64Array(c);
  for (let i = 0; i < size; i++) {
    const d = data[i] - mean[ch(i)];
    variance[ch(i)] += d * d;
  }
  for (let k = 0; k < c; k++) variance[k] /= n;
  return { mean, variance, n };
}

/** Keras/tfjs moving average: new = old - (old - batch) * (1 - momentum) */
export function movingUpdate64(old: ArrayLike<number>, batch: ArrayLike<number>, momentum: number): Float64Array {
  const out = new Float64Array(old.length);
  for (let i = 0; i < old.length; i++) out[i] = old[i] - (old[i] - batch[i]) * (1 - momentum);
  return out;
}

/** y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, per channel */
export function normalize64(
  data: ArrayLike<number>,
  shape: number[],
  axis: number,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  epsilon: number,
  gamma: ArrayLike<number> | null,
  beta: ArrayLike<number> | null,
): Float64Array {
  const ch = channelOf(shape, axis);
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const k = ch(i);
    const g = gamma ? gamma[k] : 1;
    const b = beta ? beta[k] : 0;
    out[i] = ((data[i] - mean[k]) / Math.sqrt(variance[k] + epsilon)) * g + b;
  }
  return out;
}

/**
 * What tfjs 4.22's FusedBatchNorm kernels (cpu and wasm) really compute when the statistics are broadcast
 * over a non-last axis: they walk the flat data and cycle through the statistic vectors by flat index,
 * statistic[i % C], i.e. they treat every input as channels-last (tensorflow/tfjs#1106). Used to pin down
 * the output of BatchNormalization with axis 1.
 */
export function normalizeFlatCycle64(
  data: ArrayLike<number>,
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  epsilon: number,
): Float64Array {
  const c = mean.length;
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = (data[i] - mean[i % c]) / Math.sqrt(variance[i % c] + epsilon);
  return out;
}

/** rows [from, to) of a row-major [N, ...] array */
export function sliceRows(
  data: ArrayLike<number>,
  shape: number[],
  from: number,
  to: number,
): { data: Float64Array; shape: number[] } {
  const row = shape.slice(1).reduce((p, d) => p * d, 1);
  const out = new Float64Array((to - from) * row);
  for (let i = 0; i < out.length; i++) out[i] = data[from * row + i];
  return { data: out, shape: [to - from, ...shape.slice(1)] };
}

export function filled(n: number, v: number): Float64Array {
  return new Float64Array(n).fill(v);
}

/**
 * Float32-appropriate closeness: |actual - expected| <= atol + rtol * |expected| element-wise.
 * Default rtol 2e-5 (a few float32 ulps after a reduction), atol relative to `scale` (the magnitude of
 * the data the values were computed from).
 */
export function assertClose(
  actual: ArrayLike<number> | null | undefined,
  expected: ArrayLike<number>,
  what: string,
  { rtol = 2e-5, atol = 1e-6, scale = 1 }: { rtol?: number; atol?: number; scale?: number } = {},
): void {
  assert.ok(actual, `${what}: missing`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0,
    at = -1;
  for (let i = 0; i < expected.length; i++) {
    const tol = atol * scale + rtol * Math.abs(expected[i]);
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol) && (err - tol > worst || at < 0)) {
      worst = err - tol;
      at = i;
    }
  }
  if (at >= 0) {
    assert.fail(
      `${what}: element ${at} is ${actual[at]}, reference ${expected[at]} (|diff| ${Math.abs(actual[at] - expected[at]).toExponential(2)})\n` +
        `actual   ${Array.from(actual).slice(0, 8).join(', ')}\nexpected ${Array.from(expected).slice(0, 8).join(', ')}`,
    );
  }
}

/** exact equality of two float vectors (bit-for-bit except that NaN equals NaN) */
export function assertSame(
  actual: ArrayLike<number> | null | undefined,
  expected: ArrayLike<number>,
  what: string,
): void {
  assert.ok(actual, `${what}: missing`);
  assert.deepEqual(Array.from(actual), Array.from(expected), what);
}

export function maxAbs(data: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) m = Math.max(m, Math.abs(data[i]));
  return m;
}

// ---------------------------------------------------------------------------------------------
// The four frameworks' BatchNormalization rules, float64 (written from the frameworks' sources and docs as
// summarised in /work/shared/reference/semantics.md; deliberately not from src/shared/semantics.ts)
// ---------------------------------------------------------------------------------------------

export type Framework = 'tfjs' | 'keras' | 'tf-keras' | 'pytorch';

/** A BN layer's state in float64: weights, moving statistics and configuration. */
export interface Bn64 {
  gamma: Float64Array;
  beta: Float64Array;
  movingMean: Float64Array;
  movingVariance: Float64Array;
  momentum: number;
  epsilon: number;
  axis: number;
  trainable: boolean;
}

/** PyTorch refused the call (one value per channel in training mode). */
export class OneValuePerChannel extends Error {}

/**
 * One call of a BN layer under a framework's rules, in float64: returns the output and updates `layer`'s moving
 * statistics as that framework would.
 * - tfjs: training mode iff `training`; moving update with the biased variance.
 * - keras (Keras 3): training mode iff `training` and trainable; biased.
 * - tf-keras (TF 2.x): as keras; the fused kernel (rank 4, channel axis 3 or 1) updates with the unbiased variance.
 * - pytorch: training mode iff `training`; unbiased update; one value per channel in training throws.
 * Normalisation in training mode uses the biased batch variance everywhere.
 */
export function bnCall64(
  fw: Framework,
  layer: Bn64,
  data: ArrayLike<number>,
  shape: number[],
  training: boolean,
): Float64Array {
  const rank = shape.length;
  const axis = normAxis(layer.axis, rank);
  const training64 = training && (fw === 'keras' || fw === 'tf-keras' ? layer.trainable : true);
  if (!training64)
    return normalize64(
      data,
      shape,
      axis,
      layer.movingMean,
      layer.movingVariance,
      layer.epsilon,
      layer.gamma,
      layer.beta,
    );
  const m = moments64(data, shape, axis);
  if (fw === 'pytorch' && m.n === 1) throw new OneValuePerChannel(`one value per channel: [${shape.join(', ')}]`);
  const fused = fw === 'tf-keras' && rank === 4 && (axis === 3 || axis === 1);
  const bessel = (fw === 'pytorch' || fused) && m.n > 1 ? m.n / (m.n - 1) : 1;
  const out = normalize64(data, shape, axis, m.mean, m.variance, layer.epsilon, layer.gamma, layer.beta);
  layer.movingMean = movingUpdate64(layer.movingMean, m.mean, layer.momentum);
  layer.movingVariance = movingUpdate64(
    layer.movingVariance,
    m.variance.map((v) => v * bessel),
    layer.momentum,
  );
  return out;
}

/** y = x·W + b for row-major x [N, in], W [in, out] */
export function dense64(x: ArrayLike<number>, n: number, w: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const units = b.length;
  const inputs = w.length / units;
  const out = new Float64Array(n * units);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < units; j++) {
      let s = b[j];
      for (let i = 0; i < inputs; i++) s += x[r * inputs + i] * w[i * units + j];
      out[r * units + j] = s;
    }
  return out;
}

/** mean of (a − b)² over every element */
export function mse64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

/** deterministic normal-ish values: mean `m`, spread `sd` */
export function normalValues(n: number, m: number, sd: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  for (let i = 0; i < n; i++) out[i] = m + sd * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** float64 two-pass moments over every axis but the last (channels last, flat data), rounded to float32 as a result is */
export function channelMomentsRef32(d: ArrayLike<number>, c: number): { mean: number[]; variance: number[] } {
  const n = d.length / c;
  const mean = new Array<number>(c).fill(0);
  const variance = new Array<number>(c).fill(0);
  for (let i = 0; i < d.length; i++) mean[i % c] += d[i];
  for (let j = 0; j < c; j++) mean[j] /= n;
  for (let i = 0; i < d.length; i++) variance[i % c] += (d[i] - mean[i % c]) ** 2;
  for (let j = 0; j < c; j++) variance[j] /= n;
  return { mean: mean.map(Math.fround), variance: variance.map(Math.fround) };
}

/** `got` against channelMomentsRef32 of `d`: the mean to 1e-7 relative, the variance to 1e-6 relative */
export function assertChannelMoments(
  got: { mean: ArrayLike<number>; variance: ArrayLike<number> },
  d: ArrayLike<number>,
  c: number,
  what: string,
): void {
  const ref = channelMomentsRef32(d, c);
  assert.equal(got.mean.length, c, `${what}: channels`);
  for (let j = 0; j < c; j++) {
    const tolMean = 1e-7 * Math.max(1, Math.abs(ref.mean[j]));
    assert.ok(Math.abs(got.mean[j] - ref.mean[j]) <= tolMean, `${what}: mean[${j}] ${got.mean[j]} vs ${ref.mean[j]}`);
    const tolVar = 1e-6 * ref.variance[j] + (d.length === c ? 0 : 1e-30);
    assert.ok(
      Math.abs(got.variance[j] - ref.variance[j]) <= tolVar,
      `${what}: variance[${j}] ${got.variance[j]} vs ${ref.variance[j]}`,
    );
  }
}
