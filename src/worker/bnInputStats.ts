/**
 * The statistics of a BatchNormalization call's input that tfjs did not compute for us (part of the capture,
 * bnCapture.ts): for training-mode calls in recompute mode, exactly `tf.moments` of the input (bit-identical to
 * what the layer computed); for inference-mode calls, float64 moments (channelMoments.ts, SIMD on the wasm heap:
 * channelMomentsWasmHeap.ts). When: at call time, while the input is in cache, on the wasm heap by the FusedBatchNorm
 * kernel itself in its normalising pass where it can (`requestFused`, fusedInputMoments.ts), wherever the values are
 * at hand (the wasm and cpu backends, and tf.moments on any). Else (float64 moments on another backend, whose values
 * a read-back would download) lazily: the input is kept (zero-copy clone) and reduced only when a step is read back
 * (`readBackCall`), if the call is still the layer's last one, within a memory budget, beyond which at call time.
 *
 * Why every call at call time, also several between two steps (predict or evaluate over many batches), where a kept
 * input would cost no arithmetic unless a step read it: keeping it costs more. Measured (one process, alternating
 * with an uninstrumented twin, a predict of 64 images by batches of 32 through the CNN benchmark's 4 conv + BN
 * layers, then the step snapshot): 1.06-1.07 of the plain predict at call time, 1.13-1.16 with the first batch's
 * inputs kept until the second batch replaced them (2 MiB per layer held: the next allocations miss the caches the
 * freed memory was in), 1.20-1.22 with both kept and the last reduced at read-back, out of cache. One call between two
 * steps: 1.05 at call time, 1.11 at read-back.
 */
import { channelMoments } from './channelMoments';
import { channelMomentsOnWasmHeap } from './channelMomentsWasmHeap';
import { requestInputMoments, type InputMomentsRequest } from './fusedInputMoments';
import { disposeRec, keepClone, tensorValues, type InstrumentState, type Rec, type Tensor } from './bnState';

/**
 * Inputs kept for a read-back (float64 moments on a backend whose values are not at hand) stay under this many
 * elements in all (16 M float32 = 64 MiB); beyond it an input is reduced at call time instead.
 */
export const LAZY_BUDGET_ELEMENTS = 1 << 24;

export interface InputStatistics {
  /** the statistics of an input tfjs did not reduce itself: now where its values are at hand, else at read-back */
  statsOfInput(rec: Rec, x: Tensor, kind: 'exact' | 'f64', fused?: InputMomentsRequest | null): void;
  /**
   * Before an inference-mode call on the wasm heap: a request that the FusedBatchNorm kernel compute its input's
   * statistics while it normalises (fusedInputMoments.ts); the caller withdraws it after the call and passes it to
   * statsOfInput. Null where that does not apply.
   */
  requestFused(rec: Rec, x: Tensor): InputMomentsRequest | null;
  /** Fills `rec.meanArr` / `rec.varArr` (NaN where the statistics are unavailable) and disposes its tensors. */
  readBackCall(rec: Rec): void;
}

/**
 * @param useSimd false: never the SIMD reduction on the wasm heap, always the JS one
 * @param keepInputs true: inference inputs kept for read-back on every backend (tests: that path on wasm and cpu)
 */
export function inputStatistics(s: InstrumentState, useSimd: boolean, keepInputs = false): InputStatistics {
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

  /** float64 reductions at call time only where the values are at hand: the wasm heap, the cpu backend's arrays */
  const cheapValues = () => {
    if (keepInputs) return false;
    const b = tf.getBackend();
    return b === 'wasm' || b === 'cpu';
  };
  const requestFused = (rec: Rec, x: Tensor) =>
    !keepInputs &&
    useSimd &&
    tf.getBackend() === 'wasm' &&
    rec.axis === x.rank - 1 &&
    x.dtype === 'float32' &&
    rec.channels % 4 === 0
      ? requestInputMoments(x.dataId)
      : null;
  const statsOfInput = (rec: Rec, x: Tensor, kind: 'exact' | 'f64', fused?: InputMomentsRequest | null) => {
    disposeRec(s, rec);
    const done = kind === 'f64' ? fused?.result : null;
    if (done && done.mean.length === rec.channels) {
      rec.meanArr = done.mean;
      rec.varArr = done.variance;
      return;
    }
    if (kind === 'f64' && !cheapValues() && s.lazyElements + x.size <= s.lazyBudget) {
      rec.input = keepClone(s, x);
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
        reduceInput(r, input);
      } catch {
        /* NaN-filled below */
      } finally {
        input.dispose();
      }
      if (r.meanArr) return;
    }
    if (r.mean && r.variance) {
      // one array for both (views of it): a step of a network reads two per layer
      const m = tensorValues(tf, r.mean),
        v = tensorValues(tf, r.variance);
      const both = new Float32Array(m.length + v.length);
      both.set(m);
      both.set(v, m.length);
      r.meanArr = both.subarray(0, m.length);
      r.varArr = both.subarray(m.length);
    } else {
      r.meanArr = new Float32Array(r.channels).fill(NaN);
      r.varArr = new Float32Array(r.channels).fill(NaN);
    }
    disposeRec(s, r);
  };

  return { statsOfInput, requestFused, readBackCall };
}
