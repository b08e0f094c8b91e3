// UI tests of the inspector panel, as a person uses it: the packaged extension in a real VS Code workbench
// (code-server, see harness.ts), clicks on the code lenses and on the panel's buttons, the panel's text read
// from its webview. The numbers it shows are checked against the engine's own, from the command line
// (`node dist/cli.js run <workspace copy> --json --to <line>`, the installed extension's cli.js), which runs the
// same script independently: exactly (the same decimal string) for statistics of the script's input, to a few
// float32 ulps for values that come out of training (tfjs's wasm backend is not bit-reproducible there).
// The markup-named layer comes from test/e2e/fixtures/xss-layer-name.ts, copied into the workspace.
//
//   node scripts/vscode-host.mjs ui test/e2e/panel.e2e.ts
//   BN_DOCS_SCREENSHOT=1 node scripts/vscode-host.mjs ui test/e2e/panel.e2e.ts   # also rewrites docs/screenshot.png
//
// Screenshots (every run, git-ignored): test-results/screenshots/panel-*.png.
// One suite file per area (the panel): its cases share one workbench and the CLI reference, so it is one unit.
import * as assert from 'assert';
import { copyFileSync, mkdirSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import type { Frame, FrameLocator, Locator } from 'playwright-core';
import { ROOT } from '../../scripts/lib/tools.mjs';
import { cliRun as cliDocument, exactRe, lineOf, webviewFrame } from './engineReference';
import { SCREENSHOTS, startVsCode, VsCode } from './harness';

const XSS = '<img src=x onerror=alert(1)>';
const XSS_FILE = 'xss-layer-name.ts';
/** a script run (worker start, tfjs + wasm load) on a loaded machine: generous, but every wait ends on an event */
const RUN_TIMEOUT = 120_000;
const DOCS_SCREENSHOT = join(ROOT, 'docs', 'screenshot.png');
const DOCS_VIEWPORT = { width: 1280, height: 800 };

// ---- the engine's numbers, from the command line (engineReference.ts) ------------------------------------

interface CliCall {
  training: boolean;
  statsUsed: string;
  batchMean: number[];
  batchVariance: number[];
}
interface CliLayer {
  name: string;
  trainable: boolean;
  calls: number;
  updates: number;
  channels: number;
  movingUpdated: boolean;
  movingMean: number[];
  movingVariance: number[];
  lastCall: CliCall | null;
  warnings: { code: string }[];
}
interface CliStep {
  index: number;
  line: number;
  hit: number;
  layers: CliLayer[];
}
interface CliDoc {
  steps: CliStep[];
  error: unknown;
}
const cliRun = (file: string, toLine: number) => cliDocument<CliDoc>(file, toLine, RUN_TIMEOUT);

suite('inspector panel UI (packaged extension, code-server + Chromium)', () => {
  let vs: VsCode;
  const dialogs: string[] = [];
  const t0 = Date.now();
  const timing = (label: string, since: number) =>
    console.log(`      [time] ${label}: ${((Date.now() - since) / 1000).toFixed(1)} s`);

  suiteSetup(async function () {
    this.timeout(240_000);
    vs = await startVsCode({ theme: 'dark' });
    // a dialog from any frame (the webview's included) would be a script the panel ran: record and dismiss it
    vs.page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss().catch(() => {});
    });
    timing('workbench up', t0);
  });
  teardown(async function () {
    if (this.currentTest?.state === 'failed') await vs?.describeFailure(this.currentTest.title);
  });
  suiteTeardown(async () => {
    await vs?.close();
  });

  // ---- the panel ----------------------------------------------------------------------------------------

  /** the panel's document (locators) */
  const panel = (): FrameLocator => vs.webview();

  const panelFrame = (): Promise<Frame> => webviewFrame(vs.page, RUN_TIMEOUT);

  /** waits until the panel shows `script`'s step `index` (at `line`) */
  async function waitForStep(script: string, index: number, line: number): Promise<void> {
    const p = panel();
    await p.locator('.script', { hasText: exactRe(script) }).waitFor({ timeout: RUN_TIMEOUT });
    await p.locator('.step-no', { hasText: exactRe(`step ${index}`) }).waitFor({ timeout: RUN_TIMEOUT });
    await p.locator('.line-link', { hasText: exactRe(`line ${line}`) }).waitFor({ timeout: RUN_TIMEOUT });
    await p.locator('section.card[data-key] .layer-name').first().waitFor({ timeout: RUN_TIMEOUT });
    // and the workbench agrees: the lens on the paused line says so, no "running…" progress toast is left
    await vs
      .lens(new RegExp(`paused here · step ${index} · `))
      .first()
      .waitFor({ timeout: 30_000 });
    await vs
      .notification(/running…/)
      .first()
      .waitFor({ state: 'hidden', timeout: 30_000 });
  }

  const cardOf = (name: string): Locator =>
    panel()
      .locator('section.card[data-key]')
      .filter({ has: panel().locator('.layer-name', { hasText: exactRe(name) }) });

  async function badges(card: Locator): Promise<string[]> {
    return (await card.locator('.badge').allTextContents()).map((s) => s.trim());
  }

  /** switches the card to its table of exact numbers (if it is not already) and returns it */
  async function showTable(card: Locator): Promise<Locator> {
    const toggle = card.locator('button.toggle-table');
    if ((await toggle.getAttribute('aria-pressed')) !== 'true') await toggle.click();
    await card.locator('button.toggle-table[aria-pressed="true"]').waitFor();
    const table = card.locator('table.numbers');
    await table.locator('tbody tr').first().waitFor();
    return table;
  }

  async function showCharts(card: Locator): Promise<void> {
    const toggle = card.locator('button.toggle-table');
    if ((await toggle.getAttribute('aria-pressed')) === 'true') await toggle.click();
    await card.locator('button.toggle-table[aria-pressed="false"]').waitFor();
  }

  /** the text of every row of the table in the column headed `column` */
  async function column(table: Locator, columnName: string): Promise<string[]> {
    const heads = (await table.locator('thead th').allTextContents()).map((s) => s.trim());
    const k = heads.indexOf(columnName);
    assert.ok(k >= 0, `no column "${columnName}" in ${JSON.stringify(heads)}`);
    const rows = table.locator('tbody tr');
    const out: string[] = [];
    for (let i = 0, n = await rows.count(); i < n; i++)
      out.push(((await rows.nth(i).locator('th, td').nth(k).textContent()) ?? '').trim());
    return out;
  }

  /** the table shows the engine's exact numbers (same decimal string as the contract's JSON) for every channel */
  async function assertColumnEquals(table: Locator, columnName: string, values: number[], what: string): Promise<void> {
    const shown = await column(table, columnName);
    assert.deepStrictEqual(
      shown,
      values.map((v) => String(v)),
      `${what}: the panel's "${columnName}" column differs from the engine's`,
    );
  }

  /**
   * For values that come out of training: the same float32s as the engine's up to a few units in the last place.
   * tfjs's wasm backend does not give bit-identical training results from run to run (measured: 12 parallel
   * `bn-inspect` runs of fit-then-predict.ts gave moving means after fit differing by 1-2 float32 ulps; the cpu
   * backend gave identical ones), so the panel's run and the command line's may differ there.
   * Returns the column's text.
   */
  async function assertColumnClose(
    table: Locator,
    columnName: string,
    values: number[],
    what: string,
  ): Promise<string[]> {
    const shown = await column(table, columnName);
    assert.strictEqual(shown.length, values.length, `${what}: rows`);
    shown.forEach((text, i) => {
      const v = Number(text);
      assert.ok(
        text !== '' && Number.isFinite(v),
        `${what}: "${columnName}" of channel ${i} is ${JSON.stringify(text)}`,
      );
      assert.strictEqual(Math.fround(v), v, `${what}: "${columnName}" of channel ${i} (${text}) is not a float32`);
      const tol = 1e-6 * Math.max(Math.abs(values[i]), 1e-6);
      assert.ok(
        Math.abs(v - values[i]) <= tol,
        `${what}: "${columnName}" of channel ${i}: panel ${text}, engine ${values[i]}`,
      );
    });
    return shown;
  }

  /** waits until the chart canvases of the visible cards are drawn at their laid-out size (for a screenshot) */
  async function chartsDrawn(): Promise<void> {
    const f = await panelFrame();
    await f.waitForFunction(
      () => {
        const cs = Array.from(document.querySelectorAll<HTMLCanvasElement>('section.card .charts canvas.plot'));
        return cs.length > 0 && cs.every((c) => c.width !== 300 || c.height !== 150);
      },
      undefined,
      { timeout: 30_000 },
    );
    // two frames: the last draw is painted
    await f.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
  }

  /** clicks into the first (left) editor group, so that a file opened from the explorer opens there and not over the panel */
  async function focusFirstEditorGroup(): Promise<void> {
    await vs.page.locator('.editor-group-container').first().locator('.tab.active').first().click();
    await vs.page.waitForFunction(() =>
      document.querySelector('.editor-group-container')?.classList.contains('active'),
    );
  }

  /** a code lens with `text` on `line` (the lenses' tooltips name their line) */
  const lensOnLine = (text: string | RegExp, line: number): Locator =>
    vs.lens(text).and(vs.page.locator(`[title$="line ${line}"], [title$="(line ${line})"]`));

  // ---- 1. the question: a frozen layer, predict ten times -------------------------------------------------

  test("Run to here on the predict line of frozen-predict.ts: inference mode, moving statistics, not updated, stale warning, the engine's batch mean", async function () {
    this.timeout(300_000);
    const file = join(vs.workspace, 'frozen-predict.ts');
    const line = lineOf(file, 'model.predict(');
    const engine = cliRun(file, line); // meanwhile

    await vs.openFile('frozen-predict.ts');
    await vs.waitForLens('Run until this statement finishes', RUN_TIMEOUT);
    const t = Date.now();
    await vs.clickUntil(
      lensOnLine('Run until this statement finishes', line),
      panel().locator('.script', { hasText: exactRe('frozen-predict.ts') }),
      { what: `the run lens on line ${line}`, timeoutMs: RUN_TIMEOUT },
    );
    await waitForStep('frozen-predict.ts', 1, line);
    timing('lens click → panel shows step 1', t);

    const doc = await engine;
    const step = doc.steps[doc.steps.length - 1];
    assert.strictEqual(step.line, line, 'the engine did not stop at the predict line');
    const layer = step.layers[0];
    assert.ok(layer.lastCall, 'the engine recorded no call');

    const p = panel();
    assert.strictEqual(await p.locator('section.card[data-key]').count(), 1, 'one BatchNormalization layer, one card');
    const card = cardOf(layer.name);
    await card.waitFor();
    assert.strictEqual((await card.locator('.layer-name').textContent())?.trim(), layer.name);
    const b = await badges(card);
    for (const want of [
      'inference mode: moving statistics, not updated',
      'training: false',
      'trainable: false',
      '1 call',
    ])
      assert.ok(b.includes(want), `badge "${want}" missing: ${JSON.stringify(b)}`);
    const why = (await card.locator('.why').textContent()) ?? '';
    assert.match(why, /inference mode \(predict/, 'the sentence says why');
    assert.match(why, /normalised with the moving statistics, which did not change/);
    const stale = card.locator('li.warning[data-code="STALE_MOVING_STATS"]');
    assert.strictEqual(await stale.count(), 1, 'the stale-statistics warning');
    assert.match((await stale.textContent()) ?? '', /Stale moving statistics/);
    assert.strictEqual(
      await card.locator('li.warning[data-code]').count(),
      layer.warnings.length,
      "the engine's warnings, no more",
    );
    assert.strictEqual(await p.locator('.status').getAttribute('data-state'), 'paused');

    // the README's picture and the dark screenshot: charts, beside the editor
    await chartsDrawn();
    await vs.screenshot('panel-01-frozen-predict-charts-dark');
    await readmeScreenshot();

    // the exact numbers: the first channel's batch mean, to every digit shown, is the engine's
    const table = await showTable(card);
    const batchMean = await column(table, 'batch mean');
    assert.strictEqual(batchMean[0], String(layer.lastCall.batchMean[0]), 'batch mean of channel 0: panel vs engine');
    assert.strictEqual(Number(batchMean[0]), layer.lastCall.batchMean[0]);
    await assertColumnEquals(table, 'batch mean', layer.lastCall.batchMean, 'step 1');
    await assertColumnEquals(table, 'batch variance', layer.lastCall.batchVariance, 'step 1');
    await assertColumnEquals(table, 'moving mean', layer.movingMean, 'step 1');
    await assertColumnEquals(table, 'moving variance', layer.movingVariance, 'step 1');
    await vs.screenshot('panel-02-frozen-predict-table-dark');
  });

  /**
   * The editor area (the script on the left, the panel beside it) into test-results/screenshots/panel-readme-dark.png;
   * with BN_DOCS_SCREENSHOT=1 also docs/screenshot.png, taken in a smaller window without the side bar so that the
   * PNG stays small (about 200 KB) with its text rendered at full sharpness (not scaled down afterwards).
   */
  async function readmeScreenshot(): Promise<void> {
    const shoot = async () => {
      const box = await vs.page.locator('.part.editor').boundingBox();
      assert.ok(box, 'no editor part');
      return vs.page.screenshot({
        clip: {
          x: Math.round(box.x),
          y: Math.round(box.y),
          width: Math.round(box.width),
          height: Math.round(box.height),
        },
      });
    };
    mkdirSync(SCREENSHOTS, { recursive: true });
    writeFileSync(join(SCREENSHOTS, 'panel-readme-dark.png'), await shoot());
    if (!process.env.BN_DOCS_SCREENSHOT) return;
    const viewport = vs.page.viewportSize();
    const sidebar = vs.page.locator('.part.sidebar');
    try {
      await vs.page.setViewportSize(DOCS_VIEWPORT);
      if (await sidebar.isVisible()) {
        await vs.runCommand('View: Toggle Primary Side Bar Visibility');
        await sidebar.waitFor({ state: 'hidden' });
      }
      // the code at the top of the editor (its long comment scrolled away), the mouse where it shows no tooltip
      const editor = vs.page.locator('.editor-group-container').first().locator('.monaco-editor').first();
      const box = await editor.boundingBox();
      assert.ok(box);
      const blank = { x: box.x + box.width / 2, y: box.y + box.height - 40 }; // below the file's last line
      await vs.page.mouse.click(blank.x, blank.y);
      const top = lineOf(join(vs.workspace, 'frozen-predict.ts'), 'import ') - 1;
      for (let i = 0; i < top; i++) await vs.page.keyboard.press('Control+ArrowDown'); // editor: scroll line down
      await vs.page.waitForFunction(() => {
        const ed = document.querySelector('.editor-group-container .monaco-editor');
        const line = Array.from(ed?.querySelectorAll('.view-lines .view-line') ?? []).find((l) =>
          /^import\s/.test(l.textContent ?? ''),
        );
        return !!ed && !!line && Math.abs(line.getBoundingClientRect().top - ed.getBoundingClientRect().top) < 4;
      });
      await vs.page.mouse.move(blank.x, blank.y);
      await chartsDrawn();
      const png = await shoot();
      mkdirSync(dirname(DOCS_SCREENSHOT), { recursive: true });
      writeFileSync(DOCS_SCREENSHOT, png);
      console.log(`      wrote docs/screenshot.png (${Math.round(png.length / 1024)} KB)`);
    } finally {
      if (!(await sidebar.isVisible())) {
        await vs.runCommand('View: Toggle Primary Side Bar Visibility');
        await sidebar.waitFor();
      }
      if (viewport) await vs.page.setViewportSize(viewport);
    }
  }

  test("the header's line link puts the editor's cursor on the step's line (the host accepts the panel's reveal request)", async function () {
    this.timeout(120_000);
    const line = lineOf(join(vs.workspace, 'frozen-predict.ts'), 'model.predict(');
    // the script's editor is in the first group, the panel beside it: focus the editor without covering the panel
    await vs.runCommand('View: Focus First Editor Group');
    await vs.page.keyboard.press('Control+Home');
    const selection = vs.page.locator('[id="status.editor.selection"]');
    await selection.filter({ hasText: /Ln 1,/ }).waitFor({ timeout: 30_000 });
    const link = panel().locator('button.line-link');
    assert.match((await link.textContent()) ?? '', new RegExp(`\\b${line}\\b`), 'the link names the step line');
    await vs.clickToRevealLine(link, line);
  });

  // ---- 2. light and dark ----------------------------------------------------------------------------------

  test('the panel follows the light and the dark theme (screenshots)', async function () {
    this.timeout(180_000);
    const card = panel().locator('section.card[data-key]').first();
    await showCharts(card);
    const bodyColor = async () => (await panelFrame()).evaluate(() => getComputedStyle(document.body).backgroundColor);
    const dark = await bodyColor();

    await vs.setTheme('light');
    await panel().locator('body.vscode-light').waitFor({ timeout: 60_000 });
    await chartsDrawn();
    const light = await bodyColor();
    assert.notStrictEqual(light, dark, "the panel's background did not change with the theme");
    await vs.screenshot('panel-03-frozen-predict-charts-light');
    await showTable(card);
    await vs.screenshot('panel-04-frozen-predict-table-light');

    await vs.setTheme('dark');
    await panel().locator('body.vscode-dark').waitFor({ timeout: 60_000 });
    assert.strictEqual(await bodyColor(), dark);
  });

  // ---- 3. the answer: step through fit-then-predict.ts --------------------------------------------------

  test('stepping through fit-then-predict.ts: the fit step updates the moving statistics (with the number of updates), the next predict does not', async function () {
    this.timeout(300_000);
    const file = join(vs.workspace, 'fit-then-predict.ts');
    const predictBefore = lineOf(file, 'model.predict(');
    const fitLine = lineOf(file, 'model.fit(');
    const predictAfter = lineOf(file, 'model.predict(', fitLine + 1);
    const engine = cliRun(file, predictAfter);

    await focusFirstEditorGroup();
    await vs.openFile('fit-then-predict.ts');
    await vs.waitForLens('Run until this statement finishes', RUN_TIMEOUT);
    let t = Date.now();
    await vs.clickUntil(
      lensOnLine('Run until this statement finishes', predictBefore),
      panel().locator('.script', { hasText: exactRe('fit-then-predict.ts') }),
      { what: `the run lens on line ${predictBefore}`, timeoutMs: RUN_TIMEOUT },
    );
    await waitForStep('fit-then-predict.ts', 1, predictBefore);
    timing('lens click → step 1 (predict before fit)', t);

    const doc = await engine;
    assert.deepStrictEqual(
      doc.steps.map((s) => s.line),
      [predictBefore, fitLine, predictAfter],
      "the engine's steps",
    );
    const [s1, s2, s3] = doc.steps.map((s) => s.layers[0]);
    const name = s1.name;
    const card = cardOf(name);
    await card.waitFor();
    assert.ok((await badges(card)).includes('inference mode: moving statistics, not updated'));
    assert.strictEqual(await card.locator('li.warning[data-code="STALE_MOVING_STATS"]').count(), 1);

    // ⏭ Step, the lens on the paused line: to the fit
    t = Date.now();
    await vs.clickLens(/^\W*Step\s*$/); // (its tooltip names no line; only the paused line has one)
    await waitForStep('fit-then-predict.ts', 2, fitLine);
    timing('Step lens → step 2 (fit)', t);
    assert.ok(s2.updates > 0 && s2.movingUpdated, 'the engine saw no update in fit');
    let b = await badges(card);
    for (const want of [
      'training mode: batch statistics',
      `updated ×${s2.updates}`,
      'training: true',
      `${s2.calls} calls`,
    ])
      assert.ok(b.includes(want), `step 2: badge "${want}" missing: ${JSON.stringify(b)}`);
    assert.ok(!b.some((x) => x.includes('not updated')));
    assert.match(
      (await card.locator('.why').textContent()) ?? '',
      new RegExp(`moving statistics moved toward them \\(${s2.updates} updates`),
    );
    const changed2 = s2.movingMean.filter(
      (v, i) => v !== s1.movingMean[i] || s2.movingVariance[i] !== s1.movingVariance[i],
    ).length;
    assert.ok(changed2 > 0);
    const delta2 = card.locator('.delta');
    assert.match(
      (await delta2.textContent()) ?? '',
      new RegExp(`^Since step 1: ${changed2} of ${s2.channels} channels changed · max \\|Δ moving mean\\| `),
    );
    assert.match((await delta2.getAttribute('class')) ?? '', /\bhas-changes\b/);
    assert.strictEqual(
      await card.locator('li.warning[data-code="STALE_MOVING_STATS"]').count(),
      0,
      'no stale warning after fit',
    );
    let table = await showTable(card);
    assert.deepStrictEqual(
      await column(table, 'changed'),
      s2.movingMean.map((v, i) =>
        v !== s1.movingMean[i] || s2.movingVariance[i] !== s1.movingVariance[i] ? 'yes' : '',
      ),
    );
    const mean2 = await assertColumnClose(table, 'moving mean', s2.movingMean, 'step 2');
    const var2 = await assertColumnClose(table, 'moving variance', s2.movingVariance, 'step 2');
    await assertColumnClose(table, 'batch mean', s2.lastCall!.batchMean, 'step 2'); // (tfjs's own, from the training call)
    await vs.screenshot('panel-05-fit-step2-table-dark');

    // the panel's own Step button: to the predict after the fit
    t = Date.now();
    await panel().locator('.commands button[data-command="step"][aria-disabled="false"]').click();
    await waitForStep('fit-then-predict.ts', 3, predictAfter);
    timing('panel Step button → step 3 (predict after fit)', t);
    assert.strictEqual(s3.updates, 0);
    b = await badges(card);
    for (const want of ['inference mode: moving statistics, not updated', 'training: false', '1 call'])
      assert.ok(b.includes(want), `step 3: badge "${want}" missing: ${JSON.stringify(b)}`);
    assert.ok(!b.some((x) => x.startsWith('updated')), `step 3: ${JSON.stringify(b)}`);
    assert.strictEqual(
      (await card.locator('.delta').textContent())?.trim(),
      'Since step 2: no channel of the moving statistics changed.',
    );
    assert.doesNotMatch((await card.locator('.delta').getAttribute('class')) ?? '', /\bhas-changes\b/);
    table = await showTable(card);
    assert.deepStrictEqual(
      await column(table, 'changed'),
      s3.movingMean.map(() => ''),
      'step 3: no channel marked changed',
    );
    // unchanged: the very numbers the panel showed after the fit, and the engine's (to a few ulps, see above)
    assert.deepStrictEqual(await column(table, 'moving mean'), mean2, 'step 3: the moving mean changed');
    assert.deepStrictEqual(await column(table, 'moving variance'), var2, 'step 3: the moving variance changed');
    await assertColumnClose(table, 'moving mean', s3.movingMean, 'step 3');
    await assertColumnEquals(table, 'batch mean', s3.lastCall!.batchMean, 'step 3');
    await showCharts(card);
    await chartsDrawn();
    await vs.screenshot('panel-06-fit-step3-charts-dark');
  });

  // ---- 4. a layer named with markup ---------------------------------------------------------------------

  test('a layer named <img src=x onerror=alert(1)> shows those characters and runs nothing', async function () {
    this.timeout(300_000);
    copyFileSync(join(ROOT, 'test', 'e2e', 'fixtures', XSS_FILE), join(vs.workspace, XSS_FILE));
    const line = lineOf(join(vs.workspace, XSS_FILE), '.apply(');

    // a spy in the panel's document before the layer arrives: any alert/confirm/prompt, CSP violation
    // (an inline handler or a foreign image the markup would bring) or <img> element is recorded
    const f = await panelFrame();
    await f.evaluate(() => {
      const w = window as unknown as Record<string, unknown> & {
        __bnXss?: { calls: string[]; violations: string[]; imgs: number };
      };
      const spy = (w.__bnXss = { calls: [] as string[], violations: [] as string[], imgs: 0 });
      for (const k of ['alert', 'confirm', 'prompt'])
        w[k] = (...a: unknown[]) => {
          spy.calls.push(`${k}(${a.join(',')})`);
        };
      document.addEventListener('securitypolicyviolation', (e) =>
        spy.violations.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
      new MutationObserver((ms) => {
        for (const m of ms)
          m.addedNodes.forEach((n) => {
            if (n instanceof Element && (n.matches('img') || n.querySelector('img'))) spy.imgs++;
          });
      }).observe(document, { childList: true, subtree: true });
    });

    await focusFirstEditorGroup();
    await vs.openFile(XSS_FILE);
    await vs.waitForLens('Run until this statement finishes', RUN_TIMEOUT);
    const t = Date.now();
    await vs.clickUntil(
      lensOnLine('Run until this statement finishes', line),
      panel().locator('.script', { hasText: exactRe(XSS_FILE) }),
      { what: `the run lens on line ${line}`, timeoutMs: RUN_TIMEOUT },
    );
    await waitForStep(XSS_FILE, 1, line);
    timing('lens click → XSS layer shown', t);

    const card = cardOf(XSS);
    await card.waitFor();
    assert.strictEqual(await card.locator('.layer-name').textContent(), XSS, 'the name, as text');
    assert.strictEqual(await panel().locator('img').count(), 0, 'an <img> element in the panel');
    const after = await (
      await panelFrame()
    ).evaluate(() => {
      const w = window as unknown as { __bnXss?: { calls: string[]; violations: string[]; imgs: number } };
      return {
        spy: w.__bnXss ?? null,
        imgs: document.getElementsByTagName('img').length,
        html: document.body.innerHTML,
      };
    });
    assert.ok(after.spy, "the panel's document was replaced: the spy is gone, the check did not run");
    assert.deepStrictEqual(after.spy.calls, [], 'alert/confirm/prompt called');
    assert.deepStrictEqual(after.spy.violations, [], 'CSP violations (markup tried to load or run something)');
    assert.strictEqual(after.spy.imgs, 0, '<img> elements added');
    assert.strictEqual(after.imgs, 0);
    assert.ok(after.html.includes('&lt;img src=x onerror=alert(1)&gt;'), 'the name is in the document as escaped text');
    assert.ok(!after.html.includes('<img'), 'the document holds <img markup');
    assert.deepStrictEqual(dialogs, [], 'a dialog opened');
    await chartsDrawn().catch(() => {});
    await vs.screenshot('panel-07-xss-layer-name-dark');
  });

  test('no dialog opened and the workbench threw no uncaught error', () => {
    assert.deepStrictEqual(dialogs, []);
    assert.deepStrictEqual(vs.pageErrors, []);
  });
});
