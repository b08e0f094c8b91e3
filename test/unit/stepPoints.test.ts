import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findStepPoints, findStepPointsWithGuess } from '../../src/shared/stepPoints';
import { instrumentSource } from '../../src/worker/instrumentSource';

const lines = (src: string, file = 'script.ts') => findStepPoints(src, file).points.map((p) => p.line);

describe('step points (TypeScript AST)', () => {
  it('finds each step method on any receiver', () => {
    const src = [
      'model.fit(x, y);',
      'await m.fitDataset(ds);',
      'm.trainOnBatch(x, y);',
      'const p = m.predict(x);',
      'm.predictOnBatch(x);',
      'm.evaluate(x, y);',
      'await m.evaluateDataset(ds);',
      'layer.apply(x, { training: true });',
      'm.execute(x, "out");',
      'a.b().c.predict(x);',
      'm?.predict(x);',
      "m['fit'](x, y);",
      'm.summary();',
      'predict(x);',
    ].join('\n');
    assert.deepEqual(lines(src), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.deepEqual(
      findStepPoints(src)
        .points.map((p) => p.reason)
        .slice(0, 3),
      ['fit', 'fitDataset', 'trainOnBatch'],
    );
  });

  it("Function.prototype.apply (f.apply(this | null | undefined, …)) is not a step call; a layer's apply is", () => {
    const src =
      'function wrap(fn) {\n  return function (...args) {\n    return fn.apply(this, args);\n  };\n}\nf.apply(null, [1]);\ng["apply"](undefined, a);\nlayer.apply(x);\nm.apply(this.x);\nconst y = fn.apply(this, a) + layer.apply(x);\n';
    assert.deepEqual(lines(src), [8, 9, 10]);
  });

  it('ignores comments, strings and template literals', () => {
    const src = [
      '// model.predict(x)',
      '/* model.fit(x, y) */',
      'const s = "model.fit(x)";',
      "const t = 'm.apply(x)';",
      'const u = `model.predict(${"x"}) m.fit()`;',
      '/**',
      ' * m.evaluate(x)',
      ' */',
      'const v = 1; // m.predict(x)',
    ].join('\n');
    assert.deepEqual(lines(src), []);
  });

  it('a call inside a template substitution is a real call', () => {
    assert.deepEqual(lines('console.log(`out ${m.predict(x)}`);'), [1]);
  });

  it('a multi-line call is one step point on its first line, column of the statement', () => {
    const src = 'const a = 1;\n  const y = model.predict(\n  x,\n  { batchSize: 2 },\n);\n';
    const pts = findStepPoints(src).points;
    assert.equal(pts.length, 1);
    assert.equal(pts[0].line, 2);
    assert.equal(pts[0].column, 3);
  });

  it('a statement with two calls is one step point', () => {
    assert.deepEqual(lines('m.predict(x), m.apply(x);\nconst z = [m.fit(x), m.predict(x)];'), [1, 2]);
  });

  it('finds step points inside loops, functions, arrow functions, methods and blocks', () => {
    const src = [
      'for (let i = 0; i < 3; i++) {',
      '  m.predict(x);',
      '}',
      'while (c) m.fit(x, y);',
      'function f() {',
      '  return m.evaluate(x, y);',
      '}',
      'const g = async () => {',
      '  await m.fit(x, y);',
      '};',
      'class C { run() { this.m.predict(x); } }',
      'if (a) m.apply(x); else m.predict(x);',
    ].join('\n');
    assert.deepEqual(lines(src), [2, 4, 6, 9, 11, 12, 12]);
  });

  it('// @step marks the statement directly after it', () => {
    const src = [
      '// @step',
      'console.log(1);',
      '// @step: after the warm-up',
      'const a = 2;',
      '// @step',
      '',
      '',
      'const far = 3;',
      'const b = 4; // @step',
      'const c = 5;',
    ].join('\n');
    const pts = findStepPoints(src).points;
    // a trailing `// @step` belongs to its own line's statement, not to the next one
    assert.deepEqual(
      pts.map((p) => p.line),
      [2, 4],
    );
    assert.ok(pts.every((p) => p.reason === '@step'));
  });

  it('TypeScript syntax (types, generics, non-null, as) and JavaScript files', () => {
    const src = 'const y = (m as tf.LayersModel).predict(x) as tf.Tensor;\nconst h = await m!.fit<number>(x, y);\n';
    assert.deepEqual(lines(src), [1, 2]);
    assert.deepEqual(lines('const tf = require("@tensorflow/tfjs");\nmodel.predict(x);\n', 'a.js'), [2]);
    assert.deepEqual(lines('model.predict(x);\n', 'a.mjs'), [1]);
  });

  it('a file that does not parse has no step points and reports its first syntax error', () => {
    const r = findStepPoints('m.predict(x);\nconst = 5;\nm.fit(x);\n');
    assert.deepEqual(r.points, []);
    assert.ok(r.syntaxError);
    assert.equal(r.syntaxError!.line, 2);
  });
});

describe('instrumentSource', () => {
  it('adds a step call after each step point, on the same lines', () => {
    const src =
      'const y = m.predict(\n  x);\nfor (;;) m.fit(x);\nif (a) return m.apply(x);\nouter: for (const b of bs) { continue outer; }\n';
    const r = instrumentSource(src, '/a/script.ts', 2);
    const code = r.code.slice(0, r.code.lastIndexOf('\n//# sourceMappingURL='));
    assert.equal(code.split('\n').length, src.split('\n').length, 'no new lines');
    assert.match(code, /x\);;__bnStep\(2,0\);/);
    assert.match(code, /for \(;;\) \{m\.fit\(x\);;__bnStep\(2,1\);\}/);
    assert.match(code, /return __bnStepValue\(2,2,\(m\.apply\(x\)\)\);/);
    assert.match(r.code, /\/\/# sourceMappingURL=data:application\/json;base64,/);
  });

  it('leaves a script without step points unchanged', () => {
    const src = 'const a = 1;\nconsole.log(a);\n';
    assert.equal(instrumentSource(src, 'a.ts', 0).code, src);
  });
});

describe("the editor's static guess of model building (looksLikeModelBuilding)", () => {
  const guess = (src: string) => findStepPointsWithGuess(src, 'script.ts');

  it('apply on a layer made in the same expression, without a training argument, is model building', () => {
    const src = [
      'h = tf.layers.dense({ units: 4 }).apply(h) as T;', // 1 guessed
      'h = layers.conv2d({ filters: 2 }).apply(h);', // 2 guessed
      'h = new MyLayer({}).apply(h);', // 3 guessed
      'x = tf.layers', // 4 guessed (one statement over three lines)
      '  .batchNormalization({ name: "bn" })',
      '  .apply(x);',
      'return tf.layers.add().apply([a, b]);', // 7 guessed
      'y = tf.layers.dense({ units: 1 }).apply(x, { training: true });', // 8: says it computes
      'y = tf.layers.dense({ units: 1 }).apply(tf.ones([2, 3]));', // 9: a tensor made in place
      'y = tf.layers.dense({ units: 1 }).apply(tf.input({ shape: [3] }));', // 10 guessed: tf.input is symbolic
      'const f = backbone.apply(input);', // 11: the receiver is not made here
      'model.fit(x, y);', // 12
      'model.apply(tf.layers.dense({ units: 1 }).apply(x));', // 13: one call is not model building
      'y = tf.layers.dense({ units: 1 })["apply"](x);', // 14: element access: not the guessed form
    ].join('\n');
    const r = guess(src.replace(/^return /m, 'void '));
    assert.equal(r.syntaxError, null);
    assert.deepEqual(
      r.points.map((p) => p.line),
      [1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14],
    );
    assert.deepEqual(r.modelBuildingGuess, [1, 2, 3, 4, 7, 10]);
    // the engine's finder is unchanged: the same points
    assert.deepEqual(r.points, findStepPoints(src.replace(/^return /m, 'void '), 'script.ts').points);
  });

  it('examples/mobilenet-v2-finetune.ts: 14 step points, 11 guessed, lenses left on backbone.apply, fit and predict', () => {
    const file = join(__dirname, '..', '..', 'examples', 'mobilenet-v2-finetune.ts');
    const text = readFileSync(file, 'utf8');
    const r = guess(text);
    const lineOf = (s: string) => text.split('\n').findIndex((l) => l.includes(s)) + 1;
    assert.equal(r.points.length, 14);
    assert.equal(r.modelBuildingGuess.length, 11);
    const left = r.points.map((p) => p.line).filter((l) => !r.modelBuildingGuess.includes(l));
    assert.deepEqual(left, [lineOf('backbone.apply(input)'), lineOf('model.fit('), lineOf('model.predict(')]);
  });

  it('a file that does not parse: no points, no guess', () => {
    assert.deepEqual(guess('const x = (;'), {
      points: [],
      modelBuildingGuess: [],
      syntaxError: findStepPoints('const x = (;').syntaxError,
    });
  });
});
