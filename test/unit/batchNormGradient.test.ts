/**
 * FusedBatchNorm's shorter gradient on wasm (src/worker/kernels/batchNormGradient.ts, and its one-kernel form
 * batchNormGradKernel.ts for channels-last statistics from 4096 elements): every part (x, mean,
 * variance, scale, offset) against an independent float64 derivation, and against tfjs's own gradient on the cpu
 * backend; a BatchNormalization layer trained end to end gives the same gradients as stock cpu; with the batch
 * moments of a training-mode call (fusedMoments) the whole input gradient in the one kernel, against float64 and
 * stock cpu, the moments' gradient not run; unregistering puts tfjs's gradient back. Runs on the wasm build the engine ships (shippedWasm.ts).
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BN_GRAD_KERNEL } from '../../src/worker/kernels/batchNormGradKernel';
import { MOMENTS_GRAD_KERNEL, MOMENTS_KERNEL, fusedMoments } from '../../src/worker/kernels/fusedMoments';
import { installEngineFastPath } from '../../src/worker/tfjsEngineFastPath';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';
import { assertClose } from './reference';
import { shipWasm } from './shippedWasm';

shipWasm(tf);

/** deterministic values in [lo, hi) */
function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

interface Case {
  shape: number[];
  /** the shape of mean / variance / scale / offset */
  stat: number[];
  eps: number;
}

/** L = Σ w·batchNorm(x): its gradients in float64, from y = (x − m)·r·s + o, r = (v + ε)^−½ */
function reference64(c: Case, x: Float32Array, m: Float32Array, v: Float32Array, s: Float32Array, w: Float32Array) {
  const C = m.length;
  const dx = new Float64Array(x.length);
  const dm = new Float64Array(C);
  const dv = new Float64Array(C);
  const ds = new Float64Array(C);
  const doff = new Float64Array(C);
  for (let i = 0; i < x.length; i++) {
    const j = i % C;
    const sj = s[j];
    const r = 1 / Math.sqrt(v[j] + c.eps);
    dx[i] = w[i] * r * sj;
    dm[j] -= w[i] * r * sj;
    dv[j] += w[i] * (x[i] - m[j]) * sj * -0.5 * r ** 3;
    ds[j] += w[i] * (x[i] - m[j]) * r;
    doff[j] += w[i];
  }
  return { x: dx, mean: dm, variance: dv, scale: ds, offset: doff };
}

/** the gradients (of the inputs in use) as this backend computes them */
function grads(
  c: Case,
  x: Float32Array,
  m: Float32Array,
  v: Float32Array,
  s: Float32Array,
  o: Float32Array,
  w: Float32Array,
): Record<string, Float32Array> {
  return tf.tidy(() => {
    const W = tf.tensor(w, c.shape);
    const names = ['x', 'mean', 'variance', 'offset', 'scale'];
    const values: Record<string, Float32Array> = { x, mean: m, variance: v, offset: o, scale: s };
    const args = names.map((k) => tf.tensor(values[k], k === 'x' ? c.shape : c.stat));
    const f = (...t: tf.Tensor[]) => {
      const at = (k: string) => t[names.indexOf(k)];
      return tf.sum(tf.mul(tf.batchNorm(at('x'), at('mean'), at('variance'), at('offset'), at('scale'), c.eps), W));
    };
    const g = tf.grads(f)(args);
    return Object.fromEntries(names.map((k, i) => [k, g[i].dataSync() as Float32Array]));
  });
}

describe('FusedBatchNorm gradient on wasm (batchNormGradient.ts)', function () {
  this.timeout(120_000);
  before(async () => {
    assert.ok(await tf.setBackend('wasm'));
    await tf.ready();
    assert.ok(registerMissingKernels(tf).includes('gradient:FusedBatchNorm'), 'registered');
  });
  after(() => unregisterMissingKernels(tf));

  // (tfjs 4.22 cannot differentiate batchNorm without a scale or an offset on any backend: the tape reads the
  // absent input; and its own gradient throws for statistics shaped like x (1x1x1xC): a reshape of x-sized data)
  const cases: Case[] = [
    { shape: [8, 6, 6, 16], stat: [16], eps: 1e-3 },
    { shape: [4, 5, 5, 12], stat: [12], eps: 1e-5 },
    { shape: [3, 4, 4, 8], stat: [1, 1, 1, 8], eps: 1e-3 },
    { shape: [32, 64], stat: [64], eps: 1e-3 },
    // from 4096 elements with channels a multiple of 4: the one-kernel gradient (batchNormGradKernel.ts)
    { shape: [8, 8, 8, 32], stat: [32], eps: 1e-3 },
    { shape: [4, 6, 6, 48], stat: [1, 1, 1, 48], eps: 1e-3 },
    { shape: [64, 128], stat: [128], eps: 1e-5 },
  ];
  for (const c of cases) {
    it(`${c.shape.join('x')}, statistics ${c.stat.join('x')}: the float64 derivation${c.stat.length === 1 ? ' and stock cpu' : ''}`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const C = c.stat.reduce((a, b) => a * b, 1);
      const x = values(n, 1, -2, 3);
      const m = values(C, 2, -0.5, 0.5);
      const v = values(C, 3, 0.2, 2);
      const s = values(C, 4, 0.5, 1.5);
      const o = values(C, 5);
      const w = values(n, 6);
      const ref = reference64(c, x, m, v, s, w);
      const wasm = grads(c, x, m, v, s, o, w);
      const prof = await tf.profile(() => grads(c, x, m, v, s, o, w));
      const oneKernel = prof.kernels.some((k) => k.name === BN_GRAD_KERNEL);
      assert.equal(oneKernel, n >= 4096 && C % 4 === 0, `the one-kernel gradient ran: ${oneKernel}`);
      const stockWorks = c.stat.length === 1;
      await tf.setBackend('cpu');
      const cpu = stockWorks ? grads(c, x, m, v, s, o, w) : null;
      await tf.setBackend('wasm');
      // sums over up to 288 values of magnitude ~1: float32 rounding of the sum, relative to Σ|terms| (~n / C)
      const scale = n / C;
      for (const k of ['x', 'mean', 'variance', 'scale', 'offset'] as const) {
        assertClose(wasm[k], ref[k], `${k} vs float64`, { rtol: 2e-5, atol: 2e-6, scale });
        if (cpu) assertClose(wasm[k], cpu[k], `${k} vs stock cpu`, { rtol: 2e-5, atol: 2e-6, scale });
      }
    });
  }

  it('a BatchNormalization layer in training, end to end: the same gradients as stock cpu, in fewer passes over x-sized data', async () => {
    const run = async () => {
      const layer = tf.layers.batchNormalization({
        gammaInitializer: 'randomUniform',
        betaInitializer: 'randomUniform',
      });
      const x = tf.tensor(values(6 * 5 * 5 * 8, 9, -1, 2), [6, 5, 5, 8]);
      const w = tf.tensor(values(6 * 5 * 5 * 8, 10), [6, 5, 5, 8]);
      layer.apply(x, { training: true });
      (layer.getWeights()[0] as tf.Variable).assign(tf.tensor(values(8, 11, 0.5, 1.5)));
      (layer.getWeights()[1] as tf.Variable).assign(tf.tensor(values(8, 12)));
      const f = () => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar;
      const vars = layer.trainableWeights.map((v) => v.read() as tf.Variable);
      const prof = await tf.profile(() => tf.variableGrads(f, vars).value);
      const { grads: g } = tf.variableGrads(f, vars);
      const gx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx, { training: true }) as tf.Tensor, w)))(x);
      const full = x.size;
      const passes = prof.kernels.filter((k) =>
        k.outputShapes.some((o) => o.reduce((a, b) => a * b, 1) === full),
      ).length;
      const out = {
        gamma: g[vars[0].name].dataSync(),
        beta: g[vars[1].name].dataSync(),
        x: gx.dataSync(),
        passes,
      };
      layer.dispose();
      return out;
    };
    const wasm = await run();
    await tf.setBackend('cpu');
    const cpu = await run();
    await tf.setBackend('wasm');
    for (const k of ['gamma', 'beta', 'x'] as const)
      assertClose(wasm[k], cpu[k], `${k} vs stock cpu`, { rtol: 1e-4, atol: 1e-5, scale: 150 });
    assert.ok(wasm.passes < cpu.passes, `kernels with an x-sized output: wasm ${wasm.passes}, stock cpu ${cpu.passes}`);
  });

  for (const shape of [
    [8, 8, 8, 16],
    [96, 64],
  ])
    it(`[${shape}], a training-mode call's batch moments (fusedMoments): the whole input gradient in the normalisation's one kernel, vs float64 and stock cpu; no moments' gradient, no x-sized sum or zeros`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const C = shape[shape.length - 1];
      const R = n / C;
      const axes = shape.slice(0, -1).map((_, i) => i);
      const eps = 1e-3;
      const xv = values(n, 21, -2, 3);
      for (let i = 0; i < n; i++) xv[i] += 0.3 * (i % C); // per-channel means apart
      const [sv, ov, wv] = [values(C, 22, 0.5, 1.5), values(C, 23), values(n, 24)];
      // float64: y = x̂·s + o, x̂ = (x − m)·r; dL/dx = s·r/R · (R·w − Σw − x̂·Σ(w·x̂)), dL/ds = Σ w·x̂, dL/do = Σ w
      const m = new Float64Array(C),
        v = new Float64Array(C),
        sw = new Float64Array(C),
        swx = new Float64Array(C);
      for (let i = 0; i < n; i++) m[i % C] += xv[i] / R;
      for (let i = 0; i < n; i++) v[i % C] += (xv[i] - m[i % C]) ** 2 / R;
      const r = Array.from(v, (vc) => 1 / Math.sqrt(vc + eps));
      const xh = (i: number) => (xv[i] - m[i % C]) * r[i % C];
      for (let i = 0; i < n; i++) {
        sw[i % C] += wv[i];
        swx[i % C] += wv[i] * xh(i);
      }
      const ref = {
        x: Float64Array.from(xv, (_, i) => ((sv[i % C] * r[i % C]) / R) * (R * wv[i] - sw[i % C] - xh(i) * swx[i % C])),
        scale: swx,
        offset: sw,
      };
      const run = (moments: (x: tf.Tensor) => { mean: tf.Tensor; variance: tf.Tensor }) =>
        tf.tidy(() => {
          const [x, sc, of, w] = [tf.tensor(xv, shape), tf.tensor(sv), tf.tensor(ov), tf.tensor(wv, shape)];
          const f = (xx: tf.Tensor, ss: tf.Tensor, oo: tf.Tensor) => {
            const { mean, variance } = moments(xx);
            return tf.sum(tf.mul(tf.batchNorm(xx, mean, variance, oo, ss, eps), w)) as tf.Scalar;
          };
          const g = tf.grads(f)([x, sc, of]);
          return { x: g[0].dataSync(), scale: g[1].dataSync(), offset: g[2].dataSync() };
        });
      const undo = installEngineFastPath(tf);
      try {
        const ours = run((x) => fusedMoments(tf, x, axes)!);
        const prof = await tf.profile(() => {
          run((x) => fusedMoments(tf, x, axes)!);
        });
        const names = prof.kernels.map((k) => k.name);
        assert.ok(names.includes(BN_GRAD_KERNEL) && names.includes(MOMENTS_KERNEL), names.join(' '));
        assert.ok(!names.includes(MOMENTS_GRAD_KERNEL), `the moments' gradient kernel did not run: ${names.join(' ')}`);
        const sums = prof.kernels.filter(
          (k) => k.name === 'Add' && k.outputShapes.some((o) => o.length === shape.length),
        );
        assert.equal(sums.length, 0, 'no x-sized Add (the moments path adds a known zero)');
        const fills = prof.kernels.filter(
          (k) => k.name === 'Fill' && k.outputShapes.some((o) => o.length === shape.length),
        );
        assert.equal(fills.length, 0, "no x-sized Fill (the known zero is not even made: x's gradient is there)");
        await tf.setBackend('cpu');
        const cpu = run((x) => tf.moments(x, axes));
        await tf.setBackend('wasm');
        for (const k of ['x', 'scale', 'offset'] as const) {
          assertClose(ours[k], ref[k], `${k} vs float64`, { rtol: 1e-4, atol: 2e-6, scale: k === 'x' ? 1 : R });
          assertClose(ours[k], cpu[k], `${k} vs stock cpu`, { rtol: 1e-4, atol: 2e-6, scale: k === 'x' ? 1 : R });
        }
      } finally {
        undo?.();
      }
    });

  it("unregistering puts tfjs's own gradient back", () => {
    const ours = tf.getGradient('FusedBatchNorm');
    unregisterMissingKernels(tf);
    const stock = tf.getGradient('FusedBatchNorm');
    assert.notEqual(stock, ours);
    assert.ok(registerMissingKernels(tf).includes('gradient:FusedBatchNorm'));
    assert.equal(tf.getGradient('FusedBatchNorm')?.gradFunc === stock?.gradFunc, false);
  });
});
