// UI tests of the panel's overview on a real model, as a person uses it: the packaged extension in a real VS Code
// workbench (code-server, see harness.ts), a 1400 px window so that the panel beside the editor is a ~550 px side
// panel. examples/mobilenet-v2-finetune.ts (52 BN layers built in helper functions, frozen backbone, fit then
// predict) is run to its `fit` and then to its end; the layer names and their order are checked against the
// engine's own, from the command line (the installed extension's dist/cli.js, an independent run).
// Also: the panel's Step button keeps the keyboard focus over 8 presses of Enter and Space (frozen-predict.ts,
// ten predict steps).
//
//   node scripts/vscode-host.mjs ui test/e2e/overview.e2e.ts
//
// Click-to-source uses each layer's `source` from the engine (the line of the `tf.layers.batchNormalization(`
// call in `convBn` / `invertedResidual`).
// Screenshots (every run, git-ignored): test-results/screenshots/overview-e2e-*.png.
// One suite file per area (the overview): its cases share one workbench, so it is one unit.
import * as assert from 'assert';
import { join } from 'path';
import type { Frame, FrameLocator, Locator } from 'playwright-core';
import { cliRun as cliDocument, exactRe, lineOf, webviewFrame } from './engineReference';
import { startVsCode, VsCode } from './harness';

const RUN_TIMEOUT = 180_000;
const FILE = 'mobilenet-v2-finetune.ts';

interface CliLayer {
  name: string;
  trainable: boolean;
  updates: number;
  source: { file: string; line: number } | null;
  warnings: { code: string }[];
}
interface CliDoc {
  steps: { index: number; line: number; layers: CliLayer[] }[];
  error: unknown;
}
const cliRun = (file: string, toLine: number) => cliDocument<CliDoc>(file, toLine, RUN_TIMEOUT);

suite('the overview of a 52-layer model (packaged extension, code-server + Chromium, 1400 px window)', () => {
  let vs: VsCode;
  const t0 = Date.now();
  const timing = (label: string, since: number) =>
    console.log(`      [time] ${label}: ${((Date.now() - since) / 1000).toFixed(1)} s`);

  suiteSetup(async function () {
    this.timeout(240_000);
    vs = await startVsCode({ theme: 'dark', viewport: { width: 1400, height: 900 } });
    vs.page.on('dialog', (d) => void d.dismiss().catch(() => {}));
    timing('workbench up', t0);
  });
  teardown(async function () {
    if (this.currentTest?.state === 'failed') await vs?.describeFailure(this.currentTest.title);
  });
  suiteTeardown(async () => {
    await vs?.close();
  });

  const panel = (): FrameLocator => vs.webview();

  const panelFrame = (): Promise<Frame> => webviewFrame(vs.page, RUN_TIMEOUT);

  /** waits until the panel shows a step at `line` of the script (any step index) */
  async function waitForLine(script: string, line: number): Promise<void> {
    const p = panel();
    await p.locator('.script', { hasText: exactRe(script) }).waitFor({ timeout: RUN_TIMEOUT });
    await p.locator('.line-link', { hasText: exactRe(`line ${line}`) }).waitFor({ timeout: RUN_TIMEOUT });
    await vs
      .notification(/running…/)
      .first()
      .waitFor({ state: 'hidden', timeout: 60_000 });
  }

  const lensOnLine = (text: string | RegExp, line: number): Locator =>
    vs.lens(text).and(vs.page.locator(`[title$="line ${line}"], [title$="(line ${line})"]`));

  async function focusFirstEditorGroup(): Promise<void> {
    await vs.page.locator('.editor-group-container').first().locator('.tab.active').first().click();
    await vs.page.waitForFunction(() =>
      document.querySelector('.editor-group-container')?.classList.contains('active'),
    );
  }

  const activeInPanel = async () =>
    (await panelFrame()).evaluate(() => {
      const a = document.activeElement as HTMLElement | null;
      return {
        command: a?.dataset.command ?? null,
        row: a?.closest('.ov-row')?.querySelector('.ov-layer-name')?.textContent ?? null,
        cls: a?.className ?? null,
        text: a?.textContent ?? null,
        focused: document.hasFocus(),
      };
    });

  // ---- 1. the header in a side panel, and the Step button's focus ----------------------------------------

  test('frozen-predict.ts: Enter and Space on Step keep the focus on it (8 presses); the commands fit one row', async function () {
    this.timeout(360_000);
    const file = join(vs.workspace, 'frozen-predict.ts');
    const line = lineOf(file, 'model.predict(');
    await vs.openFile('frozen-predict.ts');
    await vs.waitForLens('Run until this statement finishes', RUN_TIMEOUT);
    await vs.clickUntil(
      lensOnLine('Run until this statement finishes', line),
      panel().locator('.script', { hasText: exactRe('frozen-predict.ts') }),
      { what: `the run lens on line ${line}`, timeoutMs: RUN_TIMEOUT },
    );
    await waitForLine('frozen-predict.ts', line);
    await panel()
      .locator('.step-no', { hasText: exactRe('step 1') })
      .waitFor({ timeout: RUN_TIMEOUT });

    const f = await panelFrame();
    const width = await f.evaluate(() => document.documentElement.clientWidth);
    const tops = await f.evaluate(() =>
      Array.from(document.querySelectorAll('.commands button'), (b) => Math.round(b.getBoundingClientRect().top)),
    );
    console.log(`      the panel is ${width} px wide; command tops ${tops.join(' ')}`);
    assert.ok(width <= 700, `the panel beside the editor is a side panel (${width} px)`);
    assert.equal(tops.length, 5);
    assert.equal(new Set(tops).size, 1, `the five commands on one row at ${width} px: ${tops}`);
    await vs.screenshot('overview-e2e-01-frozen-predict-side-panel-dark');

    const step = panel().locator('.commands button[data-command="step"]');
    await step.focus();
    for (let i = 0; i < 8; i++) {
      const key = i % 2 ? 'Space' : 'Enter';
      await vs.page.keyboard.press(key);
      await panel()
        .locator('.step-no', { hasText: exactRe(`step ${i + 2}`) })
        .waitFor({ timeout: RUN_TIMEOUT });
      await panel().locator('.status[data-state="paused"]').waitFor({ timeout: RUN_TIMEOUT });
      const a = await activeInPanel();
      assert.equal(a.command, 'step', `after press ${i + 1} (${key}) the focus is on ${JSON.stringify(a)}`);
      assert.ok(a.focused, `after press ${i + 1} the panel lost the keyboard focus`);
    }
  });

  // ---- 2. MobileNetV2: the overview at fit ---------------------------------------------------------------

  let fitLine = 0;
  let engineFit: CliDoc['steps'][0] | null = null;

  test("mobilenet-v2-finetune.ts to fit: 52 rows in the engine's order, the state filter, the warning said once for 52 layers", async function () {
    this.timeout(480_000);
    const file = join(vs.workspace, FILE);
    fitLine = lineOf(file, 'await model.fit(');
    const engine = cliRun(file, fitLine);
    // (an editor open from a previous case: open the example in the first group, not over the panel)
    if (await vs.page.locator('.editor-group-container .tab.active').count()) await focusFirstEditorGroup();
    await vs.openFile(FILE);
    // the lenses are there (the model-building lines above the fold have none: the first one may be off screen)
    await vs.lens('Run until this statement finishes').first().waitFor({ state: 'attached', timeout: RUN_TIMEOUT });
    // the fit line is below the fold: go to it (Ctrl+G) so that its lens is shown
    await vs.editor().click();
    await vs.page.keyboard.press('Control+G');
    await vs.page.locator('.quick-input-widget input').waitFor();
    await vs.page.keyboard.type(String(fitLine));
    await vs.page.keyboard.press('Enter');
    await lensOnLine('Run until this statement finishes', fitLine).waitFor({ state: 'visible', timeout: 30_000 });
    const t = Date.now();
    await vs.clickUntil(
      lensOnLine('Run until this statement finishes', fitLine),
      panel().locator('.script', { hasText: exactRe(FILE) }),
      { what: `the run lens on line ${fitLine}`, timeoutMs: RUN_TIMEOUT },
    );
    await waitForLine(FILE, fitLine);
    timing('lens click → the fit step', t);
    const doc = await engine;
    engineFit = doc.steps[doc.steps.length - 1];
    assert.equal(engineFit.line, fitLine, 'the engine stopped at fit');
    const names = engineFit.layers.map((l) => l.name);
    assert.equal(names.length, 52);

    const p = panel();
    await p.locator('.ov-row').nth(51).waitFor();
    assert.equal(await p.locator('.ov-row').count(), 52, '52 overview rows');
    assert.deepEqual(await p.locator('.ov-row .ov-layer-name').allTextContents(), names, "the engine's model order");
    assert.equal(await p.locator('section.card.collapsed').count(), 52, 'cards start collapsed');
    // every backbone layer frozen and updated by fit
    const frozenUpdated = engineFit.layers.filter((l) => !l.trainable && l.updates > 0).length;
    assert.equal(frozenUpdated, 52);
    const select = p.getByLabel('Show layers');
    await select.selectOption('frozen-updated');
    await p.locator('.count', { hasText: exactRe('52 of 52 layers') }).waitFor();
    await select.selectOption('warnings');
    await p.locator('.count', { hasText: exactRe('52 of 52 layers') }).waitFor();
    await p.getByLabel('Filter layers by name or path').fill('block3_');
    await p.locator('.count', { hasText: exactRe('3 of 52 layers') }).waitFor();
    assert.deepEqual(await p.locator('.ov-row:not([hidden]) .ov-layer-name').allTextContents(), [
      'block3_expand_bn',
      'block3_dw_bn',
      'block3_project_bn',
    ]);
    await p.getByLabel('Filter layers by name or path').fill('');
    await select.selectOption('all');
    await p.locator('.count', { hasText: exactRe('52 layers') }).waitFor();

    // the warning, once, with its 52 layers; each card has a one-line mention
    const groups = p.locator('.warning-group');
    assert.equal(await groups.count(), 1, 'one grouped warning');
    assert.equal(await groups.first().getAttribute('data-code'), 'TRAINABLE_FALSE_STILL_UPDATES');
    assert.match((await groups.first().textContent()) ?? '', /· 52 layers/);
    assert.deepEqual(await groups.first().locator('button.wg-layer').allTextContents(), names);
    assert.equal(await p.locator('section.card li.warning[data-code="TRAINABLE_FALSE_STILL_UPDATES"]').count(), 52);
    assert.equal(
      await (
        await panelFrame()
      ).evaluate(() => document.body.textContent!.split('reads only the training flag').length - 1),
      1,
      'the explanation is said once',
    );
    await vs.screenshot('overview-e2e-02-mobilenet-fit-dark');
  });

  test('a row opens its card; the overview is a keyboard grid (arrows, Enter)', async function () {
    this.timeout(120_000);
    const p = panel();
    await p.locator('.ov-row', { has: p.locator('.ov-layer-name', { hasText: exactRe('block5_dw_bn') }) }).click();
    await (
      await panelFrame()
    ).waitForFunction(
      () =>
        document.activeElement?.classList.contains('card-toggle') &&
        document.activeElement.textContent === 'block5_dw_bn',
    );
    const card = p.locator('section.card', { has: p.locator('.layer-name', { hasText: exactRe('block5_dw_bn') }) });
    assert.equal(await card.locator('.card-toggle').getAttribute('aria-expanded'), 'true');
    await vs.screenshot('overview-e2e-03-row-opened-card-dark');

    const names = engineFit!.layers.map((l) => l.name);
    await p.locator('.ov-row .ov-name').first().focus();
    assert.equal((await activeInPanel()).row, names[0]);
    await vs.page.keyboard.press('ArrowDown');
    await vs.page.keyboard.press('ArrowDown');
    assert.equal((await activeInPanel()).row, names[2]);
    await vs.page.keyboard.press('End');
    assert.equal((await activeInPanel()).row, names[51]);
    await vs.page.keyboard.press('Home');
    await vs.page.keyboard.press('ArrowDown');
    await vs.page.keyboard.press('Enter');
    await (
      await panelFrame()
    ).waitForFunction(
      (n) => document.activeElement?.classList.contains('card-toggle') && document.activeElement.textContent === n,
      names[1],
    );
  });

  test('click-to-source: a row\'s "built at" link reveals the batchNormalization line of the helper that built the layer', async function () {
    this.timeout(120_000);
    const file = join(vs.workspace, FILE);
    const dwLine = lineOf(file, 'name: `${name}_dw_bn`');
    const convBnLine = lineOf(file, 'name: `${name}_bn`');
    const layer = engineFit!.layers.find((l) => l.name === 'block4_dw_bn')!;
    assert.equal(layer.source?.line, dwLine, "the engine's source of block4_dw_bn (issue 8, engine side)");
    const p = panel();
    const row = p.locator('.ov-row', { has: p.locator('.ov-layer-name', { hasText: exactRe('block4_dw_bn') }) });
    const link = row.locator('button.ov-src-link');
    assert.equal((await link.textContent())?.trim(), `built at ${FILE}:${dwLine}`);
    const stem = p.locator('.ov-row', { has: p.locator('.ov-layer-name', { hasText: exactRe('stem_bn') }) });
    assert.equal((await stem.locator('button.ov-src-link').textContent())?.trim(), `built at ${FILE}:${convBnLine}`);

    await vs.runCommand('View: Focus First Editor Group');
    await vs.page.keyboard.press('Control+Home');
    const selection = vs.page.locator('[id="status.editor.selection"]');
    await selection.filter({ hasText: /Ln 1,/ }).waitFor({ timeout: 30_000 });
    await vs.clickToRevealLine(link, dwLine);
    // and a card's own link
    const card = p.locator('section.card', { has: p.locator('.layer-name', { hasText: exactRe('stem_bn') }) });
    await vs.clickToRevealLine(card.locator('button.card-src'), convBnLine);
  });

  test('the overview in the light, dark and high-contrast themes (screenshots)', async function () {
    this.timeout(240_000);
    await (await panelFrame()).evaluate(() => window.scrollTo(0, 0));
    await vs.screenshot('overview-e2e-04-overview-dark');
    await vs.setTheme('light');
    await panel().locator('body.vscode-light').waitFor({ timeout: 60_000 });
    await vs.page.waitForTimeout(300);
    await vs.screenshot('overview-e2e-05-overview-light');
    await vs.setTheme('Dark High Contrast');
    await panel().locator('body.vscode-high-contrast').waitFor({ timeout: 60_000 });
    await vs.page.waitForTimeout(300);
    await vs.screenshot('overview-e2e-06-overview-hc');
    await vs.setTheme('dark');
    await panel().locator('body.vscode-dark').waitFor({ timeout: 60_000 });
  });

  test('to the end: predict changes nothing, 52 rows, the session ended', async function () {
    this.timeout(360_000);
    const p = panel();
    await p.locator('.commands button[data-command="continue"][aria-disabled="false"]').click();
    await p.locator('.status[data-state="ended"]').waitFor({ timeout: RUN_TIMEOUT });
    const predictLine = lineOf(join(vs.workspace, FILE), 'model.predict(');
    await p.locator('.line-link', { hasText: exactRe(`line ${predictLine}`) }).waitFor({ timeout: 30_000 });
    assert.equal(await p.locator('.ov-row').count(), 52);
    assert.deepEqual([...new Set(await p.locator('.ov-row .ov-step').allTextContents())], ['step: none']);
    assert.equal(await p.locator('.warning-group').count(), 0, 'predict: no warning');
    await vs.screenshot('overview-e2e-07-mobilenet-end-dark');
    assert.deepEqual(vs.pageErrors, []);
  });
});
