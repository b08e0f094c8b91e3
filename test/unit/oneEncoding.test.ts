/**
 * One encoding per step (issue 7): the ArrayBuffer the worker packs is the one every later stage holds.
 * - the engine host hands on the very buffer object the worker's message carried, reading only its header;
 * - the extension's engine adapter and step history keep that same object (the panel posts history buffers);
 * - no host bundle (dist/cli.js, dist/extension.js) contains the packing code at all: only dist/worker.js does;
 * - the header reader reads the JSON header only, never the vectors.
 * Real worker, real tfjs; the numbers decoded from the untouched buffer are checked against a float64 reference.
 */
import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EngineSession, type PackedStep } from '../../src/engineHost/engineSession';
import { startEngine } from '../../src/extension/engine';
import { StepHistory } from '../../src/extension/history';
import type { StepSnapshot } from '../../src/shared/protocol';
import { StepVectors, packStep, packedParts, readStepHeader, unpackStep } from '../../src/shared/snapshotCodec';
import { Fixtures, ROOT, WORKER, ensureBuilt } from './cliHarness';
import { moments64, movingUpdate64 } from './reference';

const X = [
  [1, 2, 3],
  [3, 6, -1],
  [8, -4, 0.5],
  [0, 1, 2],
];
const MOMENTUM = 0.8;
const SCRIPT = `import * as tf from '@tensorflow/tfjs';
const bn = tf.layers.batchNormalization({ momentum: ${MOMENTUM} });
const x = tf.tensor2d(${JSON.stringify(X)});
for (let i = 0; i < 3; i++) {
  bn.apply(x, { training: true });
}
console.log('done');
`;

/** Records the buffer of every 'step' message as the worker posted it, before the session sees it. */
function recordWorkerBuffers(): { buffers: ArrayBuffer[]; restore(): void } {
  const proto = EngineSession.prototype as any;
  const original = proto.onMessage;
  const buffers: ArrayBuffer[] = [];
  proto.onMessage = function (m: any) {
    if (m?.type === 'step') buffers.push(m.buffer);
    return original.call(this, m);
  };
  return { buffers, restore: () => (proto.onMessage = original) };
}

/** the three moving means a float64 reference expects after each training call */
function expectedMovingMeans(): Float64Array[] {
  const m = moments64(X.flat(), [X.length, X[0].length]);
  const out: Float64Array[] = [];
  let mm: ArrayLike<number> = new Float64Array(3);
  for (let i = 0; i < 3; i++) out.push((mm = movingUpdate64(mm, m.mean, MOMENTUM)));
  return out;
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs(actual[i] - expected[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i])), `${what}[${i}]`);
}

describe('one encoding per step: the worker’s buffer is the one kept and posted', function () {
  this.timeout(120_000);
  const fx = new Fixtures('bn-one-encoding-');
  before(() => ensureBuilt());
  after(() => fx.cleanup());

  it('EngineSession hands on the very ArrayBuffer the worker posted, with its header read; the numbers decode right', async () => {
    const p = fx.write('three.ts', SCRIPT);
    const rec = recordWorkerBuffers();
    const delivered: PackedStep[] = [];
    try {
      const s = new EngineSession({ scriptPath: p, workerPath: WORKER });
      s.on('step', (step) => delivered.push(step));
      const r = await s.run();
      assert.equal(r.reason, 'done', JSON.stringify(r.error));
      assert.equal(rec.buffers.length, 3, 'three step messages from the worker');
      assert.equal(delivered.length, 3);
      const expected = expectedMovingMeans();
      for (let i = 0; i < 3; i++) {
        assert.ok(delivered[i].buffer === rec.buffers[i], `step ${i + 1}: the same ArrayBuffer object as posted`);
        assert.ok(r.steps[i].buffer === rec.buffers[i], `step ${i + 1}: the result keeps that object too`);
        assert.deepEqual(delivered[i].header, readStepHeader(rec.buffers[i]), 'the header is the buffer’s');
        assert.equal(delivered[i].header.index, i + 1);
        assert.equal(delivered[i].header.file, p);
        // decoded only here, from the untouched buffer: the moving mean follows the float64 reference
        const l = unpackStep(delivered[i].buffer).layers[0];
        close(l.movingMean, expected[i], `step ${i + 1} movingMean`);
        close(l.lastTrainingCall!.batchMean, moments64(X.flat(), [4, 3]).mean, `step ${i + 1} batchMean`);
      }
    } finally {
      rec.restore();
    }
  });

  it('the extension’s engine adapter and its step history keep the worker’s buffer object, not a copy', async () => {
    const p = fx.write('three-ext.ts', SCRIPT);
    const rec = recordWorkerBuffers();
    const history = new StepHistory(100, 1 << 30);
    try {
      const ended = new Promise<void>((resolve) =>
        startEngine(
          { scriptPath: p, workerPath: WORKER },
          {
            compiled: () => {},
            console: () => {},
            // what ScriptSession.onStep does with a step: the buffer into the history, the header for the rest
            step: ({ buffer, header }) => history.push(header.index, buffer),
            end: () => resolve(),
          },
        ),
      );
      await ended;
      assert.equal(rec.buffers.length, 3);
      assert.deepEqual(
        history.entries().map((e) => e.index),
        [1, 2, 3],
      );
      history
        .entries()
        .forEach((e, i) => assert.ok(e.buffer === rec.buffers[i], `history entry ${i + 1} is the posted object`));
    } finally {
      rec.restore();
    }
  });

  it('no host code packs a step: packStep is in dist/worker.js only, and no host source imports it', () => {
    const dist = join(ROOT, 'dist');
    const has = (f: string) => /function packStep\(/.test(readFileSync(join(dist, f), 'utf8'));
    assert.ok(has('worker.js'), 'the worker bundle packs (the test would be blind otherwise)');
    for (const f of ['cli.js', 'extension.js', 'webview.js']) assert.ok(!has(f), `${f} holds no packStep`);
    for (const dir of ['src/engineHost', 'src/extension', 'webview'])
      for (const f of readdirSync(join(ROOT, dir)).filter((n) => n.endsWith('.ts'))) {
        const text = readFileSync(join(ROOT, dir, f), 'utf8');
        assert.doesNotMatch(text, /import\s*\{[^}]*\bpackStep\b/, `${dir}/${f} imports no packStep`);
        assert.doesNotMatch(text, /\bpackStep\s*\(/, `${dir}/${f} calls no packStep`);
      }
  });

  it('readStepHeader reads the JSON header only: vectors stay [offset, length] and are not read', () => {
    const v = (...xs: number[]) => new Float32Array(xs);
    const step: StepSnapshot = {
      index: 4,
      line: 12,
      column: 3,
      file: '/tmp/s.ts',
      hit: 2,
      layers: [
        {
          name: 'bn',
          path: ['m', 'bn'],
          source: { file: '/tmp/s.ts', line: 4, column: 12 },
          axis: -1,
          channels: 2,
          momentum: 0.99,
          epsilon: 1e-3,
          trainable: true,
          calls: 1,
          updates: 1,
          movingMean: v(0.5, -1),
          movingVariance: v(2, 3),
          gamma: null,
          beta: v(0, 0.25),
          movingUpdated: true,
          lastCall: {
            training: true,
            statsUsed: 'batch',
            inputShape: [4, 2],
            batchMean: v(1, 2),
            batchVariance: v(3, 4),
          },
          lastTrainingCall: null,
          warnings: [{ code: 'NON_FINITE', message: 'x' }],
        },
      ],
    };
    const buf = packStep(step);
    const before = readStepHeader(buf);
    assert.deepEqual(before.layers[0].movingMean, [0, 2]);
    assert.deepEqual(before.layers[0].beta, [4, 2]);
    assert.equal(before.layers[0].gamma, null);
    assert.deepEqual(before.layers[0].lastCall!.batchVariance, [8, 2]);
    // scribble over the vector data: the header reads the same, the full decode sees the scribble
    packedParts(buf).data.fill(Number.NaN);
    assert.deepEqual(readStepHeader(buf), before);
    assert.ok(Number.isNaN(unpackStep(buf).layers[0].movingMean[0]));
    // and unpackStep with the header already read equals unpackStep alone (one JSON parse is enough)
    const fresh = packStep(step);
    assert.deepEqual(unpackStep(fresh, readStepHeader(fresh)), unpackStep(fresh));
    assert.deepEqual(Array.from(unpackStep(fresh).layers[0].movingVariance), [2, 3]);
  });

  it('a sentence many layers warn with is in the packed header once; every layer reads it back', () => {
    const long = 'trainable is false, yet 1 training-mode call in this step updated the moving mean. '.repeat(10);
    const layer = (name: string, warnings: StepSnapshot['layers'][number]['warnings']) => ({
      name,
      path: [name],
      source: null,
      axis: -1,
      channels: 1,
      momentum: 0.99,
      epsilon: 1e-3,
      trainable: false,
      calls: 1,
      updates: 1,
      movingMean: new Float32Array([0]),
      movingVariance: new Float32Array([1]),
      gamma: null,
      beta: null,
      movingUpdated: true,
      lastCall: null,
      lastTrainingCall: null,
      warnings,
    });
    const frozen = { code: 'TRAINABLE_FALSE_STILL_UPDATES', message: long } as const;
    const other = { code: 'NON_FINITE', message: 'NaN or Infinity in gamma (channel 0).' } as const;
    const layers = Array.from({ length: 52 }, (_, i) =>
      layer(`bn${i}`, i === 7 ? [frozen, other] : i === 9 ? [] : [{ ...frozen, message: long.slice() }]),
    );
    const step: StepSnapshot = { index: 1, line: 1, column: 1, file: '/tmp/s.ts', hit: 1, layers };
    const buf = packStep(step);
    const hlen = packedParts(buf).header.length;
    const json = new TextDecoder().decode(packedParts(buf).header);
    assert.equal(json.split('updated the moving mean').length - 1, 10, 'the long sentence once (its 10 repeats)');
    // each layer's own fields take ~370 bytes; the sentence (850 characters) is there once, not 51 times
    assert.ok(hlen < 52 * 450 + long.length, `header ${hlen} bytes`);
    const back = readStepHeader(buf);
    back.layers.forEach((l, i) => assert.deepEqual(l.warnings, step.layers[i].warnings, `layer ${i}`));
    assert.deepEqual(
      unpackStep(buf).layers.map((l) => l.warnings),
      step.layers.map((l) => l.warnings),
    );
    // the step itself is left as it was
    assert.equal(step.layers[0].warnings[0].message, long);
  });
  it('a snapshot whose vectors lie in a StepVectors buffer is packed into that buffer: no vector is copied again', () => {
    const vectors = new StepVectors(64, 2);
    const layer = (name: string, base: number): StepSnapshot['layers'][number] => {
      const mm = vectors.copy([base, base + 1, base + 2]);
      return {
        name,
        path: ['model', name],
        source: { file: '/tmp/s.ts', line: 3, column: 1 },
        axis: -1,
        channels: 3,
        momentum: 0.99,
        epsilon: 1e-3,
        trainable: true,
        calls: 2,
        updates: 1,
        movingMean: mm,
        movingVariance: vectors.copy([1, 2, 3]),
        gamma: vectors.copy([1, 1, 1]),
        beta: null,
        movingUpdated: true,
        movingBefore: { mean: mm, variance: vectors.copy([0.5, 0.5, 0.5]) }, // a vector may appear twice
        lastCall: {
          training: true,
          statsUsed: 'batch',
          inputShape: [4, 3],
          batchMean: vectors.copy([base * 2, 0, -1]),
          batchVariance: vectors.copy([4, 5, 6]),
        },
        lastTrainingCall: null,
        warnings: [{ code: 'NON_FINITE', message: `about ${name}` }],
      };
    };
    const step: StepSnapshot = {
      index: 2,
      line: 5,
      column: 3,
      file: '/tmp/s.ts',
      hit: 1,
      layers: [layer('a', 1), layer('b', 10)],
    };
    const expected = JSON.parse(JSON.stringify(step, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v)));
    const buf = packStep(step);
    assert.equal(buf, step.layers[0].movingMean.buffer, 'the StepVectors buffer itself');
    const back = unpackStep(buf);
    assert.deepEqual(
      JSON.parse(JSON.stringify(back, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v))),
      expected,
    );
    assert.equal(back.layers[1].movingBefore!.mean[0], 10);
    // a second pack of the same step copies (one pack per buffer: the first one holds the header)
    const again = packStep(step);
    assert.notEqual(again, buf);
    assert.deepEqual(unpackStep(again), back);
  });

  it('a header longer than the room after the vectors, or a vector outside the buffer: packed by copying, the same', () => {
    const toJson = (x: unknown) =>
      JSON.parse(JSON.stringify(x, (_k, v) => (v instanceof Float32Array ? Array.from(v) : v)));
    for (const variant of ['long header', 'outside vector'] as const) {
      const vectors = new StepVectors(8, 1);
      const mm = vectors.copy([1, 2]);
      const step: StepSnapshot = {
        index: 1,
        line: 1,
        column: 1,
        file: '/tmp/s.ts',
        hit: 1,
        layers: [
          {
            name: 'bn',
            path: ['bn'],
            source: null,
            axis: -1,
            channels: 2,
            momentum: 0.9,
            epsilon: 1e-3,
            trainable: false,
            calls: 0,
            updates: 0,
            movingMean: mm,
            movingVariance: variant === 'outside vector' ? new Float32Array([3, 4]) : vectors.copy([3, 4]),
            gamma: null,
            beta: null,
            movingUpdated: false,
            movingBefore: null,
            lastCall: null,
            lastTrainingCall: null,
            warnings: [{ code: 'NON_FINITE', message: variant === 'long header' ? 'x'.repeat(200_000) : 'short' }],
          },
        ],
      };
      const buf = packStep(step);
      assert.notEqual(buf, mm.buffer, variant);
      assert.deepEqual(toJson(unpackStep(buf)), toJson(step), variant);
    }
  });
});
