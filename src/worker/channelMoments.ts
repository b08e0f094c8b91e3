/**
 * Per-channel mean and biased variance of a BN call's input, for inference-mode calls (tfjs computed no batch
 * statistics there): float64 two-pass (the mean, then the mean of the squared deviations), rounded once to
 * float32, in plain JS over any array of values. On the wasm backend channelMomentsWasmHeap.ts computes the same
 * statistics with SIMD in the backend's own heap, in one pass (float64 sums shifted by the first row; the bound on
 * what that loses is in simdMomentsModule.ts). Used by bnInputStats.ts.
 */

/**
 * float64 two-pass mean and biased variance over every axis but `axis` of row-major `data`, rounded to float32
 * (the same sums as the float64 reference: the mean, then the mean of the squared deviations from it).
 * Channels last (the common case): blocks of rows small enough to stay in L1, a column at a time, in local
 * accumulators (four independent chains); many channels: four row streams of per-channel accumulators;
 * other axes: runs of `inner` consecutive values per channel.
 */
export function channelMoments(
  data: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
): { mean: Float32Array; variance: Float32Array } {
  const c = shape[axis];
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  const len = data.length;
  const n = c > 0 ? len / c : 0;
  const mean = new Float64Array(c);
  const sq = new Float64Array(c);
  if (inner === 1 && c <= 1024) {
    const block = Math.max(16, Math.min(1024, Math.floor(8192 / c)));
    const sum = new Float64Array(c);
    for (let r0 = 0; r0 < n; r0 += block) {
      const rows = Math.min(block, n - r0);
      for (let k = 0, o = r0 * c; k < c; k++, o++) sum[k] += strideSum(data, o, rows, c);
    }
    for (let k = 0; k < c; k++) mean[k] = sum[k] / n;
    for (let r0 = 0; r0 < n; r0 += block) {
      const rows = Math.min(block, n - r0);
      for (let k = 0, o = r0 * c; k < c; k++, o++) sq[k] += strideSqDev(data, o, rows, c, mean[k]);
    }
  } else if (inner === 1) {
    const sum = columnSums(data, n, c, null);
    for (let k = 0; k < c; k++) mean[k] = sum[k] / n;
    sq.set(columnSums(data, n, c, mean));
  } else {
    // channel k owns runs of `inner` consecutive values
    const sum = new Float64Array(c);
    for (let i = 0, k = 0; i < len; i += inner) {
      sum[k] += strideSum(data, i, inner, 1);
      if (++k === c) k = 0;
    }
    for (let k = 0; k < c; k++) mean[k] = sum[k] / n;
    for (let i = 0, k = 0; i < len; i += inner) {
      sq[k] += strideSqDev(data, i, inner, 1, mean[k]);
      if (++k === c) k = 0;
    }
  }
  const variance = new Float32Array(c);
  for (let k = 0; k < c; k++) variance[k] = sq[k] / n;
  return { mean: Float32Array.from(mean), variance };
}

/** float64 sum of `count` values of `x` from `start`, `stride` apart (four independent chains) */
function strideSum(x: ArrayLike<number>, start: number, count: number, stride: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  const t2 = 2 * stride,
    t3 = 3 * stride,
    t4 = 4 * stride;
  let i = start;
  let left = count;
  for (; left >= 4; left -= 4, i += t4) {
    s0 += x[i];
    s1 += x[i + stride];
    s2 += x[i + t2];
    s3 += x[i + t3];
  }
  for (; left > 0; left--, i += stride) s0 += x[i];
  return s0 + s1 + (s2 + s3);
}

/** float64 sum of the squared deviations from `m` of `count` values of `x` from `start`, `stride` apart */
function strideSqDev(x: ArrayLike<number>, start: number, count: number, stride: number, m: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  const t2 = 2 * stride,
    t3 = 3 * stride,
    t4 = 4 * stride;
  let i = start;
  let left = count;
  for (; left >= 4; left -= 4, i += t4) {
    const d0 = x[i] - m,
      d1 = x[i + stride] - m,
      d2 = x[i + t2] - m,
      d3 = x[i + t3] - m;
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; left > 0; left--, i += stride) {
    const d = x[i] - m;
    s0 += d * d;
  }
  return s0 + s1 + (s2 + s3);
}

/**
 * Column sums of `x` viewed as [rows, cols] in float64 (many columns): of the values themselves (`center`
 * null) or of their squared deviations from `center[col]`. Four row streams at a time.
 */
function columnSums(x: ArrayLike<number>, rows: number, cols: number, center: Float64Array | null): Float64Array {
  const C = cols,
    C2 = 2 * C,
    C3 = 3 * C,
    C4 = 4 * C;
  const a = new Float64Array(C4);
  let o = 0,
    r = 0;
  if (center === null) {
    for (; r + 4 <= rows; r += 4, o += C4)
      for (let k = 0; k < C; k++) {
        a[k] += x[o + k];
        a[C + k] += x[o + C + k];
        a[C2 + k] += x[o + C2 + k];
        a[C3 + k] += x[o + C3 + k];
      }
    for (; r < rows; r++, o += C) for (let k = 0; k < C; k++) a[k] += x[o + k];
  } else {
    for (; r + 4 <= rows; r += 4, o += C4)
      for (let k = 0; k < C; k++) {
        const m = center[k];
        const d0 = x[o + k] - m,
          d1 = x[o + C + k] - m,
          d2 = x[o + C2 + k] - m,
          d3 = x[o + C3 + k] - m;
        a[k] += d0 * d0;
        a[C + k] += d1 * d1;
        a[C2 + k] += d2 * d2;
        a[C3 + k] += d3 * d3;
      }
    for (; r < rows; r++, o += C)
      for (let k = 0; k < C; k++) {
        const d = x[o + k] - center[k];
        a[k] += d * d;
      }
  }
  const out = new Float64Array(C);
  for (let k = 0; k < C; k++) out[k] = a[k] + a[C + k] + a[C2 + k] + a[C3 + k];
  return out;
}
