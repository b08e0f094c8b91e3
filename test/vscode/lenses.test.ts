// Code lenses, in a real VS Code: what vscode.executeCodeLensProvider returns.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../src/extension/commands';
import { findStepPoints, findStepPointsWithGuess } from '../../src/shared/stepPoints';
import { BROKEN, LOOP, NO_STEP_POINTS } from './support/fixtures';
import {
  api,
  closeAllEditors,
  exampleFiles,
  lensesOf,
  lineOf,
  open,
  setText,
  stopAll,
  until,
  workspaceDir,
  writeFixture,
} from './support/host';

const RUN = '▶ Run until this statement finishes';

/** the lines of the MobileNetV2 example's step points, from its text */
function mobileNetLines(text: string) {
  return {
    backboneApply: lineOf(text, /const features = backbone\.apply\(input\)/),
    fit: lineOf(text, /await model\.fit\(/),
    predict: lineOf(text, /model\.predict\(/),
  };
}

/** a fresh copy of the MobileNetV2 example: no earlier suite ran it, so the lenses know only its text */
function mobileNetCopy(name: string): string {
  return writeFixture(name, fs.readFileSync(path.join(workspaceDir(), 'mobilenet-v2-finetune.ts'), 'utf8'));
}

suite('code lenses', () => {
  const started: string[] = [];
  suiteTeardown(async () => {
    await stopAll(await api(), started);
    await closeAllEditors();
  });

  test('every example: one run lens per engine step point that is not model building, on its line', async () => {
    const a = await api();
    const sessionsBefore = a.sessionCount(); // an earlier suite may have left ended sessions
    const files = exampleFiles();
    assert.ok(files.length >= 1, `the workspace holds the examples (found ${files.length})`);
    let total = 0;
    for (const example of files) {
      // a fresh copy: what runs of the example in earlier suites told (model building or not) does not apply to it
      const file = writeFixture(path.join('lens-copies', path.basename(example)), fs.readFileSync(example, 'utf8'));
      const t0 = Date.now();
      const { doc } = await open(file);
      const t1 = Date.now();
      const expected = findStepPointsWithGuess(fs.readFileSync(file, 'utf8'), file);
      assert.strictEqual(expected.syntaxError, null, `${path.basename(file)} parses`);
      // no lens where the text guesses model building, or where a run (of an earlier suite) said so
      const building = new Set([...expected.modelBuildingGuess, ...a.modelBuildingLines(doc)]);
      expected.points = expected.points.filter((p) => !building.has(p.line));
      // the provider may be asked before the extension is fully up: wait until it answers
      const lenses = await until(
        `lenses of ${path.basename(file)}`,
        async () => {
          const l = await lensesOf(doc.uri);
          return l.length === expected.points.length ? l : null;
        },
        15_000,
      ).catch(async () => lensesOf(doc.uri));
      assert.deepStrictEqual(
        lenses.map((l) => [l.line, l.title, l.command]),
        expected.points.map((p) => [p.line, RUN, 'batchnormInspector.runToLine']),
        `lenses of ${path.basename(file)}`,
      );
      // each lens runs to its own line of its own file
      for (const l of lenses) {
        assert.strictEqual((l.args[0] as vscode.Uri).toString(), doc.uri.toString());
        assert.strictEqual(l.args[1], l.line);
      }
      total += lenses.length;
      console.log(
        `    ${path.basename(file)}: ${lenses.length} lenses of ${building.size + lenses.length} step points (open ${t1 - t0} ms, lenses ${Date.now() - t1} ms)`,
      );
    }
    assert.ok(total > 0, 'the examples have step points');
    assert.strictEqual(a.sessionCount(), sessionsBefore, 'asking for lenses runs nothing');
  });

  test('a file with no step point gets no lens; a file that does not parse gets none and no popup', async () => {
    const a = await api();
    const before = a.messages().length;
    for (const [name, text] of [
      ['none.ts', NO_STEP_POINTS],
      ['broken.ts', BROKEN],
    ] as const) {
      const { doc } = await open(writeFixture(name, text));
      assert.deepStrictEqual(await lensesOf(doc.uri), [], name);
    }
    assert.ok(findStepPoints(BROKEN, 'broken.ts').syntaxError, 'the broken fixture really does not parse');
    assert.strictEqual(a.messages().length, before, 'no message shown');
  });

  test('lenses follow edits without running anything', async () => {
    const a = await api();
    const file = writeFixture('follow-edits.ts', LOOP);
    const { doc } = await open(file);
    const line = lineOf(LOOP, /LOOP-PREDICT/);
    assert.deepStrictEqual(
      (await lensesOf(doc.uri)).map((l) => l.line),
      [line],
    );
    const e = new vscode.WorkspaceEdit();
    e.insert(doc.uri, new vscode.Position(0, 0), '// one\n// two\n');
    assert.ok(await vscode.workspace.applyEdit(e));
    await until(
      'lenses moved two lines down',
      async () => (await lensesOf(doc.uri)).map((l) => l.line).join() === String(line + 2),
    );
    // a new step point typed in gets its lens; breaking the syntax removes them all
    await setText(doc, doc.getText() + 'model.predict(x);\n');
    await until('a lens on the new line', async () => (await lensesOf(doc.uri)).length === 2);
    await setText(doc, doc.getText() + 'const broken = (;\n');
    await until('no lens while the text does not parse', async () => (await lensesOf(doc.uri)).length === 0);
    assert.strictEqual(a.getSession(doc.uri), undefined, 'no session was started by editing');
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  test('paused: the line says where the run stands, with Step and ■ Stop', async () => {
    const a = await api();
    const file = writeFixture('paused-lens.ts', LOOP);
    started.push(file);
    const { doc } = await open(file);
    const line = lineOf(LOOP, /LOOP-PREDICT/);
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runToLine', doc.uri, line);
    assert.strictEqual(r.state, 'paused', `paused (${a.getSession(doc.uri)?.statusText()})`);
    const lenses = await until('paused lenses', async () => {
      const l = await lensesOf(doc.uri);
      return l.some((x) => x.title.startsWith('paused here')) ? l : null;
    });
    assert.deepStrictEqual(
      lenses.map((l) => l.title),
      ['paused here · step 1 · hit 1', '$(debug-step-over) Step', RUN, '■ Stop'],
    );
    assert.ok(lenses.every((l) => l.line === line));
    await vscode.commands.executeCommand('batchnormInspector.step', doc.uri);
    await until('lens shows hit 2', async () =>
      (await lensesOf(doc.uri)).some((l) => l.title === 'paused here · step 2 · hit 2'),
    );
    await vscode.commands.executeCommand('batchnormInspector.stop', doc.uri);
    await until('back to the run lens only', async () => (await lensesOf(doc.uri)).map((l) => l.title).join() === RUN);
  });

  test('the run lens says the run stops after the statement', async () => {
    const file = writeFixture('lens-title.ts', LOOP);
    const { doc } = await open(file);
    const l = await until('a lens', async () => (await lensesOf(doc.uri))[0]);
    assert.strictEqual(l.title, RUN);
    assert.match(l.title, /until this statement finishes/);
    assert.doesNotMatch(l.title, /Run to here/, 'not the debugger wording that stops before the line');
  });

  test('mobilenet-v2-finetune.ts before any run: lenses only on backbone.apply, fit and predict (3 of 14 step points)', async () => {
    const a = await api();
    const file = mobileNetCopy('mobilenet-never-run.ts');
    const { doc } = await open(file);
    assert.strictEqual(a.getSession(doc.uri), undefined, 'no run of it yet');
    const text = doc.getText();
    const points = findStepPoints(text, file).points;
    assert.strictEqual(points.length, 14, 'the engine has 14 step points in it');
    const { backboneApply, fit, predict } = mobileNetLines(text);
    const lenses = await until('three lenses', async () => {
      const l = await lensesOf(doc.uri);
      return l.length === 3 ? l : null;
    }).catch(() => lensesOf(doc.uri));
    assert.deepStrictEqual(
      lenses.map((l) => [l.line, l.title]),
      [
        [backboneApply, RUN],
        [fit, RUN],
        [predict, RUN],
      ],
    );
    console.log(`    mobilenet-v2-finetune.ts before a run: ${lenses.length} lenses of ${points.length} step points`);
  });

  test('a statement guessed as model building that gives a real step gets its lens after the run; an edit forgets it', async function () {
    this.timeout(120_000);
    const a = await api();
    const text = [
      "import * as tf from '@tensorflow/tfjs';",
      'const x = tf.tensor2d([[1, 2], [3, 4]]);',
      "const y = tf.layers.batchNormalization({ name: 'eager_bn' }).apply(x) as tf.Tensor; // EAGER",
      'console.log(y.shape);',
      '// @step',
      "console.log('end'); // END",
      '',
    ].join('\n');
    const file = writeFixture('guessed-but-real.ts', text);
    started.push(file);
    const { doc } = await open(file);
    const eager = lineOf(text, /EAGER/);
    const end = lineOf(text, /END/);
    assert.deepStrictEqual(
      findStepPointsWithGuess(text, file).modelBuildingGuess,
      [eager],
      'the text alone guesses it',
    );
    await until(
      'only the END lens before the run',
      async () => (await lensesOf(doc.uri)).map((l) => l.line).join() === String(end),
    );
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(r.state, 'ended');
    assert.strictEqual(s.endReason, 'done', s.error?.message);
    assert.strictEqual(s.stepCount, 2, 'apply on a real tensor is a step');
    assert.deepStrictEqual(s.modelBuilding, [], 'nothing only built a model');
    await until(
      'the applied line has its lens now',
      async () => (await lensesOf(doc.uri)).map((l) => l.line).join() === `${eager},${end}`,
    );
    await setText(doc, text + '// edited\n');
    await until(
      'an edit forgets what the run told',
      async () => (await lensesOf(doc.uri)).map((l) => l.line).join() === String(end),
    );
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  // needs the engine's 'modelBuilding' events (engine branch of issue 8)
  test('mobilenet-v2-finetune.ts: running to backbone.apply pauses at fit, says that line only built the model, and its lens goes', async function () {
    this.timeout(180_000);
    const a = await api();
    const file = mobileNetCopy('mobilenet-run-to.ts');
    started.push(file);
    const { doc } = await open(file);
    const { backboneApply, fit, predict } = mobileNetLines(doc.getText());
    const lens = (await lensesOf(doc.uri)).find((l) => l.line === backboneApply);
    assert.ok(lens, 'a lens on backbone.apply before the run');
    const before = a.messages().length;
    const r = await vscode.commands.executeCommand<RunOutcome>(lens.command, ...lens.args);
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(r.state, 'paused', `paused (${s.statusText()}; ${s.error?.message ?? ''})`);
    assert.strictEqual(s.lastStep!.line, fit, 'at the next real step: fit');
    assert.strictEqual(s.lastStep!.index, 1, 'model building took no step');
    assert.strictEqual(r.modelBuilding, true);
    const said = a
      .messages()
      .slice(before)
      .filter((m) => m.kind === 'info' && /only built the model/.test(m.text));
    assert.strictEqual(said.length, 1, JSON.stringify(a.messages().slice(before)));
    assert.match(
      said[0].text,
      new RegExp(`^Line ${backboneApply} only built the model.*paused at the next step instead, line ${fit}\\.$`),
    );
    const lenses = await until('backbone.apply lost its lens', async () => {
      const l = await lensesOf(doc.uri);
      return l.some((x) => x.line === backboneApply) ? null : l;
    });
    assert.deepStrictEqual(
      [...new Set(lenses.map((l) => l.line))],
      [fit, predict],
      'lenses on fit (paused: where the run stands, Step, run, Stop) and predict',
    );
    await s.stop();
  });

  // needs the engine's 'modelBuilding' events (engine branch of issue 8)
  test('mobilenet-v2-finetune.ts after a run to its end: only fit and predict keep a lens; an edit forgets it', async function () {
    this.timeout(180_000);
    const a = await api();
    const file = mobileNetCopy('mobilenet-to-end.ts');
    started.push(file);
    const { doc } = await open(file);
    const text = doc.getText();
    const { backboneApply, fit, predict } = mobileNetLines(text);
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(r.state, 'ended');
    assert.strictEqual(s.endReason, 'done', s.error?.message);
    // the engine: every step point but fit and predict only built the model, once each; two steps in all
    const others = findStepPoints(text, file)
      .points.map((p) => p.line)
      .filter((l) => l !== fit && l !== predict);
    assert.deepStrictEqual(
      s.modelBuilding.map((m) => m.line).sort((x, y) => x - y),
      others,
    );
    assert.strictEqual(s.stepCount, 2, 'fit and predict are the steps');
    const lenses = await until('only fit and predict keep a lens', async () => {
      const l = await lensesOf(doc.uri);
      return l.length === 2 ? l : null;
    }).catch(() => lensesOf(doc.uri));
    assert.deepStrictEqual(
      lenses.map((l) => [l.line, l.title]),
      [
        [fit, RUN],
        [predict, RUN],
      ],
    );
    assert.ok(others.includes(backboneApply));
    console.log(
      `    mobilenet-v2-finetune.ts after a run: ${lenses.length} lenses of ${others.length + 2} step points`,
    );
    // a new text: what the run told no longer holds, the static guess again (backbone.apply, fit, predict)
    await setText(doc, text + '\n// edited\n');
    await until('three lenses again after an edit', async () => (await lensesOf(doc.uri)).length === 3);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });
});
