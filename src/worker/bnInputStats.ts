/**
 * The statistics of a BatchNormalization call's input that tfjs did not compute for us (part of the capture,
 * bnCapture.ts): for training-mode calls in recompute mode, exactly `tf.moments` of the input (bit-identical to
 * what the layer computed); for inference-mode calls, float64 two-pass moments (channelMoments.ts, SIMD on the
 * wasm heap). Lazy: the input is kept (zero-copy clone) and reduced only when the step is read back
 * (`readBackCall`), if the call is still the layer's last one; within a memory budget, beyond which it is
 * reduced at call time.
 */
import { channelMoments } from './channelMoments';
import { channelMomentsOnWasmHeap, type WasmBackendLike } from './channelMomentsWasmHeap';
import { disposeRec, keepClone, readTensor, type InstrumentState, type Rec, type Tensor } from './bnState';

/**
 * Inputs whose statistics tfjs did not compute are kept (zero-copy clones) and reduced only if the call is
 * still the layer's last one when a step is read back: calls between two steps (predict or evaluate over
 * many batches) then cost no arithmetic. The inputs held at once stay under this many elements in all
 * (16 M float32 = 64 MiB); beyond it an input is reduced at call time instead.
 */
export const LAZY_BUDGET_ELEMENTS = 1 << 24;

export interface InputStatistics {
  /** the statistics of an input tfjs did not reduce itself: at read-back if the budget allows, else now */
  statsOfInput(rec: Rec, x: Tensor, kind: 'exact' | 'f64'): void;
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
  /**
   * The values of `x`, without a copy where the backend allows: the wasm backend's heap view (valid until the
   * next tfjs allocation: read it at once), else `dataSync()` (the cpu backend returns its own array, other
   * backends a copy). Never handed out: only reduced here.
   */
  const valuesOf = (x: Tensor): ArrayLike<number> => {
    const b = tf.backend() as unknown as WasmBackendLike;
    if (
      (x.dtype === 'float32' || x.dtype === 'int32') &&
      typeof b.typedArrayFromHeap === 'function' &&
      typeof b.dataIdMap?.has === 'function' &&
      b.dataIdMap.has(x.dataId)
    ) {
      const v = b.typedArrayFromHeap({ shape: x.shape, dtype: x.dtype, dataId: x.dataId });
      if (v.length === x.size) return v;
    }
    return x.dataSync() as ArrayLike<number>;
  };
  const reduceInput = (rec: Rec, x: Tensor) => {
    const m =
      (useSimd ? channelMomentsOnWasmHeap(tf, x, rec.axis) : null) ?? channelMoments(valuesOf(x), x.shape, rec.axis);
    rec.meanArr = m.mean;
    rec.varArr = m.variance;
  };

  /** the statistics of an input tfjs did not reduce itself: at read-back if the budget allows, else now */
  const statsOfInput = (rec: Rec, x: Tensor, kind: 'exact' | 'f64') => {
    disposeRec(s, rec);
    if (s.lazyElements + x.size <= s.lazyBudget) {
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

  return { statsOfInput, readBackCall };
}
