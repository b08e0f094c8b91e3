// MobileNetV2 for the benchmarks (issue 11): built with whatever tfjs instance is passed in (stock tfjs in plain
// Node, the engine's instrumented tfjs inside bn-inspect, a profiler's tfjs), deterministic from a seed.
//
//   import { buildMobileNetV2, makeBatch, trainSteps } from './mobilenetV2.mjs'
//   const model = buildMobileNetV2(tf, { inputSize: 64, classes: 10, frozenBackbone: false, seed: 1 });
//   const { x, y } = makeBatch(tf, { inputSize: 64, batch: 8, classes: 10, seed: 7 });
//   const { times, totalMs } = await trainSteps(model, x, y, { steps: 2 });
//
// The network: MobileNetV2, alpha 1.0, as in the paper and keras.applications (the same definition as
// examples/mobilenet-v2-finetune.ts): a 3x3 stride-2 stem (32 filters), 17 inverted residual blocks
// (1x1 expansion -> 3x3 depthwise -> 1x1 projection, each followed by BatchNormalization, ReLU6 after the first
// two), a 1x1 top convolution to 1280 channels: 52 BatchNormalization layers (momentum 0.999, epsilon 1e-3, as
// keras). Head: global average pooling -> dense(classes, softmax). With `frozenBackbone` every backbone layer is
// trainable = false and only the head (a new dense layer) trains, as a transfer-learning recipe does.
// Every kernel initializer has its own seed (seed * 1000 + layer number): the same seed gives the same weights on
// every backend and in every process.

/** (expansion t, output channels c, repeats n, first stride s), as in the paper */
export const MOBILENET_V2_SETTINGS = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/**
 * @param {any} tf a tfjs namespace (`@tensorflow/tfjs` or the engine's)
 * @param {{ inputSize?: number, classes?: number, frozenBackbone?: boolean, seed?: number,
 *   compile?: boolean, optimizer?: any, learningRate?: number, namePrefix?: string }} [opts]
 *   optimizer: a tfjs optimizer (default tf.train.sgd(learningRate = 0.01)); compile: false leaves it uncompiled
 * @returns {any} a tf.LayersModel (compiled with categorical cross-entropy unless compile is false)
 */
export function buildMobileNetV2(tf, opts = {}) {
  const {
    inputSize = 64,
    classes = 10,
    frozenBackbone = false,
    seed = 1,
    compile = true,
    learningRate = 0.01,
    namePrefix = '',
  } = opts;
  if (!Number.isInteger(inputSize) || inputSize < 32)
    throw new Error(`buildMobileNetV2: inputSize must be an integer >= 32, got ${inputSize}`);
  if (!Number.isInteger(classes) || classes < 2)
    throw new Error(`buildMobileNetV2: classes must be an integer >= 2, got ${classes}`);
  const L = tf.layers;
  let layerNo = 0;
  const init = () => tf.initializers.glorotUniform({ seed: seed * 1000 + layerNo++ });
  const n = (s) => namePrefix + s;
  const backbone = [];
  const add = (layer) => (backbone.push(layer), layer);
  const bn = (name) => add(L.batchNormalization({ momentum: 0.999, epsilon: 1e-3, name: n(name) }));
  const relu6 = (name) => add(L.reLU({ maxValue: 6, name: n(name) }));

  const convBn = (x, filters, kernel, stride, name) => {
    x = add(
      L.conv2d({
        filters,
        kernelSize: kernel,
        strides: stride,
        padding: 'same',
        useBias: false,
        kernelInitializer: init(),
        name: n(name),
      }),
    ).apply(x);
    x = bn(`${name}_bn`).apply(x);
    return relu6(`${name}_relu`).apply(x);
  };

  const invertedResidual = (x, inChannels, outChannels, stride, expand, id) => {
    const name = `block${id}`;
    let h = x;
    if (expand !== 1) h = convBn(h, inChannels * expand, 1, 1, `${name}_expand`);
    h = add(
      L.depthwiseConv2d({
        kernelSize: 3,
        strides: stride,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: init(),
        name: n(`${name}_dw`),
      }),
    ).apply(h);
    h = bn(`${name}_dw_bn`).apply(h);
    h = relu6(`${name}_dw_relu`).apply(h);
    h = add(
      L.conv2d({
        filters: outChannels,
        kernelSize: 1,
        useBias: false,
        kernelInitializer: init(),
        name: n(`${name}_project`),
      }),
    ).apply(h);
    h = bn(`${name}_project_bn`).apply(h);
    if (stride === 1 && inChannels === outChannels) h = add(L.add({ name: n(`${name}_add`) })).apply([x, h]);
    return h;
  };

  const input = tf.input({ shape: [inputSize, inputSize, 3], name: n('input') });
  let x = convBn(input, 32, 3, 2, 'stem');
  let channels = 32;
  let id = 0;
  for (const [t, c, reps, s] of MOBILENET_V2_SETTINGS) {
    for (let i = 0; i < reps; i++) {
      x = invertedResidual(x, channels, c, i === 0 ? s : 1, t, id++);
      channels = c;
    }
  }
  x = convBn(x, 1280, 1, 1, 'top');
  if (frozenBackbone) for (const layer of backbone) layer.trainable = false;
  x = L.globalAveragePooling2d({ name: n('pool') }).apply(x);
  const output = L.dense({
    units: classes,
    activation: 'softmax',
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 1000 + 999 }),
    name: n(frozenBackbone ? 'new_head' : 'head'),
  }).apply(x);
  const model = tf.model({
    inputs: input,
    outputs: output,
    name: n(frozenBackbone ? 'mobilenetv2_frozen' : 'mobilenetv2'),
  });
  if (compile) {
    const optimizer = opts.optimizer ?? tf.train.sgd(learningRate);
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  }
  return model;
}

/** number of BatchNormalization layers in a model (52 for MobileNetV2) */
export function countBatchNorm(model) {
  return model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length;
}

/**
 * A deterministic batch: x ~ N(0.5, 0.25) of shape [batch, inputSize, inputSize, 3], y one-hot of labels
 * drawn uniformly from [0, classes) (both seeded; the same on every backend).
 * @param {any} tf
 * @param {{ inputSize?: number, batch?: number, classes?: number, seed?: number }} [opts]
 * @returns {{ x: any, y: any }} two tensors the caller disposes
 */
export function makeBatch(tf, opts = {}) {
  const { inputSize = 64, batch = 8, classes = 10, seed = 7 } = opts;
  return tf.tidy(() => {
    const x = tf.randomNormal([batch, inputSize, inputSize, 3], 0.5, 0.25, 'float32', seed);
    const labels = tf.randomUniform([batch], 0, classes, 'int32', seed + 1);
    const y = tf.oneHot(labels, classes).toFloat();
    return { x, y };
  });
}

/**
 * Runs `steps` training steps on (x, y), each step one whole batch, and returns the wall times.
 * method 'fit' (default): ONE model.fit call, epochs = steps, batchSize = the batch (one step per epoch), no
 * shuffling; per-step times from onEpochEnd (after the loss is read back). method 'trainOnBatch': `steps` calls.
 * @param {any} model a compiled tf.LayersModel
 * @param {any} x
 * @param {any} y
 * @param {{ steps?: number, method?: 'fit' | 'trainOnBatch' }} [opts]
 * @returns {Promise<{ times: number[], totalMs: number, losses: number[] }>} milliseconds
 */
export async function trainSteps(model, x, y, opts = {}) {
  const { steps = 2, method = 'fit' } = opts;
  const times = [];
  const losses = [];
  const t0 = performance.now();
  let last = t0;
  const mark = (loss) => {
    const now = performance.now();
    times.push(now - last);
    losses.push(loss);
    last = now;
  };
  if (method === 'fit') {
    await model.fit(x, y, {
      epochs: steps,
      batchSize: x.shape[0],
      shuffle: false,
      verbose: 0,
      callbacks: { onEpochEnd: async (_epoch, logs) => mark(logs?.loss ?? NaN) },
    });
  } else if (method === 'trainOnBatch') {
    for (let i = 0; i < steps; i++) {
      const loss = await model.trainOnBatch(x, y);
      mark(Array.isArray(loss) ? loss[0] : loss);
    }
  } else throw new Error(`trainSteps: method must be 'fit' or 'trainOnBatch', got ${method}`);
  return { times, totalMs: performance.now() - t0, losses };
}
