// The panel's pure overview logic in Node: drift from a baseline (webview/drift.ts) against an independent float64
// reference, on moving statistics that a real tfjs BatchNormalization layer produced (a "pretrained" layer fine-tuned
// on data of another distribution); the heat strip's data (heatData.ts), the baseline store (baseline.ts), the
// state filters (layerState.ts) and the grouped warnings (warningGroups.ts's groupWarnings).
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { LayerSnapshot, StepSnapshot } from '../../src/shared/protocol';
import { Baseline } from '../../webview/baseline';
import { driftOf, driftScore, varRatio } from '../../webview/drift';
import { driftShort, frozenDriftCallout } from '../../webview/driftText';
import { ABSENT, HeatData, heatLevel, UNKNOWN } from '../../webview/heatData';
import { matchesName, matchesState, stateCounts } from '../../webview/layerState';
import { groupWarnings } from '../../webview/warningGroups';
import { moments64, movingUpdate64 } from './reference';

/** float64 reference: per channel, then reduced (written apart from drift.ts, as the formulas say) */
function drift64(
  mean: ArrayLike<number>,
  variance: ArrayLike<number>,
  m0: ArrayLike<number>,
  v0: ArrayLike<number>,
  eps: number,
) {
  const shifts: number[] = [];
  const ratios: number[] = [];
  for (let c = 0; c < mean.length; c++) {
    shifts.push(Math.abs(Number(mean[c]) - Number(m0[c])) / Math.sqrt(Number(v0[c]) + eps));
    const r = (Number(variance[c]) + eps) / (Number(v0[c]) + eps);
    ratios.push(Math.max(r, 1 / r));
  }
  const meanShift = Math.max(...shifts);
  const ratio = Math.max(...ratios);
  return { meanShift, ratio, meanChannel: shifts.indexOf(meanShift), varChannel: ratios.indexOf(ratio) };
}

/** deterministic data: `n` rows × `c` channels, channel k ~ offset[k] + scale[k] * u, u in [-1, 1) */
function data(n: number, c: number, seed: number, offset: (k: number) => number, scale: (k: number) => number) {
  let s = seed >>> 0;
  const out = new Float32Array(n * c);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const k = i % c;
    out[i] = offset(k) + scale(k) * (s / 2 ** 31 - 1);
  }
  return out;
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

describe('drift from a baseline (webview/drift.ts) vs a float64 reference', () => {
  before(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  });

  it("a real tfjs BatchNormalization layer: 'pretrained' on one distribution, fine-tuned on another", () => {
    const C = 6;
    const momentum = 0.9;
    const epsilon = 1e-3;
    const bn = tf.layers.batchNormalization({ momentum, epsilon, inputShape: [C] });
    const pre = data(
      64,
      C,
      1,
      (k) => k * 0.5,
      (k) => 0.2 + 0.3 * k,
    );
    const fine = data(
      32,
      C,
      2,
      (k) => 1 - k * 0.3,
      (k) => 0.1 + 0.5 * ((k * 7) % 3),
    );
    // "pretrained": three training calls on the first data
    for (let i = 0; i < 3; i++)
      tf.tidy(() => {
        bn.apply(tf.tensor2d(pre, [64, C]), { training: true });
      });
    const w0 = bn.getWeights();
    const base = { movingMean: w0[2].dataSync().slice(), movingVariance: w0[3].dataSync().slice() };
    // fine-tune: two training calls on the other data
    for (let i = 0; i < 2; i++)
      tf.tidy(() => {
        bn.apply(tf.tensor2d(fine, [32, C]), { training: true });
      });
    const w1 = bn.getWeights();
    const cur = { movingMean: w1[2].dataSync().slice(), movingVariance: w1[3].dataSync().slice() };

    // the reference path, independent of tfjs: float64 moments and moving updates from the data itself
    let rm: Float64Array = new Float64Array(C);
    let rv: Float64Array = new Float64Array(C).fill(1);
    const mp = moments64(pre, [64, C]);
    for (let i = 0; i < 3; i++) {
      rm = movingUpdate64(rm, mp.mean, momentum);
      rv = movingUpdate64(rv, mp.variance, momentum);
    }
    const bm = rm.slice();
    const bv = rv.slice();
    const mf = moments64(fine, [32, C]);
    for (let i = 0; i < 2; i++) {
      rm = movingUpdate64(rm, mf.mean, momentum);
      rv = movingUpdate64(rv, mf.variance, momentum);
    }
    const want = drift64(rm, rv, bm, bv, epsilon);
    const got = driftOf(cur, base, epsilon)!;
    assert.ok(got, 'same channel count: a drift');
    assert.equal(got.changed, C);
    // tfjs works in float32 (and its batch variance in one pass): agree to float32 accuracy
    assert.ok(rel(got.meanShift, want.meanShift) < 1e-4, `mean shift ${got.meanShift} vs ${want.meanShift}`);
    assert.ok(rel(varRatio(got), want.ratio) < 1e-4, `variance ratio ${varRatio(got)} vs ${want.ratio}`);
    assert.equal(got.meanChannel, want.meanChannel);
    assert.equal(got.varChannel, want.varChannel);
    assert.ok(
      want.meanShift > 0.1 && want.ratio > 1.05,
      `the fine-tune moved the statistics visibly: ${JSON.stringify(want)}`,
    );
    // and exactly the float64 formula on tfjs's own float32 values
    const exact = drift64(cur.movingMean, cur.movingVariance, base.movingMean, base.movingVariance, epsilon);
    assert.ok(rel(got.meanShift, exact.meanShift) < 1e-12);
    assert.ok(rel(varRatio(got), exact.ratio) < 1e-12);
    bn.dispose();
  });

  it('known cases: 2σ, a variance ×4 or ÷4, epsilon, no change, NaN, reshaped', () => {
    const eps = 0.001;
    const base = { movingMean: [0, 1, 2], movingVariance: [1 - eps, 4 - eps, 0.25 - eps] };
    // channel 1 moves by 2 baseline σ (σ = 2); channel 2's variance goes from 0.25 to 1 (×4)
    const cur = { movingMean: [0, 5, 2], movingVariance: [1 - eps, 4 - eps, 1 - eps] };
    const d = driftOf(cur, base, eps)!;
    assert.ok(Math.abs(d.meanShift - 2) < 1e-12);
    assert.equal(d.meanChannel, 1);
    assert.ok(Math.abs(varRatio(d) - 4) < 1e-12);
    assert.equal(d.varChannel, 2);
    assert.equal(d.changed, 2);
    assert.ok(Math.abs(driftScore(d) - 2) < 1e-12, 'score: the larger of 2σ and ln 4');
    // shrinking by 4 counts as much as growing by 4
    const shrink = driftOf(
      { movingMean: [0], movingVariance: [0.25 - eps] },
      { movingMean: [0], movingVariance: [1 - eps] },
      eps,
    )!;
    assert.ok(Math.abs(varRatio(shrink) - 4) < 1e-12);
    // epsilon matters: a zero baseline variance is measured against sqrt(eps)
    const z = driftOf({ movingMean: [0.1], movingVariance: [0] }, { movingMean: [0], movingVariance: [0] }, 0.01)!;
    assert.ok(Math.abs(z.meanShift - 1) < 1e-12);
    const same = driftOf(base, base, eps)!;
    assert.deepEqual([same.meanShift, same.varLog, same.changed], [0, 0, 0]);
    assert.equal(driftShort(same), 'none');
    const nan = driftOf(
      { movingMean: [NaN, 0], movingVariance: [1, 1] },
      { movingMean: [0, 0], movingVariance: [1, 1] },
      eps,
    )!;
    assert.ok(Number.isNaN(nan.meanShift) && Number.isNaN(nan.varLog));
    assert.equal(driftShort(nan), 'NaN');
    assert.ok(Number.isNaN(driftScore(nan)));
    assert.equal(driftOf({ movingMean: [0], movingVariance: [1] }, base, eps), null, 'reshaped: no drift');
  });

  it('the frozen-drift callout: only for a frozen layer whose statistics moved from the baseline', () => {
    const base = { movingMean: [0], movingVariance: [1] };
    const moved = driftOf({ movingMean: [0.5], movingVariance: [2] }, base, 0)!;
    const still = driftOf(base, base, 0)!;
    assert.match(
      frozenDriftCallout(false, moved, 1)!,
      /^Frozen \(trainable: false\), yet its moving statistics drifted from the baseline \(step 1\) by up to 0\.5σ in mean and ×2 in variance/,
    );
    assert.equal(frozenDriftCallout(true, moved, 1), null, 'trainable: no callout');
    assert.equal(frozenDriftCallout(false, still, 1), null, 'no drift: no callout');
  });
});

// ---- synthesized snapshots ------------------------------------------------------------------------------

function layer(name: string, over: Partial<LayerSnapshot> = {}): LayerSnapshot {
  return {
    name,
    path: ['m', name],
    source: null,
    axis: -1,
    channels: 2,
    momentum: 0.99,
    epsilon: 0.001,
    trainable: true,
    calls: 0,
    updates: 0,
    movingMean: new Float32Array([0, 0]),
    movingVariance: new Float32Array([1, 1]),
    gamma: null,
    beta: null,
    movingUpdated: false,
    lastCall: null,
    lastTrainingCall: null,
    warnings: [],
    ...over,
  };
}

function stepOf(index: number, layers: LayerSnapshot[]): StepSnapshot {
  return { index, line: 1, column: 1, file: '/x.ts', hit: index, layers };
}

describe('overview logic (pure): states, filters, grouped warnings, baseline, heat data', () => {
  const frozenUpdated = layer('a_bn', {
    trainable: false,
    updates: 2,
    movingUpdated: true,
    warnings: [{ code: 'TRAINABLE_FALSE_STILL_UPDATES', message: 'frozen but updated' }],
  });
  const frozen = layer('b_bn', { trainable: false });
  const trained = layer('c_bn', { updates: 1, movingUpdated: true });
  const stale = layer('d_bn', { warnings: [{ code: 'STALE_MOVING_STATS', message: 'stale' }] });
  const frozenUpdated2 = layer('e_bn', {
    trainable: false,
    updates: 1,
    movingUpdated: true,
    warnings: [{ code: 'TRAINABLE_FALSE_STILL_UPDATES', message: 'frozen but updated' }],
  });
  const all = [frozenUpdated, frozen, trained, stale, frozenUpdated2];

  it('state filters and their counts', () => {
    const names = (f: Parameters<typeof matchesState>[1]) => all.filter((l) => matchesState(l, f)).map((l) => l.name);
    assert.deepEqual(names('all'), ['a_bn', 'b_bn', 'c_bn', 'd_bn', 'e_bn']);
    assert.deepEqual(names('updated'), ['a_bn', 'c_bn', 'e_bn']);
    assert.deepEqual(names('frozen'), ['a_bn', 'b_bn', 'e_bn']);
    assert.deepEqual(names('frozen-updated'), ['a_bn', 'e_bn']);
    assert.deepEqual(names('warnings'), ['a_bn', 'd_bn', 'e_bn']);
    // without a compare run nothing is known to agree: 'differs' keeps every layer (the option is offered only with one)
    assert.deepEqual(stateCounts(all), {
      all: 5,
      updated: 3,
      frozen: 3,
      'frozen-updated': 2,
      warnings: 3,
      differs: 5,
    });
    // with one: the layers the compare run says differ
    assert.equal(stateCounts(all, (i) => i % 2 === 0).differs, 3);
    assert.deepEqual(
      all.filter((l, i) => matchesState(l, 'differs', i === 1)).map((l) => l.name),
      ['b_bn'],
    );
    assert.ok(matchesName('m/a_bn', frozenUpdated, ' M/A '));
    assert.ok(matchesName('m/a_bn', frozenUpdated, 'a_b'));
    assert.ok(!matchesName('m/a_bn', frozenUpdated, 'c_bn'));
  });

  it('warnings are grouped by code in model order, each with its layers', () => {
    const g = groupWarnings(
      all,
      all.map((l) => `m/${l.name}`),
    );
    assert.deepEqual(
      g.map((x) => [x.code, x.keys, x.names, x.messages]),
      [
        ['TRAINABLE_FALSE_STILL_UPDATES', ['m/a_bn', 'm/e_bn'], ['a_bn', 'e_bn'], 1],
        ['STALE_MOVING_STATS', ['m/d_bn'], ['d_bn'], 1],
      ],
    );
  });

  it("baseline: each layer's first snapshot, a pinned step, a pin whose step is not here", () => {
    const v = (m: number) => ({ movingMean: new Float32Array([m, m]), movingVariance: new Float32Array([1, 1]) });
    const s1 = stepOf(1, [layer('a', v(1))]);
    const s2 = stepOf(2, [layer('a', v(2)), layer('b', v(20))]);
    const s3 = stepOf(3, [layer('a', v(3)), layer('b', v(30))]);
    const b = new Baseline(null);
    b.onStep(s1, ['a']);
    b.onStep(s2, ['a', 'b']);
    assert.equal(b.of('a')!.step, 1);
    assert.equal(b.of('a')!.movingMean[0], 1);
    assert.equal(b.of('b')!.step, 2, 'a layer built later: its own first snapshot');
    b.onStep(s3, ['a', 'b']);
    // pin the current step
    assert.ok(b.pinTo(3, { step: s3, keys: ['a', 'b'] }, () => null));
    assert.equal(b.of('a')!.step, 3);
    assert.equal(b.pinMissing, false);
    // pin a step that is no longer kept: the first snapshots until it is seen again
    assert.equal(
      b.pinTo(2, { step: s3, keys: ['a', 'b'] }, () => null),
      false,
    );
    assert.equal(b.pinMissing, true);
    assert.equal(b.of('a')!.step, 1);
    // a new run reaches step 2: the pin holds again
    b.clear();
    b.onStep(s1, ['a']);
    b.onStep(s2, ['a', 'b']);
    assert.equal(b.pinMissing, false);
    assert.equal(b.of('a')!.step, 2);
    assert.equal(b.of('b')!.movingMean[0], 20);
    // an earlier step from the history's vectors
    assert.ok(b.pinTo(1, null, (i) => (i === 1 ? new Map([['a', v(1)]]) : null)));
    assert.equal(b.of('a')!.step, 1);
    assert.equal(b.of('b')!.step, 2, 'absent at the pinned step: its first snapshot');
    b.pinTo(null, null, () => null);
    assert.equal(b.pinned, null);
  });

  it("baseline by default: the statistics before the layer's first call (movingBefore, 'step 0'), when the engine sent them", () => {
    const before = { mean: new Float32Array([0.5, -0.5]), variance: new Float32Array([2, 3]) };
    const s1 = stepOf(1, [
      {
        ...layer('a', { movingMean: new Float32Array([0.7, -0.2]), movingVariance: new Float32Array([1.5, 2]) }),
        movingBefore: before,
      },
    ]);
    const b = new Baseline(null);
    b.onStep(s1, ['a']);
    assert.equal(b.of('a')!.step, 0);
    assert.equal(b.of('a')!.movingMean, before.mean);
    assert.equal(b.of('a')!.movingVariance, before.variance);
    const d = driftOf(s1.layers[0], b.of('a')!, 1e-3)!;
    const ref = drift64(s1.layers[0].movingMean, s1.layers[0].movingVariance, before.mean, before.variance, 1e-3);
    assert.ok(rel(d.meanShift, ref.meanShift) < 1e-6, `${d.meanShift} vs ${ref.meanShift}`);
    assert.match(frozenDriftCallout(false, d, 0)!, /from the baseline \(the start: before its first call\)/);
  });

  it('heat data: one column per step, absent rows, bounded by merging (the larger change wins)', () => {
    const h = new HeatData(8);
    h.push(1, ['a'], [UNKNOWN]);
    h.push(2, ['a', 'b'], [0.5, 0]);
    assert.equal(h.value(0, h.rowOf('b')), ABSENT, 'b did not exist at step 1');
    assert.equal(h.firstStep('a'), 1);
    assert.equal(h.firstStep('b'), 2, 'the strip of b starts at step 2');
    assert.equal(h.firstStep('zz'), Infinity);
    assert.equal(h.value(0, h.rowOf('a')), UNKNOWN);
    assert.equal(h.value(1, h.rowOf('a')), 0.5);
    for (let s = 3; s <= 1000; s++) h.push(s, ['a', 'b'], [s === 500 ? 7 : 0.001, s === 700 ? NaN : 0]);
    assert.ok(h.cols.length <= 8, `${h.cols.length} columns kept`);
    assert.equal(h.cols[0].from, 1);
    assert.equal(h.cols[h.cols.length - 1].to, 1000);
    let max = 0;
    let nan = 0;
    for (let c = 0; c < h.cols.length; c++) {
      max = Math.max(max, h.value(c, h.rowOf('a')));
      if (Number.isNaN(h.value(c, h.rowOf('b')))) nan++;
    }
    assert.equal(max, 7, 'the largest change survives merging');
    assert.equal(nan, 1, 'a NaN survives merging');
    // covered steps are contiguous
    for (let c = 1; c < h.cols.length; c++) assert.equal(h.cols[c].from, h.cols[c - 1].to + 1);
    assert.equal(heatLevel(0), 0);
    assert.equal(heatLevel(1e-4), 0);
    assert.equal(heatLevel(0.01), 0.5);
    assert.equal(heatLevel(5), 1);
  });
});
