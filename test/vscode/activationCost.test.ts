// Issue 11, item 4: what activation and the code lenses of a 2,000-line script cost, in a real VS Code extension host.
// The figures are printed as [cost] lines (for the README) and asserted against the goals (50 ms each).
//
// What is measured, precisely:
// - loading dist/extension.js: a fresh `require` of the shipped bundle in this host (its cache entry dropped before
//   each of 5 loads; the first is the coldest), wall time and this thread's CPU time;
// - activation: the extension's activateInspector() (what activate() of dist/extension.js runs), timed by the test
//   entry when VS Code activated the extension at the start of the session;
// - lenses, "first time": from the moment the extension host learns of a newly opened 2,000-line document (its
//   onDidOpenTextDocument event) to the moment the extension's provideCodeLenses returns the lenses of that
//   document (VS Code asks through vscode.executeCodeLensProvider, called right after the open); "after an edit":
//   from the onDidChangeTextDocument event of an edit of a document shown in an editor to the first
//   provideCodeLenses answer for the new version (whoever asked first: the editor or the test). Given as the
//   provider's own time (scan + lens objects, wall and CPU) and as that latency (which adds VS Code's request from
//   the extension host through the workbench and back, and the host's other work in between);
// - not counted: VS Code shipping 399 lenses back to the caller of executeCodeLensProvider ("round trip", printed).
//
// Margin policy: this machine has 2 cores shared with other jobs (the load average is printed with the figures);
// wall-clock figures there move by tens to hundreds of milliseconds with the load. So the 50 ms goals are asserted
// on what the load does not inflate: the median CPU time of this thread (process.threadCpuUsage, Node >= 23.9, as in
// code-server's Node 24) for loading the bundle and for the lens provider, and the activation call. The wall-clock
// medians are printed and asserted only against looser bounds (a regression or a hang fails; load does not).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import * as vscode from 'vscode';
import { api, extensionPath, writeFixture } from './support/host';

const GOAL_MS = 50;
/** loose wall-clock bounds (see the margin policy above) */
const LOAD_BOUND_MS = 250;
const PROVIDER_BOUND_MS = 250;
const LATENCY_BOUND_MS = 2000;

/** CPU time of this thread in ms (Node >= 23.9), else null */
function threadCpuMs(): number | null {
  const p = process as { threadCpuUsage?: () => { user: number; system: number } };
  if (typeof p.threadCpuUsage !== 'function') return null;
  const u = p.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

/** a 2,000-line tfjs script: step points, helpers, comments (`variant` makes each copy's text different) */
function bigScript(variant = 0): string {
  const lines = [`import * as tf from '@tensorflow/tfjs';`, `const model = tf.sequential(); // ${variant}`];
  let i = 0;
  while (lines.length + 5 <= 2000) {
    i++;
    lines.push(`// block ${i}`);
    lines.push(`function helper${i}(x: tf.Tensor): tf.Tensor {`);
    lines.push(`  return tf.tidy(() => x.mul(${i}).add(1));`);
    lines.push(`}`);
    lines.push(`const y${i} = model.predict(tf.ones([1, 4])) as tf.Tensor;`);
  }
  while (lines.length < 2000) lines.push(`// end ${lines.length}`);
  return lines.join('\n') + '\n';
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => x.toFixed(1);
const list = (xs: number[]) => xs.map(ms).join(', ');

suite('activation cost', () => {
  test('dist/extension.js is small, holds no TypeScript compiler, and loads and activates in <= 50 ms', async () => {
    const a = await api();
    const dist = path.join(extensionPath(), 'dist');
    const main = path.join(dist, 'extension.js');
    const bytes = fs.statSync(main).size;
    assert.ok(bytes < 512 * 1024, `dist/extension.js is ${bytes} bytes`);
    assert.ok(!fs.readFileSync(main, 'utf8').includes('createSourceFile'), 'the TypeScript compiler is not in it');
    assert.ok(!fs.existsSync(path.join(dist, 'stepPointFinder.js')), 'no separate finder bundle');
    // fresh loads of the shipped bundle in this host (the dev extension runs its own copy, so this one is not cached)
    const loads: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < 5; i++) {
      delete require.cache[require.resolve(main)];
      const t0 = performance.now();
      const c0 = threadCpuMs();
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(main);
      const c1 = threadCpuMs();
      loads.push(performance.now() - t0);
      if (c0 !== null && c1 !== null) cpus.push(c1 - c0);
    }
    const activation = a.activationMs();
    console.log(
      `[cost] dist/extension.js ${(bytes / 1024).toFixed(0)} KB (load average ${os.loadavg()[0].toFixed(1)}): ` +
        `loaded in ${list(loads)} ms (median ${ms(median(loads))}; CPU ${cpus.length ? list(cpus) : 'n/a'}); ` +
        `activateInspector ${ms(activation.wall)} ms (CPU ${activation.cpu === null ? 'n/a' : ms(activation.cpu)})`,
    );
    if (cpus.length) assert.ok(median(cpus) <= GOAL_MS, `loading dist/extension.js: median CPU ${ms(median(cpus))} ms`);
    assert.ok(median(loads) <= LOAD_BOUND_MS, `loading dist/extension.js: median ${ms(median(loads))} ms`);
    if (activation.cpu !== null)
      assert.ok(activation.cpu <= GOAL_MS, `activation used ${ms(activation.cpu)} ms of CPU`);
    assert.ok(activation.wall <= LOAD_BOUND_MS, `activation took ${ms(activation.wall)} ms`);
  });

  test('code lenses for a 2,000-line file in <= 50 ms: first time (newly opened) and after an edit', async function () {
    this.timeout(120_000);
    const a = await api();
    /** when the extension host learnt of each document version (open or change event) */
    const learnt = new Map<string, number>();
    const at = (doc: vscode.TextDocument) => learnt.get(`${doc.uri.toString()}#${doc.version}`);
    const note = (doc: vscode.TextDocument) => learnt.set(`${doc.uri.toString()}#${doc.version}`, performance.now());
    const subs = [
      vscode.workspace.onDidOpenTextDocument(note),
      vscode.workspace.onDidChangeTextDocument((e) => note(e.document)),
    ];
    /** asks VS Code for the lenses now; the provider's first answer for this version of doc (whoever asked) */
    const lensesOf = async (doc: vscode.TextDocument) => {
      const t0 = at(doc);
      assert.ok(t0 !== undefined, 'the open/change event came');
      const lenses =
        (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri)) ?? [];
      const roundTrip = performance.now() - t0;
      const p = a.lensesProvided().find((x) => x.uri === doc.uri.toString() && x.version === doc.version);
      assert.ok(p, 'our provider answered this version');
      const ours = lenses.filter((l) => l.command?.command === 'batchnormInspector.runToLine');
      return { count: ours.length, ms: p.ms, cpuMs: p.cpuMs, latencyMs: p.at - t0, roundTrip };
    };
    try {
      // first time: five different 2,000-line files, each newly opened (not shown: only this test asks)
      const first: Awaited<ReturnType<typeof lensesOf>>[] = [];
      for (let i = 0; i < 5; i++) {
        const uri = vscode.Uri.file(writeFixture(`two-thousand-lines-${i}.ts`, bigScript(i)));
        first.push(await lensesOf(await vscode.workspace.openTextDocument(uri)));
        assert.strictEqual(first[i].count, 399, 'one lens per model.predict line');
      }
      // after an edit: five edits of a file shown in an editor (the editor asks for its lenses too)
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(writeFixture('edited.ts', bigScript(9))));
      const editor = await vscode.window.showTextDocument(doc, { preview: false });
      await lensesOf(doc);
      const edited: typeof first = [];
      // is this thread (the extension host's) busy between an edit and the lenses? (the host's other extensions run
      // here too: the built-in TypeScript features)
      const lag = monitorEventLoopDelay({ resolution: 5 });
      lag.enable();
      for (let i = 0; i < 5; i++) {
        assert.ok(await editor.edit((e) => e.insert(new vscode.Position(1 + i, 0), `// edited ${i}\n`)));
        edited.push(await lensesOf(doc));
        assert.strictEqual(edited[i].count, 399);
      }
      lag.disable();
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');

      // VS Code's own request hop: a provider that answers at once, asked the same way
      const hops: number[] = [];
      let calledAt = 0;
      const probe = vscode.languages.registerCodeLensProvider(
        { language: 'plaintext' },
        {
          provideCodeLenses: () => {
            calledAt = performance.now();
            return [];
          },
        },
      );
      const plain = await vscode.workspace.openTextDocument({ language: 'plaintext', content: 'x\n' });
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await vscode.commands.executeCommand('vscode.executeCodeLensProvider', plain.uri);
        hops.push(calledAt - t0);
      }
      probe.dispose();
      assert.ok(
        hops.every((h) => h > 0),
        'the probe was asked',
      );
      console.log(
        `[cost] VS Code's request hop to a lens provider that answers at once: ${list(hops)} ms; ` +
          `extension-host event loop during the edits: mean delay ${ms(lag.mean / 1e6)} ms, max ${ms(lag.max / 1e6)} ms`,
      );

      const load = os.loadavg()[0].toFixed(1);
      for (const [what, xs] of [
        ['first time', first],
        ['after an edit', edited],
      ] as const) {
        const wall = median(xs.map((x) => x.ms));
        const cpu = xs.every((x) => x.cpuMs !== null) ? median(xs.map((x) => x.cpuMs!)) : null;
        const latency = median(xs.map((x) => x.latencyMs));
        console.log(
          `[cost] lenses for 2,000 lines, ${what} (load average ${load}): provider ${list(xs.map((x) => x.ms))} ms ` +
            `(median ${ms(wall)}; CPU ${cpu === null ? 'n/a' : list(xs.map((x) => x.cpuMs!)) + `, median ${ms(cpu)}`}); ` +
            `lenses provided ${list(xs.map((x) => x.latencyMs))} ms after the document (median ${ms(latency)}); ` +
            `VS Code round trip with 399 lenses ${list(xs.map((x) => x.roundTrip))} ms`,
        );
        assert.ok(cpu === null || cpu <= GOAL_MS, `${what}: the provider used ${ms(cpu ?? 0)} ms of CPU (median)`);
        assert.ok(wall <= PROVIDER_BOUND_MS, `${what}: the provider took ${ms(wall)} ms (median)`);
        assert.ok(latency <= LATENCY_BOUND_MS, `${what}: lenses ${ms(latency)} ms after the document (median)`);
      }
    } finally {
      subs.forEach((d) => d.dispose());
    }
  });
});
