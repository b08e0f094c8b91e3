// Pure parts of the panel's compare view and of the `trainable` trap, in Node: what the panel keeps of the compare
// run (CompareModel: bounded, paired by layer key, 'waiting' / 'ended'), the overview's paired indicator, the trap
// sentence and what trainable means per framework, PyTorch's momentum, the 'differs' filter, and the sentence and
// badges of a layer that Keras ran in inference mode inside fit.
// One suite file per area (the compare view's pure logic): its cases share the snapshot builders.
import assert from 'node:assert/strict';
import type { CallRecord, CompareInfo, LayerSnapshot, StepSnapshot } from '../../src/shared/protocol';
import { TRAINABLE_MEANING } from '../../src/shared/semantics';
import { packStep } from '../../src/shared/snapshotCodec';
import { CompareModel, KEEP_COMPARE_STEPS } from '../../webview/compareModel';
import {
  cardCompareLine,
  compareBanner,
  momentumText,
  rowIndicator,
  trainableMeanings,
  trainableTrap,
} from '../../webview/compareText';
import { explainLayer, layerBadges } from '../../webview/explain';
import { layerKeys } from '../../webview/history';
import { matchesState, stateCounts } from '../../webview/layerState';

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

const call = (training: boolean, statsUsed: 'batch' | 'moving' = training ? 'batch' : 'moving'): CallRecord => ({
  training,
  statsUsed,
  inputShape: [4, 3],
  batchMean: f([0.5, 0.25, -1]),
  batchVariance: f([2, 0.5, 0]),
});

function step(index: number, layers: LayerSnapshot[]): StepSnapshot {
  return {
    index,
    file: '/w/s.ts',
    line: 3,
    column: 1,
    hit: index,
    kind: 'fit',
    layers,
  } as unknown as StepSnapshot;
}

const info = (over: Partial<CompareInfo> = {}): CompareInfo => ({
  semantics: 'keras',
  state: 'paused',
  error: null,
  status: 'keras: at step 1',
  ...over,
});

describe('webview: the compare model (packed steps of the compare run, paired by key)', () => {
  const mine = step(2, [
    layer({ name: 'a', path: ['m', 'a'], movingMean: f([1, 2, 3]) }),
    layer({ name: 'b', path: ['m', 'b'] }),
    layer({ name: 'b', path: ['m', 'b'], movingVariance: f([2, 2, 2]) }),
  ]);
  const keys = layerKeys(mine);

  it('pairs each layer by key (duplicates in order), compares, and counts what differs', () => {
    const m = new CompareModel();
    const other = step(2, [
      layer({ name: 'a', path: ['m', 'a'], movingMean: f([1, 2, 3.5]) }),
      layer({ name: 'b', path: ['m', 'b'] }),
      layer({ name: 'b', path: ['m', 'b'], movingVariance: f([2, 2, 2]) }),
      layer({ name: 'extra', path: ['m', 'extra'] }),
    ]);
    m.set({ type: 'compare', compare: info(), steps: [packStep(step(1, [])), packStep(other)] });
    const s = m.forStep(mine, keys, 'tfjs');
    assert.equal(s.status, 'paired');
    assert.equal(s.semB, 'keras');
    assert.deepEqual([...s.pairs.keys()], ['m/a', 'm/b', 'm/b#2']);
    assert.equal(s.pairs.get('m/a')!.cmp!.differs, true);
    assert.equal(s.pairs.get('m/a')!.cmp!.vectors.movingMean.maxAbs, 0.5);
    assert.equal(s.pairs.get('m/a')!.cmp!.vectors.movingMean.channel, 2);
    assert.equal(s.pairs.get('m/b')!.cmp!.differs, false);
    assert.equal(s.pairs.get('m/b#2')!.cmp!.differs, false, 'the second m/b pairs with the second');
    assert.equal(s.differing, 1);
    assert.equal(s.unpaired, 1);
    assert.equal(m.forStep(mine, keys, 'tfjs'), s, 'cached until something changes');
  });

  it("'waiting' while the compare step is not there, 'ended' when the run ended; paired when it arrives", () => {
    const m = new CompareModel();
    m.set({ type: 'compare', compare: info({ state: 'running' }), steps: [packStep(step(1, []))] });
    assert.equal(m.forStep(mine, keys, 'tfjs').status, 'waiting');
    m.set({ type: 'compare', compare: info({ state: 'ended' }), steps: [packStep(step(1, []))] });
    assert.equal(m.forStep(mine, keys, 'tfjs').status, 'ended');
    m.set({ type: 'compare', compare: info({ state: 'running' }), steps: [] });
    assert.ok(m.step({ type: 'compareStep', buffer: packStep(step(2, mine.layers)) }));
    const s = m.forStep(mine, keys, 'tfjs');
    assert.equal(s.status, 'paired');
    assert.equal(s.differing, 0);
    assert.equal(m.step({ type: 'compareStep', buffer: 'nope' as unknown as ArrayBuffer }), false);
    m.clear();
    assert.equal(m.forStep(mine, keys, 'tfjs').status, 'off');
  });

  it(`keeps only the newest ${KEEP_COMPARE_STEPS} packed steps`, () => {
    const m = new CompareModel();
    m.set({ type: 'compare', compare: info(), steps: [] });
    for (let i = 1; i <= 20; i++) m.step({ type: 'compareStep', buffer: packStep(step(i, [layer()])) });
    assert.equal(m.stepAt(20 - KEEP_COMPARE_STEPS), null);
    assert.equal(m.stepAt(21 - KEEP_COMPARE_STEPS)!.index, 21 - KEEP_COMPARE_STEPS);
    assert.equal(m.stepAt(20)!.index, 20);
  });
});

describe('webview: compare texts', () => {
  it('the row indicator: "= Keras", "≠ Keras: max Δ var …", the why as its title', () => {
    const m = new CompareModel();
    const a = step(1, [layer({ movingVariance: f([1, 1.31, 1]) }), layer({ name: 'c', path: ['c'] })]);
    const b = step(1, [
      layer({ movingVariance: f([1, 1, 1]), movingMean: f([0, 0.1, 0]) }),
      layer({ name: 'c', path: ['c'] }),
    ]);
    m.set({ type: 'compare', compare: info(), steps: [packStep(b)] });
    const s = m.forStep(a, layerKeys(a), 'tfjs');
    const r = rowIndicator(s.pairs.get('bn'), 'keras');
    // |Δ var| = 0.31 (float32 of 1.31 − 1) > |Δ mean| 0.1: the variance is named
    assert.match(r.text, /^≠ Keras: max Δ var 0\.31$/);
    assert.equal(r.differs, true);
    assert.equal(r.title, s.pairs.get('bn')!.cmp!.why);
    assert.deepEqual(rowIndicator(s.pairs.get('c'), 'keras').text, '= Keras');
    assert.equal(rowIndicator(undefined, 'pytorch').text, '≠ PyTorch: no such layer');
  });

  it('the card line and the banner say when there is nothing to compare yet, or any more', () => {
    assert.equal(
      cardCompareLine('waiting', undefined, 'keras', 4, info()),
      'Compared with Keras: step 4 of the Keras run is not there yet (it is running).',
    );
    const err = { message: 'Expected more than 1 value per channel when training', line: 9, column: 1, kind: 'run' };
    assert.equal(
      cardCompareLine(
        'ended',
        undefined,
        'pytorch',
        4,
        info({ semantics: 'pytorch', state: 'ended', error: err as never }),
      ),
      'Compared with PyTorch: the PyTorch run ended before step 4 (Expected more than 1 value per channel when training), so there is nothing to compare here.',
    );
    assert.equal(
      compareBanner('paired', 'keras', 3, info(), 2, 52),
      'Compared with Keras at step 3: 2 of 52 layers differ.',
    );
    assert.equal(
      compareBanner('paired', 'keras', 3, info(), 0, 52),
      'Compared with Keras at step 3: all 52 layers have the same values.',
    );
  });

  it('PyTorch momentum beside tfjs momentum (1 − m, printed short)', () => {
    assert.equal(momentumText(0.99, true), 'momentum 0.99 (PyTorch momentum = 0.01)');
    assert.equal(momentumText(0.999, true), 'momentum 0.999 (PyTorch momentum = 0.001)');
    assert.equal(momentumText(0.9, true), 'momentum 0.9 (PyTorch momentum = 0.1)');
    assert.equal(momentumText(0.99, false), 'momentum 0.99');
  });

  it("the 'differs' filter keeps what differs, and every layer when there is no compare step", () => {
    const l = layer();
    assert.equal(matchesState(l, 'differs', true), true);
    assert.equal(matchesState(l, 'differs', false), false);
    assert.equal(matchesState(l, 'differs', null), true);
    assert.equal(stateCounts([l, l, l], (i) => i === 1).differs, 1);
  });
});

describe('webview: the trainable trap in plain view', () => {
  it('a frozen layer in predict: trainable is not why; inference mode is', () => {
    const l = layer({ trainable: false, calls: 1, lastCall: call(false) });
    const t = trainableTrap(l, 'tfjs')!;
    assert.match(t, /^trainable = false is not why its moving statistics stay put: the call ran in inference mode/);
    assert.match(t, /training = false: predict, evaluate, or apply without training: true/);
    // badges: the mode first and prominent, trainable neutral, no warning tone
    const b = layerBadges(l);
    assert.equal(b[0].text, 'inference mode: moving statistics, not updated');
    assert.equal(b[0].prominent, true);
    assert.deepEqual(
      b.filter((x) => x.tone === 'warn'),
      [],
    );
    assert.equal(b.find((x) => x.text === 'trainable: false')!.tone, 'neutral');
    assert.equal(
      b.find((x) => x.text === 'trainable: false')!.title,
      `the layer's trainable flag. ${TRAINABLE_MEANING.tfjs}`,
    );
  });

  it("Keras's fit: training = true, inference mode because trainable is false: said so", () => {
    const l = layer({ trainable: false, calls: 2, lastCall: call(true, 'moving') });
    assert.match(
      trainableTrap(l, 'keras')!,
      /under Keras, trainable = false forces inference mode even when training = true/,
    );
    assert.match(
      explainLayer(l, null, 'keras'),
      /^Called with training = true \(2 calls\), but under Keras trainable = false runs this layer in inference mode, even in fit: normalised with the moving statistics, which did not change\.$/,
    );
    const b = layerBadges(l, 'keras');
    assert.deepEqual(
      b.map((x) => x.text),
      ['inference mode: moving statistics, not updated', 'training: true', 'trainable: false', '2 calls'],
    );
    assert.match(b[1].title, /Keras ran it in inference mode all the same, because trainable is false/);
  });

  it('no trap text when it does not apply (trainable, training mode, updated, never called)', () => {
    assert.equal(trainableTrap(layer({ calls: 1, lastCall: call(false) }), 'tfjs'), null);
    assert.equal(trainableTrap(layer({ trainable: false, calls: 1, updates: 1, lastCall: call(true) }), 'tfjs'), null);
    assert.equal(trainableTrap(layer({ trainable: false }), 'tfjs'), null);
  });

  it('what trainable = false means in each framework (Keras or tf.keras, as used)', () => {
    assert.deepEqual(trainableMeanings(['tfjs']), [
      TRAINABLE_MEANING.tfjs,
      TRAINABLE_MEANING.keras,
      TRAINABLE_MEANING.pytorch,
    ]);
    assert.deepEqual(trainableMeanings(['tfjs', 'tf-keras']), [
      TRAINABLE_MEANING.tfjs,
      TRAINABLE_MEANING['tf-keras'],
      TRAINABLE_MEANING.pytorch,
    ]);
  });

  it('PyTorch frozen but updated: PyTorch, like tfjs, ignores it', () => {
    const l = layer({ trainable: false, calls: 1, updates: 1, movingUpdated: true, lastCall: call(true) });
    assert.match(
      explainLayer(l, null, 'pytorch'),
      /^trainable is false but the moving statistics were updated: PyTorch, like tfjs/,
    );
  });
});
