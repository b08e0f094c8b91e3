// UI test of the compare view, as a person uses it: the packaged extension in a real VS Code workbench
// (code-server, see harness.ts). examples/fine-tune-frozen.ts (a pretrained base whose BN layer is then frozen and
// fine-tuned on other data) is run to its second `fit`; the panel's "Compare…" button opens the host's quick pick,
// Keras is picked, and the compare run (the same script under Keras's rules, in lockstep) fills each card with both
// values per channel, Δ and the why sentence. The numbers are checked against the engine's own from the command
// line (the installed extension's dist/cli.js, an independent tfjs run): the tfjs column is the layer after the
// fine-tuning fit, and the Keras column is the layer as the pretraining fit left it (Keras runs the frozen layer in
// inference mode: not updated), to a few float32 ulps (tfjs's wasm backend is not bit-reproducible in training).
// Then examples/finetune-keras-vs-tfjs.ts (three frozen BN layers of a loaded model): the overview's rows say
// "= Keras" at the first evaluate and "≠ Keras: max Δ …" (the why as the tooltip) at the fit, with the filter.
// Screenshots in the dark and the light theme (every run, git-ignored): test-results/screenshots/compare-e2e-*.png.
//
//   node scripts/vscode-host.mjs ui test/e2e/compare.e2e.ts
//
// One suite file per area (the compare view): its cases share one workbench and one run.
import * as assert from 'assert';
import { join } from 'path';
import type { FrameLocator, Locator } from 'playwright-core';
import { cliRun as cliDocument, exactRe, lineOf, webviewFrame } from './engineReference';
import { startVsCode, VsCode } from './harness';

const RUN_TIMEOUT = 180_000;
const FILE = 'fine-tune-frozen.ts';
/** the fine-tuning example: three frozen BN layers of a loaded model, where Keras and tfjs diverge */
const EXAMPLE = 'finetune-keras-vs-tfjs.ts';

interface CliLayer {
  name: string;
  trainable: boolean;
  updates: number;
  movingMean: number[];
  movingVariance: number[];
}
interface CliDoc {
  steps: { index: number; line: number; layers: CliLayer[] }[];
  error: unknown;
}

/** equal to a few float32 ulps (relative 1e-5): the panel's run and the command line's are separate wasm runs */
function assertClose(shown: string[], want: number[], what: string): void {
  assert.strictEqual(shown.length, want.length, `${what}: channels`);
  shown.forEach((t, i) => {
    const v = Number(t);
    assert.ok(t !== '' && Number.isFinite(v), `${what}: channel ${i} shows ${JSON.stringify(t)}`);
    assert.ok(
      Math.abs(v - want[i]) <= 1e-5 * Math.max(1, Math.abs(want[i])),
      `${what}: channel ${i}: panel ${t}, engine ${want[i]}`,
    );
  });
}

suite('the compare view (packaged extension, code-server + Chromium): tfjs and Keras side by side', () => {
  let vs: VsCode;
  let doc: CliDoc;
  let fitLine = 0;
  let pretrainLine = 0;

  suiteSetup(async function () {
    this.timeout(300_000);
    vs = await startVsCode({ theme: 'dark', viewport: { width: 1400, height: 900 } });
    vs.page.on('dialog', (d) => void d.dismiss().catch(() => {}));
    const file = join(vs.workspace, FILE);
    fitLine = lineOf(file, 'await fineTune.fit(');
    pretrainLine = lineOf(file, 'await pretrain.fit(');
    doc = await cliDocument<CliDoc>(file, fitLine, RUN_TIMEOUT);
  });
  teardown(async function () {
    if (this.currentTest?.state === 'failed') await vs?.describeFailure(this.currentTest.title);
  });
  suiteTeardown(async () => {
    await vs?.close();
  });

  const panel = (): FrameLocator => vs.webview();
  /** the host's quick pick (of Compare… or Semantics ▾), once shown: its Keras row */
  const kerasInQuickPick = async (): Promise<Locator> => {
    const row = vs.page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row')
      .filter({ has: vs.page.locator('.label-name', { hasText: /^\W*Keras\s*$/ }) })
      .first();
    await row.waitFor({ timeout: 60_000 });
    return row;
  };
  const card = (name: string): Locator =>
    panel().locator('section.card', { has: panel().locator('.layer-name', { hasText: exactRe(name) }) });

  test('run to the fine-tuning fit, Compare… → Keras: both columns, Δ and the why sentence', async function () {
    this.timeout(480_000);
    await vs.openFile(FILE);
    await vs.waitForLens('Run until this statement finishes', RUN_TIMEOUT);
    const p = panel();
    await vs.clickUntil(
      vs
        .lens('Run until this statement finishes')
        .and(vs.page.locator(`[title$="line ${fitLine}"], [title$="(line ${fitLine})"]`)),
      p.locator('.script', { hasText: exactRe(FILE) }),
      { what: `the run lens on line ${fitLine}`, timeoutMs: RUN_TIMEOUT },
    );
    await p.locator('.line-link', { hasText: exactRe(`line ${fitLine}`) }).waitFor({ timeout: RUN_TIMEOUT });
    await p.locator('.status[data-state="paused"]').waitFor({ timeout: RUN_TIMEOUT });
    const stepNo = Number(((await p.locator('.step-no').textContent()) ?? '').replace(/\D+/g, ''));
    const cliSteps = doc.steps.filter((s) => s.index <= stepNo);
    assert.strictEqual(cliSteps[cliSteps.length - 1].line, fitLine, 'the engine stops at the same step');
    const pre = doc.steps.find((s) => s.line === pretrainLine)!.layers.find((l) => l.name === 'base_bn')!;
    const post = cliSteps[cliSteps.length - 1].layers.find((l) => l.name === 'base_bn')!;
    assert.ok(!post.trainable && post.updates > 0, 'tfjs updated the frozen layer in fit');

    // the header: the session's semantics, and Compare…
    const semBtn = p.locator('.semantics-row button.semantics-pick');
    assert.strictEqual((await semBtn.innerText()).replace(/\s+/g, ' ').trim(), 'Semantics: tfjs ▾');
    await p.locator('.semantics-row button.compare-start').click();
    // the host's quick pick: Keras
    const keras = await kerasInQuickPick();
    await vs.screenshot('compare-e2e-01-quick-pick-dark');
    await keras.click();

    // the compare run reaches the same step
    await p.locator('.compare-status', { hasText: /^Comparing with Keras: / }).waitFor({ timeout: RUN_TIMEOUT });
    await p
      .locator('.compare-banner', { hasText: new RegExp(`^Compared with Keras at step ${stepNo}: `) })
      .waitFor({ timeout: RUN_TIMEOUT });
    const c = card('base_bn');
    if ((await c.locator('.card-toggle').getAttribute('aria-expanded')) !== 'true')
      await c.locator('.card-toggle').click();
    const line = (await c.locator('.compare-line').innerText()).trim();
    assert.match(
      line,
      new RegExp(
        `^≠ Compared with Keras: tfjs: frozen, updated ×${post.updates} with batch statistics; Keras: frozen, inference mode although training = true, not updated`,
      ),
    );
    // the moving mean side by side: tfjs as fine-tuning left it, Keras as pretraining left it
    const sec = c.locator('.pair-vec[data-vector="movingMean"]');
    await sec.locator('tbody tr').first().waitFor({ timeout: 60_000 });
    assert.deepStrictEqual(await sec.locator('thead th').allTextContents(), [
      'ch',
      'tfjs',
      'Keras',
      'Δ = Keras − tfjs',
    ]);
    const rows = await sec
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => Array.from((tr as HTMLTableRowElement).cells, (td) => td.textContent ?? '')),
      );
    assertClose(
      rows.map((r) => r[1]),
      post.movingMean,
      'tfjs column (after the fine-tuning fit)',
    );
    assertClose(
      rows.map((r) => r[2]),
      pre.movingMean,
      'Keras column (as the pretraining fit left it)',
    );
    rows.forEach((r) => {
      const d = Number(r[3].replace(/^≠ /, ''));
      const scale = Math.max(1, Math.abs(Number(r[1])), Math.abs(Number(r[2])));
      // (within float32 printing: the values are shown in the fewest digits that read back as the float32)
      assert.ok(Math.abs(d - (Number(r[2]) - Number(r[1]))) <= 2 ** -23 * scale, `Δ of channel ${r[0]}: ${r[3]}`);
      assert.ok(r[3].startsWith('≠ '), `channel ${r[0]} is marked as differing`);
    });
    assert.match(await sec.locator('summary').innerText(), /^moving mean: ≠ in \d+ of \d+ channels, max \|Δ\| /);
    await c.locator('.compare-line').scrollIntoViewIfNeeded();
    await vs.screenshot('compare-e2e-02-card-dark');
    await sec.locator('tbody tr').last().scrollIntoViewIfNeeded();
    await vs.screenshot('compare-e2e-03-table-dark');
    assert.deepStrictEqual(vs.pageErrors, []);
  });

  test('light theme, then Stop comparing', async function () {
    this.timeout(240_000);
    const p = panel();
    await vs.setTheme('light');
    await p.locator('body.vscode-light').waitFor({ timeout: 60_000 });
    await vs.page.waitForTimeout(300);
    await vs.screenshot('compare-e2e-04-table-light');
    const f = await webviewFrame(vs.page, RUN_TIMEOUT);
    await f.evaluate(() => window.scrollTo(0, 0));
    await vs.page.waitForTimeout(200);
    await vs.screenshot('compare-e2e-05-header-light');
    const status = (await p.locator('.compare-status').innerText()).trim();
    assert.match(status, /^Comparing with Keras: /);
    assert.doesNotMatch(status, /^Comparing with Keras: keras: /i, 'the name said once');
    await p.locator('.semantics-row button.compare-stop').click();
    await p.locator('.compare-status').waitFor({ state: 'hidden', timeout: 60_000 });
    assert.strictEqual(await p.locator('.compare-line:not([hidden])').count(), 0);
    await vs.setTheme('dark');
    await p.locator('body.vscode-dark').waitFor({ timeout: 60_000 });
    assert.deepStrictEqual(vs.pageErrors, []);
  });

  test('finetune-keras-vs-tfjs.ts (3 frozen BN layers): "= Keras" at evaluate, then every row "≠ Keras" at fit; filter; screenshots', async function () {
    this.timeout(600_000);
    const file = join(vs.workspace, EXAMPLE);
    const evalLine = lineOf(file, 'model.evaluate(');
    const trainLine = lineOf(file, 'await model.fit(');
    // (the previous case's editor is open beside the panel: open the example in the first group, not over it)
    await vs.page.locator('.editor-group-container').first().locator('.tab.active').first().click();
    await vs.openFile(EXAMPLE);
    await vs.lens('Run until this statement finishes').first().waitFor({ state: 'attached', timeout: RUN_TIMEOUT });
    // the evaluate line is below the fold: go to it (Ctrl+G) so that its lens is shown
    await vs.editor().click();
    await vs.page.keyboard.press('Control+G');
    await vs.page.locator('.quick-input-widget input').waitFor();
    await vs.page.keyboard.type(String(evalLine));
    await vs.page.keyboard.press('Enter');
    const lens = vs
      .lens('Run until this statement finishes')
      .and(vs.page.locator(`[title$="line ${evalLine}"], [title$="(line ${evalLine})"]`));
    await lens.waitFor({ state: 'visible', timeout: 30_000 });
    const p = panel();
    await vs.clickUntil(lens, p.locator('.script', { hasText: exactRe(EXAMPLE) }), {
      what: `the run lens on line ${evalLine}`,
      timeoutMs: RUN_TIMEOUT,
    });
    await p.locator('.line-link', { hasText: exactRe(`line ${evalLine}`) }).waitFor({ timeout: RUN_TIMEOUT });
    await p.locator('.status[data-state="paused"]').waitFor({ timeout: RUN_TIMEOUT });
    await p.locator('.semantics-row button.compare-start').click();
    const keras = await kerasInQuickPick();
    await keras.click();
    // evaluate before training: the same pretrained statistics on both sides
    await p
      .locator('.compare-banner', { hasText: /^Compared with Keras at step 1: all 3 layers have the same values\.$/ })
      .waitFor({ timeout: RUN_TIMEOUT });
    assert.deepStrictEqual(await p.locator('.ov-row .ov-cmp').allTextContents(), ['= Keras', '= Keras', '= Keras']);
    // Step to the fit: tfjs updates the frozen layers, Keras does not
    await p.locator('.commands button[data-command="step"][aria-disabled="false"]').click();
    await p.locator('.line-link', { hasText: exactRe(`line ${trainLine}`) }).waitFor({ timeout: RUN_TIMEOUT });
    await p
      .locator('.compare-banner', { hasText: /^Compared with Keras at step 2: 3 of 3 layers differ\.$/ })
      .waitFor({ timeout: RUN_TIMEOUT });
    const indicators = await p.locator('.ov-row .ov-cmp').allTextContents();
    assert.strictEqual(indicators.length, 3);
    for (const t of indicators) assert.match(t, /^≠ Keras: max Δ (mean|var) \S+$/);
    const titles = await p.locator('.ov-row .ov-cmp').evaluateAll((es) => es.map((e) => e.getAttribute('title')));
    for (const t of titles)
      assert.match(
        t ?? '',
        /^tfjs: frozen, updated ×\d+ with batch statistics; Keras: frozen, inference mode although training = true, not updated\.$/,
      );
    const select = p.getByLabel('Show layers');
    const opts = (await select.locator('option').allTextContents()).map((o) => o.trim());
    assert.strictEqual(opts[opts.length - 1], 'Differs from Keras (3)');
    // the rows with their indicators in view
    await (
      await webviewFrame(vs.page, RUN_TIMEOUT)
    ).evaluate(() => document.querySelector('.ov-grid')!.scrollIntoView({ block: 'center' }));
    await vs.page.waitForTimeout(300);
    await vs.screenshot('compare-e2e-06-finetune-overview-dark');
    await vs.setTheme('light');
    await p.locator('body.vscode-light').waitFor({ timeout: 60_000 });
    await vs.page.waitForTimeout(300);
    await vs.screenshot('compare-e2e-07-finetune-overview-light');
    await vs.setTheme('dark');
    await p.locator('body.vscode-dark').waitFor({ timeout: 60_000 });
    assert.deepStrictEqual(vs.pageErrors, []);
  });
  test('the header\'s "Semantics: tfjs ▾" → Keras: the paused run comes back to its step under Keras; bn1 not updated, the trap said; screenshots', async function () {
    this.timeout(600_000);
    const p = panel();
    const file = join(vs.workspace, EXAMPLE);
    const trainLine = lineOf(file, 'await model.fit(');
    // (the previous case left the session paused at the fit, compared with Keras: end the compare first)
    await p.locator('.semantics-row button.compare-stop').click();
    await p.locator('.compare-status').waitFor({ state: 'hidden', timeout: 60_000 });
    const semBtn = p.locator('.semantics-row button.semantics-pick');
    assert.strictEqual((await semBtn.innerText()).replace(/\s+/g, ' ').trim(), 'Semantics: tfjs ▾');
    await semBtn.click();
    const keras = await kerasInQuickPick();
    await keras.click();
    // the session is rerun under Keras and brought back to the same step
    await p
      .locator('.semantics-row button.semantics-pick', { hasText: /^\s*Semantics: Keras ▾\s*$/ })
      .waitFor({ timeout: RUN_TIMEOUT });
    await p.locator('.line-link', { hasText: exactRe(`line ${trainLine}`) }).waitFor({ timeout: RUN_TIMEOUT });
    await p.locator('.status[data-state="paused"]').waitFor({ timeout: RUN_TIMEOUT });
    const c = card('bn1');
    if ((await c.locator('.card-toggle').getAttribute('aria-expanded')) !== 'true')
      await c.locator('.card-toggle').click();
    assert.strictEqual(
      (await c.locator('.badge-mode').first().innerText()).trim(),
      'inference mode: moving statistics, not updated',
    );
    const trap = (await c.locator('.trap-text').innerText()).replace(/\s+/g, ' ').trim();
    assert.match(
      trap,
      /^Its moving statistics stay put because the call ran in inference mode: under Keras, trainable = false forces inference mode even when training = true \(in fit\)/,
    );
    assert.strictEqual(await c.locator('.warning', { hasText: 'TRAINABLE_FALSE_STILL_UPDATES' }).count(), 0);
    // the status bar names the semantics too
    await vs.page
      .locator('.statusbar-item', { hasText: /BN: Keras/ })
      .first()
      .waitFor({ timeout: 30_000 });
    await c.locator('.trap-text').scrollIntoViewIfNeeded();
    await vs.page.waitForTimeout(300);
    await vs.screenshot('compare-e2e-08-keras-trap-dark');
    await vs.setTheme('light');
    await p.locator('body.vscode-light').waitFor({ timeout: 60_000 });
    await vs.page.waitForTimeout(300);
    await vs.screenshot('compare-e2e-09-keras-trap-light');
    await vs.setTheme('dark');
    await p.locator('body.vscode-dark').waitFor({ timeout: 60_000 });
    assert.deepStrictEqual(vs.pageErrors, []);
  });
});
