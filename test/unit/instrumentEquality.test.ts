// The engine's instrumentation from the light step-point finder (src/worker/instrumentSource.ts) against the one from
// the TypeScript parser (src/worker/tsInstrument.ts, the fallback bundle; until issue 11 the only one): byte-identical
// code and source map, on the step-point cases, on forms that stress what is inserted where (labels, sole bodies,
// statements that end together, return/throw/break/continue), on every example and, with every method taken for a
// step method, on the project's sources and tfjs-layers' JavaScript (~10,000 step points). Then the fallback: JSX and
// text the light finder does not read go to TypeScript; and the worker's bundle carries no TypeScript.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { instrumentSource } from '../../src/worker/instrumentSource';
import { instrumentWithTypeScript } from '../../src/worker/tsInstrument';
import { every, exampleFiles, HARD_CASES, ROOT, sourceFiles, STEP_POINT_CASES } from './stepPointCases';

/** both instrumentations of a text: the same output; the number of step points */
function same(text: string, file: string, isStep?: (name: string) => boolean): number {
  const ts = instrumentWithTypeScript(text, file, 7, isStep);
  assert.equal(ts.syntaxError, null, `${file} parses (TypeScript)`);
  const light = instrumentSource(text, file, 7, isStep);
  assert.equal(light.syntaxError, null, `${file}: no syntax error (light finder)`);
  assert.deepEqual(light.points, ts.points, `${file}: the same step points`);
  assert.equal(light.code, ts.code, `${file}: the same code and source map`);
  return ts.points.length;
}

/** what is inserted where: each form, with the text the rewrite must give (checked by hand once, here for good) */
const INSERTION_CASES: [string, string][] = [
  ['a: b: for (;;) m.fit(x);', 'a: b: for (;;) {m.fit(x);;__bnStep(7,0);}'],
  ['// @step\na: for (m.fit(x);;) {}', '// @step\na: for (m.fit(x);;) {};__bnStep(7,1);;__bnStep(7,0);'],
  ['if (c) a: for (m.fit(x);;) {}', 'if (c) {a: for (m.fit(x);;) {};__bnStep(7,0);}'],
  ['if (m.fit(x)) m.predict(y)', 'if (m.fit(x)) {m.predict(y);__bnStep(7,1);};__bnStep(7,0);'],
  ['if (m.fit(x)) return m.predict(y)', 'if (m.fit(x)) return __bnStepValue(7,1,(m.predict(y)));__bnStep(7,0);'],
  ['while (c)\n  // @step\n  break;', 'while (c)\n  // @step\n  {__bnStep(7,0);break;}'],
  ['for (;;) {\n  // @step\n  continue;\n}', 'for (;;) {\n  // @step\n  __bnStep(7,0);continue;\n}'],
  ['function f() {\n  // @step\n  return;\n}', 'function f() {\n  // @step\n  __bnStep(7,0);return;\n}'],
  ['throw m.evaluate(x)', 'throw __bnStepValue(7,0,(m.evaluate(x)))'],
  ['do m.fit(x); while (m.predict(y))', 'do {m.fit(x);;__bnStep(7,1);} while (m.predict(y));__bnStep(7,0);'],
  [
    'switch (k) { case 1: m.fit(x) }\nelse_: m.apply(y)',
    'switch (k) { case 1: m.fit(x);__bnStep(7,0); }\nelse_: m.apply(y);__bnStep(7,1);',
  ],
  [
    'if (a) m.fit(x); else if (b) m.predict(y)',
    'if (a) {m.fit(x);;__bnStep(7,0);} else if (b) {m.predict(y);__bnStep(7,1);}',
  ],
  ['x.fit(function () { if (c) y.fit() })', 'x.fit(function () { if (c) {y.fit();__bnStep(7,1);} });__bnStep(7,0);'],
];

describe('the light instrumentation writes what the TypeScript one writes', () => {
  it('inserts each form as the rewrite says (and as TypeScript places it)', () => {
    for (const [text, want] of INSERTION_CASES) {
      same(text, 'case.ts');
      const code = instrumentSource(text, 'case.ts', 7).code;
      const map = code.lastIndexOf('\n//# sourceMappingURL=');
      assert.ok(map > 0, `a source map for ${JSON.stringify(text)}`);
      assert.equal(code.slice(0, map), want, text);
    }
  });

  it('the step-point cases and the forms that are hard for a tokenizer', () => {
    let points = 0;
    for (const c of [...STEP_POINT_CASES, ...HARD_CASES]) {
      points += same(c, 'case.ts');
      points += same(c, 'case.ts', every);
    }
    assert.ok(points > 150, `${points} step points`);
  });

  it('every example', () => {
    let points = 0;
    for (const f of exampleFiles()) {
      const text = readFileSync(f, 'utf8');
      points += same(text, f);
      same(text, f, every);
    }
    assert.ok(points > 10, `${points} step points`);
  });

  it("every method call of the project's sources and of tfjs-layers' JavaScript", function () {
    this.timeout(300_000);
    const files = sourceFiles();
    let points = 0;
    for (const f of files) points += same(readFileSync(f, 'utf8'), f, every);
    assert.ok(files.length > 250 && points > 5_000, `${files.length} files, ${points} step points`);
  });
});

describe('the TypeScript fallback', () => {
  it('a .tsx / .jsx file: its step points from TypeScript', () => {
    const text = 'const e = <div>{m.predict(x)}</div>;\nm.fit(x);\n';
    for (const file of ['a.tsx', 'a.jsx']) {
      const r = instrumentSource(text, file, 0);
      assert.equal(r.syntaxError, null);
      assert.deepEqual(
        r.points.map((p) => p.line),
        [1, 2],
      );
      assert.equal(r.code, instrumentWithTypeScript(text, file, 0).code);
    }
  });

  it('text the light finder reports: TypeScript decides (its error, the text unchanged)', () => {
    const text = 'm.predict(x);\nconst = 5;\nm.fit(x);\n';
    const r = instrumentSource(text, 'a.ts', 0);
    assert.deepEqual(r.points, []);
    assert.equal(r.code, text);
    assert.deepEqual(r.syntaxError, instrumentWithTypeScript(text, 'a.ts', 0).syntaxError);
    assert.equal(r.syntaxError?.line, 2);
  });

  it('dist/worker.js carries no TypeScript compiler; dist/tsInstrument.js does (npm run build)', () => {
    const worker = join(ROOT, 'dist', 'worker.js');
    const fallback = join(ROOT, 'dist', 'tsInstrument.js');
    assert.ok(existsSync(worker) && existsSync(fallback), 'dist/worker.js and dist/tsInstrument.js: run npm run build');
    const text = readFileSync(worker, 'utf8');
    assert.ok(!text.includes('createSourceFile'), 'no TypeScript parser in dist/worker.js');
    assert.ok(statSync(worker).size < 8e6, `dist/worker.js ${(statSync(worker).size / 1e6).toFixed(1)} MB`);
    assert.ok(readFileSync(fallback, 'utf8').includes('createSourceFile'));
  });
});
