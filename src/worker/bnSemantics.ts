/**
 * How one BatchNormalization call runs under the run's semantics (contract "Semantics", docs/headless-contract.md;
 * the rules as data: ../shared/semantics.ts). Used by the call wrapper (bnCapture.ts):
 *
 * - `planCall`: does the call run in training mode, with which moving-variance factor, or does it throw (PyTorch's
 *   one-value-per-channel error)?
 * - `callArgs`: a call that received training = true but must run in inference mode (keras / tf-keras, frozen
 *   layer) gets its own kwargs with training: false, so tfjs really normalises with the moving statistics and
 *   leaves them alone (output, loss and gradients follow).
 * - `withVarianceFactor`: a training-mode call whose moving variance is updated with the unbiased batch variance
 *   (pytorch; tf-keras on rank-4 input): tfjs's own update runs, but the one `movingVariance.write` of the call is
 *   intercepted and writes `old − (old − v·f)(1 − m)` instead; the output and the gradients are untouched.
 *
 * Under 'tfjs' nothing here changes anything: the plan is `training`, factor 1, the original arguments.
 */
import type { Semantics } from '../shared/protocol';
import { pytorchOneValueMessage, runsInTrainingMode, varianceUpdateFactor } from '../shared/semantics';
import type { BnLayer, InstrumentState, Rec, Tensor } from './bnState';

export interface CallPlan {
  /** the call runs in training mode: batch statistics normalise, the moving statistics are updated */
  ranTraining: boolean;
  /** the batch variance is multiplied by this before it updates the moving variance (1 = as tfjs) */
  varianceFactor: number;
  /** PyTorch's error for this call (thrown before anything is computed), or null */
  error: string | null;
}

/**
 * @param rank the input's rank; @param axis its channel axis, non-negative; @param n values per channel
 */
export function planCall(
  semantics: Semantics,
  training: boolean,
  trainable: boolean,
  inputShape: readonly number[],
  axis: number,
  n: number,
): CallPlan {
  if (semantics === 'tfjs') return { ranTraining: training, varianceFactor: 1, error: null };
  const ranTraining = runsInTrainingMode(semantics, training, trainable);
  if (!ranTraining) return { ranTraining, varianceFactor: 1, error: null };
  if (semantics === 'pytorch' && n <= 1)
    return { ranTraining, varianceFactor: 1, error: pytorchOneValueMessage(inputShape) };
  // tf-keras with n = 1 on rank 4: TF's fused kernel divides by max(n − 1, 1), i.e. factor 1 (biased = 0)
  return { ranTraining, varianceFactor: varianceUpdateFactor(semantics, inputShape.length, axis, n), error: null };
}

/** The call's arguments: unchanged, or (received training = true, runs in inference mode) with training: false. */
export function callArgs(args: unknown[], training: boolean, plan: CallPlan): unknown[] {
  if (!training || plan.ranTraining) return args;
  const kwargs = (args[1] ?? {}) as Record<string, unknown>;
  const out = args.slice();
  out[1] = { ...kwargs, training: false };
  return out;
}

/**
 * Runs `run` (the original training-mode call) with the layer's moving-variance write replaced, for its first
 * write only, by the update from `factor`·v, v = the batch variance the call computed (`rec.variance` when the
 * capture kept it, else tf.moments of the input, the same reduction tfjs made).
 */
export function withVarianceFactor<T>(
  s: InstrumentState,
  layer: BnLayer,
  x: Tensor,
  axis: number,
  factor: number,
  rec: Rec,
  run: () => T,
): T {
  const mv = layer.movingVariance;
  if (!mv || factor === 1) return run();
  const tf = s.tf;
  const own = Object.getOwnPropertyDescriptor(mv, 'write');
  const origWrite = mv.write;
  let done = false;
  const restore = () => {
    if (own) Object.defineProperty(mv, 'write', own);
    else delete (mv as Partial<typeof mv>).write;
  };
  mv.write = function (this: typeof mv, value: Tensor) {
    if (done) return origWrite.call(this, value);
    done = true;
    // inside tfjs's doMovingAverage tidy: every tensor made here is disposed with it
    const axes: number[] = [];
    for (let i = 0; i < x.shape.length; i++) if (i !== axis) axes.push(i);
    const v = rec.variance && rec.variance.size === rec.channels ? rec.variance : tf.moments(x, axes).variance;
    const old = this.read();
    const decay = 1 - layer.momentum;
    const updated = tf.sub(old, tf.mul(tf.sub(old, tf.mul(v, factor)), decay));
    return origWrite.call(this, updated);
  };
  try {
    return run();
  } finally {
    restore();
  }
}
