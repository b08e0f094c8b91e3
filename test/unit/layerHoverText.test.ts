/**
 * The editor hover's text (src/extension/layerHoverText.ts) on steps taken by the real engine (dist/worker.js, real
 * tfjs): one layer in full, many layers with a count and "…", numbers against a float64 reference, and user text
 * (layer names) escaped so that it is never markdown, a link or HTML.
 */
import * as assert from 'node:assert/strict';
import { EngineSession } from '../../src/engineHost/engineSession';
import type { StepSnapshot } from '../../src/shared/protocol';
import { unpackStep } from '../../src/shared/snapshotCodec';
import { escapeMarkdown, formatNumber, layerHoverMarkdown } from '../../src/extension/layerHoverText';
import { Fixtures, WORKER, ensureBuilt } from './cliHarness';

async function lastStep(path: string): Promise<StepSnapshot> {
  const r = await new EngineSession({ scriptPath: path, workerPath: WORKER }).run();
  assert.equal(r.reason, 'done', JSON.stringify(r.error));
  const last = r.steps[r.steps.length - 1];
  return unpackStep(last.buffer, last.header);
}

describe('layer hover text (real engine steps)', function () {
  this.timeout(120_000);
  const fx = new Fixtures('bn-hover-test-');
  before(() => ensureBuilt());
  after(() => fx.cleanup());

  // one layer, one training call on known data: moving mean = (1 - momentum) * batch mean (from 0)
  const X = [
    [1, 10, -3],
    [3, 30, 5],
    [8, -2, 4],
  ];
  const oneLayer = `import * as tf from '@tensorflow/tfjs';
const bn = tf.layers.batchNormalization({ momentum: 0.75, name: 'frozen_bn.v2-a' });
bn.trainable = false;
bn.apply(tf.tensor2d(${JSON.stringify(X)}), { training: true });
`;

  it('one layer: name, path, trainable, moving statistics (channels and range), updates, last call, warnings', async () => {
    const step = await lastStep(fx.write('one.ts', oneLayer));
    assert.equal(step.layers.length, 1);
    const md = layerHoverMarkdown(step.layers, step);
    // float64 reference: batch mean per channel, moving mean = 0.25 * mean; moving var = 0.75 + 0.25 * biased var (tfjs: divide by N)
    const mean = [0, 1, 2].map((c) => X.reduce((a, r) => a + r[c], 0) / X.length);
    const bvar = [0, 1, 2].map((c) => X.reduce((a, r) => a + (r[c] - mean[c]) ** 2, 0) / X.length);
    const mm = mean.map((m) => 0.25 * m);
    const mv = bvar.map((v) => 0.75 + 0.25 * v);
    const esc = (s: string) => s.replace(/[!-/:-@[-`{-~]/g, '\\$&');
    assert.ok(
      md.includes(
        `moving mean: ${esc(`[${mm.map(formatNumber).join(', ')}] range [${formatNumber(Math.min(...mm))}, ${formatNumber(Math.max(...mm))}]`)}`,
      ),
      md,
    );
    assert.ok(
      md.includes(
        `moving variance: ${esc(`[${mv.map(formatNumber).join(', ')}] range [${formatNumber(Math.min(...mv))}, ${formatNumber(Math.max(...mv))}]`)}`,
      ),
      md,
    );
    assert.match(md, /trainable: \*\*false\*\* · 3 channels · momentum 0\\?\.75/);
    assert.match(md, /in the last step: 1 call, 1 moving-average update \(moving statistics changed\)/);
    assert.match(md, /last call: training \(normalised with the batch statistics\), input \\\[3\\, 3\\\]/);
    assert.match(md, /warnings: TRAINABLE\\_FALSE\\_STILL\\_UPDATES/);
    assert.match(md, /step 1 · paused at line 4 · hit 1/);
    assert.ok(md.includes('\n**frozen\\_bn\\.v2\\-a**\n'), md);
  });

  it('user text is escaped: every ASCII punctuation character gets a backslash, line breaks become spaces', () => {
    const hostile = 'a_b<img src=x onerror=alert(1)>[x](command:workbench.action.quit) *b* `c` &amp;\n# h';
    const out = escapeMarkdown(hostile);
    // no punctuation character without its backslash: markdown and HTML see only literal characters
    for (let i = 0; i < out.length; i++) {
      if (/[!-/:-@[-`{-~]/.test(out[i])) {
        assert.equal(out[i], '\\', `position ${i} of ${out}`);
        i++;
        assert.ok(/[!-/:-@[-`{-~]/.test(out[i]), `escaped character at ${i}`);
      }
    }
    assert.equal(out.replace(/\\([!-/:-@[-`{-~])/g, '$1'), hostile.replace('\n', ' '));
  });

  it('many layers on one line: a count, the first ones listed, then "… and N more"', async () => {
    const many = `import * as tf from '@tensorflow/tfjs';
const make = (i: number) => tf.layers.batchNormalization({ name: 'bn_' + i });
const layers = Array.from({ length: 13 }, (_, i) => make(i));
for (const l of layers.slice(0, 3)) l.trainable = false;
const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [4] }), ...layers] });
model.apply(tf.ones([2, 4]), { training: true });
`;
    const step = await lastStep(fx.write('many.ts', many));
    assert.equal(step.layers.length, 13);
    const md = layerHoverMarkdown(step.layers, step, 10);
    assert.match(md, /\*\*13 layers built on this line\*\*/);
    assert.match(md, /13 updated in the last step · 3 with trainable false · 3 with warnings/);
    const rows = md.split('\n').filter((l) => l.startsWith('- '));
    // one layer of a model: its path says where
    assert.match(layerHoverMarkdown(step.layers.slice(0, 1), step), /\*\*bn\\_0\*\* · in sequential\\_\d+ › bn\\_0/);
    assert.equal(rows.length, 11, md);
    assert.match(
      rows[0],
      /^- \*\*bn\\_0\*\* · 4 channels · trainable false · 1 update · last call training .*TRAINABLE/,
    );
    assert.match(
      rows[9],
      /^- \*\*bn\\_9\*\* · 4 channels · trainable true · 1 update · last call training .*warnings none$/,
    );
    assert.equal(rows[10], '- … and 3 more');
  });

  it('no layer on the line: says so', () => {
    const md = layerHoverMarkdown([], { index: 2, line: 7, hit: 1 });
    assert.match(md, /No BatchNormalization layer of this step was built on this line/);
  });
});
