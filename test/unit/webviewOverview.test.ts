// The panel's overview in a real Chromium, outside VS Code (same page, CSP and harness as webview.test.ts:
// bench/render-harness): a synthetic 52-layer MobileNetV2 run shaped like examples/mobilenet-v2-finetune.ts
// (bench/render-harness/synth.ts: every layer frozen and updated by fit, sources on the lines of the example's
// batchNormalization calls). Checks the rows (model order, filters), the grouped warning, opening a card, the
// keyboard, click-to-source, the baseline and drift numbers against a float64 reference computed here, the heat
// strip over 1,000 steps, the Step button's focus, the header at 550 px and high contrast. Needs Chromium (see
// webview.test.ts: BN_SKIP_CHROMIUM_TESTS=1 is the only, loud, way to skip). Screenshots:
// test-results/screenshots/overview-*.png.
// One suite file per area (the overview in Chromium): its cases share one browser and page set-up.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';

const root = join(__dirname, '..', '..');
const shots = join(root, 'test-results', 'screenshots');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function requireChromium(ctx: Mocha.Context): void {
  if (existsSync(chromiumPath)) return;
  const how = `Chromium not found at ${chromiumPath}: the overview tests need it (apt-get install chromium, or CHROMIUM_PATH).`;
  if (process.env.BN_SKIP_CHROMIUM_TESTS !== '1')
    throw new Error(`${how} To skip these tests on purpose, set BN_SKIP_CHROMIUM_TESTS=1.`);
  console.error(
    `\n${'!'.repeat(100)}\n!! BN_SKIP_CHROMIUM_TESTS=1: SKIPPING the overview tests.\n!! ${how}\n${'!'.repeat(100)}\n`,
  );
  ctx.skip();
}

/** the example the synthetic run imitates, and the lines of its batchNormalization calls (read from the file) */
const MOBILENET_FILE = '/work/examples/mobilenet-v2-finetune.ts';
const exampleLines = readFileSync(join(root, 'examples', 'mobilenet-v2-finetune.ts'), 'utf8').split('\n');
const lineOf = (text: string) => exampleLines.findIndex((l) => l.includes(text)) + 1;
const MOBILENET_LINES = {
  convBn: lineOf('name: `${name}_bn`'),
  dw: lineOf('name: `${name}_dw_bn`'),
  project: lineOf('name: `${name}_project_bn`'),
};

/** a plain (JSON) step as the harness makes it */
interface PlainLayer {
  name: string;
  channels: number;
  epsilon: number;
  source: { file: string; line: number; column: number } | null;
  movingMean: number[];
  movingVariance: number[];
}
interface PlainStep {
  index: number;
  layers: PlainLayer[];
}

/** float64 reference of the drift measures (as the UI states them), from the float32 vectors */
function drift64(cur: PlainLayer, base: PlainLayer) {
  let shift = 0;
  let ratio = 1;
  let ch = -1;
  for (let c = 0; c < cur.channels; c++) {
    const s = Math.abs(cur.movingMean[c] - base.movingMean[c]) / Math.sqrt(base.movingVariance[c] + cur.epsilon);
    if (s > shift) [shift, ch] = [s, c];
    const r = (cur.movingVariance[c] + cur.epsilon) / (base.movingVariance[c] + cur.epsilon);
    ratio = Math.max(ratio, r, 1 / r);
  }
  return { shift, ratio, ch };
}

const session = {
  script: MOBILENET_FILE,
  scriptLabel: 'examples/mobilenet-v2-finetune.ts',
  state: 'paused',
  backend: 'wasm',
  tfjs: '4.22.0',
  error: null,
  status: 'paused at line 77 (step 3, hit 1)',
};

describe('webview: the overview of a 52-layer model in Chromium', function () {
  this.timeout(180000);
  let browser: Browser;
  let server: { url: string; close(): Promise<unknown> };
  const errors: string[] = [];
  let names: string[] = [];

  before(async function () {
    requireChromium(this);
    const mod = await import(pathToFileURL(join(root, 'bench', 'render-harness', 'server.mjs')).href);
    server = await mod.startHarnessServer();
    browser = await mod.launchChromium();
    mkdirSync(shots, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  afterEach(() => assert.deepEqual(errors.splice(0), [], 'no page error, no dialog'));

  async function open(theme = 'dark', width = 550, height = 1000): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height } });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (d) => {
      errors.push(`dialog ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(`${server.url}?theme=${theme}`);
    await page.waitForFunction(() => (window as any).__bn?.messages().some((m: any) => m.type === 'ready'));
    return page;
  }

  /** the example's run (every layer frozen, so fit updates them all with the warning): fit, fit, predict … */
  function mobilenetSteps(page: Page, kinds: ('fit' | 'predict')[] = ['fit', 'fit', 'predict']): Promise<PlainStep[]> {
    return page.evaluate((k) => (window as any).__bn.synthSteps('mobilenetv2', k), kinds);
  }

  async function load(page: Page, steps: PlainStep[], sess: any = session) {
    const last = steps[steps.length - 1].index;
    names = steps[steps.length - 1].layers.map((l) => l.name);
    await page.evaluate(({ sess, steps }) => (window as any).__bn.reset(sess, steps, 0), { sess, steps });
    await page.waitForFunction(
      (i) => (window as any).__bn.messages().some((m: any) => m.type === 'rendered' && m.stepIndex === i),
      last,
    );
  }

  const frame = (page: Page) =>
    page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0)))));
  const shownRows = (page: Page) => page.locator('.ov-row:not([hidden]) .ov-layer-name').allTextContents();
  const row = (page: Page, name: string) =>
    page.locator('.ov-row').filter({ has: page.locator('.ov-layer-name', { hasText: new RegExp(`^${name}$`) }) });
  const card = (page: Page, name: string) =>
    page.locator('section.card').filter({ has: page.locator('.layer-name', { hasText: new RegExp(`^${name}$`) }) });
  const posted = (page: Page, type: string) =>
    page.evaluate((t) => (window as any).__bn.messages().filter((m: any) => m.type === t), type);

  it('52 rows in model order, cards collapsed, the frozen-but-updated warning said once for 52 layers', async () => {
    const page = await open('dark');
    const steps = await mobilenetSteps(page, ['fit', 'fit']);
    await load(page, steps);
    assert.equal(names.length, 52);
    assert.deepEqual(await shownRows(page), names, 'one row per layer, model order');
    assert.equal(await page.locator('section.card').count(), 52);
    assert.equal(await page.locator('section.card.collapsed').count(), 52, 'more than 8 layers: cards start collapsed');
    // the row: channels, badges, change in this step, drift, warning, source
    const r = row(page, 'block3_dw_bn');
    assert.equal(await r.locator('.ov-ch').textContent(), '144 ch');
    assert.deepEqual(await r.locator('.badge').allTextContents(), ['training mode', 'frozen', 'updated ×1']);
    assert.match((await r.locator('.ov-warn').textContent())!, /^⚠ Frozen, but still updated$/);
    assert.equal(
      await r.locator('.ov-src-link').textContent(),
      `built at mobilenet-v2-finetune.ts:${MOBILENET_LINES.dw}`,
    );
    // grouped: said once, with every layer
    const groups = page.locator('.warning-group');
    assert.equal(await groups.count(), 1);
    assert.equal(await groups.first().getAttribute('data-code'), 'TRAINABLE_FALSE_STILL_UPDATES');
    assert.match(await groups.first().innerText(), /Frozen, but still updated/);
    assert.match(await groups.first().innerText(), /· 52 layers/);
    assert.match(await groups.first().innerText(), /Why: tfjs's BatchNormalization reads only the training flag/);
    assert.match(await groups.first().innerText(), /What to do: To keep them fixed in tfjs/);
    assert.deepEqual(await groups.first().locator('button.wg-layer').allTextContents(), names);
    // the explanation is nowhere else; each card has its one-line mention
    assert.equal(
      await page.evaluate(() => document.body.textContent!.split('reads only the training flag').length - 1),
      1,
    );
    assert.equal(await page.locator('section.card li.warning[data-code="TRAINABLE_FALSE_STILL_UPDATES"]').count(), 52);
    await frame(page);
    await page.screenshot({ path: join(shots, 'overview-mobilenet-dark-550.png') });
    await page.close();
  });

  it('the state filter and the name filter (rows and cards alike)', async () => {
    const page = await open('light');
    await load(page, await mobilenetSteps(page, ['fit', 'fit', 'predict']));
    const select = page.getByLabel('Show layers');
    assert.deepEqual(
      (await select.locator('option').allTextContents()).map((s) => s.trim()),
      [
        'All layers (52)',
        'Updated in this step (0)',
        'Frozen (trainable: false) (52)',
        'Frozen but updated (0)',
        'With warnings (0)',
      ],
    );
    await select.selectOption('frozen');
    assert.equal((await shownRows(page)).length, 52);
    await select.selectOption('updated');
    await page.waitForFunction(() => document.querySelectorAll('.ov-row:not([hidden])').length === 0);
    assert.equal(await page.locator('section.card:not([hidden])').count(), 0);
    assert.match(await page.locator('.no-match').innerText(), /No layer here: updated in this step/);
    await select.selectOption('all');
    await page.getByLabel('Filter layers by name or path').fill('block1_');
    await page.waitForFunction(() => document.querySelectorAll('.ov-row:not([hidden])').length === 3);
    assert.deepEqual(await shownRows(page), ['block1_expand_bn', 'block1_dw_bn', 'block1_project_bn']);
    assert.equal(await page.locator('section.card:not([hidden])').count(), 3);
    assert.equal(await page.locator('.count').textContent(), '3 of 52 layers');
    // kept in the panel state
    await page.waitForFunction(
      () => JSON.parse(sessionStorage.getItem('bn-harness-vscode-state') ?? '{}').filter === 'block1_',
    );
    await page.close();
  });

  it('a row (click, Enter, a warning link) opens its card; arrows move in the grid; → Enter reveals the source line', async () => {
    const page = await open('dark', 550, 900);
    await load(page, await mobilenetSteps(page, ['fit', 'fit']));
    // click
    await row(page, 'block5_dw_bn').locator('.ov-name').click();
    const c = card(page, 'block5_dw_bn');
    await page.waitForFunction(
      () =>
        document.activeElement?.classList.contains('card-toggle') &&
        document.activeElement.textContent === 'block5_dw_bn',
    );
    assert.equal(await c.locator('.card-toggle').getAttribute('aria-expanded'), 'true');
    await frame(page);
    await frame(page);
    const box = (await c.boundingBox())!;
    assert.ok(box.y >= -1 && box.y < 900, `the card is on screen (top ${box.y})`);
    // the keyboard: one tab stop in the grid, arrows move it, Enter opens
    const first = row(page, 'stem_bn').locator('.ov-name');
    assert.equal(await page.locator('.ov-name[tabindex="0"]').count(), 1, 'one tab stop');
    await first.focus();
    const active = () =>
      page.evaluate(() => document.activeElement?.closest('.ov-row')?.querySelector('.ov-layer-name')?.textContent);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await active(), names[2]);
    await page.keyboard.press('End');
    assert.equal(await active(), 'top_bn');
    await page.keyboard.press('ArrowUp');
    assert.equal(await active(), names[50]);
    await page.keyboard.press('Home');
    assert.equal(await active(), 'stem_bn');
    await page.keyboard.press('PageDown');
    assert.equal(await active(), names[10]);
    assert.equal(await page.locator('.ov-name[tabindex="0"]').count(), 1, 'still one tab stop');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      (n) => document.activeElement?.classList.contains('card-toggle') && document.activeElement.textContent === n,
      names[10],
    );
    assert.equal(await card(page, names[10]).locator('.card-toggle').getAttribute('aria-expanded'), 'true');
    // → to the row's source link, Enter: the validated reveal request, with the line of the helper
    await row(page, 'block2_project_bn').locator('.ov-name').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'link ov-src-link');
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await active(), 'block2_project_bn');
    // the card's own link
    await card(page, names[10]).locator('button.card-src').click();
    assert.deepEqual((await posted(page, 'revealLine')).slice(-2), [
      { type: 'revealLine', file: MOBILENET_FILE, line: MOBILENET_LINES.project },
      {
        type: 'revealLine',
        file: MOBILENET_FILE,
        line: names[10].endsWith('_dw_bn')
          ? MOBILENET_LINES.dw
          : names[10].endsWith('_project_bn')
            ? MOBILENET_LINES.project
            : MOBILENET_LINES.convBn,
      },
    ]);
    // a layer link of the grouped warning opens that card
    await page.locator('.warning-group details.wg-details > summary').first().click();
    await page.locator('.warning-group button.wg-layer', { hasText: /^top_bn$/ }).click();
    await page.waitForFunction(() => document.activeElement?.textContent === 'top_bn');
    assert.equal(await card(page, 'top_bn').locator('.card-toggle').getAttribute('aria-expanded'), 'true');
    await page.close();
  });

  it('a layer made outside the user code says so (source null) in its row and its card', async () => {
    const page = await open('light', 800);
    const steps = await mobilenetSteps(page, ['fit']);
    for (const l of steps[0].layers) l.source = null;
    await load(page, steps);
    assert.equal(await page.locator('.ov-src-link, button.card-src').count(), 0);
    // one step: the heat strip would be a single column of "nothing to compare": a sentence instead
    assert.equal(await page.locator('.heat-body').isVisible(), false);
    assert.match(await page.locator('.heat-note').innerText(), /appears from the second step on/);
    assert.equal(
      await row(page, 'stem_bn').locator('.ov-src').textContent(),
      'made outside your code (e.g. a loaded model)',
    );
    assert.equal(
      await card(page, 'stem_bn').locator('.card-src-none').textContent(),
      'made outside your code (e.g. a loaded model)',
    );
    await page.close();
  });

  it('drift from the baseline (first snapshot, then a pinned step, kept in the panel state) matches a float64 reference', async () => {
    const page = await open('dark', 900);
    const steps = await mobilenetSteps(page, ['fit', 'fit', 'fit', 'predict']);
    await load(page, steps.slice(0, 3));
    assert.match(await page.locator('.baseline-text').innerText(), /each layer's first snapshot \(step 1\)/);
    const cur = steps[2];
    // every row's drift against the reference (the panel shows 4 significant digits)
    const texts = await page.locator('.ov-row .ov-drift').allTextContents();
    texts.forEach((t, i) => {
      const ref = drift64(cur.layers[i], steps[0].layers[i]);
      const m = /^drift: ([\d.e−-]+)σ · var ×([\d.]+)$/.exec(t);
      assert.ok(m, `row ${i}: ${t}`);
      const shift = Number(m![1].replace('−', '-'));
      const ratio = Number(m![2]);
      assert.ok(Math.abs(shift - ref.shift) <= 5e-4 * ref.shift, `${names[i]}: mean shift ${shift} vs ${ref.shift}`);
      // (×1.0023: 4 decimals below ×1.01; 3 significant digits above)
      const tol = ref.ratio < 1.01 ? 6e-5 : 5e-3 * ref.ratio;
      assert.ok(Math.abs(ratio - ref.ratio) <= tol, `${names[i]}: ratio ${ratio} vs ${ref.ratio}`);
    });
    // frozen and drifted: the callout on the row and in the card (visible even collapsed)
    assert.equal(await page.locator('.ov-drift.callout').count(), 52);
    const c = card(page, 'block7_dw_bn');
    const ref = drift64(cur.layers[names.indexOf('block7_dw_bn')], steps[0].layers[names.indexOf('block7_dw_bn')]);
    // (textContent: an off-screen card skips rendering, so its innerText may be empty)
    assert.match(
      (await c.locator('.drift-callout').textContent())!,
      /^Frozen \(trainable: false\), yet its moving statistics drifted from the baseline \(step 1\) by up to .*σ in mean/,
    );
    assert.equal(
      await c.locator('.drift-callout').getAttribute('hidden'),
      null,
      'shown, also while the card is collapsed',
    );
    await c.locator('.card-toggle').click();
    assert.match(
      (await c.locator('p.drift').textContent())!,
      new RegExp(
        `^Drift since the baseline \\(step 1\\): \\d+ of ${cur.layers[names.indexOf('block7_dw_bn')].channels} channels moved; the moving mean by up to .*\\(channel ${ref.ch}\\)`,
      ),
    );
    // pin step 3: no drift at step 3
    await page.locator('button.pin-baseline').click();
    await page.waitForFunction(() =>
      document.querySelector('.baseline-text')?.textContent?.includes('step 3 (pinned)'),
    );
    assert.deepEqual([...new Set(await page.locator('.ov-row .ov-drift').allTextContents())], ['drift: baseline']);
    assert.equal(await page.locator('.drift-callout:not([hidden])').count(), 0);
    await page.waitForFunction(
      () => JSON.parse(sessionStorage.getItem('bn-harness-vscode-state') ?? '{}').baseline === 3,
    );
    // shown again (the host re-sends the steps): the pin holds; predict moved nothing since step 3
    await page.reload();
    await page.waitForFunction(() => (window as any).__bn?.messages().some((m: any) => m.type === 'ready'));
    await load(page, steps);
    assert.match(await page.locator('.baseline-text').innerText(), /step 3 \(pinned\)/);
    assert.deepEqual([...new Set(await page.locator('.ov-row .ov-drift').allTextContents())], ['drift: none']);
    assert.deepEqual([...new Set(await page.locator('.ov-row .ov-step').allTextContents())], ['step: none']);
    // any earlier step, by its number (the timeline still keeps its vectors): step 2
    await page.getByLabel('Pin step number as baseline').fill('2');
    await page.getByLabel('Pin step number as baseline').press('Enter');
    await page.waitForFunction(() =>
      document.querySelector('.baseline-text')?.textContent?.includes('step 2 (pinned)'),
    );
    const d2 = await page.locator('.ov-row .ov-drift').allTextContents();
    d2.forEach((t, i) => {
      const ref = drift64(steps[3].layers[i], steps[1].layers[i]);
      const m = /^drift: ([\d.e−-]+)σ/.exec(t);
      assert.ok(m, `row ${i}: ${t}`);
      const shift = Number(m![1].replace('−', '-'));
      assert.ok(
        Math.abs(shift - ref.shift) <= 5e-4 * ref.shift,
        `${names[i]}: mean shift from step 2 ${shift} vs ${ref.shift}`,
      );
    });
    // back to the first snapshots
    await page.locator('button.unpin-baseline').click();
    await page.waitForFunction(() => document.querySelector('.baseline-text')?.textContent?.includes('first snapshot'));
    assert.equal(await page.locator('.ov-drift.callout').count(), 52);
    await page.close();
  });

  it('the heat strip: painted from the theme, a text alternative; 1,000 steps add no DOM and stay bounded', async () => {
    const page = await open('dark', 550, 900);
    await load(page, await mobilenetSteps(page, ['fit', 'fit', 'predict']));
    await frame(page);
    const canvas = page.locator('canvas.heat-canvas');
    const label = (await canvas.getAttribute('aria-label'))!;
    assert.match(
      label,
      /^Change per step of the moving statistics: 52 layers × steps 1 to 3\. The largest change, .*, is in \w+ at step 2\./,
    );
    const painted = () =>
      canvas.evaluate((c: HTMLCanvasElement) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
        return n / (c.width * c.height);
      });
    assert.ok((await painted()) > 0.5, 'most cells painted');
    const nodes = () => page.evaluate(() => document.querySelector('.overview')!.getElementsByTagName('*').length);
    const before = await nodes();
    // 1,000 more steps streamed (fit, predict in turn), each sent when the previous rendered
    const ms: number[] = await page.evaluate(async () => {
      const bn = (window as any).__bn;
      await bn.run('mobilenetv2', 1000, ['fit', 'fit', 'fit', 'predict']);
      return bn
        .messages()
        .filter((m: any) => m.type === 'rendered' && m.stepIndex > 0)
        .map((m: any) => m.ms);
    });
    await frame(page);
    assert.equal(await nodes(), before, 'the overview holds as many elements after 1,000 steps');
    assert.match((await canvas.getAttribute('aria-label'))!, /52 layers × steps 1 to 1000\./);
    assert.ok((await painted()) > 0.5);
    const sorted = ms.slice(-1000).sort((a, b) => a - b);
    console.log(
      `      [render] 1,000 MobileNetV2 steps: median ${sorted[500]} ms, p95 ${sorted[950]} ms, max ${sorted[999]} ms`,
    );
    await page.screenshot({ path: join(shots, 'overview-1000-steps-dark-550.png') });
    await page.close();
  });

  it('Step keeps the focus after Enter and Space (8 presses, the session running in between)', async () => {
    const page = await open('dark', 550);
    await load(page, await mobilenetSteps(page, ['fit']));
    const stepBtn = page.locator('.commands button[data-command="step"]');
    await stepBtn.focus();
    for (let i = 0; i < 8; i++) {
      const n = (await posted(page, 'command')).length;
      await page.keyboard.press(i % 2 ? 'Space' : 'Enter');
      await page.waitForFunction(
        (k) => (window as any).__bn.messages().filter((m: any) => m.type === 'command').length === k + 1,
        n,
      );
      // the host: running (Step does not apply), then paused again
      await page.evaluate((s) => (window as any).__bn.session({ ...s, state: 'running', status: 'running' }), session);
      await page.waitForFunction(() => document.querySelector('.status')?.textContent === 'running');
      assert.equal(await stepBtn.getAttribute('aria-disabled'), 'true');
      assert.equal(
        await page.evaluate(() => (document.activeElement as HTMLElement)?.dataset.command),
        'step',
        `press ${i + 1}: focus kept while running`,
      );
      // a press while running does nothing
      await page.keyboard.press('Enter');
      await page.evaluate((s) => (window as any).__bn.session(s), { ...session, status: `paused ${i}` });
      await page.waitForFunction((t) => document.querySelector('.status')?.textContent === t, `paused ${i}`);
      assert.equal(
        await page.evaluate(() => (document.activeElement as HTMLElement)?.dataset.command),
        'step',
        `press ${i + 1}: focus kept`,
      );
    }
    assert.deepEqual(
      (await posted(page, 'command')).map((m: any) => m.command),
      new Array(8).fill('step'),
      'eight presses, eight steps, none while running',
    );
    await page.close();
  });

  it('the header fits a 550 px side panel on one row (screenshots in light, dark, high contrast)', async () => {
    for (const theme of ['light', 'dark', 'hc']) {
      const page = await open(theme, 550, 1100);
      await load(page, await mobilenetSteps(page, ['fit', 'fit']));
      const tops = await page
        .locator('.commands button')
        .evaluateAll((bs) => bs.map((b) => Math.round(b.getBoundingClientRect().top)));
      assert.equal(tops.length, 5);
      assert.equal(new Set(tops).size, 1, `${theme}: the five commands on one row: ${tops}`);
      await frame(page);
      await page.screenshot({ path: join(shots, `overview-${theme}-550.png`) });
      await page.close();
    }
  });

  it('high contrast: a pressed toggle and the badge tones differ by more than colour', async () => {
    const page = await open('hc', 900, 1000);
    await load(page, await mobilenetSteps(page, ['fit']));
    const c = card(page, 'stem_bn');
    await c.locator('.card-toggle').click();
    const style = (sel: string, pseudo: string | null = null) =>
      page
        .locator(sel)
        .first()
        .evaluate((e, p) => {
          const s = getComputedStyle(e, p);
          return `${s.borderTopStyle} ${s.borderTopWidth} ${s.fontWeight} ${p ? s.content : ''}`;
        }, pseudo);
    const off = await style('section.card .toggle-table');
    await c.locator('.toggle-table').click();
    assert.equal(await c.locator('.toggle-table').getAttribute('aria-pressed'), 'true');
    const on = await style('section.card .toggle-table[aria-pressed="true"]');
    assert.notEqual(on, off, 'pressed and not pressed look different');
    assert.match(await style('section.card .toggle-table[aria-pressed="true"]', '::after'), /"✓"/);
    await c.locator('.toggle-table').screenshot({ path: join(shots, 'overview-hc-toggle-pressed.png') });
    // the tones, with the badges of the synthetic steps (train, frozen, updated-but-frozen = warn) and made-up ones
    await page.evaluate(() => {
      const host = document.createElement('div');
      host.id = 'tones';
      for (const t of ['train', 'infer', 'updated', 'warn', 'muted', 'neutral', 'frozen']) {
        const b = document.createElement('span');
        b.className = `badge tone-${t}`;
        b.textContent = t;
        host.append(b);
      }
      document.getElementById('app')!.prepend(host);
    });
    const tones = await page.locator('#tones .badge').evaluateAll((bs) =>
      bs.map((b) => {
        const s = getComputedStyle(b);
        const before = getComputedStyle(b, '::before').content;
        return `${s.borderTopStyle} ${s.borderTopWidth} ${s.fontWeight} ${s.textDecorationStyle} ${before}`;
      }),
    );
    const toneNames = ['train', 'infer', 'updated', 'warn', 'muted', 'frozen'];
    const distinct = new Set(
      toneNames.map((t) => tones[['train', 'infer', 'updated', 'warn', 'muted', 'neutral', 'frozen'].indexOf(t)]),
    );
    assert.equal(distinct.size, toneNames.length, `tones alike in high contrast: ${JSON.stringify(tones)}`);
    await page.locator('#tones').screenshot({ path: join(shots, 'overview-hc-badges.png') });
    await page.close();
  });
});
