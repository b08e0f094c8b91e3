/**
 * Error positions survive any path (issue 10, item 5): spaces, parentheses, unicode, Windows drive letters, file
 * URLs. toScriptError on stacks as V8 writes them, and the real CLI on a script in such a folder.
 */
import * as assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { toScriptError } from '../../src/worker/scriptErrors';
import { Fixtures, ensureBuilt, parseDocument, runCli } from './cliHarness';

function errorWithStack(stack: string): Error {
  const e = new Error('boom');
  e.stack = stack;
  return e;
}

describe('script errors: the user position whatever the path', function () {
  this.timeout(120_000);
  const fx = new Fixtures('bn-script-errors-');
  before(ensureBuilt);
  after(() => fx.cleanup());

  const cases: Array<[string, string]> = [
    ['spaces and parentheses', '/home/First Last/proj (copy)/train (1).ts'],
    ['unicode', '/home/zoë/模型/ünï.ts'],
    ['a Windows drive letter', 'C:\\Users\\First Last\\proj (copy)\\train.ts'],
  ];
  for (const [what, file] of cases) {
    it(`${what}: in a path frame, an anonymous frame and a file URL frame`, () => {
      const frames = [
        `    at train (${file}:14:9)`,
        `    at ${file}:14:9`,
        ...(file.startsWith('/') ? [`    at async ModuleJob (${pathToFileURL(file).href}:14:9)`] : []),
      ];
      for (const f of frames) {
        const se = toScriptError(errorWithStack(`Error: boom\n    at Object.fn (/ext/dist/worker.js:1:2)\n${f}`), [
          '/other/file.ts',
          file,
        ]);
        assert.equal(se.file, file, f);
        assert.equal(se.line, 14, f);
        assert.equal(se.column, 9, f);
      }
    });
  }

  it('a longer path that ends like a user file is not that file', () => {
    const se = toScriptError(errorWithStack('Error: boom\n    at f (/x/home/a b/t.ts:3:1)'), ['/home/a b/t.ts']);
    assert.equal(se.line, null);
    assert.equal(se.file, null);
  });

  it('the real CLI: a script in "First Last (x)/ünï/" throwing from an imported helper', async () => {
    const helper = fx.write(
      'First Last (x)/ünï/lib (2)/hélper.ts',
      `export function fail(): never {\n  throw new RangeError('from the helper');\n}\n`,
    );
    const p = fx.write(
      'First Last (x)/ünï/sc ript (1).ts',
      `import * as tf from '@tensorflow/tfjs';\nimport { fail } from './lib (2)/hélper';\nconst m = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [3] })] });\nm.predict(tf.ones([2, 3]));\nfail();\n`,
    );
    const r = await runCli(['run', p, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const doc = parseDocument(r, p);
    assert.equal(doc.error.file, helper);
    assert.equal(doc.error.line, 2);
    assert.equal(doc.error.column, 9);
  });
});
