/**
 * The fused moments of a training-mode BatchNormalization call (src/worker/kernels/fusedMoments.ts), on real tfjs
 * 4.22 wasm with the engine's kernels and fast paths (as the engine runs): mean, variance and the gradient of any
 * loss of them are tfjs-core's moments on those kernels bit for bit, and both are checked against a float64
 * reference; where the kernel does not apply tfjs's own moments runs; through the instrument, a training step of a
 * conv + BN model gives the same moving statistics and captured batch statistics with the fusion on and off (bit for
 * bit) and the same weights to float32 rounding (the gradient's three parts are added in another grouping, in the
 * normalisation's one kernel), with fewer kernel calls.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installBnInstrument } from '../../src/worker/bnInstrument';
import { BN_GRAD_KERNEL } from '../../src/worker/kernels/batchNormGradKernel';
import {
  MOMENTS_GRAD_KERNEL,
  MOMENTS_KERNEL,
  fusedMoments,
  fusedMomentsSettings,
} from '../../src/worker/kernels/fusedMoments';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';
import { simdAvailable } from '../../src/worker/kernels/simdKernelModule';
import { installEngineFastPath } from '../../src/worker/tfjsEngineFastPath';
import { installTfjsFastPath, uninstallTfjsFastPath } from '../../src/worker/tfjsFastPath';
import { assertClose, assertSame, moments64, normalValues } from './reference';
import { shipWasm } from './shippedWasm';

shipWasm(tf);

/** per-channel means differ and the spread is large against them, as BN inputs are */
function input(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const C = shape[shape.length - 1];
  const v = normalValues(n, 0, 3, seed);
  for (let i = 0; i < n; i++) v[i] += 0.5 * ((i % C) - C / 2);
  return tf.tensor(v, shape);
}

/** d/dx of Σ a·mean + Σ b·variance in float64: a/R + b·2(x − mean)/R (the mean's own term sums to zero) */
function grad64(x: Float32Array, C: number, a: Float32Array, b: Float32Array): Float64Array {
  const R = x.length / C;
  const { mean } = moments64(x, [R, C]);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % C;
    out[i] = a[c] / R + (b[c] * 2 * (x[i] - mean[c])) / R;
  }
  return out;
}

describe('fused moments of a training-mode BatchNormalization call (kernels/fusedMoments.ts)', function () {
  this.timeout(300000);
  let undoEngine: (() => void) | null = null;

  before(async () => {
    assert.ok(await tf.setBackend('wasm'));
    await tf.ready();
    registerMissingKernels(tf);
    installTfjsFastPath(tf);
    undoEngine = installEngineFastPath(tf);
    fusedMomentsSettings.enabled = true;
  });
  after(() => {
    undoEngine?.();
    uninstallTfjsFastPath(tf);
    unregisterMissingKernels(tf);
    fusedMomentsSettings.enabled = true;
  });

  const shapes = [
    [8, 16, 16, 16], // a small CNN's layer
    [8, 4, 4, 96], // MobileNetV2's late layers at 64x64
    [8, 2, 2, 960],
    [64, 256], // a dense layer's BN
    [2, 33, 7, 12], // odd spatial sizes
  ];
  for (const shape of shapes) {
    it(`[${shape}]: mean, variance and their gradient are tf.moments' bit for bit, and near the float64 reference`, async () => {
      const C = shape[shape.length - 1];
      const axes = shape.slice(0, -1).map((_, i) => i);
      const x = input(shape, shape.length * 7 + C);
      const a = tf.tensor(normalValues(C, 0, 1, 11));
      const b = tf.tensor(normalValues(C, 0, 1, 12));
      const k = await tf.profile(() => tf.tidy(() => fusedMoments(tf, x, axes)!.mean));
      assert.deepEqual(
        k.kernels.map((e) => e.name),
        [MOMENTS_KERNEL],
        'one kernel call forward',
      );
      const loss = (m: (t: tf.Tensor) => { mean: tf.Tensor; variance: tf.Tensor }) => (t: tf.Tensor) => {
        const r = m(t);
        return tf.add(tf.sum(tf.mul(r.mean, a)), tf.sum(tf.mul(r.variance, b))) as tf.Scalar;
      };
      const fused = (t: tf.Tensor) => fusedMoments(tf, t, axes)!;
      const stock = (t: tf.Tensor) => tf.moments(t, axes);
      const [fm, fv, fg] = tf.tidy(() => [fused(x).mean, fused(x).variance, tf.grad(loss(fused))(x)]);
      const [sm, sv, sg] = tf.tidy(() => [stock(x).mean, stock(x).variance, tf.grad(loss(stock))(x)]);
      {
        const xs = x.dataSync() as Float32Array;
        assertSame(fm.dataSync(), sm.dataSync(), 'mean');
        assertSame(fv.dataSync(), sv.dataSync(), 'variance');
        assertSame(fg.dataSync(), sg.dataSync(), 'gradient');
        const ref = moments64(xs, [xs.length / C, C]);
        assertClose(fm.dataSync(), ref.mean, 'mean vs float64', { scale: 10 });
        assertClose(fv.dataSync(), ref.variance, 'variance vs float64', { rtol: 1e-5 });
        const g64 = grad64(xs, C, a.dataSync() as Float32Array, b.dataSync() as Float32Array);
        const gMax = g64.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assertClose(fg.dataSync(), g64, 'gradient vs float64', { rtol: 1e-4, atol: 1e-5, scale: gMax });
        tf.dispose([x, a, b, fm, fv, fg, sm, sv, sg]);
      }
    });
  }

  it('the gradient is one kernel call', async () => {
    const x = input([8, 8, 8, 16], 3);
    const axes = [0, 1, 2];
    const p = await tf.profile(() =>
      tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(fusedMoments(tf, t, axes)!.variance) as tf.Scalar)(x)),
    );
    const names = p.kernels.map((k) => k.name);
    assert.equal(names.filter((n) => n === MOMENTS_GRAD_KERNEL).length, 1, names.join(' '));
    assert.equal(names.filter((n) => n === MOMENTS_KERNEL).length, 1, names.join(' '));
    x.dispose();
  });

  it('not applied (null: tfjs runs its own) off the channels-last reduction, below 4096 elements, for C % 4 ≠ 0, int32, on cpu', async () => {
    const x = input([8, 8, 8, 16], 4);
    assert.equal(fusedMoments(tf, x, [0, 1]), null, 'not every leading axis');
    assert.equal(fusedMoments(tf, x, [1, 2, 3]), null, 'not the channels-last reduction');
    const small = input([4, 4, 4, 16], 5); // 1024 elements
    assert.equal(fusedMoments(tf, small, [0, 1, 2]), null, 'small');
    const odd = input([8, 8, 8, 10], 6);
    assert.equal(fusedMoments(tf, odd, [0, 1, 2]), null, 'C % 4');
    const ints = tf.cast(x, 'int32');
    assert.equal(fusedMoments(tf, ints, [0, 1, 2]), null, 'int32');
    fusedMomentsSettings.enabled = false;
    assert.equal(fusedMoments(tf, x, [0, 1, 2]), null, 'switched off');
    fusedMomentsSettings.enabled = true;
    assert.ok(simdAvailable(tf.backend()), 'the wasm backend runs the SIMD kernels here');
    assert.equal(simdAvailable({}), false, 'an object that is no wasm backend');
    assert.ok(await tf.setBackend('cpu'));
    assert.equal(simdAvailable(tf.backend()), false, 'cpu: no SIMD kernels (the gates of the fused kernels)');
    assert.equal(fusedMoments(tf, x, [0, 1, 2]), null, 'cpu');
    assert.ok(await tf.setBackend('wasm'));
    tf.dispose([x, small, odd, ints]);
  });

  it('through the instrument: a conv + BN training step gives the same moving and captured statistics (and weights to float32 rounding), fused or not, with fewer kernel calls', async () => {
    const run = async (fusedOn: boolean) => {
      fusedMomentsSettings.enabled = fusedOn;
      const inst = installBnInstrument(tf);
      try {
        const inp = tf.input({ shape: [8, 8, 3] });
        const c1 = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false }).apply(inp);
        const b1 = tf.layers.batchNormalization({ name: 'bn1' }).apply(c1);
        const r1 = tf.layers.reLU({ maxValue: 6 }).apply(b1);
        const c2 = tf.layers.conv2d({ filters: 32, kernelSize: 1, useBias: false }).apply(r1);
        const b2 = tf.layers.batchNormalization({ name: 'bn2', momentum: 0.9 }).apply(c2);
        const out = tf.layers.dense({ units: 3 }).apply(tf.layers.flatten().apply(b2)) as tf.SymbolicTensor;
        const model = tf.model({ inputs: inp, outputs: out });
        model.setWeights(
          model.weights.map((w, k) =>
            tf.tensor(
              normalValues(
                w.shape.reduce((p, q) => p! * q!, 1)!,
                /gamma|variance/.test(w.name) ? 1 : 0,
                0.2,
                40 + k,
              ),
              w.shape as number[],
            ),
          ),
        );
        model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' });
        const x = input([8, 8, 8, 3], 21);
        const y = tf.tensor(normalValues(24, 0, 1, 22), [8, 3]);
        const p = await tf.profile(async () => {
          await model.trainOnBatch(x, y);
        });
        const snaps = inst.snapshotLayers();
        const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
        const stats = snaps.map((l) => ({
          name: l.name,
          mean: Array.from(l.lastCall!.batchMean),
          variance: Array.from(l.lastCall!.batchVariance),
          movingMean: Array.from(l.movingMean),
          movingVariance: Array.from(l.movingVariance),
        }));
        tf.dispose([x, y]);
        model.dispose();
        return { weights, stats, kernels: p.kernels.length, names: p.kernels.map((k) => k.name) };
      } finally {
        inst.uninstall();
        fusedMomentsSettings.enabled = true;
      }
    };
    const off = await run(false);
    const on = await run(true);
    assert.ok(!off.names.includes(MOMENTS_KERNEL), 'off: tfjs moments');
    assert.equal(on.names.filter((n) => n === MOMENTS_KERNEL).length, 2, 'on: both layers fused');
    // the normalisation's gradient carries the moments' paths (batchNormGradKernel.ts, batchMoments): their
    // gradient kernel has nothing to add and does not run
    assert.equal(on.names.filter((n) => n === BN_GRAD_KERNEL).length, 2, 'on: both normalisation gradients');
    assert.equal(on.names.filter((n) => n === MOMENTS_GRAD_KERNEL).length, 0, "on: no moments' gradient");
    assert.equal(on.weights.length, off.weights.length);
    // the forward is the same bit for bit: captured batch statistics and the moving update
    assert.deepEqual(on.stats, off.stats, 'captured batch statistics, moving statistics');
    // the conv output's gradient adds three parts (BN's direct one, the variance path, the mean path) in another
    // grouping (one pass, bnDx, against tfjs's (a + b) + c on the tape): the weights agree to float32 rounding
    on.weights.forEach((w, i) => {
      const scale = off.weights[i].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assertClose(w, off.weights[i], `weight ${i} after the step`, { rtol: 1e-5, atol: 1e-6, scale });
    });
    assert.ok(on.kernels <= off.kernels - 2 * 15, `kernel calls ${on.kernels} vs ${off.kernels}`);
  });
});
