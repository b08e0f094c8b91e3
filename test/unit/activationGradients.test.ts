/**
 * ReLU6's gradients as one kernel each on wasm (src/worker/kernels/activationGradients.ts): ClipByValue's and
 * Relu's gradients equal tfjs's own on the same backend bit for bit (zeros' signs and NaN included), and a
 * float64 reference; a ReLU6 layer's backward pass takes 2 kernel calls instead of 7; small tensors and other
 * backends keep tfjs's gradient; unregistering puts it back.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  CLIP_GRAD_KERNEL,
  RELU_GRAD_KERNEL,
  unregisterActivationGradients,
  registerActivationGradients,
} from '../../src/worker/kernels/activationGradients';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';
import { normalValues } from './reference';
import { shipWasm } from './shippedWasm';

shipWasm(tf);

/** values around the edges: 0, −0, 6, just inside and outside, NaN, large, and a spread */
function edgy(n: number, seed: number): Float32Array {
  const v = normalValues(n, 3, 4, seed);
  const specials = [0, -0, 6, Math.fround(6 + 1e-6), Math.fround(-1e-7), NaN, 1e30, -1e30, 5.999999, 1e-40];
  for (let i = 0; i < n; i += 7) v[i] = specials[(i / 7) % specials.length];
  return v;
}

const bits = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++)
    if (!Object.is(a[i], b[i])) assert.fail(`${what}: element ${i}: ${a[i]} vs ${b[i]}`);
};

/** the gradients of Σ w·clip(relu(x), 0, 6) w.r.t. x, and of Σ w·clip(x, lo, hi), with whatever is registered */
function grads(x: Float32Array, w: Float32Array, shape: number[]) {
  return tf.tidy(() => {
    const xt = tf.tensor(x, shape);
    const wt = tf.tensor(w, shape);
    const relu6 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.clipByValue(tf.relu(t), 0, 6), wt)))(xt);
    const clip = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.clipByValue(t, -1.5, 2.25), wt)))(xt);
    const relu = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), wt)))(xt);
    return { relu6: relu6.dataSync(), clip: clip.dataSync(), relu: relu.dataSync() };
  });
}

describe("ReLU6's gradients as one kernel each on wasm (activationGradients.ts)", function () {
  this.timeout(120_000);
  before(async () => {
    assert.ok(await tf.setBackend('wasm'));
    await tf.ready();
    const names = registerMissingKernels(tf);
    assert.ok(names.includes('gradient:ClipByValue') && names.includes('gradient:Relu'), names.join(' '));
  });
  after(() => unregisterMissingKernels(tf));

  for (const shape of [
    [8, 16, 16, 24], // MobileNetV2's
    [5, 13, 17], // 1105 elements: a tail of 1 after the SIMD groups
    [4096],
  ]) {
    it(`[${shape}]: the same values as tfjs's own gradients, bit for bit, and the float64 reference`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = edgy(n, n);
      const w = normalValues(n, 0, 1, n + 1);
      for (let i = 5; i < n; i += 13) w[i] = -0; // signs of zero must come out as tfjs makes them
      const ours = grads(x, w, shape);
      unregisterActivationGradients(tf);
      const stock = grads(x, w, shape);
      assert.deepEqual(registerActivationGradients(tf), ['gradient:ClipByValue', 'gradient:Relu']);
      bits(ours.relu6, stock.relu6, 'relu6');
      bits(ours.clip, stock.clip, 'clip');
      bits(ours.relu, stock.relu, 'relu');
      // float64: clip's gradient passes dy where lo <= x <= hi; relu's is dy·step(x)
      for (let i = 0; i < n; i++) {
        const xi = x[i];
        const clip = xi >= -1.5 && xi <= 2.25 ? w[i] : 0;
        const relu = Number.isNaN(xi) ? NaN : xi > 0 ? w[i] : w[i] * 0;
        const r = Math.max(xi, 0);
        const relu6 = Number.isNaN(xi) ? NaN : (r >= 0 && r <= 6 ? w[i] : 0) * (xi > 0 ? 1 : 0);
        if (!Object.is(ours.clip[i], Math.fround(clip))) assert.fail(`clip ${i}: x ${xi}: ${ours.clip[i]} vs ${clip}`);
        if (!Object.is(ours.relu[i], Math.fround(relu))) assert.fail(`relu ${i}: x ${xi}: ${ours.relu[i]} vs ${relu}`);
        if (!Object.is(ours.relu6[i], Math.fround(relu6)))
          assert.fail(`relu6 ${i}: x ${xi}: ${ours.relu6[i]} vs ${relu6}`);
      }
    });
  }

  it('a ReLU6 layer backward: 2 kernel calls (ours) where tfjs makes 7; small tensors keep tfjs', async () => {
    const layer = tf.layers.reLU({ maxValue: 6 });
    const names = async (shape: number[]) => {
      const x = tf.tensor(
        edgy(
          shape.reduce((a, b) => a * b, 1),
          3,
        ),
        shape,
      );
      const p = await tf.profile(() =>
        tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor) as tf.Scalar)(x)),
      );
      x.dispose();
      return p.kernels.map((k) => k.name);
    };
    const big = await names([8, 8, 8, 16]);
    assert.ok(big.includes(CLIP_GRAD_KERNEL) && big.includes(RELU_GRAD_KERNEL), big.join(' '));
    for (const k of ['GreaterEqual', 'LessEqual', 'LogicalAnd', 'Select', 'ZerosLike', 'Step'])
      assert.ok(!big.includes(k), `${k} in ${big.join(' ')}`);
    const small = await names([4, 4, 4]);
    assert.ok(!small.includes(CLIP_GRAD_KERNEL) && small.includes('Select'), small.join(' '));
    assert.ok(await tf.setBackend('cpu'));
    const cpu = await names([8, 8, 8, 16]);
    assert.ok(!cpu.includes(CLIP_GRAD_KERNEL), cpu.join(' '));
    assert.ok(await tf.setBackend('wasm'));
  });
});
