/**
 * The four semantics as data and words (contract "Semantics", docs/headless-contract.md; sources in
 * ../shared/reference/semantics.md): which calls run in training mode, which variance updates the moving variance,
 * and the sentences the CLI, the editor and the panel use to name and explain them. No runtime imports: used by the
 * worker (the rules), the hosts (names, parsing) and the webview (sentences).
 */
import type { Semantics } from './protocol';

export const SEMANTICS: readonly Semantics[] = ['tfjs', 'keras', 'tf-keras', 'pytorch'];

export function isSemantics(v: unknown): v is Semantics {
  return typeof v === 'string' && (SEMANTICS as readonly string[]).includes(v);
}

/** A person's name for each semantics, for headings and sentences. */
export const SEMANTICS_LABEL: Readonly<Record<Semantics, string>> = {
  tfjs: 'tfjs',
  keras: 'Keras',
  'tf-keras': 'tf.keras (TF 2.x)',
  pytorch: 'PyTorch',
};

/** One line per semantics: what it changes (quick pick details, --help). */
export const SEMANTICS_DETAIL: Readonly<Record<Semantics, string>> = {
  tfjs: 'What tfjs 4.22 does: training mode whenever the call has training = true; trainable is ignored.',
  keras:
    'Keras 3 / TF 2.x: a trainable = false layer runs in inference mode even in fit (moving statistics used, never updated).',
  'tf-keras':
    "As Keras, plus TF's fused kernel: rank-4 input (channels last or 1) updates the moving variance with the unbiased variance.",
  pytorch:
    'model.train() mode: trainable is ignored; the moving variance is updated with the unbiased variance; one value per channel in training throws.',
};

/** What `trainable = false` means for a BN layer under each semantics (the trap the panel explains). */
export const TRAINABLE_MEANING: Readonly<Record<Semantics, string>> = {
  tfjs: 'tfjs: trainable = false only stops gamma and beta from learning; fit still updates the moving statistics.',
  keras:
    'Keras: trainable = false also puts the layer in inference mode, even inside fit: its moving statistics stay put.',
  'tf-keras':
    'tf.keras (TF 2.x): trainable = false also puts the layer in inference mode, even inside fit: its moving statistics stay put.',
  pytorch:
    'PyTorch: requires_grad = False only stops gamma and beta from learning; model.train() mode still updates the running statistics.',
};

/** Does a call with this `training` flag, on a layer with this `trainable` flag, run in training mode? */
export function runsInTrainingMode(semantics: Semantics, training: boolean, trainable: boolean): boolean {
  if (!training) return false;
  return semantics === 'keras' || semantics === 'tf-keras' ? trainable : true;
}

/**
 * The factor the batch variance is multiplied by before it updates the moving variance: 1 (biased), or n/(n−1)
 * (unbiased; n = values per channel) for pytorch always and for tf-keras on rank-4 input with the channel axis
 * last or 1. `axis` is non-negative. n ≤ 1 gives 1 (pytorch throws before, tf-keras: see bnSemantics.ts).
 */
export function varianceUpdateFactor(semantics: Semantics, rank: number, axis: number, n: number): number {
  const unbiased = semantics === 'pytorch' || (semantics === 'tf-keras' && rank === 4 && (axis === 3 || axis === 1));
  return unbiased && n > 1 ? n / (n - 1) : 1;
}

/** PyTorch's error for a training-mode call with one value per channel (torch.nn.functional.batch_norm). */
export function pytorchOneValueMessage(inputShape: readonly number[]): string {
  return `Expected more than 1 value per channel when training, got input size [${inputShape.join(', ')}]`;
}

/** PyTorch's `momentum` for a tfjs/Keras momentum m: 1 − m (running = (1 − p)·running + p·batch). */
export function pytorchMomentum(m: number): number {
  return 1 - m;
}
