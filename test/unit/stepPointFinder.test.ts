// The light step-point finder (src/shared/stepPointFinder/: tokens and a small statement parser; the editor's
// lenses, the engine's instrumentation) against the TypeScript one (src/shared/stepPoints.ts): the same step points,
// columns, ends, reasons and model-building guesses, on the step-point cases of stepPoints.test.ts, on every example, and, with every method
// taken for a step method (so that every call tests where its statement starts and ends), on the project's own
// sources and tfjs-layers' JavaScript. Text that does not parse: the errors the editor's finder reports.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { findStepPointsWithGuess as editorFinder } from '../../src/shared/stepPointFinder/stepPointFinder';
import { findStepPointsWithGuess as engineFinder } from '../../src/shared/stepPoints';
import { every, exampleFiles, HARD_CASES, sourceFiles, STEP_POINT_CASES } from './stepPointCases';

/** both finders on a text: equal results, and the number of step points */
function same(text: string, file: string, isStep?: (name: string) => boolean): number {
  const engine = engineFinder(text, file, isStep);
  assert.equal(engine.syntaxError, null, `${file} parses (the engine's finder)`);
  const editor = editorFinder(text, isStep);
  assert.equal(editor.syntaxError, null, `${file}: no syntax error (the editor's finder)`);
  assert.deepEqual(editor.points, engine.points, `${file}: the same step points`);
  assert.deepEqual(editor.modelBuildingGuess, engine.modelBuildingGuess, `${file}: the same guess`);
  return engine.points.length;
}

describe("the editor's finder is fast", () => {
  it('a 2,000-line script: linear, and tens of milliseconds of CPU at most', () => {
    const lines = [`import * as tf from '@tensorflow/tfjs';`, `const model = tf.sequential();`];
    for (let i = 1; lines.length + 5 <= 2000; i++)
      lines.push(
        `// block ${i}`,
        `function helper${i}(x: tf.Tensor): tf.Tensor {`,
        `  return tf.tidy(() => x.mul(${i}).add(1));`,
        `}`,
        `const y${i} = model.predict(tf.ones([1, 4])) as tf.Tensor;`,
      );
    const text = lines.join('\n') + '\n';
    // CPU time (the machine is shared: wall clock moves with the load). A loose bound that catches a quadratic blow-up
    // (the goal, 50 ms for the lenses, is asserted in the real host: test/vscode/activationCost.test.ts)
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const c0 = process.cpuUsage();
      assert.equal(editorFinder(text + ' '.repeat(i)).points.length, 399);
      const c = process.cpuUsage(c0);
      times.push((c.user + c.system) / 1000);
    }
    const median = [...times].sort((a, b) => a - b)[3];
    assert.ok(median < 150, `median ${median.toFixed(1)} ms of CPU (${times.map((t) => t.toFixed(1)).join(', ')})`);
  });
});

describe("the editor's step-point finder gives the engine's step points", () => {
  it('the cases of stepPoints.test.ts', () => {
    for (const c of STEP_POINT_CASES) same(c, 'case.ts');
  });

  it('the forms that are hard for a tokenizer: chains, parentheses, new, generics, ASI, keywords as names', () => {
    for (const c of HARD_CASES) {
      same(c, 'case.ts');
      same(c, 'case.ts', every);
    }
  });

  it('every example', () => {
    let points = 0;
    for (const f of exampleFiles()) {
      points += same(readFileSync(f, 'utf8'), f);
      same(readFileSync(f, 'utf8'), f, every);
    }
    assert.ok(points > 10, `${points} step points`);
  });

  it("every method call of the project's sources and of tfjs-layers' JavaScript", function () {
    this.timeout(300_000);
    const files = sourceFiles();
    let points = 0;
    for (const f of files) points += same(readFileSync(f, 'utf8'), f, every);
    assert.ok(files.length > 250 && points > 5_000, `${files.length} files, ${points} calls`);
  });
});

describe("the editor's finder on text that does not parse", () => {
  const error = (text: string) => editorFinder(text).syntaxError;

  it('reports the errors of typing in progress, with no step points', () => {
    for (const [text, line] of [
      ['m.predict(x);\nconst = 5;\nm.fit(x);\n', 2],
      ['const x = (;', 1],
      [
        "import * as tf from '@tensorflow/tfjs';\n\nconst model = tf.sequential(;\nmodel.predict(tf.zeros([1, 2]));\n",
        3,
      ],
      ['m.fit(x);\nconst broken = (;\n', 2],
      ['m.predict(x\nm.fit(y);\n', 1],
      ['const s = "abc\nm.fit(x);', 1],
      ['m.fit(x);\n/* open', 2],
      ['m.fit(x);\nconst t = `abc', 2],
      ['m.fit(x);\nconst y = ;', 2],
      ['m.fit(x);\ny = a +;', 2],
      ['m.fit(x);\n} else {', 2],
      ['m.fit(x))', 1],
    ] as const) {
      const r = editorFinder(text);
      assert.deepEqual(r.points, [], text);
      assert.ok(r.syntaxError, `an error in ${JSON.stringify(text)}`);
      assert.equal(r.syntaxError.line, line, JSON.stringify(text));
      assert.ok(engineFinder(text).syntaxError, `the engine also finds an error in ${JSON.stringify(text)}`);
    }
  });

  it('an error it does not see leaves the points (the engine reports it when the script runs)', () => {
    const text = 'm.fit(x, , y);\n';
    assert.ok(engineFinder(text).syntaxError);
    assert.equal(error(text), null);
    assert.equal(editorFinder(text).points.length, 1);
  });
});
