// How compileScript (src/worker/compileScript.ts) instruments the user's files: the light finder, and the TypeScript
// parser (dist/tsInstrument.js, ~1 s to load) only for files the light finder cannot read, once esbuild has compiled
// the script. Real esbuild, real files, in a child process of its own (whether the TypeScript bundle was loaded is
// read from that process's module cache, which no other test file shares).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** compiles each script in a fresh Node process; what came out, and whether the TypeScript parser was loaded */
function compileInChild(scripts: string[]): any[] {
  const child = `
const { compileScript, stopCompiler } = require(${JSON.stringify(join(ROOT, 'src/worker/compileScript.ts'))});
const { readFileSync } = require('node:fs');
(async () => {
  const out = [];
  for (const scriptPath of ${JSON.stringify(scripts)}) {
    const r = await compileScript({ scriptPath });
    const tsLoaded = Object.keys(require.cache).some((k) => /tsInstrument\\.ts$/.test(k));
    const bundle = r.ok ? readFileSync(r.outFile, 'utf8') : '';
    out.push(r.ok ? { ok: true, points: r.points, warnings: r.warnings, files: r.files, bundle, tsLoaded }
                  : { ok: false, error: r.error, tsLoaded });
  }
  await stopCompiler();
  process.stdout.write(JSON.stringify(out));
})();
`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', child], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('compileScript: the light instrumentation, TypeScript only where needed', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bn-compile-instrument-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a syntax error: esbuild reports it at the user position, without loading TypeScript; JSX: TypeScript instruments it', () => {
    const syntax = join(dir, 'syntax.ts');
    const text = `import * as tf from '@tensorflow/tfjs';\nconst m = tf.sequential();\nm.predict(tf.ones([1, 2]);\nconst ok = 1;\n`;
    writeFileSync(syntax, text);
    const plain = join(dir, 'plain.ts');
    writeFileSync(plain, `import { view } from './view';\n// @step\nconst a = 1;\nm.fit(x);\nconsole.log(view(a));\n`);
    writeFileSync(join(dir, 'view.tsx'), `export function view(a: number) {\n  return <b>{m.predict(a)}</b>;\n}\n`);
    const [bad, good] = compileInChild([syntax, plain]);

    assert.equal(bad.ok, false);
    assert.equal(bad.error.kind, 'compile');
    assert.equal(bad.error.line, 3);
    assert.equal(bad.error.column, text.split('\n')[2].indexOf(';') + 1, bad.error.message);
    assert.equal(bad.tsLoaded, false, 'a syntax error is reported without the TypeScript parser');

    assert.equal(good.ok, true);
    assert.deepEqual(good.files, [plain, join(dir, 'view.tsx')]);
    assert.deepEqual(
      good.points.map((ps: any[]) => ps.map((p) => [p.line, p.reason])),
      [
        [
          [3, '@step'],
          [4, 'fit'],
        ],
        [[2, 'predict']],
      ],
    );
    assert.deepEqual(good.warnings, []);
    assert.equal(good.tsLoaded, true, 'the .tsx file went to TypeScript');
    assert.match(good.bundle, /__bnStepValue\(1, 0,/, 'the JSX file is instrumented');
    assert.match(good.bundle, /__bnStep\(0, 1\)/);
  });
});
