/**
 * A warm spare's kernel warm-up (worker.ts, prepareSpare; the wasm backend only): a few training steps and a predict
 * of a small network of the layers real networks are made of (~0.3 s), so that the user's first fit after a click on
 * a lens runs on compiled code.
 * A process's first fit is 2-3x its later ones (measured, the small CNN: ~150 against ~60 ms): V8 interprets the
 * JavaScript of tfjs-layers, of the tape and of the engine's kernels until it has optimised them, and runs the wasm
 * kernels' first calls on its baseline compiler. The spare is idle before the click; this work is done then.
 *
 * It leaves nothing the run can see: every layer and the model are named (tfjs-layers' name counters stay as they
 * were), tfjs-core's counter of unnamed variables (Adam's slots and scalars) is set back to where it was,
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
  const L = tf.layers;
  type SymbolicTensor = import('@tensorflow/tfjs').SymbolicTensor;
  const apply = (
    layer: { apply(x: SymbolicTensor | SymbolicTensor[]): unknown },
    x: SymbolicTensor | SymbolicTensor[],
  ) => layer.apply(x) as SymbolicTensor;
  const relu6 = (name: string, x: SymbolicTensor) => apply(L.reLU({ name: P + name, maxValue: 6 }), x);
  const conv = (name: string, x: SymbolicTensor, filters: number, kernelSize: number, strides = 1) =>
    apply(L.conv2d({ name: P + name, filters, kernelSize, strides, padding: 'same', kernelInitializer: 'ones' }), x);
  const depthwise = (name: string, x: SymbolicTensor, strides = 1) =>
    apply(
      L.depthwiseConv2d({ name: P + name, kernelSize: 3, strides, padding: 'same', depthwiseInitializer: 'ones' }),
      x,
    );
  // MobileNetV2's parts: an RGB stem of stride 2, a 3x3 convolution the Winograd kernels take (16 channels, 8 x 8
  // pixels), inverted residual blocks (1x1 expansion, depthwise 3x3 of stride 1 and 2, 1x1 projection, the residual
  // Add), then pooling and dense layers, every convolution followed by BatchNormalization
  const input = tf.input({ name: P + 'input', shape: [16, 16, 3] });
  let h = relu6('stem_relu', apply(bn('stem_bn'), conv('stem', input, 16, 3, 2)));
  h = relu6('c3_relu', apply(bn('c3_bn'), conv('c3', h, 16, 3)));
  const block = (name: string, x: SymbolicTensor, out: number, strides: number) => {
    let y = relu6(name + '_expand_relu', apply(bn(name + '_expand_bn'), conv(name + '_expand', x, 32, 1)));
    y = relu6(name + '_dw_relu', apply(bn(name + '_dw_bn'), depthwise(name + '_dw', y, strides)));
    y = apply(bn(name + '_project_bn'), conv(name + '_project', y, out, 1));
    return strides === 1 && out === x.shape[3] ? apply(L.add({ name: P + name + '_add' }), [x, y]) : y;
  };
  h = block('b1', h, 16, 1);
  h = block('b2', h, 24, 2);
  h = apply(L.globalAveragePooling2d({ name: P + 'pool' }), h);
  h = apply(
    L.activation({ name: P + 'relu', activation: 'relu' }),
    apply(bn('dense_bn'), apply(L.dense({ name: P + 'dense1', units: 16, kernelInitializer: 'ones' }), h)),
  );
  const output = apply(L.dense({ name: P + 'dense2', units: 4, activation: 'softmax', kernelInitializer: 'ones' }), h);
  const model = tf.model({ name: P + 'model', inputs: input, outputs: output });
  // Adam (the optimizer most scripts use) names its slots and scalars by tfjs-core's counter of unnamed variables
  const engineClass = tf.engine().constructor as unknown as { nextVariableId?: number };
  const variableIds = engineClass.nextVariableId;
  const optimizer = tf.train.adam(1e-3);
  const x = tf.ones([8, 16, 16, 3]);
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
