/**
 * The helper thread of the engine's SIMD kernels (src/worker/kernels/simdHelper.ts), its protocol against helpers
 * that misbehave: one that never answers makes the wait for its job throw a clear error after the timeout (never a
 * hang), one that fails its job makes it throw, one that never says it is ready is never used (the caller computes
 * alone); and the fence a backend gets: only its job's output and memory wait. The real helper (dist/simdHelper.js) on real kernels: kernels.test.ts, on the threaded run.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  guardBackend,
  helperBusy,
  simdHelperFor,
  simdHelperSettings,
  type JobData,
} from '../../src/worker/kernels/simdHelper';
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

  const job = (out = 64): JobData => ({ out: { id: out }, outAddress: out, reads: [128, 256] });

  it('a helper that answers: the call returns at once, the job is in flight until settled', async () => {
    simdHelperSettings.script = script(
      'answers.js',
      fake(true, 'Atomics.store(ctl, 1, seen); Atomics.notify(ctl, 1);'),
    );
    const h = simdHelperFor(sharedMemory());
    assert.ok(await ready(h), 'ready');
    h!.filterGradTaps(g, 64, 128, 256, job());
    assert.equal(h!.guardsAddress(128), 'wait', 'an input is guarded until the job is waited for');
    assert.equal(h!.guardsAddress(512), null, 'other memory is not');
    h!.pointwiseFilterRows(64, 128, 256, 8, 4, 8, job()); // waits for the first
    h!.settle();
    assert.equal(helperBusy(), false);
    assert.equal(h!.pendingOutput(), null);
    assert.equal(h!.worthIt(simdHelperSettings.minFlops - 1), false, 'below the threshold: not worth it');
  });

  it('a helper that never answers: a clear error after the timeout, not a hang; then it is not used, its output never freed', async () => {
    simdHelperSettings.script = script('silent.js', fake(true, '/* never answers */'));
    simdHelperSettings.timeoutMs = 300;
    const h = simdHelperFor(sharedMemory());
    assert.ok(await ready(h), 'ready');
    const t0 = Date.now();
    h!.filterGradTaps(g, 64, 128, 256, job());
    assert.throws(() => h!.settle(), /SIMD helper thread did not answer/);
    assert.ok(Date.now() - t0 < 5000, 'within the timeout');
    assert.equal(h!.worthIt(Infinity), false, 'taken for dead');
    assert.equal(h!.guardsAddress(64), 'leak', 'the output it may still write is never freed');
    assert.equal(helperBusy(), false);
    simdHelperSettings.timeoutMs = saved.timeoutMs;
  });

  it('a helper whose job fails: the access that waits for it throws', async () => {
    simdHelperSettings.script = script(
      'fails.js',
      fake(true, 'Atomics.store(ctl, 3, 1); Atomics.store(ctl, 1, seen); Atomics.notify(ctl, 1);'),
    );
    const h = simdHelperFor(sharedMemory());
    assert.ok(await ready(h), 'ready');
    h!.pointwiseFilterRows(64, 128, 256, 8, 4, 8, job());
    assert.throws(() => h!.settle(), /SIMD helper thread failed/);
    assert.equal(h!.worthIt(Infinity), false);
  });

  it("the fence on a backend: reading the job's output or freeing its memory waits for the helper; nothing else does", async () => {
    // a helper that takes 300 ms over each job
    simdHelperSettings.script = script(
      'slow.js',
      fake(
        true,
        'const t = Date.now(); while (Date.now() - t < 300); Atomics.store(ctl, 1, seen); Atomics.notify(ctl, 1);',
      ),
    );
    const h = simdHelperFor(sharedMemory())!;
    assert.ok(await ready(h), 'ready');
    const freed: number[] = [];
    const map = new Map<object, string>();
    const backend = { dataIdMap: map, wasm: { _free: (a: number) => void freed.push(a) } };
    assert.ok(guardBackend(backend, h));
    const data = job();
    const other = { id: 'other' };
    map.set(data.out, 'dW').set(other, 'x');
    const timed = (f: () => void) => {
      const t0 = Date.now();
      f();
      return Date.now() - t0;
    };
    h.filterGradTaps(g, 64, 128, 256, data);
    assert.equal(helperBusy(), true, 'computing: XNNPACK keeps its pool on the calling thread');
    assert.ok(timed(() => assert.equal(map.get(other), 'x')) < 150, 'another tensor: no wait');
    assert.ok(timed(() => backend.wasm._free(1024)) < 150, 'other memory: no wait');
    assert.ok(timed(() => assert.equal(map.get(data.out), 'dW')) >= 200, "the output: waits for the job's end");
    assert.equal(helperBusy(), false);
    h.filterGradTaps(g, 64, 128, 256, job());
    assert.ok(timed(() => backend.wasm._free(256)) >= 200, "an input's memory: freed after the job's end");
    assert.deepEqual(freed, [1024, 256]);
    // a job done but never waited for (nobody read its output yet): not busy, the pool is free again
    h.pointwiseFilterRows(64, 128, 256, 8, 4, 8, job());
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(helperBusy(), false, 'done, not waited for');
    assert.notEqual(h.pendingOutput(), null);
    h.settle();
    assert.equal(guardBackend({}, h), false, 'not a wasm backend: no fence');
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
