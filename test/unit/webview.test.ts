// The inspector panel in a real Chromium, outside VS Code: the page is the one src/extension/panelHtml.ts
// builds (same strict CSP), dist/webview.js runs against a fake acquireVsCodeApi, and the test plays the
// extension host through window.__bn (bench/render-harness/harness.ts). Runs `npm run build` itself when
// dist/webview.js is missing or older than webview/ and src/shared/. Needs Chromium at /usr/bin/chromium (or
// CHROMIUM_PATH): without it these tests FAIL (Debian/Ubuntu: `apt-get install chromium`), unless
// BN_SKIP_CHROMIUM_TESTS=1 is set, which skips them with a loud notice on stderr (a deliberate opt-out, never the
// default). Screenshots go to test-results/screenshots/ (git-ignored).
// One suite file per area (the panel in Chromium): its cases share one browser and page set-up.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';

const root = join(__dirname, '..', '..');
const shots = join(root, 'test-results', 'screenshots');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** the one way to run the unit tests without Chromium: an explicit opt-out, announced loudly */
const skipChromium = process.env.BN_SKIP_CHROMIUM_TESTS === '1';

/** Without Chromium the panel tests fail (or, opted out, skip with a notice that cannot be missed). */
function requireChromium(ctx: Mocha.Context): void {
  if (existsSync(chromiumPath)) return;
  const how =
    `Chromium not found at ${chromiumPath}: the inspector panel tests need it. Install it ` +
    '(Debian/Ubuntu: `apt-get install chromium`) or point CHROMIUM_PATH at a Chromium/Chrome binary.';
  if (!skipChromium)
    throw new Error(`${how} To skip these tests on purpose, set BN_SKIP_CHROMIUM_TESTS=1 (they will not run).`);
  const bar = '!'.repeat(100);
  console.error(
    `\n${bar}\n!! BN_SKIP_CHROMIUM_TESTS=1: SKIPPING the inspector panel tests in Chromium.\n!! ${how}\n${bar}\n`,
  );
  ctx.skip();
}

const XSS = '<img src=x onerror=alert(1)>';

function vec(n: number, f: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

const callRec = (
  training: boolean,
  n: number,
  batch: number,
  mean: (i: number) => number,
  variance: (i: number) => number,
) => ({
  training,
  statsUsed: training ? 'batch' : 'moving',
  inputShape: [batch, n],
  batchMean: vec(n, mean),
  batchVariance: vec(n, variance),
});

/** step 1: the cases a person recognises */
function step1() {
  return {
    index: 1,
    line: 14,
    column: 1,
    file: '/work/examples/frozen-predict.ts',
    hit: 1,
    layers: [
      {
        name: 'frozen_bn',
        path: ['model1', 'frozen_bn'],
        channels: 5,
        trainable: false,
        calls: 1,
        updates: 0,
        movingMean: vec(5, () => 0),
        movingVariance: vec(5, () => 1),
        movingUpdated: false,
        lastCall: callRec(
          false,
          5,
          3,
          (i) => 0.1 * (i + 1),
          (i) => 0.5 + i,
        ),
        warnings: [
          {
            code: 'STALE_MOVING_STATS',
            message: 'called in inference mode but never updated: it normalises with mean 0 / variance 1',
          },
        ],
      },
      {
        name: 'train_bn',
        path: ['model1', 'train_bn'],
        channels: 5,
        trainable: true,
        calls: 3,
        updates: 3,
        movingMean: [0.1, 0.2, 0.3, 0.4, 0.5],
        movingVariance: [0.9, 0.95, 1, 1.05, 1.1],
        movingUpdated: true,
        lastCall: callRec(
          true,
          5,
          32,
          (i) => 1 + i,
          (i) => 2 + i,
        ),
        lastTrainingCall: callRec(
          true,
          5,
          32,
          (i) => 1 + i,
          (i) => 2 + i,
        ),
        warnings: [],
      },
      {
        name: 'frozen_updated_bn',
        path: ['model1', 'frozen_updated_bn'],
        channels: 4,
        trainable: false,
        calls: 2,
        updates: 2,
        movingMean: [0.01, 0.02, 0.03, 0.04],
        movingVariance: [0.99, 0.98, 0.97, 0.96],
        movingUpdated: true,
        lastCall: callRec(
          true,
          4,
          16,
          (i) => i,
          () => 1,
        ),
        lastTrainingCall: callRec(
          true,
          4,
          16,
          (i) => i,
          () => 1,
        ),
        warnings: [
          {
            code: 'TRAINABLE_FALSE_STILL_UPDATES',
            message: 'trainable is false, but the moving statistics were updated',
          },
        ],
      },
      {
        name: XSS,
        path: ['<b>model</b>', XSS],
        channels: 3,
        calls: 0,
        movingMean: [0, 0, 0],
        movingVariance: [1, 1, 1],
        warnings: [],
      },
    ],
  };
}

/** step 2: train_bn moved on channels 1 and 3 */
function step2() {
  const s = step1();
  s.index = 2;
  s.line = 20;
  s.hit = 1;
  const t = s.layers[1];
  t.movingMean = [0.1, 0.25, 0.3, 0.375, 0.5];
  t.calls = 1;
  t.updates = 1;
  return s;
}

const session = (over: Record<string, unknown> = {}) => ({
  script: '/work/examples/frozen-predict.ts',
  scriptLabel: 'examples/frozen-predict.ts',
  state: 'paused',
  backend: 'wasm',
  tfjs: '4.22.0',
  error: null,
  status: 'paused at line 14 (step 1, hit 1)',
  ...over,
});

describe('webview: the inspector panel in Chromium', function () {
  this.timeout(120000);
  let browser: Browser;
  let server: { url: string; close(): Promise<unknown> };
  const dialogs: string[] = [];
  const pageErrors: string[] = [];

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
  afterEach(() => {
    assert.deepEqual(dialogs, [], 'no dialog may open');
    assert.deepEqual(pageErrors, [], 'no page error');
  });

  async function open(theme = 'light', width = 1000, height = 900): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height } });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`${server.url}?theme=${theme}`);
    await page.waitForFunction(() => (window as any).__bn?.messages().some((m: any) => m.type === 'ready'));
    return page;
  }

  async function rendered(page: Page, stepIndex: number) {
    await page.waitForFunction(
      (i) => (window as any).__bn.messages().some((m: any) => m.type === 'rendered' && m.stepIndex === i),
      stepIndex,
    );
  }

  async function load(page: Page, steps = [step1()], sess: any = session()) {
    await page.evaluate(({ sess, steps }) => (window as any).__bn.reset(sess, steps, 0), { sess, steps });
    await rendered(page, steps.length ? steps[steps.length - 1].index : 0);
  }

  const card = (page: Page, name: string) =>
    page
      .locator('section.card')
      .filter({ has: page.locator('.layer-name', { hasText: name }) })
      .first();

  it('shows a start screen without a session, posts ready and rendered', async () => {
    const page = await open('light');
    await rendered(page, 0);
    const text = await page.locator('.start').innerText();
    assert.match(text, /No script is running/);
    assert.match(text, /▶ Run until this statement finishes/);
    assert.match(text, /examples\//);
    assert.equal(await page.locator('header.top').isVisible(), false);
    await page.screenshot({ path: join(shots, 'panel-start-light.png') });
    assert.deepEqual(await page.evaluate(() => (window as any).__bn.violations), []);
    await page.close();
  });

  it('renders every layer in model order with its path, and the header', async () => {
    const page = await open('light');
    await load(page);
    const names = await page.locator('section.card .layer-name').allTextContents();
    assert.deepEqual(names, ['frozen_bn', 'train_bn', 'frozen_updated_bn', XSS]);
    assert.equal(await card(page, 'train_bn').locator('.layer-path').textContent(), 'model1 › train_bn');
    const head = await page.locator('.title-row').innerText();
    assert.match(head, /examples\/frozen-predict\.ts/);
    assert.match(head, /step 1/);
    assert.match(head, /line 14/);
    assert.match(head, /hit 1/);
    assert.match(head, /backend wasm/);
    assert.match(head, /tfjs 4\.22\.0/);
    assert.equal(await page.locator('.status').textContent(), 'paused at line 14 (step 1, hit 1)');
    assert.match(
      await page.locator('.summary').innerText(),
      /4 BatchNormalization layers · 2 updated in this step · 2 with warnings/,
    );
    // charts were drawn for the cards on screen (non-empty canvas bitmap)
    // (drawn at the latest by the ResizeObserver of the next frame)
    const painted = (c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
      return n;
    };
    const canvas = card(page, 'frozen_bn').locator('canvas.plot').first();
    await canvas.evaluate((_c: HTMLCanvasElement) => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    const drawn = await canvas.evaluate(painted);
    assert.ok(drawn > 100, `canvas has ${drawn} painted pixels`);
    assert.deepEqual(await page.evaluate(() => (window as any).__bn.violations), [], 'no CSP violation');
    await page.close();
  });

  it('a layer named <img src=x onerror=alert(1)> shows those characters and runs nothing', async () => {
    const page = await open('light');
    const evil = session({
      scriptLabel: '<script>alert(2)</script>.ts',
      status: 'paused <img src=y onerror=alert(3)>',
    });
    await load(page, [step1()], evil);
    const c = card(page, XSS);
    assert.equal(await c.locator('.layer-name').textContent(), XSS);
    assert.equal(await c.locator('.layer-path').textContent(), `<b>model</b> › ${XSS}`);
    assert.equal(await page.locator('.script').textContent(), '<script>alert(2)</script>.ts');
    assert.equal(await page.locator('.status').textContent(), 'paused <img src=y onerror=alert(3)>');
    assert.equal(await page.locator('#app img').count(), 0, 'no <img> element was created');
    assert.equal(await page.locator('#app script, #app b').count(), 0);
    // an error message is text too
    await page.evaluate(
      (s) => (window as any).__bn.session(s),
      session({
        state: 'ended',
        error: { message: '<img src=z onerror=alert(4)>', line: 3, column: 1, stack: '<i>stack</i>', kind: 'run' },
      }),
    );
    await page.waitForFunction(() => !document.querySelector('.error-box')!.hasAttribute('hidden'));
    assert.equal(await page.locator('.error-message').textContent(), '<img src=z onerror=alert(4)>');
    assert.equal(await page.locator('#app img, #app i').count(), 0);
    await page.waitForTimeout(200);
    await page.close();
  });

  it('badges and the sentence for inference, training and frozen-but-updated layers; warnings explained', async () => {
    const page = await open('light');
    await load(page);
    const badges = async (name: string) => card(page, name).locator('.badge').allTextContents();
    assert.deepEqual(await badges('frozen_bn'), [
      'inference mode: moving statistics, not updated',
      'training: false',
      'trainable: false',
      '1 call',
    ]);
    assert.deepEqual(await badges('train_bn'), [
      'training mode: batch statistics',
      'training: true',
      'trainable: true',
      'updated ×3',
      '3 calls',
    ]);
    assert.deepEqual(await badges('frozen_updated_bn'), [
      'training mode: batch statistics',
      'training: true',
      'trainable: false',
      'updated ×2',
      '2 calls',
    ]);
    assert.deepEqual(await badges(XSS), ['never called', 'trainable: true', 'not updated', '0 calls']);
    assert.match(
      (await card(page, 'frozen_bn').locator('.why').textContent()) as string,
      /^Called in inference mode .*normalised with the moving statistics, which did not change\..*never been updated/,
    );
    assert.match(
      (await card(page, 'train_bn').locator('.why').textContent()) as string,
      /^Called in training mode \(fit, or apply with training: true\)/,
    );
    assert.match(
      (await card(page, 'frozen_updated_bn').locator('.why').textContent()) as string,
      /^trainable is false but the moving statistics were updated: tfjs ignores trainable for this; in TF2 Keras this layer would run in inference mode\.$/,
    );
    assert.match((await card(page, XSS).locator('.why').textContent()) as string, /^Not called yet/);
    // the card keeps a one-line mention; the explanation is said once, in the overview's grouped warnings
    const w = card(page, 'frozen_bn').locator('li.warning');
    assert.equal(await w.count(), 1);
    assert.equal(await w.getAttribute('data-code'), 'STALE_MOVING_STATS');
    assert.match(await w.innerText(), /Stale moving statistics/);
    assert.match(
      await w.innerText(),
      /^\s*Stale moving statistics STALE_MOVING_STATS — explained once, in the overview above$/,
    );
    assert.equal(
      await w.getAttribute('title'),
      'called in inference mode but never updated: it normalises with mean 0 / variance 1',
    );
    assert.match(
      await page.locator('.warning-group[data-code="STALE_MOVING_STATS"] .wg-what').innerText(),
      /never updated/,
      "the engine's message, in the group",
    );
    const g = page.locator('.warning-groups .warning-group[data-code="STALE_MOVING_STATS"]');
    assert.equal(await g.count(), 1);
    assert.match(await g.innerText(), /Stale moving statistics/);
    assert.match(await g.innerText(), /Why: This layer normalises with its initial moving mean 0 and variance 1/);
    assert.match(await g.innerText(), /What to do: Train it first/);
    assert.deepEqual(await g.locator('button.wg-layer').allTextContents(), ['frozen_bn']);
    assert.equal(
      await card(page, 'frozen_updated_bn').locator('li.warning').getAttribute('data-code'),
      'TRAINABLE_FALSE_STILL_UPDATES',
    );
    assert.equal(await card(page, 'train_bn').locator('li.warning').count(), 0);
    await page.close();
  });

  it('the table shows exact numbers, the change since the previous step is marked', async () => {
    const page = await open('light');
    await load(page, [step1(), step2()]);
    const c = card(page, 'train_bn');
    assert.match(
      (await c.locator('.delta').textContent()) as string,
      /^Since step 1: 2 of 5 channels changed · max \|Δ moving mean\| 0\.05 · max \|Δ moving variance\| 0$/,
    );
    const toggle = c.locator('button.toggle-table');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    await c.locator('table.numbers tbody tr').first().waitFor();
    const rows = await c
      .locator('table.numbers tbody tr')
      .evaluateAll((trs) => trs.map((tr) => Array.from((tr as HTMLTableRowElement).cells, (td) => td.textContent)));
    assert.equal(rows.length, 5);
    const head = await c.locator('table.numbers thead th').allTextContents();
    assert.deepEqual(head.slice(0, 4), ['ch', 'changed', 'moving mean', 'batch mean']);
    // float32 values, written as the nearest double: full precision
    assert.deepEqual(rows[0].slice(0, 8), [
      '0',
      '',
      String(Math.fround(0.1)),
      '1',
      String(Math.fround(0.9)),
      '2',
      '1',
      '0',
    ]);
    assert.equal(rows[0][2], '0.10000000149011612');
    assert.equal(rows[1][1], 'yes');
    assert.equal(rows[3][1], 'yes');
    assert.equal(rows[2][1], '');
    assert.equal(rows[1][8], String(Math.fround(Math.fround(0.25) - Math.fround(0.2))));
    assert.equal(await c.locator('tr.changed').count(), 2);
    // the table text is selectable / copyable
    const tsvLike = await c.locator('table.numbers').innerText();
    assert.ok(tsvLike.includes('0.10000000149011612'));
    // and back to charts
    await toggle.click();
    assert.equal(await c.locator('.charts').isVisible(), true);
    await page.close();
  });

  it('the filter box hides layers that do not match', async () => {
    const page = await open('light');
    await load(page);
    await page.getByLabel('Filter layers by name or path').fill('frozen');
    await page.waitForFunction(() => document.querySelectorAll('section.card:not([hidden])').length === 2);
    assert.equal(await page.locator('.count').textContent(), '2 of 4 layers');
    await page.getByLabel('Filter layers by name or path').fill('model1/train');
    await page.waitForFunction(() => document.querySelectorAll('section.card:not([hidden])').length === 1);
    await page.getByLabel('Filter layers by name or path').fill('zzz');
    await page.waitForFunction(() => document.querySelectorAll('section.card:not([hidden])').length === 0);
    assert.match(await page.locator('.no-match').innerText(), /No layer matches “zzz”/);
    await page.getByLabel('Filter layers by name or path').fill('');
    await page.waitForFunction(() => document.querySelectorAll('section.card:not([hidden])').length === 4);
    await page.close();
  });

  it('everything is reachable by keyboard: tab to a card, collapse and expand it with Enter/Space', async () => {
    const page = await open('light');
    await load(page);
    await page.getByLabel('Filter layers by name or path').focus();
    let found = false;
    // (past the state filter, the overview's buttons, its one grid stop and the grouped warnings' layer links)
    for (let i = 0; i < 30 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => document.activeElement?.classList.contains('card-toggle') ?? false);
    }
    assert.ok(found, 'a card toggle is reachable with Tab');
    const active = () =>
      page.evaluate(() => [document.activeElement!.getAttribute('aria-expanded'), document.activeElement!.textContent]);
    assert.deepEqual(await active(), ['true', 'frozen_bn']);
    // focus is visible
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.notEqual(outline, 'none');
    await page.keyboard.press('Enter');
    assert.deepEqual(await active(), ['false', 'frozen_bn']);
    assert.equal(await card(page, 'frozen_bn').locator('.card-body').isVisible(), false);
    assert.equal(
      await card(page, 'frozen_bn').locator('.why').isVisible(),
      true,
      'the sentence stays visible when collapsed',
    );
    await page.keyboard.press('Space');
    assert.deepEqual(await active(), ['true', 'frozen_bn']);
    // every button has an accessible name
    const unnamed = await page.evaluate(
      () =>
        Array.from(document.querySelectorAll('button, input, select')).filter(
          (b) => !(b.getAttribute('aria-label') || b.textContent?.trim() || (b as HTMLInputElement).labels?.length),
        ).length,
    );
    assert.equal(unnamed, 0);
    await page.close();
  });

  it('commands: buttons post commands and are enabled per session state; the line reveals', async () => {
    const page = await open('light');
    await load(page);
    const enabledButtons = () =>
      page
        .locator('.commands button[aria-disabled="false"]')
        .evaluateAll((bs) => bs.map((b) => (b as HTMLElement).dataset.command));
    assert.deepEqual(await enabledButtons(), ['step', 'continue', 'runToCursor', 'restart', 'stop']);
    await page.locator('.commands button[data-command="step"]').click();
    await page.locator('.line-link').click();
    const msgs = await page.evaluate(() =>
      (window as any).__bn.messages().filter((m: any) => m.type === 'command' || m.type === 'revealLine'),
    );
    assert.deepEqual(msgs, [
      { type: 'command', command: 'step' },
      { type: 'revealLine', file: '/work/examples/frozen-predict.ts', line: 14 },
    ]);
    await page.evaluate((s) => (window as any).__bn.session(s), session({ state: 'running', status: 'running' }));
    await page.waitForFunction(() => document.querySelector('.status')!.textContent === 'running');
    assert.deepEqual(await enabledButtons(), ['restart', 'stop']);
    await page.evaluate((s) => (window as any).__bn.session(s), session({ state: 'ended', status: 'ended' }));
    await page.waitForFunction(() => document.querySelector('.status')!.textContent === 'ended');
    assert.deepEqual(await enabledButtons(), ['runToCursor', 'restart']);
    // an error with a line: click reveals it
    await page.evaluate(
      (s) => (window as any).__bn.session(s),
      session({
        state: 'ended',
        status: 'ended with an error',
        error: {
          message: 'boom',
          line: 7,
          column: 3,
          stack: 'Error: boom',
          kind: 'run',
          file: '/work/examples/lib.ts',
        },
      }),
    );
    await page.locator('.error-box button.link').click();
    const last = await page.evaluate(() => (window as any).__bn.messages().at(-1));
    assert.deepEqual(last, { type: 'revealLine', file: '/work/examples/lib.ts', line: 7 });
    // a null session goes back to the start screen
    await page.evaluate(() => (window as any).__bn.session(null));
    await page.locator('.start').waitFor({ state: 'visible' });
    assert.equal(await page.locator('section.card').count(), 0);
    await page.close();
  });

  it('follows a theme change: the charts are redrawn with the new colours', async () => {
    const page = await open('light');
    await load(page);
    const canvas = card(page, 'frozen_bn').locator('canvas.plot').first();
    const colours = () =>
      canvas.evaluate(
        (c: HTMLCanvasElement) =>
          new Promise<string[]>((r) =>
            requestAnimationFrame(() =>
              setTimeout(() => {
                const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
                const seen = new Set<string>();
                for (let i = 0; i < d.length; i += 4) if (d[i + 3] === 255) seen.add(`${d[i]},${d[i + 1]},${d[i + 2]}`);
                r([...seen].sort());
              }, 0),
            ),
          ),
      );
    const before = await colours();
    assert.ok(before.includes('26,133,255'), 'light theme moving-statistics blue (#1a85ff)');
    // what VS Code does on a theme switch: new body class and new --vscode-* variables
    await page.evaluate(() => {
      document.documentElement.classList.replace('theme-light', 'theme-dark');
      document.body.classList.replace('vscode-light', 'vscode-dark');
    });
    const after = await colours();
    assert.ok(after.includes('55,148,255'), 'dark theme moving-statistics blue (#3794ff)');
    assert.ok(!after.includes('26,133,255'));
    await page.close();
  });

  it('a new run announced by a session message clears the old steps', async () => {
    const page = await open('light');
    await load(page, [step1(), step2()]);
    await page.evaluate((s) => (window as any).__bn.session(s), session({ state: 'starting', status: 'starting…' }));
    await page.locator('.waiting').waitFor({ state: 'visible' });
    assert.equal(await page.locator('.waiting').textContent(), 'Waiting for the first step…');
    assert.equal(await page.locator('section.card').first().isVisible(), false);
    await page.evaluate((st) => (window as any).__bn.step(st), step1());
    await rendered(page, 1);
    assert.equal(await page.locator('section.card').first().isVisible(), true);
    assert.match((await page.locator('section.card .delta').first().textContent())!, /^First step seen/);
    await page.close();
  });

  it('hiding and showing loses nothing: state comes back from getState after a reload', async () => {
    const page = await open('light');
    await load(page, [step1(), step2()]);
    await card(page, 'frozen_bn').locator('.card-toggle').click();
    await card(page, 'train_bn').locator('button.toggle-table').click();
    const ch = card(page, 'frozen_updated_bn').locator('.channel-pick input');
    await ch.fill('2');
    await ch.press('Enter');
    await page.getByLabel('Filter layers by name or path').fill('bn');
    // setState is debounced (50 ms): wait for the save itself, not a fixed time (a loaded machine took longer)
    await page.waitForFunction(
      () => JSON.parse(sessionStorage.getItem('bn-harness-vscode-state') ?? 'null')?.filter === 'bn',
    );
    const saved = await page.evaluate(() => JSON.parse(sessionStorage.getItem('bn-harness-vscode-state')!));
    assert.deepEqual(saved.collapsed, ['model1/frozen_bn']);
    assert.deepEqual(saved.tables, ['model1/train_bn']);
    assert.deepEqual(saved.channels, { 'model1/frozen_updated_bn': 2 });
    assert.equal(saved.filter, 'bn');
    // the webview is destroyed when hidden; shown again it loads anew and the host re-sends on 'ready'
    await page.reload();
    await page.waitForFunction(() => (window as any).__bn?.messages().some((m: any) => m.type === 'ready'));
    await load(page, [step1(), step2()]);
    assert.equal(await page.getByLabel('Filter layers by name or path').inputValue(), 'bn');
    assert.equal(await card(page, 'frozen_bn').locator('.card-toggle').getAttribute('aria-expanded'), 'false');
    assert.equal(await card(page, 'train_bn').locator('button.toggle-table').getAttribute('aria-pressed'), 'true');
    assert.equal(await card(page, 'train_bn').locator('table.numbers').isVisible(), true);
    assert.equal(await card(page, 'frozen_updated_bn').locator('.channel-pick input').inputValue(), '2');
    assert.match(
      (await card(page, 'train_bn').locator('.delta').textContent()) as string,
      /Since step 1: 2 of 5 channels changed/,
    );
    await page.close();
  });

  it('the timeline is bounded: 1,200 streamed steps keep at most 500 and say how many were thinned', async () => {
    const page = await open('light');
    await load(page, [], session());
    await page.evaluate(() => {
      const bn = (window as any).__bn;
      for (let i = 1; i <= 1200; i++) {
        bn.step({
          index: i,
          line: 5,
          hit: i,
          layers: [
            {
              name: 'bn',
              path: ['bn'],
              calls: 1,
              updates: 1,
              movingUpdated: true,
              trainable: true,
              movingMean: [Math.sin(i / 100), i / 1200],
              movingVariance: [1 + i / 1200, 1],
              lastCall: {
                training: true,
                statsUsed: 'batch',
                inputShape: [8, 2],
                batchMean: [0, 0],
                batchVariance: [1, 1],
              },
            },
          ],
        });
      }
    });
    await rendered(page, 1200);
    const note = await page.locator('.timeline-note').textContent();
    const m = note!.match(/^(\d+) steps kept · thinned ([\d,]+) old steps/);
    assert.ok(m, note!);
    assert.ok(Number(m![1]) <= 500);
    assert.equal(Number(m![1]) + Number(m![2].replace(/,/g, '')), 1200);
    await page.close();
  });

  /** one layer: beta of float noise around 0, variances 0.05 .. 20, a last training call (wide table) */
  function noiseStep() {
    const n = 12;
    return {
      index: 1,
      line: 9,
      column: 1,
      file: '/work/examples/fit-then-predict.ts',
      hit: 1,
      layers: [
        {
          name: 'noisy_bn',
          path: ['model1', 'noisy_bn'],
          channels: n,
          calls: 1,
          updates: 1,
          movingUpdated: true,
          movingMean: vec(n, (i) => Math.sin(i) * 0.5),
          movingVariance: vec(n, (i) => 0.05 + (i * i) / 6),
          gamma: vec(n, (i) => 1 + ((i * 7) % 5) * 1e-9),
          beta: vec(n, (i) => (i % 2 ? 1 : -1) * (1 + (i % 3)) * 1e-10),
          lastCall: callRec(
            true,
            n,
            32,
            (i) => Math.sin(i) * 0.6,
            (i) => 0.06 + (i * i) / 5.5,
          ),
          lastTrainingCall: callRec(
            true,
            n,
            32,
            (i) => Math.sin(i) * 0.6,
            (i) => 0.06 + (i * i) / 5.5,
          ),
        },
      ],
    };
  }

  /** how many pixel rows of a channel chart's canvas show the colour of CSS variable `cssVar` (the series' line and dots) */
  async function lineRows(page: Page, kind: string, cssVar: string): Promise<number> {
    return page.evaluate(
      ({ kind, cssVar }) => {
        const probe = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
        probe.fillStyle = getComputedStyle(document.body).getPropertyValue(cssVar).trim();
        probe.fillRect(0, 0, 1, 1);
        const rgb = probe.getImageData(0, 0, 1, 1).data;
        const c = document.querySelector(`figure.chart-${kind} canvas`) as HTMLCanvasElement;
        const { data, width, height } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
        const rows = new Set<number>();
        for (let y = 0; y < height; y++)
          for (let x = 0; x < width; x++) {
            const k = (y * width + x) * 4;
            if (
              Math.abs(data[k] - rgb[0]) + Math.abs(data[k + 1] - rgb[1]) + Math.abs(data[k + 2] - rgb[2]) < 30 &&
              data[k + 3] > 200
            )
              rows.add(y);
          }
        return rows.size;
      },
      { kind, cssVar },
    );
  }

  for (const theme of ['light', 'dark'] as const) {
    it(`a ~600 px panel: float noise draws flat, the table caption wraps (panel-narrow-*-${theme}.png)`, async () => {
      const page = await open(theme, 600, 1100);
      await load(page, [noiseStep()] as any[], session({ status: 'paused at line 9 (step 1, hit 1)' }));
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50))));
      await page.screenshot({ path: join(shots, `panel-narrow-charts-${theme}.png`) });
      // beta ≈ ±1e-10 and gamma = 1 + 1e-9 noise: flat lines (a few pixel rows with the dots), not a full-height zig-zag
      const dpr = await page.evaluate(() => window.devicePixelRatio || 1);
      const betaRows = await lineRows(page, 'beta', '--bn-chart-beta');
      const gammaRows = await lineRows(page, 'gamma', '--bn-chart-gamma');
      for (const [name, r] of [
        ['beta', betaRows],
        ['gamma', gammaRows],
      ] as const)
        assert.ok(r > 0 && r <= 10 * dpr, `${name} line covers ${r} pixel rows`);

      await card(page, 'noisy_bn').locator('button.toggle-table').click();
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50))));
      const m = await card(page, 'noisy_bn').evaluate((c) => {
        const wrap = c.querySelector('.table-wrap') as HTMLElement;
        const cap = c.querySelector('.table-caption') as HTMLElement;
        const table = c.querySelector('table.numbers') as HTMLElement;
        const w = wrap.getBoundingClientRect();
        const r = cap.getBoundingClientRect();
        return {
          wrapLeft: w.left + wrap.clientLeft,
          wrapRight: w.left + wrap.clientLeft + wrap.clientWidth,
          capLeft: r.left,
          capRight: r.right,
          capH: r.height,
          tableW: table.scrollWidth,
          wrapW: wrap.clientWidth,
          text: cap.textContent,
        };
      });
      assert.ok(m.tableW > m.wrapW, `the table scrolls sideways at this width (${m.tableW} > ${m.wrapW})`);
      assert.ok(
        m.capLeft >= m.wrapLeft - 0.5 && m.capRight <= m.wrapRight + 0.5,
        `caption within the visible width: ${JSON.stringify(m)}`,
      );
      assert.ok(m.capH > 20, 'caption wraps onto more than one line');
      assert.match(m.text!, /^Exact values .* Δ since step —\.$/);
      await page.screenshot({ path: join(shots, `panel-narrow-table-${theme}.png`) });
      await page.close();
    });
  }

  for (const theme of ['light', 'dark', 'hc'] as const) {
    it(`screenshot in the ${theme} theme (test-results/screenshots/panel-${theme}.png)`, async () => {
      const page = await open(theme, 1100, 1400);
      await load(page, [step1(), step2()], session({ status: 'paused at line 20 (step 2, hit 1)' }));
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50))));
      await page.screenshot({ path: join(shots, `panel-${theme}.png`) });
      if (theme === 'light') {
        // the frozen-but-updated card and the exact-number table of train_bn
        await card(page, 'frozen_bn').locator('.card-toggle').click();
        await card(page, 'train_bn').locator('button.toggle-table').click();
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50))));
        await page.screenshot({ path: join(shots, `panel-${theme}-table.png`) });
      }
      // colours follow the theme variables
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(
        bg,
        theme === 'light' ? 'rgb(255, 255, 255)' : theme === 'dark' ? 'rgb(31, 31, 31)' : 'rgb(0, 0, 0)',
      );
      await page.close();
    });
  }

  it('a ResNet-50-sized run renders (screenshot test-results/screenshots/panel-resnet50-dark.png)', async () => {
    const page = await open('dark', 1100, 1000);
    const last = await page.evaluate(() => (window as any).__bn.resnet(12, ['fit', 'fit', 'fit', 'predict']));
    assert.equal(last, 12);
    assert.equal(await page.locator('section.card').count(), 53);
    assert.match(await page.locator('.summary').innerText(), /^53 BatchNormalization layers/);
    const ms = await page.evaluate(() =>
      (window as any).__bn
        .messages()
        .filter((m: any) => m.type === 'rendered' && m.stepIndex > 0)
        .map((m: any) => m.ms),
    );
    assert.equal(ms.length, 12);
    await page.screenshot({ path: join(shots, 'panel-resnet50-dark.png') });
    await page.close();
  });
});
