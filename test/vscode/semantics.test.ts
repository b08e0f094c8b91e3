// The semantics setting and its pick, in a real VS Code extension host: the setting decides whose BatchNormalization
// rules a run follows (a frozen layer in fit: tfjs updates it, Keras does not), the quick pick shows the four with
// the current one marked and writes the setting, a paused session is run again under the new rules back to its
// step, and the status bar item says which rules the current run follows.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../src/extension/commands';
import type { PickOutcome } from '../../src/extension/semanticsCommands';
import type { ScriptSession } from '../../src/extension/session';
import { SEMANTICS_DETAIL } from '../../src/shared/semantics';
import { unpackStep } from '../../src/shared/snapshotCodec';
import { FROZEN_FIT } from './support/fixtures';
import { api, closeAllEditors, lineOf, open, stopAll, until, writeFixture } from './support/host';

const started: string[] = [];
const config = () => vscode.workspace.getConfiguration('batchnormInspector');

async function setSemantics(v: string | undefined): Promise<void> {
  await config().update('semantics', v, vscode.ConfigurationTarget.Workspace);
}

/** the frozen layer at the session's newest step */
function frozenLayer(s: ScriptSession) {
  const step = unpackStep(s.lastStepBuffer()!);
  const l = step.layers.find((x) => x.name === 'frozen_bn');
  assert.ok(l, `frozen_bn in step ${step.index}: ${step.layers.map((x) => x.name).join(', ')}`);
  return l;
}

suite('semantics setting and pick', () => {
  teardown(async () => {
    await stopAll(await api(), started);
    await setSemantics(undefined);
  });
  suiteTeardown(async () => {
    await closeAllEditors();
  });

  test('the setting decides the run: keras leaves the frozen layer alone in fit, tfjs updates it', async () => {
    const a = await api();
    const file = writeFixture('frozen-fit.ts', FROZEN_FIT);
    started.push(file);
    const { doc } = await open(file);
    const fit = lineOf(FROZEN_FIT, /\/\/ FIT$/);

    await setSemantics('keras');
    let r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToLine', doc.uri, fit);
    let s = a.getSession(doc.uri)!;
    assert.strictEqual(r.state, 'paused', `${s.statusText()} ${s.error?.message ?? ''}`);
    assert.strictEqual(s.semantics, 'keras');
    assert.strictEqual(s.info().semantics, 'keras');
    let l = frozenLayer(s);
    assert.strictEqual(l.trainable, false);
    assert.strictEqual(l.calls, 2, 'two batches of four');
    assert.strictEqual(l.updates, 0, 'keras: no update of a frozen layer in fit');
    assert.strictEqual(l.movingUpdated, false);
    assert.strictEqual(l.lastTrainingCall?.statsUsed ?? l.lastCall?.statsUsed, 'moving');
    assert.strictEqual(a.semanticsStatusBar().text, '$(beaker) BN: Keras');
    assert.strictEqual(a.semanticsStatusBar().command, 'batchnormInspector.pickSemantics');
    assert.match(a.semanticsStatusBar().tooltip, /runs under Keras rules/);
    await s.stop();

    await setSemantics('tfjs');
    r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToLine', doc.uri, fit);
    s = a.getSession(doc.uri)!;
    assert.strictEqual(r.state, 'paused');
    assert.strictEqual(s.semantics, 'tfjs');
    l = frozenLayer(s);
    assert.strictEqual(l.updates, 2, 'tfjs: fit updates the frozen layer once per batch');
    assert.strictEqual(l.movingUpdated, true);
    assert.strictEqual(a.semanticsStatusBar().text, '$(beaker) BN: tfjs');
    // the setting changed under a live session: the item still names the session's rules, the tooltip the setting's
    await setSemantics('pytorch');
    await until('tooltip mentions the setting', () => /setting now says PyTorch/.test(a.semanticsStatusBar().tooltip));
    assert.strictEqual(a.semanticsStatusBar().text, '$(beaker) BN: tfjs');
    await s.stop();
  });

  test('the pick: four with details, current marked; choosing Keras writes the setting and reruns to the same step', async () => {
    const a = await api();
    const file = writeFixture('frozen-fit-pick.ts', FROZEN_FIT);
    started.push(file);
    const { doc } = await open(file);
    const fit = lineOf(FROZEN_FIT, /\/\/ FIT$/);
    await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToLine', doc.uri, fit);
    await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.step', doc.uri);
    const before = a.getSession(doc.uri)!;
    assert.strictEqual(before.lastStep?.index, 2);
    assert.strictEqual(before.semantics, 'tfjs');

    const shown = a.quickPicks().length;
    const picked = vscode.commands.executeCommand<PickOutcome>('batchnormInspector.pickSemantics', doc.uri);
    const qp = await until('the quick pick shows', () => a.quickPicks()[shown]);
    await until('its items', () => qp.items.length === 4);
    const items = qp.items as (vscode.QuickPickItem & { semantics: string })[];
    assert.deepStrictEqual(
      items.map((i) => i.semantics),
      ['tfjs', 'keras', 'tf-keras', 'pytorch'],
    );
    assert.deepStrictEqual(
      items.map((i) => i.detail),
      items.map((i) => SEMANTICS_DETAIL[i.semantics as keyof typeof SEMANTICS_DETAIL]),
    );
    assert.match(items[0].label, /^\$\(check\) tfjs/, 'the current one is marked');
    assert.ok(!items.slice(1).some((i) => i.label.includes('$(check)')), 'only the current one is marked');
    assert.strictEqual((qp.activeItems[0] as (typeof items)[0]).semantics, 'tfjs', 'and selected first');
    // down one (the workbench's own command), accept
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await until('Keras is active', () => (qp.activeItems[0] as (typeof items)[0])?.semantics === 'keras');
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const o = await picked;
    assert.strictEqual(o.semantics, 'keras');
    assert.strictEqual(o.target, 'workspace');
    assert.strictEqual(config().inspect('semantics')?.workspaceValue, 'keras');
    assert.strictEqual(o.session, 'restarted');
    const after = a.getSession(doc.uri)!;
    assert.notStrictEqual(after, before);
    assert.strictEqual(after.semantics, 'keras');
    assert.strictEqual(after.state, 'paused');
    assert.strictEqual(after.lastStep?.index, 2, 'back at the step it was paused at');
    assert.strictEqual(frozenLayer(after).updates, 0);
    assert.strictEqual(before.state, 'ended');
    assert.strictEqual(a.semanticsStatusBar().text, '$(beaker) BN: Keras');
    assert.ok(a.messages().some((m) => /again from the top under Keras rules, back to step 2/.test(m.text)));
    await after.stop();
    assert.strictEqual(a.liveWorkers(), 0);
  });

  test('an ended session is not rerun unasked; a bad argument says what is expected', async () => {
    const a = await api();
    const file = writeFixture('frozen-fit-ended.ts', FROZEN_FIT);
    started.push(file);
    const { doc } = await open(file);
    await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(s.state, 'ended');
    const o = await vscode.commands.executeCommand<PickOutcome>('batchnormInspector.pickSemantics', doc.uri, 'pytorch');
    assert.strictEqual(o.session, 'offered');
    assert.strictEqual(a.getSession(doc.uri), s, 'the same session');
    assert.strictEqual(config().get('semantics'), 'pytorch');
    assert.ok(a.messages().some((m) => /next run of .* follows PyTorch rules/.test(m.text)));
    const bad = await vscode.commands.executeCommand<PickOutcome>('batchnormInspector.pickSemantics', doc.uri, 'jax');
    assert.strictEqual(bad.semantics, undefined);
    assert.ok(
      a.messages().some((m) => /Unknown BatchNormalization semantics "jax": expected one of tfjs, keras/.test(m.text)),
    );
    assert.strictEqual(config().get('semantics'), 'pytorch', 'unchanged');
  });
});
