/**
 * A run's compiled bundle is private and leaves nothing behind (src/worker/privateBundle.ts): its own folder per
 * run (mode 0700, file 0600), gone once the script starts, after a compile error and after a stop. The real
 * worker, with TMPDIR pointed at a fresh folder so that nothing else's files are counted.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineSession } from '../../src/engineHost/engineSession';
import { privateBundlePath, removeBundle } from '../../src/worker/privateBundle';
import { Fixtures, WORKER, ensureBuilt } from './cliHarness';

describe('the bundle of a run: a private folder, removed (real worker)', function () {
  this.timeout(120_000);
  const fx = new Fixtures('bn-bundle-test-');
  const savedTmp = process.env.TMPDIR;
  let tmp = '';
  before(() => ensureBuilt());
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'bn-tmpdir-'));
    process.env.TMPDIR = tmp;
  });
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    rmSync(tmp, { recursive: true, force: true });
  });
  after(() => fx.cleanup());

  it('privateBundlePath: a fresh folder of mode 0700 per call; removeBundle takes the file and the folder', () => {
    const a = privateBundlePath();
    const b = privateBundlePath();
    assert.notEqual(a, b);
    const dir = join(a, '..');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.ok(dir.startsWith(tmp), `under TMPDIR: ${dir}`);
    writeFileSync(a, 'x');
    removeBundle(a);
    removeBundle(b);
    assert.deepEqual(readdirSync(tmp), []);
  });

  it('paused at the first step, the bundle is already gone; after a run, a compile error or a stop: nothing left', async () => {
    const script = fx.write(
      'run.ts',
      `import * as tf from '@tensorflow/tfjs';\nconst bn = tf.layers.batchNormalization();\n// @step\nbn.apply(tf.ones([2, 3]), { training: true });\nconsole.log('end');\n`,
    );
    // the worker's bundle really goes through this TMPDIR (seen by inotify), and only there for a moment
    const seen = new Set<string>();
    const watcher = watch(tmp, (_ev, f) => f && seen.add(String(f)));
    const s = new EngineSession({ scriptPath: script, workerPath: WORKER, pause: { kind: 'next' } });
    const paused = new Promise<void>((r) => s.on('step', (_st, p) => p && r()));
    const ended = s.run();
    await paused;
    assert.deepEqual(readdirSync(tmp), [], 'while paused: no bundle, no folder');
    watcher.close();
    assert.ok(
      [...seen].some((f) => f.startsWith('bn-inspector-run-')),
      `the run's folder was made in TMPDIR: ${[...seen]}`,
    );
    s.stop();
    await ended;
    assert.deepEqual(readdirSync(tmp), []);

    const done = await new EngineSession({ scriptPath: script, workerPath: WORKER }).run();
    assert.equal(done.error, null);
    assert.deepEqual(readdirSync(tmp), [], 'after a run to its end');

    const bad = fx.write('bad.ts', `import * as tf from '@tensorflow/tfjs';\nconst x: number = ;\n`);
    const failed = await new EngineSession({ scriptPath: bad, workerPath: WORKER }).run();
    assert.equal(failed.error?.kind, 'compile');
    assert.deepEqual(readdirSync(tmp), [], 'after a compile error');
  });
});
