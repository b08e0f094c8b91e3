/**
 * Issue 10, item 1: each run in its own process (src/runner/runner.ts via src/engineHost/processWorker.ts). Scripts
 * that kill their process, exit, write to fd 1, spawn children or allocate without bound end THEIR process only:
 * bn-inspect (a real child process here) and this test process live on, the JSON document is whole and alone on
 * stdout, the steps so far are kept, and no process is left behind.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { EngineSession } from '../../src/engineHost/engineSession';
import { CLI, Fixtures, ROOT, WORKER, ensureBuilt, parseDocument, runCli } from './cliHarness';

const HEAD = `import * as tf from '@tensorflow/tfjs';
const m = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [3] })] });
m.predict(tf.ones([2, 3]));
`;

/** processes whose command line contains `marker` (none must outlive a run) */
function processesWith(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

describe('isolation: the script runs in its own process', function () {
  this.timeout(120_000);
  const fx = new Fixtures('bn-isolation-test-');
  before(ensureBuilt);
  after(() => fx.cleanup());

  it('process.kill(process.pid): bn-inspect lives, prints one document with the step so far, end crashed', async () => {
    const p = fx.write('kill.ts', HEAD + `console.log('about to kill');\nprocess.kill(process.pid);\n`);
    const r = await runCli(['run', p, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const doc = parseDocument(r, p);
    assert.equal(doc.end, 'crashed');
    assert.equal(doc.error.kind, 'crash');
    assert.match(doc.error.message, /process was ended by SIGTERM/);
    assert.equal(doc.steps.length, 1);
    assert.equal(doc.output, 'about to kill\n');
  });

  it("process.kill(process.pid, 'SIGKILL'): the same, ended by SIGKILL", async () => {
    const p = fx.write('sigkill.ts', HEAD + `process.kill(process.pid, 'SIGKILL');\n`);
    const r = await runCli(['run', p, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const doc = parseDocument(r, p);
    assert.equal(doc.end, 'crashed');
    assert.match(doc.error.message, /SIGKILL/);
    // SIGKILL cannot be caught: a step still on its way from the worker to the host may be lost with the process
    assert.ok(doc.steps.length <= 1);
  });

  it('fd 1 writes, an inheriting child and a patched JSON.stringify do not touch the document on stdout', async () => {
    const p = fx.write(
      'fd1.ts',
      HEAD +
        `import { writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
writeSync(1, 'GARBAGE ON FD 1\\n');
spawnSync('echo', ['child garbage'], { stdio: 'inherit' });
JSON.stringify = () => 'HACKED';
`,
    );
    const r = await runCli(['run', p, '--json']);
    assert.equal(r.code, 0, r.stderr);
    // parseDocument parses the whole stdout: one document, nothing before or after it
    const doc = parseDocument(r, p);
    assert.equal(doc.end, 'done');
    assert.equal(doc.steps.length, 1);
    assert.match(doc.output, /GARBAGE ON FD 1\n/);
    assert.match(doc.output, /child garbage\n/);
  });

  it('process.exit(5) is the script exiting with 5, not an engine crash', async () => {
    const p = fx.write('exit5.ts', HEAD + `process.exit(5);\n`);
    const r = await runCli(['run', p, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const doc = parseDocument(r, p);
    assert.equal(doc.end, 'error');
    assert.equal(doc.error.kind, 'run');
    assert.match(doc.error.message, /the script called process\.exit\(5\) after 1 step/);
  });

  it("a script's children end with the run (timeout): none left behind", async () => {
    const marker = `${Math.floor(Math.random() * 1e6) + 1000}.5`;
    const p = fx.write(
      'child.ts',
      HEAD +
        `import { spawn } from 'node:child_process';
spawn('sleep', ['${marker}'], { stdio: 'ignore' });
spawn('sleep', ['${marker}'], { stdio: 'inherit', detached: false });
await new Promise(() => setInterval(() => {}, 1000));
`,
    );
    const r = await runCli(['run', p, '--json', '--timeout-ms', '1500']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(parseDocument(r, p).end, 'timeout');
    await new Promise((res) => setTimeout(res, 300));
    assert.deepEqual(processesWith(`sleep ${marker}`), []);
  });

  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const)
    it(`${signal} to bn-inspect: the run ends and the document of the steps so far still comes (exit 1, stopped)`, async () => {
      const p = fx.write(
        `loop-${signal}.ts`,
        HEAD + `for (;;) {\n  m.predict(tf.ones([2, 3]));\n  await new Promise((r) => setTimeout(r, 20));\n}\n`,
      );
      const child = spawn(process.execPath, [CLI, 'run', p, '--json'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      // wait for the script to take steps, then signal bn-inspect
      await new Promise((res) => setTimeout(res, 4000));
      child.kill(signal);
      const code = await new Promise<number | null>((res) => child.on('close', res));
      assert.equal(code, 1, stderr);
      const doc = parseDocument({ code, stdout, stderr, ms: 0 }, p);
      assert.equal(doc.end, 'error');
      assert.equal(doc.error.kind, 'stopped');
      assert.ok(doc.steps.length >= 2, `${doc.steps.length} steps`);
      await new Promise((res) => setTimeout(res, 200));
      assert.deepEqual(processesWith(p), []);
    });

  it('--timeout-ms above what a timer can hold is a usage error, not an instant timeout', async () => {
    const p = fx.write('short.ts', HEAD);
    const r = await runCli(['run', p, '--timeout-ms', '3000000000']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /--timeout-ms must be at most 2147483647/);
    const ok = await runCli(['run', p, '--json', '--timeout-ms', '2147483647']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('control characters of a garbage file reach the terminal escaped, never raw', async () => {
    const p = fx.write('garbage.ts', 'a\u001b[31mred\u0007\u0001\u009b\n');
    const r = await runCli(['run', p]);
    assert.equal(r.code, 1);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(r.stdout + r.stderr, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    assert.match(r.stderr, /a\\x1b\[31mred\\x07\\x01/);
  });

  it('tensors beyond the memory budget: reason oom with the process size, the steps kept; the host lives', async () => {
    const p = fx.write(
      'tensors.ts',
      HEAD +
        `const keep: tf.Tensor[] = [];
// @step
console.log('allocating');
for (let i = 0; i < 1000; i++) keep.push(tf.ones([16, 1024, 1024]).add(i));
`,
    );
    const t0 = performance.now();
    const r = await new EngineSession({ scriptPath: p, workerPath: WORKER, memoryMb: 700 }).run();
    assert.equal(r.reason, 'oom', JSON.stringify(r.error));
    assert.equal(r.error?.kind, 'oom');
    // 64 MB per tensor: the JS heap limit alone would never stop this (tensor memory is outside the heap)
    assert.match(r.error!.message, /ran out of memory: it used \d+ MB, over its 700 MB budget after 2 steps/);
    assert.equal(r.steps.length, 2);
    assert.ok(performance.now() - t0 < 60_000);
    // this process never grew with it
    assert.ok(process.memoryUsage.rss() < 700 * 1024 * 1024, `host rss ${process.memoryUsage.rss()}`);
  });
});
