/**
 * tf.registerGradient without tfjs's "Overriding the gradient for …" warning: the engine replaces some of tfjs's
 * gradients on purpose (batchNormGradient.ts, activationGradients.ts, ../tfjsFastPath.ts) and puts them back.
 */
type TF = typeof import('@tensorflow/tfjs');
type GradConfig = NonNullable<ReturnType<TF['getGradient']>>;

export function registerGradientQuietly(tf: TF, config: GradConfig): void {
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.registerGradient(config);
  } finally {
    console.warn = warn;
  }
}
