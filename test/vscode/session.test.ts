// The session, in a real VS Code extension host: runs, steps, stops, errors, unsaved edits, export, workers.
// One suite file per area (the session): its cases share the fixtures and the extension's test API.
import * as assert from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { stepToJson } from '../../src/engineHost/runDocument';
import type { RunOutcome } from '../../src/extension/commands';
import type { sessionToJson } from '../../src/extension/exportJson';
import { ENDLESS, HELPER_MODULE, HOG, IMPORTER, LOOP, MARKED, SLOW, THROWS, THROWS_FIXED } from './support/fixtures';
import {
  api,
  closeAllEditors,
  extensionPath,
  lensesOf,
  lineOf,
  open,
  setText,
  sleep,
  stopAll,
  until,
  workspaceDir,
  writeFixture,
} from './support/host';

/** the contract's JSON document (bn-inspect --json, Export Snapshots) */
type SessionJson = ReturnType<typeof sessionToJson>;

const started: string[] = [];

function cliJson(script: string, args: string[]): Promise<SessionJson> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(extensionPath(), 'dist', 'cli.js'), 'run', script, '--json', ...args],
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout));
        } catch {
          reject(new Error(`bn-inspect gave no JSON (${err?.message ?? ''}): ${stderr.slice(-2000)}`));
        }
      },
    );
  });
}

async function runTo(uri: vscode.Uri, line: number): Promise<RunOutcome> {
  return vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToLine', uri, line);
}

suite('session', () => {
  // a test that fails half-way leaves no worker behind for the next one (which may count workers)
  teardown(async () => {
    await stopAll(await api(), started);
  });
  suiteTeardown(async () => {
    await closeAllEditors();
  });

  test('run to the predict line of frozen-predict.ts: the snapshot equals bn-inspect --json', async () => {
    const a = await api();
    const file = path.join(workspaceDir(), 'frozen-predict.ts');
    assert.ok(fs.existsSync(file), 'the question example frozen-predict.ts is in the workspace');
    started.push(file);
    const { doc } = await open(file);
    const pts = a.stepPoints(doc).points;
    const predict = pts.find((p) => p.reason === 'predict');
    assert.ok(predict, `frozen-predict.ts has a predict step point (${JSON.stringify(pts.map((p) => p.reason))})`);
    const r = await runTo(doc.uri, predict.line);
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(r.state, 'paused', `paused at the predict line (${s.statusText()}; ${s.error?.message ?? ''})`);
    assert.strictEqual(s.lastStep!.line, predict.line);
    const cli = await cliJson(file, ['--to', String(predict.line)]);
    assert.strictEqual(cli.schema, 'bn-inspector/v1');
    const mine = s.allSteps().map(stepToJson);
    assert.strictEqual(mine.length, cli.steps.length, 'as many steps as bn-inspect took');
    for (let i = 0; i < mine.length; i++) {
      assert.strictEqual(mine[i].index, cli.steps[i].index);
      assert.strictEqual(mine[i].line, cli.steps[i].line);
      assert.strictEqual(mine[i].hit, cli.steps[i].hit);
      // every layer, every field, every vector element: exactly equal
      assert.deepStrictEqual(JSON.parse(JSON.stringify(mine[i].layers)), cli.steps[i].layers, `step ${i + 1} layers`);
    }
    assert.ok(mine.at(-1)!.layers.length > 0, 'the step shows a BN layer');
    assert.strictEqual(s.tfjs, cli.tfjs);
    assert.strictEqual(s.backend, cli.backend);
    await s.stop();
  });

  test('step three times in a loop: hit goes 1, 2, 3', async () => {
    const a = await api();
    const file = writeFixture('loop.ts', LOOP);
    started.push(file);
    const { doc } = await open(file);
    const line = lineOf(LOOP, /LOOP-PREDICT/);
    const r = await runTo(doc.uri, line);
    assert.strictEqual(r.state, 'paused');
    const hits = [a.getSession(doc.uri)!.lastStep!.hit];
    for (let i = 0; i < 2; i++) {
      const o = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.step', doc.uri);
      assert.strictEqual(o.state, 'paused');
      hits.push(a.getSession(doc.uri)!.lastStep!.hit);
    }
    assert.deepStrictEqual(hits, [1, 2, 3]);
    assert.strictEqual(a.statusBar().text, `$(debug-pause) BN: paused at line ${line} · step 3 · hit 3`);
    assert.strictEqual(a.statusBar().command, 'batchnormInspector.openInspector');
    const s = a.getSession(doc.uri)!;
    assert.deepStrictEqual(
      s.allSteps().map((x) => [x.index, x.line, x.hit]),
      [
        [1, line, 1],
        [2, line, 2],
        [3, line, 3],
      ],
    );
    // Continue runs to the end: two more hits, the output, a clean end
    await vscode.commands.executeCommand('batchnormInspector.continue', doc.uri);
    await until('the end', () => s.state === 'ended');
    assert.strictEqual(s.endReason, 'done');
    assert.strictEqual(s.stepCount, 5);
    assert.match(s.output, /loop done/);
  });

  test('Run to Cursor pauses at the step point at or after the cursor; Restart runs again to the same place', async () => {
    const a = await api();
    const file = writeFixture('cursor.ts', LOOP);
    started.push(file);
    const { doc, editor } = await open(file);
    const target = lineOf(LOOP, /LOOP-PREDICT/);
    const cursor = new vscode.Position(target - 3, 0); // above the loop: the next step point is the predict
    editor.selection = new vscode.Selection(cursor, cursor);
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToCursor');
    assert.strictEqual(r.state, 'paused');
    const s = a.getSession(doc.uri)!;
    assert.deepStrictEqual([s.lastStep!.line, s.lastStep!.hit], [target, 1]);
    await vscode.commands.executeCommand('batchnormInspector.step', doc.uri);
    assert.strictEqual(a.getSession(doc.uri)!.lastStep!.hit, 2);
    const r2 = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.restart', doc.uri);
    assert.strictEqual(r2.state, 'paused');
    const s2 = a.getSession(doc.uri)!;
    assert.notStrictEqual(s2, s);
    // the old session is stopped asynchronously (Sessions.start disposes it); on a busy machine the new run can reach
    // its pause first
    await until('the old worker ended', () => s.state === 'ended');
    assert.deepStrictEqual([s2.lastStep!.line, s2.lastStep!.hit, s2.stepCount], [target, 1, 1]);
    // after the last step point there is nowhere to run to: nothing starts
    const end = new vscode.Position(doc.lineCount - 1, 0);
    editor.selection = new vscode.Selection(end, end);
    const r3 = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToCursor');
    assert.deepStrictEqual([r3.ran, r3.reason], [false, 'noStepPoint']);
    assert.strictEqual(a.getSession(doc.uri), s2);
    await s2.stop();
  });

  test('Run to here in a file the paused script imports: the same run goes on to that line', async () => {
    const a = await api();
    const helper = writeFixture('helper-module.ts', HELPER_MODULE);
    const main = writeFixture('importer.ts', IMPORTER);
    started.push(main, helper);
    const { doc } = await open(main);
    const r = await runTo(doc.uri, lineOf(IMPORTER, /MAIN-FIRST/));
    assert.strictEqual(r.state, 'paused');
    const s = a.getSession(doc.uri)!;
    const { doc: hdoc } = await open(helper);
    const hline = lineOf(HELPER_MODULE, /HELPER-APPLY/);
    const lenses = await lensesOf(hdoc.uri);
    assert.deepStrictEqual(
      lenses.map((l) => [l.line, l.title]),
      [[hline, '▶ Run until this statement finishes']],
    );
    const r2 = await runTo(hdoc.uri, hline);
    assert.strictEqual(r2.state, 'paused');
    assert.strictEqual(a.getSession(doc.uri), s, 'the same session went on');
    assert.strictEqual(a.getSession(hdoc.uri), undefined, 'no session of its own for the imported file');
    // the worker names files by their real path (the workspace may lie behind a symbolic link)
    assert.strictEqual(s.lastStep!.file, fs.realpathSync(helper));
    assert.strictEqual(s.lastStep!.line, hline);
    assert.strictEqual(s.lastStep!.layers[0].updates, 1, 'the training apply in the helper updated the moving stats');
    await until('the helper shows where the run is paused', async () =>
      (await lensesOf(hdoc.uri)).some((l) => l.title === 'paused here · step 2 · hit 1'),
    );
    await s.stop();
  });

  test('Stop during an endless loop returns within 2 s and no worker remains', async () => {
    const a = await api();
    const file = writeFixture('endless.ts', ENDLESS);
    started.push(file);
    const { doc } = await open(file);
    const run = vscode.commands.executeCommand('batchnormInspector.runScript', doc.uri);
    const s = await until('the session', () => a.getSession(doc.uri));
    await until('the first step (the loop is running after it)', () => s.stepCount >= 1, 60_000);
    await sleep(300);
    assert.strictEqual(s.state, 'running');
    const t0 = Date.now();
    await vscode.commands.executeCommand('batchnormInspector.stop', doc.uri);
    const ms = Date.now() - t0;
    assert.ok(ms < 2000, `Stop returned in ${ms} ms`);
    assert.strictEqual(s.state, 'ended');
    assert.strictEqual(s.endReason, 'stopped');
    assert.ok(s.workerExited, 'the worker exited');
    assert.strictEqual(a.liveWorkers(), 0, 'no worker remains');
    assert.strictEqual(s.stepCount, 1, 'the snapshot taken before is kept');
    await run;
  });

  test('a step slower than half a second shows a progress notification; Cancel stops the worker and keeps the snapshots', async () => {
    const a = await api();
    const file = writeFixture('slow.ts', SLOW(1500));
    started.push(file);
    const { doc } = await open(file);
    const r = await runTo(doc.uri, lineOf(SLOW(0), /QUICK/));
    assert.strictEqual(r.state, 'paused');
    // a slow step: the notification comes, then goes when the step is done
    const shown = a.progress.shown();
    const step = vscode.commands.executeCommand('batchnormInspector.step', doc.uri);
    await until('a progress notification', () => a.progress.isShowing(doc.uri), 1400);
    await step;
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(s.state, 'paused');
    assert.strictEqual(a.progress.isShowing(doc.uri), false, 'gone once paused');
    assert.ok(a.progress.shown() > shown);
    // a quick step: none
    const before = a.progress.shown();
    await vscode.commands.executeCommand('batchnormInspector.step', doc.uri);
    assert.strictEqual(a.progress.shown(), before, 'no notification for a quick step');
    // run it again with a step that takes long, and Cancel it
    await vscode.commands.executeCommand('batchnormInspector.stop', doc.uri);
    const file2 = writeFixture('slow-cancel.ts', SLOW(60_000));
    started.push(file2);
    const { doc: d2 } = await open(file2);
    const r2 = await runTo(d2.uri, lineOf(SLOW(0), /QUICK/));
    assert.strictEqual(r2.state, 'paused');
    const pending = vscode.commands.executeCommand('batchnormInspector.step', d2.uri);
    await until('a progress notification', () => a.progress.isShowing(d2.uri), 5_000);
    const s2 = a.getSession(d2.uri)!;
    assert.strictEqual(s2.state, 'running');
    assert.ok(a.progress.cancel(d2.uri));
    await pending;
    await until('ended', () => s2.state === 'ended', 2_000);
    assert.strictEqual(s2.endReason, 'stopped');
    assert.strictEqual(s2.stoppedBy, 'cancel');
    assert.strictEqual(s2.stepCount, 1, 'the snapshot taken before is kept');
    assert.ok(s2.workerExited);
  });

  test('a script that throws: one diagnostic on its line; fixing the text and running again clears it', async () => {
    const a = await api();
    const file = writeFixture('throws.ts', THROWS);
    started.push(file);
    const { doc } = await open(file);
    const line = lineOf(THROWS, /THROW-LINE/);
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
    assert.strictEqual(r.state, 'ended');
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(s.endReason, 'error');
    const diags = vscode.languages.getDiagnostics(doc.uri).filter((d) => d.source === 'BatchNorm Inspector');
    assert.strictEqual(diags.length, 1, JSON.stringify(diags));
    assert.strictEqual(diags[0].range.start.line + 1, line, 'on the throw line');
    assert.match(diags[0].message, /boom from the fixture/);
    assert.strictEqual(diags[0].severity, vscode.DiagnosticSeverity.Error);
    assert.ok(
      a.messages().some((m) => m.kind === 'error' && /boom from the fixture/.test(m.text)),
      'an error message was shown',
    );
    assert.strictEqual(s.stepCount, 1, 'the step before the throw is kept');
    // fix it in the editor (unsaved) and run again
    await setText(doc, THROWS_FIXED);
    const r2 = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
    assert.strictEqual(r2.state, 'ended');
    assert.strictEqual(a.getSession(doc.uri)!.endReason, 'done', a.getSession(doc.uri)!.error?.message);
    assert.strictEqual(
      vscode.languages.getDiagnostics(doc.uri).filter((d) => d.source === 'BatchNorm Inspector').length,
      0,
      'diagnostic cleared',
    );
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  test('unsaved edits are what runs; Run to here after an edit restarts and says so', async () => {
    const a = await api();
    const file = writeFixture('unsaved.ts', MARKED('saved-marker'));
    started.push(file);
    const { doc } = await open(file);
    await setText(doc, MARKED('unsaved-marker-42'));
    assert.ok(doc.isDirty);
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
    assert.strictEqual(r.state, 'ended');
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(s.endReason, 'done', s.error?.message);
    assert.match(s.output, /unsaved-marker-42/);
    assert.doesNotMatch(s.output, /(^|\n)saved-marker/, 'not the text on disk');
    assert.match(fs.readFileSync(file, 'utf8'), /saved-marker/, 'the file on disk is untouched');

    // pause, edit, Run to here: restarts from the top and says so
    const apply = lineOf(MARKED('x'), /APPLY/);
    const p = await runTo(doc.uri, apply);
    assert.strictEqual(p.state, 'paused');
    const first = a.getSession(doc.uri)!;
    await setText(doc, MARKED('edited-again'));
    const before = a.messages().length;
    const q = await runTo(doc.uri, apply);
    assert.strictEqual(q.restarted, true);
    assert.ok(
      a
        .messages()
        .slice(before)
        .some((m) => /changed since/.test(m.text)),
      'it says so',
    );
    const second = a.getSession(doc.uri)!;
    assert.notStrictEqual(second, first, 'a new session');
    await until('the old worker ended', () => first.state === 'ended'); // stopped asynchronously, as above
    assert.strictEqual(second.sourceText, doc.getText());
    await second.stop();
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  test('Export writes the whole session as the contract JSON', async () => {
    const a = await api();
    const file = writeFixture('export.ts', LOOP);
    started.push(file);
    const { doc } = await open(file);
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
    assert.strictEqual(r.state, 'ended');
    const target = vscode.Uri.file(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bn-export-')), 'out.json'));
    const written = await vscode.commands.executeCommand<vscode.Uri>(
      'batchnormInspector.exportSnapshots',
      target,
      doc.uri,
    );
    assert.strictEqual(written?.fsPath, target.fsPath);
    const j: SessionJson = JSON.parse(fs.readFileSync(target.fsPath, 'utf8'));
    assert.strictEqual(j.schema, 'bn-inspector/v1');
    assert.strictEqual(typeof j.script, 'string');
    assert.strictEqual(j.tfjs, a.getSession(doc.uri)!.tfjs);
    assert.ok(j.backend === 'wasm' || j.backend === 'cpu');
    assert.strictEqual(j.error, null);
    assert.match(j.output, /loop done/);
    assert.strictEqual(j.steps.length, 5);
    const keys = [
      'name',
      'path',
      'axis',
      'channels',
      'momentum',
      'epsilon',
      'trainable',
      'calls',
      'updates',
      'movingMean',
      'movingVariance',
      'gamma',
      'beta',
      'movingUpdated',
      'lastCall',
      'lastTrainingCall',
      'warnings',
    ];
    j.steps.forEach((st, i) => {
      assert.strictEqual(st.index, i + 1);
      assert.ok(Number.isInteger(st.line) && Number.isInteger(st.hit));
      for (const l of st.layers) {
        for (const k of keys) assert.ok(k in l, `layer field ${k}`);
        assert.ok(
          Array.isArray(l.movingMean) &&
            l.movingMean.every((v: unknown) => typeof v === 'number' || typeof v === 'string'),
        );
      }
    });
    assert.deepStrictEqual(
      j.steps.map((st) => st.hit),
      [1, 2, 3, 4, 5],
    );
  });

  test('closing the script editor ends its worker', async () => {
    const a = await api();
    const file = writeFixture('close-me.ts', LOOP);
    started.push(file);
    await closeAllEditors();
    const { doc } = await open(file);
    const r = await runTo(doc.uri, lineOf(LOOP, /LOOP-PREDICT/));
    assert.strictEqual(r.state, 'paused');
    const s = a.getSession(doc.uri)!;
    assert.ok(s.live);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await until('the worker ended', () => s.workerExited, 5_000);
    assert.strictEqual(s.endReason, 'stopped');
    assert.strictEqual(s.stepCount, 1, 'the snapshots stay');
    assert.strictEqual(a.liveWorkers(), 0);
  });

  test('a worker that runs out of memory ends its session with a clear message; the host lives on', async () => {
    const a = await api();
    const cfg = vscode.workspace.getConfiguration('batchnormInspector');
    await cfg.update('workerMemoryMb', 256, vscode.ConfigurationTarget.Workspace);
    try {
      const file = writeFixture('hog.ts', HOG);
      started.push(file);
      const { doc } = await open(file);
      const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
      assert.strictEqual(r.state, 'ended');
      const s = a.getSession(doc.uri)!;
      assert.strictEqual(s.memoryMb, 256);
      assert.strictEqual(s.endReason, 'oom', `${s.endReason}: ${s.error?.message}`);
      assert.strictEqual(s.stepCount, 1, 'the snapshot before is kept');
      assert.ok(
        a.messages().some((m) => m.kind === 'error' && /out of memory/.test(m.text)),
        'a clear message',
      );
      assert.strictEqual(a.liveWorkers(), 0);
      // the extension host still works: run something else
      const ok = writeFixture('after-hog.ts', LOOP);
      started.push(ok);
      const { doc: d2 } = await open(ok);
      const r2 = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', d2.uri);
      assert.strictEqual(a.getSession(d2.uri)!.endReason, 'done');
      void r2;
    } finally {
      await cfg.update('workerMemoryMb', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
