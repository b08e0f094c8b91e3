/**
 * The helper thread of the engine's SIMD kernels (src/worker/kernels/simdHelper.ts), its protocol against helpers
 * that misbehave: one that never answers makes the call throw a clear error after the timeout (never a hang), one
 * that fails its job makes the call throw, one that never says it is ready is never used (the caller computes
 * alone). The real helper (dist/simdHelper.js) on real kernels: kernels.test.ts, on the threaded run.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simdHelperFor, simdHelperSettings } from '../../src/worker/kernels/simdHelper';
import type { TapGeometry } from '../../src/worker/kernels/filterGradLoops';

/** a helper script: marks itself ready (or not), then handles jobs as `onJob` (JS source) says */
const fake = (ready: boolean, onJob: string) => `
const { workerData } = require('node:worker_threads');
const ctl = new Int32Array(workerData.control);
${ready ? 'Atomics.store(ctl, 2, 1);' : ''}
let seen = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  ${onJob}
}
`;
const g: TapGeometry = { B: 2, H: 4, W: 4, Ci: 4, OH: 4, OW: 4, Co: 8, KH: 3, KW: 3, sh: 1, sw: 1, pt: 1, pl: 1 };
const sharedMemory = () => new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });

async function ready(h: ReturnType<typeof simdHelperFor>): Promise<boolean> {
  for (let i = 0; i < 100 && h !== null && !h.worthIt(Infinity); i++) await new Promise((r) => setTimeout(r, 20));
  return h !== null && h.worthIt(Infinity);
}

describe('the SIMD helper thread: protocol and failures (kernels/simdHelper.ts)', function () {
  this.timeout(30_000);
  let dir = '';
  const saved = { ...simdHelperSettings };
  before(() => (dir = mkdtempSync(join(tmpdir(), 'bn-helper-'))));
  after(() => {
    Object.assign(simdHelperSettings, saved);
    rmSync(dir, { recursive: true, force: true });
  });
  const script = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('none without shared memory or without a script (the single-threaded build)', () => {
    simdHelperSettings.script = script('unused.js', fake(true, ''));
    assert.equal(simdHelperFor(new WebAssembly.Memory({ initial: 1 })), null, 'a plain memory');
    assert.equal(simdHelperFor(null), null);
    simdHelperSettings.script = '';
    assert.equal(simdHelperFor(sharedMemory()), null, 'no script');
  });

  it('a helper that answers: the local part and the job both run, the call returns', async () => {
    simdHelperSettings.script = script(
      'answers.js',
      fake(true, 'Atomics.store(ctl, 1, seen); Atomics.notify(ctl, 1);'),
    );
    const h = simdHelperFor(sharedMemory());
    assert.ok(await ready(h), 'ready');
    let local = 0;
    h!.filterGradTaps(g, 0, 0, 0, 1, 2, () => local++);
    h!.pointwiseFilterRows(0, 0, 0, 0, 8, 4, 8, () => local++);
    assert.equal(local, 2);
    assert.equal(h!.worthIt(simdHelperSettings.minFlops - 1), false, 'below the threshold: not worth it');
  });

  it('a helper that never answers: a clear error after the timeout, not a hang; then it is not used', async () => {
    simdHelperSettings.script = script('silent.js', fake(true, '/* never answers */'));
    simdHelperSettings.timeoutMs = 300;
    const h = simdHelperFor(sharedMemory());
    assert.ok(await ready(h), 'ready');
    const t0 = Date.now();
    assert.throws(() => h!.filterGradTaps(g, 0, 0, 0, 1, 2, () => {}), /SIMD helper thread did not answer/);
    assert.ok(Date.now() - t0 < 5000, 'within the timeout');
    assert.equal(h!.worthIt(Infinity), false, 'taken for dead');
    simdHelperSettings.timeoutMs = saved.timeoutMs;
  });

  it('a helper whose job fails: the call throws; a local part that throws is rethrown after the helper answered', async () => {
    simdHelperSettings.script = script(
      'fails.js',
      fake(true, 'Atomics.store(ctl, 3, 1); Atomics.store(ctl, 1, seen); Atomics.notify(ctl, 1);'),
    );
    const h = simdHelperFor(sharedMemory());
    assert.ok(await ready(h), 'ready');
    assert.throws(() => h!.pointwiseFilterRows(0, 0, 0, 0, 8, 4, 8, () => {}), /SIMD helper thread failed/);
    simdHelperSettings.script = script(
      'answers2.js',
      fake(true, 'Atomics.store(ctl, 1, seen); Atomics.notify(ctl, 1);'),
    );
    const h2 = simdHelperFor(sharedMemory());
    assert.ok(await ready(h2), 'ready');
    assert.throws(
      () =>
        h2!.filterGradTaps(g, 0, 0, 0, 1, 2, () => {
          throw new Error('local part');
        }),
      /local part/,
    );
  });

  it('a helper that never gets ready (or dies starting) is never used', async () => {
    simdHelperSettings.script = script('never.js', fake(false, ''));
    const h = simdHelperFor(sharedMemory());
    assert.ok(h !== null);
    assert.equal(await ready(h), false);
    simdHelperSettings.script = join(dir, 'missing.js');
    const h2 = simdHelperFor(sharedMemory());
    assert.equal(await ready(h2), false, 'a script that does not exist');
  });
});
