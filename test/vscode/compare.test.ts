// The compare run, in a real VS Code extension host: the same script under a second semantics, in lockstep with the
// session (same step index after each Step), its steps and state posted to the panel, restarted with the session,
// ended with it, its error kept to itself; no worker left behind.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../src/extension/commands';
import type { CompareOutcome } from '../../src/extension/semanticsCommands';
import { unpackStep } from '../../src/shared/snapshotCodec';
import { FROZEN_FIT, LAST_BATCH_OF_ONE } from './support/fixtures';
import type { PostedCompare } from './support/extensionUnderTest';
import { api, closeAllEditors, lineOf, open, stopAll, until, writeFixture } from './support/host';

const started: string[] = [];

const frozen = (buf: ArrayBuffer) => unpackStep(buf).layers.find((l) => l.name === 'frozen_bn')!;

suite('compare run', () => {
  teardown(async () => {
    const a = await api();
    await stopAll(a, started);
    for (const f of started) await a.compareOf(vscode.Uri.file(f))?.stop();
  });
  suiteTeardown(async () => {
    await closeAllEditors();
  });

  test('lockstep: after step 2 the compare run is at step 2, after a Step at 3; the panel gets both; Stop ends both', async () => {
    const a = await api();
    const file = writeFixture('compare-frozen-fit.ts', FROZEN_FIT);
    started.push(file);
    const { doc } = await open(file);
    const fit = lineOf(FROZEN_FIT, /\/\/ FIT$/);
    await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToLine', doc.uri, fit);
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.step', doc.uri);
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(r.state, 'paused');
    assert.strictEqual(s.lastStep?.index, 2);
    assert.strictEqual(s.semantics, 'tfjs');
    await until('the panel is ready', () => a.panel.isOpen() && a.panel.isReady(), 30_000);
    const logFrom = a.panel.compareLog().length;

    const o = await vscode.commands.executeCommand<CompareOutcome>('batchnormInspector.compare', doc.uri, 'keras');
    assert.ok(o.ran && o.run, `compare ran (${o.reason ?? ''})`);
    const run = o.run;
    assert.strictEqual(run.semantics, 'keras');
    assert.strictEqual(run.state, 'paused', run.statusText(2));
    assert.strictEqual(run.stepIndex, 2, 'the compare run is at the session step');
    assert.strictEqual(run.statusText(2), 'Keras: at step 2, in lockstep');
    assert.strictEqual(a.compareOf(doc.uri), run);
    assert.strictEqual(a.semanticsStatusBar().text, '$(beaker) BN: tfjs ↔ Keras');
    // the same step point, different rules: Keras left the frozen layer alone, tfjs updated it
    const mine = s.lastStepBuffer()!;
    const theirs = run.history.entries().at(-1)!.buffer;
    assert.strictEqual(unpackStep(theirs).line, unpackStep(mine).line);
    assert.strictEqual(frozen(mine).updates, 2);
    assert.strictEqual(frozen(theirs).updates, 0);
    assert.strictEqual(frozen(theirs).movingUpdated, false);

    await until('the panel got the compare at step 2', () => {
      const log = a.panel.compareLog().slice(logFrom);
      return log.some((m) => m.type === 'compare' && m.compare?.state === 'paused' && m.steps.at(-1) === 2);
    });
    let log = a.panel.compareLog().slice(logFrom);
    assert.deepStrictEqual(
      log.filter((m) => m.type === 'compareStep').map((m) => (m as { index: number }).index),
      [1, 2],
      'each compare step posted once, in order',
    );
    const settled = log.filter((m) => m.type === 'compare' && m.compare?.state === 'paused').at(-1) as Extract<
      PostedCompare,
      { type: 'compare' }
    >;
    assert.deepStrictEqual(settled.steps, [1, 2]);
    assert.strictEqual(settled.compare?.semantics, 'keras');
    assert.strictEqual(settled.compare?.status, 'Keras: at step 2, in lockstep');

    // Step on the session: the compare run follows to step 3
    const from3 = a.panel.compareLog().length;
    await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.step', doc.uri);
    assert.strictEqual(s.lastStep?.index, 3);
    await until('compare at step 3', () => run.state === 'paused' && run.stepIndex === 3);
    await until('compareStep 3 posted', () =>
      a.panel
        .compareLog()
        .slice(from3)
        .some((m) => m.type === 'compareStep' && m.index === 3),
    );
    log = a.panel.compareLog().slice(from3);
    const stepIdx = log.findIndex((m) => m.type === 'step' && m.index === 3);
    const cmpIdx = log.findIndex((m) => m.type === 'compareStep' && m.index === 3);
    assert.ok(stepIdx >= 0 && cmpIdx >= 0, JSON.stringify(log));
    assert.ok(!log.some((m) => m.type === 'compareStep' && m.index > 3), 'never ahead of the session');

    // Stop: both workers end; the compare's last state reaches the panel
    await vscode.commands.executeCommand('batchnormInspector.stop', doc.uri);
    await until('both ended', () => s.state === 'ended' && run.state === 'ended');
    await until('no worker', () => a.liveWorkers() === 0 && a.liveCompareWorkers() === 0);
    await until('the ended compare posted', () =>
      a.panel.compareLog().some((m) => m.type === 'compare' && m.compare?.state === 'ended'),
    );
    assert.match(run.statusText(3), /^Keras: stopped/);
  });

  test('Restart restarts the compare beside the new session; Stop Compare ends it and clears the view', async () => {
    const a = await api();
    const file = writeFixture('compare-restart.ts', FROZEN_FIT);
    started.push(file);
    const { doc } = await open(file);
    const fit = lineOf(FROZEN_FIT, /\/\/ FIT$/);
    await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToLine', doc.uri, fit);
    const o = await vscode.commands.executeCommand<CompareOutcome>('batchnormInspector.compare', doc.uri, 'pytorch');
    const first = o.run!;
    assert.strictEqual(first.stepIndex, 1);
    await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.restart', doc.uri);
    const s2 = a.getSession(doc.uri)!;
    assert.strictEqual(s2.state, 'paused');
    const second = await until('a new compare run', () => {
      const c = a.compareOf(doc.uri);
      return c && c !== first ? c : undefined;
    });
    assert.strictEqual(second.semantics, 'pytorch');
    await until('first compare ended', () => first.state === 'ended');
    await second.settled();
    assert.strictEqual(second.stepIndex, s2.lastStep!.index);
    await until('one compare worker', () => a.liveCompareWorkers() === 1);

    await until('panel ready', () => a.panel.isReady(), 30_000);
    const from = a.panel.compareLog().length;
    assert.strictEqual(await vscode.commands.executeCommand('batchnormInspector.stopCompare', doc.uri), true);
    await until('compare worker gone', () => a.liveCompareWorkers() === 0);
    assert.strictEqual(a.compareOf(doc.uri), undefined);
    await until('compare null posted', () =>
      a.panel
        .compareLog()
        .slice(from)
        .some((m) => m.type === 'compare' && m.compare === null && m.steps.length === 0),
    );
    assert.strictEqual(s2.state, 'paused', 'the session goes on');
    assert.strictEqual(a.semanticsStatusBar().text, '$(beaker) BN: tfjs');
    // the next Restart has no compare
    await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.restart', doc.uri);
    assert.strictEqual(a.compareOf(doc.uri), undefined);
    await a.getSession(doc.uri)!.stop();
  });

  test('Continue: the session runs to its end, the compare run to the same last step, then both workers are gone', async () => {
    const a = await api();
    const file = writeFixture('compare-continue.ts', FROZEN_FIT);
    started.push(file);
    const { doc } = await open(file);
    const fit = lineOf(FROZEN_FIT, /\/\/ FIT$/);
    await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToLine', doc.uri, fit);
    const s = a.getSession(doc.uri)!;
    const o = await vscode.commands.executeCommand<CompareOutcome>('batchnormInspector.compare', doc.uri, 'tf-keras');
    const run = o.run!;
    assert.strictEqual(run.stepIndex, 1);
    await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.continue', doc.uri);
    await s.ended();
    assert.strictEqual(s.endReason, 'done');
    assert.strictEqual(s.lastStep?.index, 4, 'three fits and a predict');
    await run.ended();
    assert.strictEqual(run.stepIndex, 4, 'the compare run reached the same last step');
    assert.strictEqual(run.statusText(4), 'tf.keras (TF 2.x): stopped at step 4, where the session ended');
    assert.deepStrictEqual(
      run.history.entries().map((e) => e.index),
      [1, 2, 3, 4],
    );
    // same step points, step by step
    const mine = s.history.entries().map((e) => unpackStep(e.buffer).line);
    assert.deepStrictEqual(
      run.history.entries().map((e) => unpackStep(e.buffer).line),
      mine,
    );
    await until('no worker', () => a.liveWorkers() === 0 && a.liveCompareWorkers() === 0);
  });

  test("PyTorch's one-value-per-channel error ends the compare run only; the session goes on", async () => {
    const a = await api();
    const file = writeFixture('compare-last-batch.ts', LAST_BATCH_OF_ONE);
    started.push(file);
    const { doc } = await open(file);
    const fitLine = lineOf(LAST_BATCH_OF_ONE, /FIT-ONE/);
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToLine', doc.uri, fitLine);
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(r.state, 'paused', `${s.statusText()} ${s.error?.message ?? ''}`);
    assert.strictEqual(s.lastStep?.index, 2);
    const o = await vscode.commands.executeCommand<CompareOutcome>('batchnormInspector.compare', doc.uri, 'pytorch');
    const run = o.run!;
    assert.strictEqual(run.state, 'ended');
    assert.strictEqual(run.endReason, 'error');
    assert.strictEqual(run.stepIndex, 1, 'it got through the first predict');
    assert.match(run.error!.message, /Expected more than 1 value per channel when training, got input size \[1, 4\]/);
    assert.strictEqual(run.error!.line, fitLine, 'at the user line');
    const info = run.info(2);
    assert.strictEqual(info.state, 'ended');
    assert.match(
      info.status,
      /^PyTorch: threw at line \d+: Expected more than 1 value.*\(after step 1; the session is at step 2\)$/,
    );
    // the session goes on to the end
    await vscode.commands.executeCommand('batchnormInspector.continue', doc.uri);
    await s.ended();
    assert.strictEqual(s.endReason, 'done', s.endText());
    assert.strictEqual(s.stepCount, 3);
    assert.strictEqual(a.liveCompareWorkers(), 0);
  });
});
