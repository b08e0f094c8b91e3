// A REAL NETWORK: MobileNetV2 (alpha 1.0, 52 BatchNormalization layers) with a frozen backbone and a new head.
//
// The backbone is built with the functional API in helper functions, as real code does. Building it calls
// `apply` about 150 times on symbolic tensors: those calls only build the graph (no layer runs), so they are
// not steps. The steps are `fit` and `predict`.
//
// What to look at:
//   - the overview above the cards: 52 rows in model order; after `fit` every backbone layer is
//     trainable = false and yet updated (tfjs ignores `trainable` for the moving statistics; Keras would run
//     them in inference mode). One grouped warning names all of them;
//   - drift since the baseline (by default the start of the run): how far `fit` moved each layer's statistics;
//   - `predict` (inference mode) leaves every moving statistic where `fit` left it;
//   - click a row's source link: it reveals the line in `convBn` or `invertedResidual` that built the layer.
// Input 32×32×3 keeps the run short; the network is the full MobileNetV2 (the last feature map is 1×1).
import * as tf from '@tensorflow/tfjs';

type T = tf.SymbolicTensor;

function convBn(x: T, filters: number, kernel: number, stride: number, name: string): T {
  x = tf.layers
    .conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false, name })
    .apply(x) as T;
  x = tf.layers.batchNormalization({ momentum: 0.999, epsilon: 1e-3, name: `${name}_bn` }).apply(x) as T;
  return tf.layers.reLU({ maxValue: 6, name: `${name}_relu` }).apply(x) as T;
}

function invertedResidual(x: T, inChannels: number, outChannels: number, stride: number, expand: number, id: number) {
  const name = `block${id}`;
  let h = x;
  if (expand !== 1) h = convBn(h, inChannels * expand, 1, 1, `${name}_expand`);
  h = tf.layers
    .depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, name: `${name}_dw` })
    .apply(h) as T;
  h = tf.layers.batchNormalization({ momentum: 0.999, epsilon: 1e-3, name: `${name}_dw_bn` }).apply(h) as T;
  h = tf.layers.reLU({ maxValue: 6, name: `${name}_dw_relu` }).apply(h) as T;
  h = tf.layers.conv2d({ filters: outChannels, kernelSize: 1, useBias: false, name: `${name}_project` }).apply(h) as T;
  h = tf.layers.batchNormalization({ momentum: 0.999, epsilon: 1e-3, name: `${name}_project_bn` }).apply(h) as T;
  if (stride === 1 && inChannels === outChannels) h = tf.layers.add({ name: `${name}_add` }).apply([x, h]) as T;
  return h;
}

function mobileNetV2(inputShape: number[]): tf.LayersModel {
  const input = tf.input({ shape: inputShape });
  let x = convBn(input, 32, 3, 2, 'stem');
  // (expansion t, output channels c, repeats n, first stride s), as in the paper
  const settings = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  let channels = 32;
  let id = 0;
  for (const [t, c, n, s] of settings) {
    for (let i = 0; i < n; i++) {
      x = invertedResidual(x, channels, c, i === 0 ? s : 1, t, id++);
      channels = c;
    }
  }
  x = convBn(x, 1280, 1, 1, 'top');
  return tf.model({ inputs: input, outputs: x, name: 'mobilenetv2' });
}

const backbone = mobileNetV2([32, 32, 3]);
// freeze the backbone, as a transfer-learning recipe does
for (const layer of backbone.layers) layer.trainable = false;

const input = tf.input({ shape: [32, 32, 3] });
const features = backbone.apply(input) as T;
const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(features) as T;
const output = tf.layers.dense({ units: 4, activation: 'softmax', name: 'head' }).apply(pooled) as T;
const model = tf.model({ inputs: input, outputs: output, name: 'finetune' });
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });

const images = tf.randomNormal([16, 32, 32, 3], 0.5, 0.25, 'float32', 7);
const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4);

await model.fit(images, labels, { epochs: 1, batchSize: 8, verbose: 0 });
const probabilities = model.predict(images.slice(0, 4)) as tf.Tensor;
console.log('predicted classes:', Array.from((probabilities.argMax(-1) as tf.Tensor).dataSync()).join(' '));
