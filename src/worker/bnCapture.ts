/**
 * Capture of the batch statistics of every BatchNormalization call (part of the instrument, bnInstrument.ts):
 *
 * - Wraps `BatchNormalization.prototype.build` (a layer is registered once it has weights) and `.call`
 *   (each call becomes the layer's last call record; counters of calls, updates, frozen updates). The call runs
 *   as the run's semantics say (bnSemantics.ts): under 'tfjs' exactly as received.
 * - Training-mode calls, 'capture' mode: tfjs-core's `moments` export (called by tfjs-layers through the CJS
 *   `exports` object) is wrapped while the call is in flight, so the exact batch mean/variance tensors the
 *   layer normalised with are kept, zero-copy (`tf.keep(t.clone())`). On wasm that moments runs as one fused
 *   kernel with a one-kernel gradient where it applies (kernels/fusedMoments.ts: the same values, fewer calls).
 * - 'recompute' mode, where that patch is impossible (ES-module build, two tfjs-core copies) or did not see the
 *   call: the batch statistics are recomputed exactly with `tf.moments` of the call's input (never derived from
 *   the moving-average delta).
 * - Inference-mode calls: mean and biased variance of the input over every axis but the channel axis (the
 *   statistics of that input, which the layer did not use), by channelMoments.ts (float64; SIMD on the wasm heap:
 *   channelMomentsWasmHeap.ts).
 * - An input tfjs did not reduce itself (recompute mode, inference calls) goes to bnInputStats.ts: reduced at call
 *   time (on wasm in the normalising kernel's pass) where its values are at hand, else kept and reduced at read-back
 *   (`readBackCall`), within a memory budget.
 */
import { inputStatistics } from './bnInputStats';
import { withdrawInputMoments } from './fusedInputMoments';
import { fusedMoments } from './kernels/fusedMoments';
import { callArgs, planCall, withVarianceFactor } from './bnSemantics';
import { patchExport, patchMethod, tryRequire } from './monkeyPatch';
import {
  disposeRec,
  keepClone,
  registerLayer,
  setLastCall,
  type BnLayer,
  type InstrumentState,
  type Rec,
  type Tensor,
} from './bnState';
import { userPositionedError } from './userCallSite';

/** How the exact batch statistics of a training-mode call are obtained. */
export type CaptureMode = 'capture' | 'recompute';

export interface CaptureOptions {
  /** never patch tfjs-core's moments: always recompute the batch statistics */
  forceRecompute?: boolean;
  /** false: never the SIMD reduction on the wasm heap, always the JS one */
  simd?: boolean;
  /** true: inference inputs kept for read-back on every backend (bnInputStats.ts) */
  keepInputs?: boolean;
}

export interface BnCapture {
  mode(): CaptureMode;
  /** why capture mode is not (or no longer) active; null while it is */
  note(): string | null;
  /** Fills `rec.meanArr` / `rec.varArr` (NaN where the statistics are unavailable) and disposes its tensors. */
  readBackCall(rec: Rec): void;
  /** forget a call in flight (uninstall) */
  reset(): void;
}

/**
 * Patches tfjs-core's `moments` (unless forced off) and BatchNormalization's `build` / `call`; the undos go to
 * `s.restores`. Throws (after undoing its patches) if `call` cannot be wrapped.
 */
export function installCapture(s: InstrumentState, bnProto: object, options: CaptureOptions = {}): BnCapture {
  const tf = s.tf;
  let capturing: Rec | null = null;
  let mode: CaptureMode = 'recompute';
  let modeNote: string | null = null;
  const inputStats = inputStatistics(s, options.simd !== false, options.keepInputs === true);

  // ---- capture of tfjs-core's moments --------------------------------------------------------
  // a literal require: the bundler must see it, and the patch must reach tfjs-core's own CJS exports object
  // (an ES import of it gets a namespace copy, whose writes tfjs-layers never reads)
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  const loadCore = () => require('@tensorflow/tfjs-core');
  const core = options.forceRecompute ? null : tryRequire(loadCore);
  if (options.forceRecompute) {
    modeNote = 'recompute mode requested: batch statistics are recomputed with tf.moments';
  } else if (!core) {
    modeNote = 'tfjs-core cannot be required here (ES-module build): batch statistics are recomputed with tf.moments';
  } else if (core.moments !== tf.moments) {
    modeNote =
      'the tfjs-core this module sees is not the one tfjs uses: batch statistics are recomputed with tf.moments';
  } else {
    const origMoments = core.moments as (...a: unknown[]) => { mean: Tensor; variance: Tensor };
    const patchedMoments = function (this: unknown, ...args: unknown[]) {
      const c = capturing;
      // the moments of a training-mode call: one fused kernel where it applies (fusedMoments.ts), same values
      const r = (c !== null && c.mean === null && fusedFor(args)) || origMoments.apply(this, args);
      if (c !== null && c.mean === null) {
        capturing = null; // only the first moments of the call: the batch statistics
        c.mean = keepClone(s, r.mean);
        c.variance = keepClone(s, r.variance);
      }
      return r;
    };
    const fusedFor = ([x, axis, keepDims]: unknown[]) =>
      !keepDims && Array.isArray(axis) && x instanceof tf.Tensor ? fusedMoments(tf, x, axis as number[]) : null;
    const undo = patchExport(core, 'moments', patchedMoments);
    if (undo) {
      s.restores.push(undo);
      mode = 'capture';
    } else {
      modeNote = "tfjs-core's moments export is not writable here: batch statistics are recomputed with tf.moments";
    }
  }

  // ---- BatchNormalization.prototype.build / call ----------------------------------------------
  const withoutAffineMessage = (name: string, noGamma: boolean, noBeta: boolean) => {
    const what = [noGamma ? 'scale: false' : '', noBeta ? 'center: false' : ''].filter(Boolean).join(' and ');
    return (
      `BatchNormalization '${name}' (${what}) was called in training mode, which tfjs 4.22 cannot do: its ` +
      `training-mode call reads gamma and beta even when the layer has none, and fails with "Cannot read properties ` +
      `of undefined (reading 'read')". Create the layer with scale: true and center: true (gamma starts at 1 and ` +
      `beta at 0, the identity), or call it only in inference mode.`
    );
  };
  const undoBuild = patchMethod(
    bnProto,
    'build',
    (orig) =>
      function (this: BnLayer, ...args: unknown[]) {
        const r = orig.apply(this, args);
        if (s.installed) registerLayer(s, this);
        return r;
      },
  );
  if (undoBuild) s.restores.push(undoBuild);

  const undoCall = patchMethod(
    bnProto,
    'call',
    (orig) =>
      function (this: BnLayer, ...args: unknown[]) {
        const st = s.installed ? registerLayer(s, this) : null;
        const inputs = args[0];
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor | undefined;
        if (!st || !x || !Array.isArray(x.shape)) return orig.apply(this, args);
        const kwargs = args[1] as { training?: unknown } | null | undefined;
        const training = !!(kwargs && kwargs.training); // BN.call: training == null -> false
        const rank = x.shape.length;
        const axis = this.axis >= 0 ? this.axis : this.axis + rank;
        let reduced = 1;
        for (let i = 0; i < rank; i++) if (i !== axis) reduced *= x.shape[i];
        const frozen = !this.trainable;
        // the semantics decide how the call runs (bnSemantics.ts); under 'tfjs': as received, untouched
        const plan = planCall(s.semantics, training, !frozen, x.shape as number[], axis, reduced);
        if (plan.error !== null) throw userPositionedError(plan.error);
        const ranTraining = plan.ranTraining;
        // tfjs-layers 4.22 reads gamma and beta in training mode even when scale / center is false: its TypeError
        // ("reading 'read'") said nothing; the same failure, said plainly, at the user's line
        if (ranTraining && (this.gamma == null || this.beta == null))
          throw userPositionedError(withoutAffineMessage(this.name, this.gamma == null, this.beta == null));
        if (st.lastRead.movingMean === null && st.baseMM === null) {
          // movingUpdated of the first snapshot compares with the values before the first call
          st.baseMM = keepClone(s, this.movingMean!.read());
          st.baseMV = keepClone(s, this.movingVariance!.read());
        }
        const rec: Rec = {
          training,
          ranTraining,
          inputShape: x.shape.slice() as number[],
          channels: x.shape[axis] as number,
          axis,
          mean: null,
          variance: null,
          input: null,
          meanArr: null,
          varArr: null,
        };
        const outer = capturing;
        capturing = ranTraining && mode === 'capture' ? rec : null;
        const runArgs = callArgs(args, training, plan);
        // an inference call: the normalising kernel computes its input's statistics as it goes (bnInputStats.ts)
        const fused = ranTraining ? null : inputStats.requestFused(rec, x);
        let out: unknown;
        try {
          out =
            plan.varianceFactor === 1
              ? orig.apply(this, runArgs)
              : withVarianceFactor(s, this, x, axis, plan.varianceFactor, rec, () => orig.apply(this, runArgs));
        } catch (e) {
          disposeRec(s, rec);
          throw e;
        } finally {
          capturing = outer;
          if (fused) withdrawInputMoments(fused);
        }
        // the records this call replaces go first: a replaced input no longer counts against the lazy budget
        setLastCall(s, st, rec);
        try {
          if (ranTraining && mode === 'capture' && (rec.mean === null || rec.mean.size !== rec.channels)) {
            mode = 'recompute';
            modeNote =
              'the moments wrapper did not see a training-mode BatchNormalization call: batch statistics are recomputed with tf.moments';
          }
          // training mode: recompute exactly (tf.moments) what the layer computed; inference: the input's statistics
          if (rec.mean === null || rec.mean.size !== rec.channels)
            inputStats.statsOfInput(rec, x, ranTraining ? 'exact' : 'f64', fused);
        } catch {
          disposeRec(s, rec); // statistics unavailable (odd input, NaN at read-back); the call itself went through
        }
        st.calls++;
        if (ranTraining) {
          st.updates++;
          st.everUpdated = true;
          if (frozen) st.updatesWhileFrozen++;
          if (reduced === 1) st.batchOfOneShape = rec.inputShape.slice();
        } else {
          st.inferenceCalls++;
        }
        return out;
      },
  );
  if (!undoCall) {
    for (const r of s.restores.reverse()) r();
    s.restores.length = 0;
    throw new Error('cannot wrap BatchNormalization.prototype.call');
  }
  s.restores.push(undoCall);

  return {
    mode: () => mode,
    note: () => modeNote,
    readBackCall: inputStats.readBackCall,
    reset() {
      capturing = null;
    },
  };
}
