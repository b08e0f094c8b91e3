/**
 * One builder for the contract's document (src/engineHost/runDocument.ts): what `bn-inspect --json` prints and
 * what the extension's Export writes are the same document, field for field (the export adds only `scriptPath`
 * and `thinnedSteps`, at the end). Real CLI as a child process, real engine, real tfjs.
 */
import * as assert from 'node:assert/strict';
import { EngineSession } from '../../src/engineHost/engineSession';
import { buildRunDocument, runDocumentChunks } from '../../src/engineHost/runDocument';
import { sessionEnd, sessionToJson } from '../../src/extension/exportJson';
import { StepHistory } from '../../src/extension/history';
import { Fixtures, WORKER, ensureBuilt, lineOf, parseDocument, runCli } from './cliHarness';

const HELPER = `export function fail(): never {
  throw new RangeError('from the helper');
}
`;
const MAIN = `import * as tf from '@tensorflow/tfjs';
import { fail } from './lib/helper';
const bn = tf.layers.batchNormalization();
const x = tf.tensor2d([[1, 2], [3, 7], [0, -1]]);
bn.apply(x, { training: true });
console.log('trained once');
// @step
console.log('about to fail');
fail();
`;

describe('the run document: one builder for bn-inspect --json and Export', function () {
  this.timeout(120_000);
  const fx = new Fixtures('bn-run-document-');
  before(() => ensureBuilt());
  after(() => fx.cleanup());

  it('the CLI document equals the builder’s for the same run; the export is it plus scriptPath and thinnedSteps', async () => {
    const helper = fx.write('lib/helper.ts', HELPER);
    const p = fx.write('fails.ts', MAIN);
    const cli = parseDocument(await runCli(['run', p, '--json']), p);
    assert.equal(cli.end, 'error');
    assert.equal(cli.error.kind, 'run');
    assert.equal(cli.error.file, helper, 'error.file: the helper the error was thrown in');
    assert.equal(cli.error.line, lineOf(HELPER, 'throw new RangeError'));
    assert.equal(cli.steps.length, 2);

    const r = await new EngineSession({ scriptPath: p, workerPath: WORKER }).run();
    assert.equal(r.reason, 'error');
    const built = buildRunDocument({
      script: p,
      tfjs: r.tfjs,
      backend: r.backend,
      steps: r.steps.map((s) => s.buffer),
      output: r.output,
      error: r.error,
      end: 'error',
    });
    assert.deepEqual(JSON.parse(JSON.stringify(built)), cli, 'same document, same field order');
    // bn-inspect writes it in pieces (runDocumentChunks): the same characters as one JSON.stringify
    const input = {
      script: p,
      tfjs: r.tfjs,
      backend: r.backend,
      steps: r.steps.map((s) => s.buffer),
      output: r.output,
      error: r.error,
      end: 'error' as const,
    };
    assert.equal([...runDocumentChunks(input)].join(''), JSON.stringify(buildRunDocument(input)));
    assert.equal(
      [...runDocumentChunks({ ...input, steps: [] })].join(''),
      JSON.stringify(buildRunDocument({ ...input, steps: [] })),
    );
    assert.deepEqual(Object.keys(cli), [
      'schema',
      'script',
      'tfjs',
      'backend',
      'semantics',
      'steps',
      'output',
      'error',
      'end',
    ]);

    // the extension's export of the same run: a session is its state plus a bounded history of the worker's buffers
    const history = new StepHistory(1000, 1 << 30);
    for (const s of r.steps) history.push(s.header.index, s.buffer);
    const session = {
      label: p,
      scriptPath: p,
      tfjs: r.tfjs,
      backend: r.backend,
      backendRequested: 'wasm',
      history,
      output: r.output,
      error: r.error,
      state: 'ended',
      endReason: r.reason,
    } as any;
    const exported = JSON.parse(JSON.stringify(sessionToJson(session)));
    assert.deepEqual(Object.keys(exported), [...Object.keys(cli), 'scriptPath', 'thinnedSteps']);
    const { scriptPath, thinnedSteps, ...common } = exported;
    assert.deepEqual(common, cli, 'the export says what bn-inspect says, error and end included');
    assert.equal(scriptPath, p);
    assert.equal(thinnedSteps, 0);
  });

  it('a script that prints 40 MB: the output is bounded (first and last 4 MB, a note of what was dropped)', async () => {
    const p = fx.write(
      'loud.ts',
      `const line = 'x'.repeat(1023) + '\\n';
console.log('FIRST');
for (let i = 0; i < 40 * 1024; i++) process.stdout.write(line);
console.log('LAST');
`,
    );
    const r = await new EngineSession({ scriptPath: p, workerPath: WORKER }).run();
    assert.equal(r.reason, 'done', JSON.stringify(r.error));
    assert.ok(r.output.startsWith('FIRST\n'));
    assert.ok(r.output.endsWith('LAST\n'));
    const m =
      /\[bn-inspector: (\d+) characters of output dropped here; the first 4194304 and the last 4194304 are kept\]/.exec(
        r.output,
      );
    assert.ok(m, 'the note');
    const total = 6 + 40 * 1024 * 1024 + 5;
    assert.equal(Number(m[1]), total - 2 * 4194304);
    assert.equal(r.output.length - m[0].length - 2, 2 * 4194304);
  });

  it('an export before the end says paused / running; a Stop in the editor says stopped', () => {
    const base = { endReason: null } as any;
    assert.equal(sessionEnd({ ...base, state: 'paused' }), 'paused');
    assert.equal(sessionEnd({ ...base, state: 'running' }), 'running');
    assert.equal(sessionEnd({ ...base, state: 'starting' }), 'running');
    assert.equal(sessionEnd({ state: 'ended', endReason: 'stopped' } as any), 'stopped');
    assert.equal(sessionEnd({ state: 'ended', endReason: 'oom' } as any), 'oom');
  });
});
