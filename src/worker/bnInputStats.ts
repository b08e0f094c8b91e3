/**
 * The statistics of a BatchNormalization call's input that tfjs did not compute for us (part of the capture,
 * bnCapture.ts): for training-mode calls in recompute mode, exactly `tf.moments` of the input (bit-identical to
 * what the layer computed); for inference-mode calls, float64 moments (channelMoments.ts, SIMD on the wasm heap:
 * channelMomentsWasmHeap.ts). When:
 * - at call time, while the input is in cache, for a layer whose calls alternate with steps (one call between the
 *   last two steps: predict, step, predict, step …; LayerState.eagerInputStats): the step reads every one, and an
 *   input read back later has left the caches (measured, the CNN benchmark's predict + step against a plain
 *   predict, in one process, 150 rounds on a busy machine: 1.05 instead of 1.11); on the wasm heap by the
 *   FusedBatchNorm kernel itself, in its normalising pass, where it can (`requestFused`, fusedInputMoments.ts);
 * - else lazily: the input is kept (zero-copy clone) and reduced only when the step is read back (`readBackCall`),
 *   if the call is still the layer's last one (calls between two steps, predict or evaluate over many batches, then
 *   cost no arithmetic); within a memory budget, beyond which it is reduced at call time.
 */
import { channelMoments } from './channelMoments';
import { channelMomentsOnWasmHeap } from './channelMomentsWasmHeap';
import { requestInputMoments, type InputMomentsRequest } from './fusedInputMoments';
import {
  disposeRec,
  keepClone,
  readTensor,
  tensorValues,
  type InstrumentState,
  type Rec,
  type Tensor,
} from './bnState';

/**
 * Inputs whose statistics tfjs did not compute are kept (zero-copy clones) and reduced only if the call is
 * still the layer's last one when a step is read back: calls between two steps (predict or evaluate over
 * many batches) then cost no arithmetic. The inputs held at once stay under this many elements in all
 * (16 M float32 = 64 MiB); beyond it an input is reduced at call time instead.
 */
export const LAZY_BUDGET_ELEMENTS = 1 << 24;

export interface InputStatistics {
  /**
   * the statistics of an input tfjs did not reduce itself: at read-back if the budget allows, else now; now as
   * well when `eager` (a step is expected before the layer's next call: see LayerState.eagerInputStats)
   */
  statsOfInput(rec: Rec, x: Tensor, kind: 'exact' | 'f64', eager: boolean, fused?: InputMomentsRequest | null): void;
  /**
   * Before an inference-mode call whose input statistics would be reduced at call time (`eager`, the wasm heap): a
   * request that the FusedBatchNorm kernel compute them while it normalises (fusedInputMoments.ts); the caller
   * withdraws it after the call and passes it to statsOfInput. Null where that does not apply.
   */
  requestFused(rec: Rec, x: Tensor, eager: boolean): InputMomentsRequest | null;
  /** Fills `rec.meanArr` / `rec.varArr` (NaN where the statistics are unavailable) and disposes its tensors. */
  readBackCall(rec: Rec): void;
}

/** @param useSimd false: never the SIMD reduction on the wasm heap, always the JS one */
export function inputStatistics(s: InstrumentState, useSimd: boolean): InputStatistics {
  const tf = s.tf;
  /** exact tf.moments of the input over every axis but the channel axis */
  const computeMoments = (rec: Rec, x: Tensor) => {
    disposeRec(s, rec);
    const red: number[] = [];
    for (let i = 0; i < x.rank; i++) if (i !== rec.axis) red.push(i);
    tf.tidy(() => {
      const m = tf.moments(x, red);
      rec.mean = tf.keep(m.mean);
      rec.variance = tf.keep(m.variance);
    });
  };
  const reduceInput = (rec: Rec, x: Tensor) => {
    const m =
      (useSimd ? channelMomentsOnWasmHeap(tf, x, rec.axis) : null) ??
      channelMoments(tensorValues(tf, x), x.shape, rec.axis);
    rec.meanArr = m.mean;
    rec.varArr = m.variance;
  };

  /** eager float64 reductions only where the values are at hand: the wasm heap, the cpu backend's own arrays */
  const cheapValues = () => {
    const b = tf.getBackend();
    return b === 'wasm' || b === 'cpu';
  };
  const requestFused = (rec: Rec, x: Tensor, eager: boolean) =>
    eager &&
    useSimd &&
    tf.getBackend() === 'wasm' &&
    rec.axis === x.rank - 1 &&
    x.dtype === 'float32' &&
    rec.channels % 4 === 0
      ? requestInputMoments(x.dataId)
      : null;
  const statsOfInput = (
    rec: Rec,
    x: Tensor,
    kind: 'exact' | 'f64',
    eager: boolean,
    fused?: InputMomentsRequest | null,
  ) => {
    disposeRec(s, rec);
    rec.fromInput = true;
    const done = kind === 'f64' ? fused?.result : null;
    if (done && done.mean.length === rec.channels) {
      rec.meanArr = done.mean;
      rec.varArr = done.variance;
      return;
    }
    if ((!eager || (kind === 'f64' && !cheapValues())) && s.lazyElements + x.size <= s.lazyBudget) {
      rec.input = keepClone(s, x);
      rec.inputKind = kind;
      s.lazyElements += x.size;
    } else if (kind === 'exact') {
      computeMoments(rec, x);
    } else {
      reduceInput(rec, x);
    }
  };

  /** Fills `r.meanArr` / `r.varArr` (NaN where the statistics are unavailable) and disposes its tensors. */
  const readBackCall = (r: Rec) => {
    if (r.meanArr) return;
    if (r.input) {
      const input = r.input;
      r.input = null;
      s.lazyElements -= input.size;
      try {
        if (r.inputKind === 'exact') computeMoments(r, input);
        else reduceInput(r, input);
      } catch {
        /* NaN-filled below */
      } finally {
        input.dispose();
      }
      if (r.meanArr) return;
    }
    if (r.mean && r.variance) {
      r.meanArr = readTensor(r.mean);
      r.varArr = readTensor(r.variance);
    } else {
      r.meanArr = new Float32Array(r.channels).fill(NaN);
      r.varArr = new Float32Array(r.channels).fill(NaN);
    }
    disposeRec(s, r);
  };

  return { statsOfInput, requestFused, readBackCall };
}
