// Issue 10 in a real VS Code extension host: each run has a process of its own, so a script that kills its own
// process, or allocates tensors without bound, ends its run only. The extension host lives on, the session keeps
// its snapshots, the panel keeps showing them, a clear message is shown, and no process is left behind.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { realpathSync } from 'fs';
import * as vscode from 'vscode';
import type { RunOutcome } from '../../src/extension/commands';
import { api, open, stopAll, until, writeFixture } from './support/host';

const HEAD = `import * as tf from '@tensorflow/tfjs';
const layer = tf.layers.batchNormalization({ inputShape: [2] });
layer.apply(tf.tensor2d([[1, 2], [3, 5]]));
`;

const KILLS_ITSELF = HEAD + `console.log('about to kill');\nprocess.kill(process.pid);\n`;

const TENSOR_HOG =
  HEAD +
  `const keep: tf.Tensor[] = [];
for (let i = 0; i < 1000; i++) keep.push(tf.ones([16, 1024, 1024]).add(i));
`;

/** the warm spare runners of this extension host (children of this process not yet given a script) */
function spares(): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => Number(f[1]) === process.pid && f.slice(2).join(' ').includes('(spare: no script yet)'))
    .map((f) => Number(f[0]));
}

suite('isolation: a run in its own process', () => {
  const started: string[] = [];
  teardown(async () => {
    await stopAll(await api(), started);
  });

  test('a script that kills its own process: the host lives, the step and the panel stay, a clear message', async () => {
    const a = await api();
    const file = writeFixture('kills-itself.ts', KILLS_ITSELF);
    started.push(file);
    const { doc } = await open(file);
    await vscode.commands.executeCommand('batchnormInspector.openInspector');
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
    assert.strictEqual(r.state, 'ended');
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(s.endReason, 'crashed', `${s.endReason}: ${s.error?.message}`);
    assert.match(s.error?.message ?? '', /process was ended by SIGTERM/);
    assert.strictEqual(s.stepCount, 1, 'the step before the kill is kept');
    assert.ok(
      a.messages().some((m) => m.kind === 'error' && /SIGTERM/.test(m.text)),
      `a clear message: ${JSON.stringify(a.messages().slice(-3))}`,
    );
    await until('the panel shows the step', () => a.panel.lastRendered()?.stepIndex === 1, 20_000);
    assert.strictEqual(a.liveWorkers(), 0);
    // the extension host still runs scripts: the same one again
    const again = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
    assert.strictEqual(again.state, 'ended');
    assert.strictEqual(a.getSession(doc.uri)!.stepCount, 1);
    assert.strictEqual(a.liveWorkers(), 0);
  });

  test('a tfjs script editor keeps one warm spare runner; a run takes it (its process ends with the run), another follows', async () => {
    const a = await api();
    const file = writeFixture('spare.ts', HEAD + `console.log('CWD=' + process.cwd());\n`);
    started.push(file);
    const { doc } = await open(file);
    let before: number[] = [];
    await until('a spare runner', () => (before = spares()).length === 1, 20_000);
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
    assert.strictEqual(r.state, 'ended');
    const s = a.getSession(doc.uri)!;
    assert.strictEqual(s.endReason, 'done', `${s.endReason}: ${s.error?.message}`);
    assert.strictEqual(s.stepCount, 1);
    // the spare did the run: it is no spare any more, and its process ended with the run
    assert.ok(!spares().includes(before[0]), 'the spare was taken');
    await until(
      'its process ended',
      () => {
        try {
          process.kill(before[0], 0);
          return false;
        } catch {
          return true;
        }
      },
      10_000,
    );
    // the working directory still applies (the spare was started elsewhere)
    // process.cwd() is the folder's real path (a folder reached through a symbolic link: its target)
    const folder = realpathSync(vscode.workspace.getWorkspaceFolder(doc.uri)!.uri.fsPath);
    assert.match(a.outputText(doc.uri) ?? '', new RegExp(`CWD=${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
    await until('a new spare', () => spares().length === 1 && spares()[0] !== before[0], 20_000);
    assert.strictEqual(a.liveWorkers(), 0);
  });

  test("the script's process starts in its workspace folder (relative paths resolve there)", async () => {
    const a = await api();
    const file = writeFixture('cwd.ts', HEAD + `console.log('CWD=' + process.cwd());\n`);
    started.push(file);
    const { doc } = await open(file);
    const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
    assert.strictEqual(r.state, 'ended');
    // process.cwd() is the folder's real path (a folder reached through a symbolic link: its target)
    const folder = realpathSync(vscode.workspace.getWorkspaceFolder(doc.uri)!.uri.fsPath);
    assert.match(a.outputText(doc.uri) ?? '', new RegExp(`CWD=${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
  });

  test('tensors beyond workerMemoryMb (not JS heap): the run ends out of memory, the host lives', async () => {
    const a = await api();
    const cfg = vscode.workspace.getConfiguration('batchnormInspector');
    await cfg.update('workerMemoryMb', 640, vscode.ConfigurationTarget.Workspace);
    try {
      const file = writeFixture('tensor-hog.ts', TENSOR_HOG);
      started.push(file);
      const { doc } = await open(file);
      const before = process.memoryUsage.rss();
      const r = await vscode.commands.executeCommand<RunOutcome>('batchnormInspector.runScript', doc.uri);
      assert.strictEqual(r.state, 'ended');
      const s = a.getSession(doc.uri)!;
      assert.strictEqual(s.endReason, 'oom', `${s.endReason}: ${s.error?.message}`);
      assert.match(s.error?.message ?? '', /ran out of memory: it used \d+ MB, over its 640 MB budget/);
      assert.strictEqual(s.stepCount, 1, 'the snapshot before is kept');
      assert.ok(
        a.messages().some((m) => m.kind === 'error' && /out of memory/.test(m.text)),
        'a clear message',
      );
      assert.strictEqual(a.liveWorkers(), 0);
      // the tensors were never in the extension host's process
      assert.ok(process.memoryUsage.rss() - before < 256 * 1024 * 1024, 'the extension host did not grow with it');
    } finally {
      await cfg.update('workerMemoryMb', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
