/**
 * A warm spare's kernel warm-up (worker.ts, prepareSpare): a few training steps and a predict of a small network of
 * the layers real networks are made of, so that the user's first fit after a click on a lens runs on compiled code.
 * A process's first fit is 2-3x its later ones (measured, the small CNN: ~150 against ~60 ms): V8 interprets the
 * JavaScript of tfjs-layers, of the tape and of the engine's kernels until it has optimised them, and runs the wasm
 * kernels' first calls on its baseline compiler. The spare is idle before the click; this work is done then.
 *
 * It leaves nothing the run can see: every layer and the model are named (tfjs-layers' name counters stay as they
 * were), tfjs-core's counter of unnamed variables (Adam's two) is set back to where it was,
 * the data are constants (no random draw; the run seeds Math.random itself right before the script), the instrument
 * never lists its BatchNormalization layers (UNINSTRUMENTED), and everything is disposed: the tensor count is back
 * where it was (checked: an error otherwise, which the caller reports and goes on).
 */
import { UNINSTRUMENTED } from './bnState';

type TF = typeof import('@tensorflow/tfjs');

/** the names' prefix (a tensor name starts with a letter or digit): no user layer is named like this */
const P = 'bnInspectorWarmUp_';

export interface WarmUpResult {
  ms: number;
  steps: number;
}

/**
 * Trains the warm-up network for `steps` steps (one batch each) and predicts once. `stop()` is asked between steps:
 * true ends the warm-up early (the run has come).
 */
export async function warmUpKernels(tf: TF, steps = 4, stop: () => boolean = () => false): Promise<WarmUpResult> {
  const t0 = performance.now();
  const tensorsBefore = tf.memory().numTensors;
  const bn = (name: string) => {
    const l = tf.layers.batchNormalization({ name: P + name });
    (l as unknown as Record<symbol, boolean>)[UNINSTRUMENTED] = true;
    return l;
  };
  const layers = [
    // a 3x3 convolution the Winograd kernels take (channels a multiple of 4 and 8, 16 x 16 pixels)
    tf.layers.conv2d({
      name: P + 'conv3x3',
      inputShape: [16, 16, 8],
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      kernelInitializer: 'ones',
    }),
    bn('bn1'),
    tf.layers.reLU({ name: P + 'relu6', maxValue: 6 }),
    // MobileNet's blocks: a depthwise 3x3, a 1x1 convolution
    tf.layers.depthwiseConv2d({
      name: P + 'depthwise',
      kernelSize: 3,
      padding: 'same',
      depthwiseInitializer: 'ones',
    }),
    bn('bn2'),
    tf.layers.activation({ name: P + 'relu', activation: 'relu' }),
    tf.layers.conv2d({ name: P + 'conv1x1', filters: 16, kernelSize: 1, kernelInitializer: 'ones' }),
    bn('bn3'),
    tf.layers.globalAveragePooling2d({ name: P + 'pool' }),
    tf.layers.dense({ name: P + 'dense1', units: 16, kernelInitializer: 'ones' }),
    bn('bn4'),
    tf.layers.dense({ name: P + 'dense2', units: 4, activation: 'softmax', kernelInitializer: 'ones' }),
  ];
  const model = tf.sequential({ name: P + 'model', layers });
  // Adam (the optimizer most scripts use) names its two scalars by tfjs-core's counter of unnamed variables
  const engineClass = tf.engine().constructor as unknown as { nextVariableId?: number };
  const variableIds = engineClass.nextVariableId;
  const optimizer = tf.train.adam(1e-3);
  const x = tf.ones([8, 16, 16, 8]);
  const y = tf.tidy(() => tf.oneHot(tf.zeros([8], 'int32'), 4));
  let done = 0;
  try {
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    for (; done < steps && !stop(); done++)
      await model.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
    if (!stop()) tf.dispose(model.predict(x) as import('@tensorflow/tfjs').Tensor);
    // what scripts make their data with (seeded here: Math.random is not drawn)
    if (!stop())
      tf.tidy(() => {
        tf.randomNormal([64], 0, 1, 'float32', 1);
        tf.randomUniform([8], 0, 4, 'int32', 1);
      });
  } finally {
    model.dispose();
    optimizer.dispose();
    x.dispose();
    y.dispose();
    if (typeof variableIds === 'number') engineClass.nextVariableId = variableIds;
  }
  const left = tf.memory().numTensors - tensorsBefore;
  if (left !== 0) throw new Error(`the kernel warm-up left ${left} tensors behind`);
  return { ms: performance.now() - t0, steps: done };
}
