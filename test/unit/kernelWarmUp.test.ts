/**
 * A warm spare's kernel warm-up (src/worker/kernelWarmUp.ts) on the real wasm backend with the engine's kernels and
 * the instrument installed, as a spare runs it: it trains and predicts, and leaves nothing a run could see: the
 * tensor count, tfjs-layers' default names (the next layer and model of every kind it uses get the name they would
 * have got), tfjs-core's names of unnamed variables, the instrument's list of layers (empty). It stops when asked.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installBnInstrument, type BnInstrument } from '../../src/worker/bnInstrument';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';
import { warmUpKernels } from '../../src/worker/kernelWarmUp';
import { shipWasm } from './shippedWasm';

shipWasm(tf);

/** the trailing counter of a default name ("batch_normalization_BatchNormalization3" -> 3) */
const counter = (name: string): number => Number(/(\d+)$/.exec(name)?.[1] ?? NaN);

/** one of each kind the warm-up makes, default-named: their names' counters */
function defaultNames(): number[] {
  const layers = [
    tf.layers.conv2d({ filters: 8, kernelSize: 3 }),
    tf.layers.batchNormalization(),
    tf.layers.reLU(),
    tf.layers.depthwiseConv2d({ kernelSize: 3 }),
    tf.layers.activation({ activation: 'relu' }),
    tf.layers.globalAveragePooling2d({}),
    tf.layers.dense({ units: 2 }),
  ];
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
  const input = tf.input({ shape: [2] });
  const functional = tf.model({ inputs: input, outputs: tf.layers.add({}).apply([input, input]) as tf.SymbolicTensor });
  const v = tf.variable(tf.scalar(1));
  const names = [
    ...layers.map((l) => counter(l.name)),
    counter(model.name),
    counter(input.name),
    ...functional.layers.map((l) => counter(l.name)),
    counter(functional.name),
    Number(v.name),
  ];
  model.dispose();
  functional.dispose();
  v.dispose();
  return names;
}

describe("a spare's kernel warm-up (kernelWarmUp.ts)", function () {
  this.timeout(120_000);
  let bn: BnInstrument;
  before(async () => {
    await tf.setBackend('wasm');
    registerMissingKernels(tf);
    bn = installBnInstrument(tf);
  });
  after(() => {
    bn.uninstall();
    unregisterMissingKernels(tf); // the stock registry for the suites after this one
  });

  it('trains and predicts, then leaves no tensor, no name counter, no listed layer behind', async () => {
    const first = defaultNames();
    const second = defaultNames(); // what one call moves each counter by, with nothing in between
    const tensors = tf.memory().numTensors;
    const r = await warmUpKernels(tf, 2);
    assert.equal(r.steps, 2);
    assert.ok(r.ms > 0);
    assert.equal(tf.memory().numTensors, tensors, 'tensors');
    const third = defaultNames();
    assert.ok(third.every(Number.isFinite), `every name has a counter: ${third}`);
    assert.deepEqual(
      third.map((n, i) => n - second[i]),
      second.map((n, i) => n - first[i]),
      `the next default names: ${third} after ${second}, ${first}`,
    );
    assert.deepEqual(bn.snapshotLayers(), [], 'the instrument lists none of its layers');
  });

  it('stops between steps when asked (the run has come)', async () => {
    let asked = 0;
    const r = await warmUpKernels(tf, 4, () => ++asked > 1);
    assert.equal(r.steps, 1);
    const none = await warmUpKernels(tf, 4, () => true);
    assert.equal(none.steps, 0);
  });
});
