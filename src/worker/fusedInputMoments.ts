/**
 * A BatchNormalization inference call's input statistics, computed by the FusedBatchNorm kernel in the same pass as
 * the normalisation (kernels/wasmBatchNorm.ts, channelMomentsWasmHeap.ts normaliseWithMoments) instead of in a second
 * pass over the input after the call (measured, the CNN benchmark's [32768, 16] input: 0.49 ms for both against
 * 0.31 + 0.36 ms apart). The instrument (bnCapture.ts) posts a request naming the input's data before it runs the
 * layer's call and withdraws it after; the kernel takes it when it normalises that data, and fills in the result.
 * A request the kernel does not take (another backend, a layout it leaves to the stock kernel) leaves the result
 * null, and the instrument reduces the input itself as before.
 */

export interface InputMomentsRequest {
  /** the dataId of the layer's input: the kernel's x shares it (tfjs's reshape keeps the data) */
  readonly dataId: object;
  /** per channel of the last axis: mean and biased variance (float64 sums, float32 results) */
  result: { mean: Float32Array; variance: Float32Array } | null;
}

let pending: InputMomentsRequest | null = null;
/** requests the kernel answered, since the process began (tests read it: answeredInputMoments) */
let answered = 0;

/** the instrument: ask the next FusedBatchNorm kernel that normalises `dataId` for its statistics */
export function requestInputMoments(dataId: object): InputMomentsRequest {
  pending = { dataId, result: null };
  return pending;
}

/** the instrument, after the call (taken or not): no later kernel call answers it */
export function withdrawInputMoments(r: InputMomentsRequest): void {
  if (pending === r) pending = null;
  if (r.result) answered++;
}

/** how many withdrawn requests the kernel had answered (tests: the fused pass ran) */
export function answeredInputMoments(): number {
  return answered;
}

/** the kernel: the request for the data it normalises, taken (one kernel call answers a request), or null */
export function takeInputMomentsRequest(dataId: object): InputMomentsRequest | null {
  const r = pending;
  if (r === null || r.dataId !== dataId) return null;
  pending = null;
  return r;
}
