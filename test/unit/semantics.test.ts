/**
 * The four semantics (contract "Semantics") in the real worker with real tfjs, on the wasm and the cpu backend:
 * one script (rank-4 channels-last and axis-1 layers, a rank-2 model trained by trainOnBatch, fit and
 * apply(training), a frozen BN feeding a trainable one, a last batch of one) runs under each semantics, and every
 * moving statistic, the frozen layer's output and the loss are checked against an independent float64 reference
 * (./reference.ts bnCall64) computed here from the same inputs and initial weights. Also: PyTorch's
 * one-value-per-channel error lands on the user's `await model.fit(...)` line, and runs are repeatable (seeded
 * Math.random: two runs of a Dense + BN fit with shuffle give bit-identical steps).
 *
 * One suite file per area (the semantics): its cases share the script, its runs and the reference.
 */
import * as assert from 'node:assert/strict';
import { EngineSession, type EngineRunResult } from '../../src/engineHost/engineSession';
import type { Backend, LayerSnapshot, Semantics } from '../../src/shared/protocol';
import { buildRunDocument } from '../../src/engineHost/runDocument';
import { unpackStep } from '../../src/shared/snapshotCodec';
import { Fixtures, WORKER, ensureBuilt, lineOf } from './cliHarness';
import {
  bnCall64,
  dense64,
  moments64,
  mse64,
  OneValuePerChannel,
  sliceRows,
  type Bn64,
  type Framework,
} from './reference';

// ---- deterministic data (float32 values; the reference reads the same values) ------------------
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** normal values, float32-rounded; channel k (of `channels`, innermost-first `inner` values apart) offset by k */
function randn(n: number, seed: number, channels: number, inner = 1, std = 2): number[] {
  const r = mulberry32(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12),
      v = r();
    const k = Math.floor(i / inner) % channels;
    out.push(
      Math.fround(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v) * std * (1 + 0.5 * k) + 1.5 * k - 0.7),
    );
  }
  return out;
}
const f32 = (a: number[]) => a.map(Math.fround);

const D = {
  x4a: randn(3 * 2 * 3 * 2, 1, 2), // [3, 2, 3, 2] channels last
  x4b: randn(1 * 2 * 3 * 2, 2, 2), // [1, 2, 3, 2]: batch of one, 6 values per channel
  x4c: randn(3 * 2 * 3 * 2, 3, 2, 6), // [3, 2, 3, 2] channel axis 1
  x1: randn(4 * 3, 4, 3),
  y1: randn(4 * 3, 5, 3, 1, 1),
  x2: randn(8 * 3, 6, 3),
  y2: randn(8 * 3, 7, 3, 1, 1),
  x3: randn(3 * 3, 8, 3),
  x5: randn(5 * 3, 9, 3),
  y5: randn(5 * 3, 10, 3, 1, 1),
  // initial weights: gamma, beta, moving mean, moving variance ("pretrained" for the frozen layers)
  c: [f32([1.3, 0.7]), f32([0.25, -0.4]), f32([0.5, -1.0]), f32([2.0, 0.6])],
  a: [f32([1.2, 0.8, 1.5]), f32([0.1, -0.2, 0.3]), f32([0.4, -0.3, 1.1]), f32([1.7, 0.5, 2.5])],
  dKernel: f32([0.9, -0.4, 0.3, 0.2, 1.1, -0.6, -0.5, 0.7, 0.8]),
  dBias: f32([0.3, -0.1, 0.6]),
};

const SCRIPT = `import * as tf from '@tensorflow/tfjs';
const D = ${JSON.stringify(D)};
const w = (v: number[][]) => v.map((a) => tf.tensor1d(a));
const show = (tag: string, t: tf.Tensor) => console.log(tag + ' ' + JSON.stringify(Array.from(t.dataSync())));

// rank 4, channels last: a frozen BN feeding a trainable one
const img = tf.sequential();
img.add(tf.layers.batchNormalization({ inputShape: [2, 3, 2], trainable: false, momentum: 0.8, name: 'c' }));
img.add(tf.layers.batchNormalization({ momentum: 0.6, name: 'e' }));
img.layers[0].setWeights(w(D.c));
img.apply(tf.tensor4d(D.x4a, [3, 2, 3, 2]), { training: true }); // r4a
img.apply(tf.tensor4d(D.x4b, [1, 2, 3, 2]), { training: true }); // r4b
// rank 4, channel axis 1
const f = tf.layers.batchNormalization({ axis: 1, momentum: 0.75, name: 'f' });
f.apply(tf.tensor4d(D.x4c, [3, 2, 3, 2]), { training: true }); // r4c

// rank 2: frozen BN -> frozen Dense -> trainable BN
const model = tf.sequential();
model.add(tf.layers.batchNormalization({ inputShape: [3], trainable: false, momentum: 0.8, name: 'a' }));
model.add(tf.layers.dense({ units: 3, trainable: false, name: 'd' }));
model.add(tf.layers.batchNormalization({ momentum: 0.7, name: 'b' }));
model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
model.layers[0].setWeights(w(D.a));
model.layers[1].setWeights([tf.tensor2d(D.dKernel, [3, 3]), tf.tensor1d(D.dBias)]);

async function main() {
  const loss = await model.trainOnBatch(tf.tensor2d(D.x1, [4, 3]), tf.tensor2d(D.y1, [4, 3])); // t1
  console.log('LOSS ' + JSON.stringify(loss));
  await model.fit(tf.tensor2d(D.x2, [8, 3]), tf.tensor2d(D.y2, [8, 3]), { batchSize: 4, epochs: 1, shuffle: false }); // f2
  model.apply(tf.tensor2d(D.x3, [3, 3]), { training: true }); // a3
  show('OUTA', model.layers[0].apply(tf.tensor2d(D.x3, [3, 3]), { training: true }) as tf.Tensor); // a4
  await model.fit(tf.tensor2d(D.x5, [5, 3]), tf.tensor2d(D.y5, [5, 3]), { batchSize: 4, epochs: 1, shuffle: false }); // f5
  console.log('END');
}
main();
`;

// ---- the float64 reference of the whole script under one framework ---------------------------------
const bn64 = (init: number[][] | null, channels: number, momentum: number, trainable: boolean, axis = -1): Bn64 => ({
  gamma: Float64Array.from(init ? init[0] : new Array(channels).fill(1)),
  beta: Float64Array.from(init ? init[1] : new Array(channels).fill(0)),
  movingMean: Float64Array.from(init ? init[2] : new Array(channels).fill(0)),
  movingVariance: Float64Array.from(init ? init[3] : new Array(channels).fill(1)),
  momentum,
  epsilon: 1e-3,
  axis,
  trainable,
});

interface Expected {
  /** per step marker: layer name -> moving mean, moving variance, (optional) the batch moments of its last training call */
  moving: Record<string, Record<string, { mean: Float64Array; variance: Float64Array }>>;
  inputMoments: Record<string, Record<string, { mean: Float64Array; variance: Float64Array }>>;
  loss: number;
  outA: Float64Array;
  /** the marker of the step that throws PyTorch's error, or null */
  throwsAt: string | null;
}

function reference(fw: Framework): Expected {
  const c = bn64(D.c, 2, 0.8, false);
  const e = bn64(null, 2, 0.6, true);
  const fl = bn64(null, 2, 0.75, true, 1);
  const a = bn64(D.a, 3, 0.8, false);
  const b = bn64(null, 3, 0.7, true);
  const ex: Expected = { moving: {}, inputMoments: {}, loss: NaN, outA: new Float64Array(0), throwsAt: null };
  const keep = (
    marker: string,
    layers: Record<string, Bn64>,
    inputs: Record<string, [Float64Array, number[], number]>,
  ) => {
    ex.moving[marker] = {};
    ex.inputMoments[marker] = {};
    for (const [name, l] of Object.entries(layers))
      ex.moving[marker][name] = { mean: l.movingMean.slice(), variance: l.movingVariance.slice() };
    for (const [name, [data, shape, axis]] of Object.entries(inputs)) {
      const m = moments64(data, shape, axis);
      ex.inputMoments[marker][name] = { mean: m.mean, variance: m.variance };
    }
  };
  const img = (x: number[], shape: number[]) => {
    const outC = bnCall64(fw, c, x, shape, true);
    bnCall64(fw, e, outC, shape, true);
    return outC;
  };
  const outC1 = img(D.x4a, [3, 2, 3, 2]);
  keep('r4a', { c, e }, { e: [outC1, [3, 2, 3, 2], 3] });
  img(D.x4b, [1, 2, 3, 2]); // H×W = 6 values per channel: PyTorch does not throw
  keep('r4b', { c, e }, {});
  bnCall64(fw, fl, D.x4c, [3, 2, 3, 2], true);
  keep('r4c', { f: fl }, { f: [Float64Array.from(D.x4c), [3, 2, 3, 2], 1] });

  const model = (x: ArrayLike<number>, n: number): { z: Float64Array; out: Float64Array } => {
    const outA = bnCall64(fw, a, x, [n, 3], true);
    const z = dense64(outA, n, D.dKernel, D.dBias);
    return { z, out: bnCall64(fw, b, z, [n, 3], true) };
  };
  const t1 = model(D.x1, 4);
  ex.loss = mse64(t1.out, D.y1);
  keep('t1', { a, b }, { b: [t1.z, [4, 3], 1] });
  for (const [from, to] of [
    [0, 4],
    [4, 8],
  ])
    model(sliceRows(D.x2, [8, 3], from, to).data, to - from);
  keep('f2', { a, b }, {});
  const a3 = model(D.x3, 3);
  keep('a3', { a, b }, { b: [a3.z, [3, 3], 1] });
  ex.outA = bnCall64(fw, a, D.x3, [3, 3], true);
  keep('a4', { a }, {});
  try {
    for (const [from, to] of [
      [0, 4],
      [4, 5],
    ])
      model(sliceRows(D.x5, [5, 3], from, to).data, to - from);
    keep('f5', { a, b }, {});
  } catch (err) {
    if (!(err instanceof OneValuePerChannel)) throw err;
    ex.throwsAt = 'f5';
  }
  return ex;
}

// ---- comparison with a float32 tolerance, keeping the worst error for the report ------------------------
const worst: Record<string, number> = {};
/** |actual − expected| ≤ 1e-5 · max(1, |expected|max of the vector): float32 rounding through a short chain */
function close(actual: ArrayLike<number> | null | undefined, expected: ArrayLike<number>, what: string, key: string) {
  assert.ok(actual, `${what}: missing`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / scale;
    worst[key] = Math.max(worst[key] ?? 0, err);
    assert.ok(
      err <= 1e-5,
      `${what}[${i}]: ${actual[i]} vs float64 reference ${expected[i]} (error ${err.toExponential(2)} of ${scale})\n` +
        `actual   ${Array.from(actual).join(', ')}\nexpected ${Array.from(expected).join(', ')}`,
    );
  }
}

const MARKERS = ['r4a', 'r4b', 'r4c', 't1', 'f2', 'a3', 'a4', 'f5'];
const SEMANTICS: Semantics[] = ['tfjs', 'keras', 'tf-keras', 'pytorch'];
const BACKENDS: Backend[] = ['wasm', 'cpu'];

describe('Semantics: the four frameworks in the real worker, checked against a float64 reference', function () {
  this.timeout(180_000);
  const fx = new Fixtures('bn-semantics-test-');
  let scriptPath = '';
  const runs = new Map<string, Promise<EngineRunResult>>();
  before(() => {
    ensureBuilt();
    scriptPath = fx.write('semantics.ts', SCRIPT);
  });
  after(() => {
    fx.cleanup();
    const lines = Object.entries(worst).map(([k, v]) => `${k}: ${v.toExponential(2)}`);
    if (lines.length)
      console.log(`      worst error vs float64 (relative to each vector's scale): ${lines.join(', ')}`);
  });

  const run = (semantics: Semantics, backend: Backend, path = scriptPath): Promise<EngineRunResult> => {
    const key = `${semantics}/${backend}/${path}`;
    let p = runs.get(key);
    if (!p) {
      p = new EngineSession({ scriptPath: path, workerPath: WORKER, semantics, backend }).run();
      runs.set(key, p);
    }
    return p;
  };
  const line = (marker: string) => lineOf(SCRIPT, `// ${marker}`);
  const stepsByMarker = (r: EngineRunResult): Map<string, LayerSnapshot[]> => {
    const out = new Map<string, LayerSnapshot[]>();
    for (const s of r.steps) {
      const st = unpackStep(s.buffer);
      const m = MARKERS.find((k) => line(k) === st.line);
      if (m) {
        assert.ok(!out.has(m), `one step at ${m}`);
        out.set(m, st.layers);
      }
    }
    return out;
  };
  const printed = (r: EngineRunResult, tag: string): number[] | null => {
    const l = r.output.split('\n').find((s) => s.startsWith(tag + ' '));
    return l ? (JSON.parse(l.slice(tag.length + 1)) as number[] | number as number[]) : null;
  };

  for (const backend of BACKENDS)
    for (const sem of SEMANTICS)
      it(`${sem} (${backend}): moving statistics, batch statistics, the frozen layer's output and the loss follow the reference`, async () => {
        const r = await run(sem, backend);
        const ex = reference(sem);
        assert.equal(r.semantics, sem);
        assert.equal(r.backend, backend);
        const steps = stepsByMarker(r);
        const key = `${sem}/${backend}`;
        for (const marker of MARKERS) {
          if (marker === ex.throwsAt) break;
          const layers = steps.get(marker);
          assert.ok(layers, `${sem}: a step at ${marker} (line ${line(marker)}); error ${JSON.stringify(r.error)}`);
          for (const [name, want] of Object.entries(ex.moving[marker])) {
            const l = layers.find((x) => x.name === name);
            assert.ok(l, `${marker}: layer ${name}`);
            close(l.movingMean, want.mean, `${sem} ${backend} ${marker} ${name} moving mean`, key);
            close(l.movingVariance, want.variance, `${sem} ${backend} ${marker} ${name} moving variance`, key);
          }
          for (const [name, want] of Object.entries(ex.inputMoments[marker])) {
            const call = layers.find((x) => x.name === name)!.lastTrainingCall;
            assert.ok(call, `${marker} ${name}: a training call`);
            close(call.batchMean, want.mean, `${sem} ${backend} ${marker} ${name} batch mean`, key);
            close(call.batchVariance, want.variance, `${sem} ${backend} ${marker} ${name} batch variance`, key);
          }
        }
        const loss = printed(r, 'LOSS') as unknown as number;
        close([loss], [ex.loss], `${sem} ${backend} trainOnBatch loss`, key);
        close(printed(r, 'OUTA'), ex.outA, `${sem} ${backend} frozen layer's output`, key);

        // the frozen layer's call records, counters and warnings follow the mode it ran in
        const kerasLike = sem === 'keras' || sem === 'tf-keras';
        const a = steps.get('t1')!.find((l) => l.name === 'a')!;
        assert.equal(a.trainable, false);
        assert.equal(
          a.lastTrainingCall?.training,
          true,
          'lastTrainingCall = the last call that received training = true',
        );
        assert.equal(a.lastTrainingCall?.statsUsed, kerasLike ? 'moving' : 'batch');
        assert.equal(a.updates, kerasLike ? 0 : 1);
        assert.equal(a.movingUpdated, !kerasLike);
        const codes = a.warnings.map((w) => w.code);
        assert.equal(codes.includes('TRAINABLE_FALSE_STILL_UPDATES'), !kerasLike, codes.join());
        if (sem === 'pytorch')
          assert.match(a.warnings.find((x) => x.code === 'TRAINABLE_FALSE_STILL_UPDATES')!.message, /PyTorch's rule/);
        const b = steps.get('t1')!.find((l) => l.name === 'b')!;
        assert.equal(b.lastTrainingCall?.statsUsed, 'batch');
        assert.equal(b.updates, 1);

        if (ex.throwsAt) {
          assert.equal(sem, 'pytorch');
          assert.equal(r.reason, 'error');
          assert.equal(r.error?.message, 'Expected more than 1 value per channel when training, got input size [1, 3]');
          assert.equal(r.error?.file, scriptPath);
          assert.equal(r.error?.line, line('f5'), `the user's await model.fit(...) line; stack:\n${r.error?.stack}`);
          assert.ok(!r.output.includes('END'));
        } else {
          assert.equal(r.reason, 'done', JSON.stringify(r.error));
          assert.equal(r.error, null);
          const bOne = steps.get('f5')!.find((l) => l.name === 'b')!;
          assert.ok(bOne.warnings.some((w) => w.code === 'BATCH_OF_ONE'));
        }
      });

  for (const backend of BACKENDS)
    it(`keras vs tfjs (${backend}): the run is real: the frozen layer's output and the loss differ`, async () => {
      const [t, k] = await Promise.all([run('tfjs', backend), run('keras', backend)]);
      const outT = printed(t, 'OUTA')!,
        outK = printed(k, 'OUTA')!;
      let diff = 0;
      for (let i = 0; i < outT.length; i++) diff = Math.max(diff, Math.abs(outT[i] - outK[i]));
      assert.ok(diff > 0.1, `frozen layer output differs by ${diff}`);
      const lossT = printed(t, 'LOSS') as unknown as number,
        lossK = printed(k, 'LOSS') as unknown as number;
      assert.ok(Math.abs(lossT - lossK) > 1e-3 * Math.abs(lossT), `loss ${lossT} vs ${lossK}`);
    });

  it('the run document says which semantics ran; its call records and error position follow', async () => {
    for (const sem of SEMANTICS) {
      const r = await run(sem, 'wasm');
      const doc = buildRunDocument({
        script: 'semantics.ts',
        tfjs: r.tfjs,
        backend: r.backend,
        semantics: r.semantics,
        steps: r.steps.map((s) => s.buffer),
        output: r.output,
        error: r.error,
        end: r.reason === 'done' ? 'done' : 'error',
      });
      assert.equal(doc.semantics, sem);
      const t1 = doc.steps.find((s) => s.line === line('t1'))!;
      const a = t1.layers.find((l) => l.name === 'a')!;
      assert.equal(a.lastTrainingCall?.statsUsed, sem === 'keras' || sem === 'tf-keras' ? 'moving' : 'batch');
      assert.equal(a.lastTrainingCall?.training, true);
      if (sem === 'pytorch') assert.equal(doc.error?.line, line('f5'));
      else assert.equal(doc.error, null);
    }
  });

  it("keras: model.trainable = false reaches the layers inside (Keras's setter); tfjs leaves them training", async () => {
    const text = `import * as tf from '@tensorflow/tfjs';
const inner = tf.sequential({ name: 'inner' });
inner.add(tf.layers.dense({ units: 3, inputShape: [2] }));
inner.add(tf.layers.batchNormalization({ name: 'deep' }));
const base = tf.sequential({ name: 'base' });
base.add(inner);
base.add(tf.layers.batchNormalization({ name: 'top' }));
const model = tf.sequential();
model.add(base);
model.add(tf.layers.dense({ units: 1 }));
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
base.trainable = false;
async function main() {
  await model.fit(tf.randomNormal([8, 2]), tf.randomNormal([8, 1]), { batchSize: 4, epochs: 1 });
  console.log('FLAGS ' + JSON.stringify([inner.trainable, inner.layers[1].trainable, base.layers[1].trainable]));
  base.trainable = true;
  console.log('AGAIN ' + JSON.stringify([inner.trainable, inner.layers[1].trainable, base.layers[1].trainable]));
}
main();
`;
    const p = fx.write('nested-freeze.ts', text);
    for (const sem of ['tfjs', 'keras'] as Semantics[]) {
      const r = await run(sem, 'wasm', p);
      assert.equal(r.reason, 'done', JSON.stringify(r.error));
      const layers = unpackStep(r.steps[0].buffer).layers;
      for (const name of ['deep', 'top']) {
        const l = layers.find((x) => x.name === name)!;
        assert.equal(l.trainable, sem === 'tfjs', `${sem} ${name} trainable`);
        assert.equal(l.updates, sem === 'tfjs' ? 2 : 0, `${sem} ${name} updates`);
        assert.equal(l.movingUpdated, sem === 'tfjs', `${sem} ${name} movingUpdated`);
        assert.equal(l.lastTrainingCall?.statsUsed, sem === 'tfjs' ? 'batch' : 'moving');
        // keras: frozen inside fit with its initial 0 / 1, never updated: stale, and the message says why
        const stale = l.warnings.find((w) => w.code === 'STALE_MOVING_STATS');
        assert.equal(!!stale, sem === 'keras', `${sem} ${name}: ${l.warnings.map((w) => w.code).join()}`);
        if (stale) assert.match(stale.message, /even inside fit/);
      }
      assert.equal(printed(r, 'FLAGS')!.join(), sem === 'tfjs' ? 'true,true,true' : 'false,false,false');
      assert.equal(printed(r, 'AGAIN')!.join(), 'true,true,true');
    }
  });

  it("pytorch: the one-value error at the user's line for apply (its own frame) and trainOnBatch (the call site)", async () => {
    const text = `import * as tf from '@tensorflow/tfjs';
const model = tf.sequential();
model.add(tf.layers.batchNormalization({ inputShape: [4] }));
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
function helper(x: tf.Tensor) {
  return model.apply(x, { training: true }); // apply
}
async function main() {
  const which = process.env.WHICH;
  if (which === 'apply') helper(tf.ones([1, 4]));
  else await model.trainOnBatch(tf.ones([1, 4]), tf.ones([1, 4])); // trainOnBatch
}
main();
`;
    const pa = fx.write('one-apply.ts', text.replace('process.env.WHICH', "'apply'"));
    const pt = fx.write('one-train.ts', text.replace('process.env.WHICH', "'train'"));
    const msg = 'Expected more than 1 value per channel when training, got input size [1, 4]';
    const ra = await run('pytorch', 'wasm', pa);
    assert.equal(ra.error?.message, msg);
    assert.equal(ra.error?.file, pa);
    assert.equal(ra.error?.line, lineOf(text, '// apply'));
    const rt = await run('pytorch', 'wasm', pt);
    assert.equal(rt.error?.message, msg);
    assert.equal(rt.error?.file, pt);
    assert.equal(rt.error?.line, lineOf(text, '// trainOnBatch'), rt.error?.stack);
    // the other semantics run it (variance 0 update, BATCH_OF_ONE)
    const rk = await run('keras', 'wasm', pt);
    assert.equal(rk.reason, 'done', JSON.stringify(rk.error));
    assert.ok(unpackStep(rk.steps[0].buffer).layers[0].warnings.some((w) => w.code === 'BATCH_OF_ONE'));
  });

  it('no tensor leak under keras, tf-keras and pytorch: tf.memory().numTensors flat over training and inference calls', async () => {
    const text = `import * as tf from '@tensorflow/tfjs';
const model = tf.sequential();
model.add(tf.layers.conv2d({ inputShape: [4, 4, 2], filters: 3, kernelSize: 1 }));
model.add(tf.layers.batchNormalization({ trainable: false }));
model.add(tf.layers.batchNormalization());
model.add(tf.layers.flatten());
model.add(tf.layers.dense({ units: 1 }));
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
const x = tf.randomNormal([6, 4, 4, 2]);
const y = tf.randomNormal([6, 1]);
async function main() {
  const counts: number[] = [];
  for (let i = 0; i < 30; i++) {
    await model.trainOnBatch(x, y);
    (model.apply(x, { training: true }) as tf.Tensor).dispose();
    (model.predict(x) as tf.Tensor).dispose();
    if (i === 9 || i === 29) counts.push(tf.memory().numTensors);
  }
  console.log('COUNTS ' + JSON.stringify(counts));
}
main();
`;
    const p = fx.write('leak.ts', text);
    for (const sem of ['keras', 'tf-keras', 'pytorch'] as Semantics[]) {
      const r = await run(sem, 'wasm', p);
      assert.equal(r.reason, 'done', JSON.stringify(r.error));
      const [a, b] = printed(r, 'COUNTS')!;
      assert.equal(b, a, `${sem}: tensors after 10 and after 30 rounds`);
    }
  });

  it('repeatable runs: two runs of a Dense + BN fit(shuffle: true) give bit-identical steps; keras with no frozen layer too', async () => {
    const text = `import * as tf from '@tensorflow/tfjs';
const model = tf.sequential();
model.add(tf.layers.dense({ units: 4, inputShape: [3] }));
model.add(tf.layers.batchNormalization());
model.add(tf.layers.dense({ units: 1 }));
model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
const x = tf.randomNormal([10, 3]);
const y = tf.randomUniform([10, 1]);
async function main() {
  const h = await model.fit(x, y, { epochs: 3, batchSize: 3, shuffle: true });
  console.log('LOSS ' + JSON.stringify(h.history.loss));
  console.log('RANDOM ' + JSON.stringify([Math.random()]));
}
main();
`;
    const p = fx.write('repeat.ts', text);
    const runsOf = [
      await new EngineSession({ scriptPath: p, workerPath: WORKER, semantics: 'tfjs' }).run(),
      await new EngineSession({ scriptPath: p, workerPath: WORKER, semantics: 'tfjs' }).run(),
      await new EngineSession({ scriptPath: p, workerPath: WORKER, semantics: 'keras' }).run(),
    ];
    for (const r of runsOf) {
      assert.equal(r.reason, 'done', JSON.stringify(r.error));
      assert.equal(r.steps.length, 1);
    }
    const bytes = runsOf.map((r) => Buffer.from(r.steps[0].buffer));
    assert.ok(bytes[0].equals(bytes[1]), 'tfjs run 1 = tfjs run 2, byte for byte');
    assert.ok(bytes[0].equals(bytes[2]), 'tfjs = keras when no layer is frozen, byte for byte');
    assert.equal(printed(runsOf[0], 'LOSS')!.join(), printed(runsOf[1], 'LOSS')!.join());
    assert.equal(printed(runsOf[0], 'RANDOM')!.join(), printed(runsOf[2], 'RANDOM')!.join());
    const l = unpackStep(runsOf[0].steps[0].buffer).layers[0];
    assert.ok(l.updates === 12 && l.movingUpdated, 'the BN layer trained (4 batches × 3 epochs)');
  });
});
