// Pure parts of the inspector panel, in Node: the "why" sentence, badges, warning texts, the delta since the
// previous step, the bounded timeline history, number formatting and the page's CSP.
// One suite file per area (the panel's pure logic): its cases share the snapshot builders.
import assert from 'node:assert/strict';
import type { LayerSnapshot, StepSnapshot } from '../../src/shared/protocol';
import { explainLayer, layerBadges, warningExplanation, isBatchOfOne } from '../../webview/explain';
import { History, layerKeys } from '../../webview/history';
import { layerDelta } from '../../webview/layerDelta';
import { count, exact, short } from '../../webview/format';
import { axisRange } from '../../webview/charts';
import { panelHtml } from '../../src/extension/panelHtml';

const f = (a: number[]) => Float32Array.from(a);

function layer(over: Partial<LayerSnapshot> = {}): LayerSnapshot {
  return {
    name: 'bn',
    path: ['bn'],
    source: null,
    axis: -1,
    channels: 3,
    momentum: 0.99,
    epsilon: 1e-3,
    trainable: true,
    calls: 0,
    updates: 0,
    movingMean: f([0, 0, 0]),
    movingVariance: f([1, 1, 1]),
    gamma: f([1, 1, 1]),
    beta: f([0, 0, 0]),
    movingUpdated: false,
    lastCall: null,
    lastTrainingCall: null,
    warnings: [],
    ...over,
  };
}

const call = (training: boolean, shape = [4, 3]) => ({
  training,
  statsUsed: (training ? 'batch' : 'moving') as 'batch' | 'moving',
  inputShape: shape,
  batchMean: f([0.5, 0.25, -1]),
  batchVariance: f([2, 0.5, 0]),
});

describe('webview: explainLayer', () => {
  it('never called', () => {
    const s = explainLayer(layer());
    assert.match(s, /^Not called yet/);
    assert.deepEqual(
      layerBadges(layer()).map((b) => b.text),
      ['never called', 'trainable: true', 'not updated', '0 calls'],
    );
  });

  it('inference only (predict): the wording of the issue', () => {
    const l = layer({ calls: 1, lastCall: call(false) });
    const s = explainLayer(l);
    assert.match(
      s,
      /^Called in inference mode \(predict, evaluate, or apply without training: true\): normalised with the moving statistics, which did not change\./,
    );
    assert.match(s, /Moving statistics change only in training mode: fit, or apply with training: true\.$/);
    assert.deepEqual(
      layerBadges(l).map((b) => b.text),
      ['inference mode: moving statistics, not updated', 'training: false', 'trainable: true', '1 call'],
    );
  });

  it('inference on never-updated statistics says they are the initial ones', () => {
    const l = layer({
      calls: 10,
      trainable: false,
      lastCall: call(false),
      warnings: [{ code: 'STALE_MOVING_STATS', message: 'm' }],
    });
    const s = explainLayer(l);
    assert.match(s, /Called 10 times in inference mode/);
    assert.match(s, /never been updated/);
  });

  it('training with updates', () => {
    const l = layer({ calls: 3, updates: 3, movingUpdated: true, lastCall: call(true), lastTrainingCall: call(true) });
    const s = explainLayer(l);
    assert.match(
      s,
      /^Called in training mode \(fit, or apply with training: true\): normalised with each batch's own mean and variance, and the moving statistics moved toward them \(3 updates; momentum 0\.99 keeps 99% of the old value at each update\)\.$/,
    );
    const b = layerBadges(l).map((x) => x.text);
    assert.deepEqual(b, [
      'training mode: batch statistics',
      'training: true',
      'trainable: true',
      'updated ×3',
      '3 calls',
    ]);
  });

  it('frozen but updated: the wording of the issue', () => {
    const l = layer({
      trainable: false,
      calls: 1,
      updates: 1,
      movingUpdated: true,
      lastCall: call(true),
      lastTrainingCall: call(true),
    });
    assert.equal(
      explainLayer(l),
      'trainable is false but the moving statistics were updated: tfjs ignores trainable for this; in TF2 Keras this layer would run in inference mode.',
    );
    const b = layerBadges(l);
    assert.equal(b.find((x) => x.text === 'updated ×1')!.tone, 'warn');
    // trainable is a neutral flag: the warning tone is on the update, the cause (the mode) on the first badge
    assert.equal(b.find((x) => x.text === 'trainable: false')!.tone, 'neutral');
    assert.deepEqual(b[0], {
      text: 'training mode: batch statistics',
      title:
        "the last call ran in training mode: it normalised with its batch's own mean and variance, and moved the moving statistics toward them",
      tone: 'train',
      prominent: true,
    });
  });

  it('batch of one', () => {
    const l = layer({
      calls: 1,
      updates: 1,
      movingUpdated: true,
      lastCall: call(true, [1, 3]),
      lastTrainingCall: call(true, [1, 3]),
    });
    assert.ok(isBatchOfOne(l));
    assert.match(explainLayer(l), /batch of one sample per channel: the batch variance is 0/);
    // by the warning alone, too
    const l2 = layer({
      calls: 1,
      updates: 1,
      movingUpdated: true,
      lastCall: call(true),
      lastTrainingCall: call(true),
      warnings: [{ code: 'BATCH_OF_ONE', message: 'x' }],
    });
    assert.match(explainLayer(l2), /batch of one/);
  });

  it('mixed calls in one step (fit with validation)', () => {
    const l = layer({ calls: 5, updates: 4, movingUpdated: true, lastCall: call(false), lastTrainingCall: call(true) });
    const s = explainLayer(l);
    assert.match(
      s,
      /^Called 5 times in this step: 4 in training mode .* and 1 in inference mode .*; the last call was in inference mode\.$/,
    );
  });

  it('not called in this step / set directly', () => {
    assert.match(
      explainLayer(layer({ calls: 0, lastCall: call(true) })),
      /^Not called in this step, so nothing changed; its last call, in an earlier step, was in training mode/,
    );
    assert.match(explainLayer(layer({ calls: 0, movingUpdated: true, lastCall: call(false) })), /set directly/);
    assert.match(
      explainLayer(layer({ calls: 1, movingUpdated: true, lastCall: call(false) })),
      /without a training-mode update: they were set directly/,
    );
    assert.deepEqual(
      layerBadges(layer({ calls: 1, movingUpdated: true, lastCall: call(false) })).map((b) => b.text)[3],
      'changed (set directly)',
    );
  });

  it('every warning code has an explanation', () => {
    for (const c of ['TRAINABLE_FALSE_STILL_UPDATES', 'BATCH_OF_ONE', 'NON_FINITE', 'STALE_MOVING_STATS'])
      assert.ok(warningExplanation(c).length > 40, c);
  });
});

describe('webview: delta since the previous step', () => {
  it('marks changed channels and the max |Δ|', () => {
    const prev = layer({ movingMean: f([0, 0, 0]), movingVariance: f([1, 1, 1]) });
    const cur = layer({ movingMean: f([0, 0.5, -0.25]), movingVariance: f([1, 1, 0.5]) });
    const d = layerDelta(cur, prev)!;
    assert.equal(d.changed, 2);
    assert.deepEqual([...d.marksMean], [0, 1, 1]);
    assert.deepEqual([...d.marksVar], [0, 0, 1]);
    assert.equal(d.maxMean, 0.5);
    assert.equal(d.maxVar, 0.5);
    assert.equal(layerDelta(cur, null), null);
  });
  it('NaN to NaN is no change; a value to NaN is', () => {
    const prev = layer({ movingMean: f([NaN, 1, 0]) });
    const cur = layer({ movingMean: f([NaN, NaN, 0]) });
    const d = layerDelta(cur, prev)!;
    assert.deepEqual([...d.marksMean], [0, 1, 0]);
    assert.ok(Number.isNaN(d.maxMean));
  });
});

describe('webview: bounded timeline history', () => {
  const step = (i: number, mm: number[]): StepSnapshot => ({
    index: i,
    line: 1,
    column: 1,
    file: '/x.ts',
    hit: i,
    layers: [layer({ name: 'a', path: ['m', 'a'], movingMean: f(mm), movingVariance: f(mm.map((x) => x + 1)) })],
  });

  it('keeps at most maxPoints steps, thins old ones, and counts them', () => {
    const h = new History(100, 1e9);
    for (let i = 1; i <= 1000; i++) h.push(step(i, [i, 2 * i, 0]), ['m/a'], () => 1);
    assert.ok(h.length <= 100, `kept ${h.length}`);
    assert.equal(h.thinned, 1000 - h.length);
    const s = h.series('m/a', 1);
    assert.equal(s.steps[0], 1, 'the first step is kept');
    assert.equal(s.steps[s.steps.length - 1], 1000, 'the newest step is kept');
    for (let i = 1; i < s.steps.length; i++) assert.ok(s.steps[i] > s.steps[i - 1]);
    // mean over channels and the channel's value
    const k = s.steps.length - 1;
    assert.equal(s.meanMM[k], (1000 + 2000 + 0) / 3);
    assert.equal(s.chMM[k], 2000);
    assert.equal(s.chMV[k], 2001);
  });

  it('keeps full vectors only within a budget; older points keep the channel picked then', () => {
    const h = new History(500, 60); // 6 floats a point: 10 points of vectors
    for (let i = 1; i <= 50; i++) h.push(step(i, [i, -i, 0]), ['m/a'], () => 1);
    assert.ok(h.vectorFloats <= 60);
    const s1 = h.series('m/a', 1);
    assert.equal(s1.missing, 0);
    assert.equal(s1.chMM[0], -1);
    const s0 = h.series('m/a', 0);
    assert.equal(s0.missing, 40);
    assert.equal(s0.chMM[49], 50);
  });

  it('layer keys are unique per step', () => {
    const s = step(1, [0]);
    s.layers.push({ ...s.layers[0] }, layer({ name: 'b', path: ['b'] }));
    assert.deepEqual(layerKeys(s), ['m/a', 'm/a#2', 'b']);
  });
});

describe('webview: formatting', () => {
  it('exact writes the float32 as its nearest double', () => {
    assert.equal(exact(Math.fround(0.1)), '0.10000000149011612');
    assert.equal(exact(NaN), 'NaN');
    assert.equal(exact(-Infinity), '-Infinity');
    assert.equal(short(0.000012345), '1.23e-5');
    assert.equal(short(-1.5), '−1.5');
    assert.equal(count(26560), '26,560');
    assert.equal(count(-1234567), '-1,234,567');
  });
});

describe('webview: chart axis range', () => {
  it('pads a spread-out range by 6 % when it stays on one side of 0 or already crosses it', () => {
    const r = axisRange(-1, 3);
    assert.ok(Math.abs(r.lo - -1.24) < 1e-12 && Math.abs(r.hi - 3.24) < 1e-12, JSON.stringify(r));
    const p = axisRange(2, 4);
    assert.ok(Math.abs(p.lo - 1.88) < 1e-12 && Math.abs(p.hi - 4.12) < 1e-12, JSON.stringify(p));
  });
  it('a variance axis never goes below 0 (the padding used to give −1.204)', () => {
    // variances 0.05 .. 20: 6 % padding would reach −1.149
    const r = axisRange(0.05, 20, true);
    assert.equal(r.lo, 0);
    assert.ok(r.hi > 20);
    // an all-zero variance (dead channels) starts at 0 too
    const z = axisRange(0, 0, true);
    assert.equal(z.lo, 0);
    assert.ok(z.hi > 0);
  });
  it('never pads across 0 when all data is on one side of it', () => {
    assert.equal(axisRange(0.05, 20).lo, 0);
    assert.equal(axisRange(0, 5).lo, 0);
    assert.equal(axisRange(-20, -0.05).hi, 0);
    assert.equal(axisRange(-5, 0).hi, 0);
    // data that straddles 0 keeps its padding on both sides
    const r = axisRange(-0.05, 20);
    assert.ok(r.lo < -0.05 && r.hi > 20);
  });
  it('float noise around a constant is a flat line, not a full-height zig-zag', () => {
    // beta all ≈ 1e-10 of both signs: the data fills a tiny middle part of a window of ±1e-6
    const b = axisRange(-1.3e-10, 2.1e-10);
    assert.ok(b.lo <= -1e-6 * 0.99 && b.hi >= 1e-6 * 0.99, JSON.stringify(b));
    const frac = (2.1e-10 - -1.3e-10) / (b.hi - b.lo);
    assert.ok(frac < 1e-3, `noise spans ${frac} of the axis`);
    // centred
    const mid = (b.lo + b.hi) / 2;
    assert.ok(Math.abs(mid - 0.4e-10) < 1e-15);
    // a variance of 1 ± float32 ulps: flat, centred at 1, readable labels (0.95 .. 1.05)
    const v = axisRange(1 - 1.2e-7, 1 + 2.4e-7, true);
    assert.ok(Math.abs(v.lo - 0.95) < 1e-6 && Math.abs(v.hi - 1.05) < 1e-6, JSON.stringify(v));
    assert.notEqual(short(v.lo), short(v.hi));
    // relative to the magnitude: 1000 ± 1e-4 is noise too
    const k = axisRange(1000 - 1e-4, 1000 + 1e-4);
    assert.ok(k.hi - k.lo >= 99, JSON.stringify(k));
    // all exactly 0 (an untrained beta): centred on 0
    const z = axisRange(0, 0);
    assert.ok(z.lo < 0 && z.hi > 0 && z.lo === -z.hi);
    // tiny positive noise never makes a negative axis either
    assert.equal(axisRange(1e-10, 3e-10).lo, 0);
  });
  it('a real spread just above the noise floor is still autoscaled', () => {
    const r = axisRange(1, 1.001);
    assert.ok(r.hi - r.lo < 0.0013, JSON.stringify(r));
    const s = axisRange(1e-4, 3e-4);
    assert.ok(s.hi - s.lo < 3e-4, JSON.stringify(s));
  });
});

describe('panelHtml', () => {
  const html = panelHtml({
    cspSource: 'https://*.vscode-cdn.net',
    nonce: 'abc123+/=',
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
    styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/inspector.css',
    codiconsUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/codicons/codicon.css?"><script>x</script>',
  });
  it('has the strict CSP', () => {
    const m = html.match(/http-equiv="Content-Security-Policy" content="([^"]*)"/);
    assert.ok(m);
    assert.equal(
      m![1],
      'default-src &#39;none&#39;; script-src &#39;nonce-abc123+/=&#39;; style-src https://*.vscode-cdn.net; font-src https://*.vscode-cdn.net; img-src https://*.vscode-cdn.net data:',
    );
    assert.ok(!/unsafe-/.test(html));
    assert.ok(!/style="/.test(html), 'no inline style attribute');
  });
  it('has exactly one script, with the nonce, and escapes URIs', () => {
    assert.equal(html.match(/<script/g)!.length, 1);
    assert.match(
      html,
      /<script nonce="abc123\+\/=" src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\.js"><\/script>/,
    );
    assert.ok(html.includes('codicon.css?&quot;&gt;&lt;script&gt;x&lt;/script&gt;'));
  });
  it('drops junk from cspSource', () => {
    const h = panelHtml({
      cspSource: "https://a.example x; script-src 'unsafe-inline'",
      nonce: 'n',
      scriptUri: 's',
      styleUri: 'c',
      codiconsUri: 'i',
    });
    assert.ok(!h.includes('unsafe-inline'));
    assert.match(h, /style-src https:\/\/a\.example; font-src/);
  });
});
