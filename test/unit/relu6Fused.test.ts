/**
 * tfjs-layers' ReLU(maxValue) as one kernel each way on wasm (src/worker/kernels/relu6Fused.ts): the layer's output
 * and gradient equal what relu then clipByValue give on the same backend (the engine's Relu, ClipByValue and their
 * gradients), bit for bit with zeros' signs and NaN, and a float64 reference; one kernel call forward and one
 * backward where there were two and two; small tensors, maxValue 0, and the cpu backend keep tfjs's own call.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';
import { RELU6_GRAD_KERNEL, RELU6_KERNEL, installRelu6Layer } from '../../src/worker/kernels/relu6Fused';
import { normalValues } from './reference';
import { shipWasm } from './shippedWasm';

shipWasm(tf);

/** values around the edges of [0, hi]: 0, −0, hi, just inside and outside, NaN, ±Infinity, large, a spread */
function edgy(n: number, hi: number, seed: number): Float32Array {
  const v = normalValues(n, hi / 2, hi, seed);
  const specials = [
    0,
    -0,
    hi,
    Math.fround(hi * (1 + 1e-6)),
    Math.fround(hi * (1 - 1e-7)),
    Math.fround(-1e-7),
    NaN,
    Infinity,
    -Infinity,
    1e30,
    -1e30,
    1e-40,
    -1e-40,
  ];
  for (let i = 0; i < n; i += 5) v[i] = specials[(i / 5) % specials.length];
  return v;
}

const bits = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++)
    if (!Object.is(a[i], b[i])) assert.fail(`${what}: element ${i}: ${a[i]} vs ${b[i]}`);
};

/** the layer's output and the gradient of Σ w·layer(x) w.r.t. x */
function run(maxValue: number, x: Float32Array, w: Float32Array, shape: number[]) {
  const layer = tf.layers.reLU({ maxValue });
  return tf.tidy(() => {
    const xt = tf.tensor(x, shape);
    const wt = tf.tensor(w, shape);
    const y = (layer.apply(xt) as tf.Tensor).dataSync();
    const g = tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, wt)))(xt)
      .dataSync();
    return { y, g };
  });
}

/** the kernels of the layer's forward and (with `grad`) backward */
async function kernelsOf(maxValue: number, shape: number[], grad = true): Promise<string[]> {
  const layer = tf.layers.reLU({ maxValue });
  const x = tf.tensor(
    edgy(
      shape.reduce((a, b) => a * b, 1),
      Math.max(maxValue, 1),
      3,
    ),
    shape,
  );
  const p = await tf.profile(() =>
    tf.tidy(() =>
      grad
        ? tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor) as tf.Scalar)(x)
        : (layer.apply(x) as tf.Tensor),
    ),
  );
  x.dispose();
  return p.kernels.map((k) => k.name);
}

describe('ReLU(maxValue) as one kernel each way on wasm (relu6Fused.ts)', function () {
  this.timeout(120_000);
  let undo: (() => void) | null = null;
  before(async () => {
    assert.ok(await tf.setBackend('wasm'));
    await tf.ready();
    const names = registerMissingKernels(tf);
    for (const k of [RELU6_KERNEL, RELU6_GRAD_KERNEL, 'Relu', 'ClipByValue'])
      assert.ok(names.includes(k), `${k} registered: ${names.join(' ')}`);
    // the gradient registry is global: registered by the first registerMissingKernels of the process
    assert.ok(tf.getGradient(RELU6_KERNEL), 'its gradient');
    undo = installRelu6Layer(tf);
    assert.ok(undo, 'the layer patch installs');
  });
  after(() => {
    undo?.();
    unregisterMissingKernels(tf);
  });

  for (const [shape, hi] of [
    [[8, 12, 12, 24], 6], // MobileNetV2's
    [[5, 13, 17], 6], // 1105 elements: a tail of 1 after the SIMD groups
    [[1027], 1.5], // a tail of 3, another maxValue
    [[4, 300], 0.1], // a maxValue float32 cannot hold exactly
  ] as const)
    it(`[${shape}], maxValue ${hi}: relu then clipByValue's values, bit for bit, and the float64 reference`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = edgy(n, hi, n);
      const w = normalValues(n, 0, 1, n + 1);
      for (let i = 3; i < n; i += 11) w[i] = -0; // zeros' signs must come out as tfjs makes them
      for (let i = 7; i < n; i += 97) w[i] = NaN;
      const ours = run(hi, x, w, [...shape]);
      undo!();
      const stock = run(hi, x, w, [...shape]);
      undo = installRelu6Layer(tf);
      bits(ours.y, stock.y, 'output');
      bits(ours.g, stock.g, 'gradient');
      const fhi = Math.fround(hi);
      for (let i = 0; i < n; i++) {
        const xi = x[i];
        // relu then clip: NaN stays NaN, −0 and negatives become +0
        const y = Number.isNaN(xi) ? NaN : Math.min(Math.max(xi, 0) + 0, fhi);
        // clip's gradient (r = relu(x) in [0, hi]) times relu's (dy·step(x): dy·0 keeps dy's sign of zero)
        const r = Math.max(xi, 0);
        const g = (r >= 0 && r <= fhi ? w[i] : 0) * (Number.isNaN(xi) ? NaN : xi > 0 ? 1 : 0);
        if (!Object.is(ours.y[i], Math.fround(y))) assert.fail(`output ${i}: x ${xi}: ${ours.y[i]} vs ${y}`);
        if (!Object.is(ours.g[i], Math.fround(g)))
          assert.fail(`gradient ${i}: x ${xi}, w ${w[i]}: ${ours.g[i]} vs ${g}`);
      }
    });

  it('one kernel call forward and one backward; small tensors, maxValue 0 and the cpu backend keep tfjs', async () => {
    const big = await kernelsOf(6, [8, 8, 8, 16]);
    assert.ok(big.includes(RELU6_KERNEL) && big.includes(RELU6_GRAD_KERNEL), big.join(' '));
    for (const k of ['Relu', 'ClipByValue', 'BnInspectorClipGrad', 'BnInspectorReluGrad', 'Select', 'Step'])
      assert.ok(!big.includes(k), `${k} in ${big.join(' ')}`);
    const small = await kernelsOf(6, [4, 4, 4]);
    assert.ok(
      !small.includes(RELU6_KERNEL) && small.includes('Relu') && small.includes('ClipByValue'),
      small.join(' '),
    );
    // clipByValue(r, 0, 0) is a fill (no gradient path: tfjs's own error, as without the patch)
    const zero = await kernelsOf(0, [8, 8, 8, 16], false);
    assert.ok(!zero.includes(RELU6_KERNEL) && zero.includes('Relu'), zero.join(' '));
    const relu = await kernelsOf(Infinity, [8, 8, 8, 16]);
    assert.ok(relu.includes(RELU6_KERNEL), `maxValue Infinity: ${relu.join(' ')}`);
    assert.ok(await tf.setBackend('cpu'));
    try {
      const cpu = await kernelsOf(6, [8, 8, 8, 16]);
      assert.ok(!cpu.includes(RELU6_KERNEL) && cpu.includes('Relu'), cpu.join(' '));
    } finally {
      assert.ok(await tf.setBackend('wasm'));
    }
  });

  it('the undo puts tfjs-layers’ own ReLU.call back; a second install does nothing', () => {
    assert.equal(installRelu6Layer(tf), null, 'second install');
    const proto = Object.getPrototypeOf(tf.layers.reLU({ maxValue: 6 })) as { call: unknown };
    const patched = proto.call;
    undo!();
    assert.notEqual(proto.call, patched);
    assert.match(String(proto.call), /clipByValue/);
    undo = installRelu6Layer(tf);
    assert.ok(undo);
  });
});
