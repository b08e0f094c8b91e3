// One encoding per step, in a real VS Code: the session keeps, announces and lets the panel post the one buffer
// it was given (test/unit/oneEncoding.test.ts proves that buffer is the worker's own, and that the host bundle
// holds no packing code).
import * as assert from 'assert';
import * as vscode from 'vscode';
import { readStepHeader, unpackStep } from '../../src/shared/snapshotCodec';
import { LOOP } from './support/fixtures';
import { api, closeAllEditors, lineOf, open, stopAll, writeFixture } from './support/host';

suite('one encoding per step (session)', () => {
  const started: string[] = [];
  suiteTeardown(async () => {
    await stopAll(await api(), started);
    await closeAllEditors();
  });

  test('each step event carries the buffer the history keeps (same object) and that buffer’s header', async () => {
    const a = await api();
    const file = writeFixture('one-encoding.ts', LOOP);
    started.push(file);
    const { doc } = await open(file);
    const line = lineOf(LOOP, /LOOP-PREDICT/);
    const r: any = await vscode.commands.executeCommand('batchnormInspector.runToLine', doc.uri, line);
    assert.strictEqual(r.state, 'paused');
    const s = a.getSession(doc.uri)!;
    const seen: { step: any; buffer: ArrayBuffer }[] = [];
    const sub = s.onDidStep(({ step, buffer }) => seen.push({ step, buffer }));
    try {
      for (let i = 0; i < 3; i++) {
        await vscode.commands.executeCommand('batchnormInspector.step', doc.uri);
        await s.settled();
      }
    } finally {
      sub.dispose();
    }
    assert.strictEqual(seen.length, 3, 'three more steps');
    const entries = s.history.entries();
    for (const { step, buffer } of seen) {
      const kept = entries.find((e) => e.index === step.index);
      assert.ok(kept, `step ${step.index} is in the history`);
      assert.ok(kept.buffer === buffer, `step ${step.index}: the history holds the very buffer the event carried`);
      assert.deepStrictEqual(step, readStepHeader(buffer), 'the event’s step is the buffer’s header');
    }
    assert.ok(s.lastStep === seen[2].step, 'lastStep is the newest header');
    assert.deepStrictEqual(
      seen.map((x) => [x.step.line, x.step.hit]),
      [
        [line, 2],
        [line, 3],
        [line, 4],
      ],
    );
    // the vectors decode from the kept buffer: four channels of a predict on x
    const l = unpackStep(seen[2].buffer).layers[0];
    assert.strictEqual(l.channels, 4);
    assert.deepStrictEqual(Array.from(l.lastCall!.batchMean), [1.5, 2.5, 3.5, 4.5]);
    await s.stop();
  });
});
