// The panel's compare view and the `trainable` trap in a real Chromium, outside VS Code (same page, CSP and harness
// as webview.test.ts: bench/render-harness), fed the real engine's packed steps: one fine-tuning script (a frozen
// BN layer feeding a trainable one; fit, then predict) run by EngineSession (dist/worker.js, real tfjs) under
// tfjs, Keras and PyTorch semantics. The test plays the host: {type:'reset'} with one run's steps, {type:'compare'}
// / {type:'compareStep'} with the other's. Checks: the header's semantics and compare buttons (keyboard, what they
// post, one row at 521 px), the paired table (both values, Δ = b − a against a float64 reference and within float32
// printing, ≠ marks against a float64 check done here), the why sentence, the overview's paired indicator and the "differs from" filter, the texts
// while the compare step is not there or the compare run ended, the trap text for a frozen layer in predict (and
// in Keras's fit), the badges' text, PyTorch's momentum. Screenshots: test-results/screenshots/compare-*.png.
// Needs Chromium (see webview.test.ts: BN_SKIP_CHROMIUM_TESTS=1 is the only, loud, way to skip).
// One suite file per area (the compare view in Chromium): its cases share one browser, one server and the runs.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { EngineSession } from '../../src/engineHost/engineSession';
import type { CompareInfo, LayerSnapshot, Semantics, SessionInfo, StepSnapshot } from '../../src/shared/protocol';
import { TRAINABLE_MEANING } from '../../src/shared/semantics';
import { unpackStep } from '../../src/shared/snapshotCodec';
import { Fixtures, WORKER, ensureBuilt } from './cliHarness';

const root = join(__dirname, '..', '..');
const shots = join(root, 'test-results', 'screenshots');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function requireChromium(ctx: Mocha.Context): void {
  if (existsSync(chromiumPath)) return;
  const how = `Chromium not found at ${chromiumPath}: the compare view tests need it (apt-get install chromium, or CHROMIUM_PATH).`;
  if (process.env.BN_SKIP_CHROMIUM_TESTS !== '1')
    throw new Error(`${how} To skip these tests on purpose, set BN_SKIP_CHROMIUM_TESTS=1.`);
  console.error(
    `\n${'!'.repeat(100)}\n!! BN_SKIP_CHROMIUM_TESTS=1: SKIPPING the compare view tests.\n!! ${how}\n${'!'.repeat(100)}\n`,
  );
  ctx.skip();
}

/** a fine-tuning script: a frozen BN layer feeding a trainable one; fit (step 1), then predict (step 2) */
const SCRIPT = `import * as tf from '@tensorflow/tfjs';
const init = (seed: number) => tf.initializers.glorotUniform({ seed });
const model = tf.sequential();
model.add(tf.layers.dense({ inputShape: [4], units: 6, kernelInitializer: init(1) }));
model.add(tf.layers.batchNormalization({ name: 'frozen_bn', trainable: false }));
model.add(tf.layers.dense({ units: 5, kernelInitializer: init(2) }));
model.add(tf.layers.batchNormalization({ name: 'head_bn' }));
model.add(tf.layers.dense({ units: 1, kernelInitializer: init(3) }));
model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
const x = tf.randomNormal([16, 4], 0, 1, 'float32', 1).mul(3).add(1);
const y = tf.randomNormal([16, 1], 0, 1, 'float32', 2);
await model.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 });
(model.predict(x) as tf.Tensor).dispose();
`;

interface Run {
  semantics: Semantics;
  /** base64 of each packed step, as the worker sent it */
  packed: string[];
  steps: StepSnapshot[];
}

async function runUnder(path: string, semantics: Semantics): Promise<Run> {
  const s = new EngineSession({ scriptPath: path, workerPath: WORKER, semantics });
  const r = await s.run();
  assert.equal(r.reason, 'done', `${semantics}: ${JSON.stringify(r.error)}`);
  assert.equal(r.semantics, semantics);
  assert.equal(r.steps.length, 2, `${semantics}: fit and predict`);
  return {
    semantics,
    packed: r.steps.map((st) => Buffer.from(st.buffer).toString('base64')),
    steps: r.steps.map((st) => unpackStep(st.buffer)),
  };
}

const layerOf = (run: Run, index: number, name: string): LayerSnapshot =>
  run.steps.find((s) => s.index === index)!.layers.find((l) => l.name === name)!;

/** float64 reference: max |b − a| over the channels of one vector */
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(b[i] - a[i]));
  return m;
}

const sessionOf = (semantics: Semantics, over: Partial<SessionInfo> = {}): SessionInfo => ({
  script: '/work/fine-tune.ts',
  scriptLabel: 'fine-tune.ts',
  state: 'paused',
  backend: 'wasm',
  tfjs: '4.22.0',
  semantics,
  error: null,
  status: 'paused at line 12 (step 1, hit 1)',
  ...over,
});

const compareOf = (semantics: Semantics, over: Partial<CompareInfo> = {}): CompareInfo => ({
  semantics,
  state: 'paused',
  error: null,
  status: `${semantics}: at step 1, in lockstep`,
  ...over,
});

describe('webview: the compare view in Chromium (real engine runs under tfjs, Keras and PyTorch)', function () {
  this.timeout(180000);
  const fx = new Fixtures('bn-webview-compare-');
  let browser: Browser;
  let server: { url: string; close(): Promise<unknown> };
  const errors: string[] = [];
  let tfjs: Run;
  let keras: Run;
  let pytorch: Run;

  before(async function () {
    requireChromium(this);
    ensureBuilt();
    const path = fx.write('fine-tune.ts', SCRIPT);
    tfjs = await runUnder(path, 'tfjs');
    keras = await runUnder(path, 'keras');
    pytorch = await runUnder(path, 'pytorch');
    const mod = await import(pathToFileURL(join(root, 'bench', 'render-harness', 'server.mjs')).href);
    server = await mod.startHarnessServer();
    browser = await mod.launchChromium();
    mkdirSync(shots, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    fx.cleanup();
  });
  afterEach(() => assert.deepEqual(errors.splice(0), [], 'no page error, no dialog'));

  async function open(theme = 'dark', width = 900, height = 1400): Promise<Page> {
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

  /**
   * posts host messages to the panel (packed steps as base64, turned back into transferred ArrayBuffers). The page
   * function is a string: tsx would wrap named functions in a helper the page does not have.
   */
  const POST_IN_PAGE = `(list) => {
    for (const m of list) {
      const transfer = [];
      const conv = (b64) => {
        const b = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
        transfer.push(b);
        return b;
      };
      const msg = { ...m };
      if (m.steps) msg.steps = m.steps.map(conv);
      if (m.buffer) msg.buffer = conv(m.buffer);
      window.postMessage(msg, '*', transfer);
    }
  }`;
  function post(page: Page, msgs: any[]): Promise<void> {
    return page.evaluate(`(${POST_IN_PAGE})(${JSON.stringify(msgs)})`);
  }

  const rendered = (page: Page, n: number) =>
    page.waitForFunction(
      (k) => (window as any).__bn.messages().filter((m: any) => m.type === 'rendered').length >= k,
      n,
    );
  const renderedCount = (page: Page) =>
    page.evaluate(() => (window as any).__bn.messages().filter((m: any) => m.type === 'rendered').length as number);

  /** the session `a` shown up to step `upTo`, compared with run `b` (its steps up to `bUpTo`) */
  async function show(
    page: Page,
    a: Run,
    b: Run | null,
    upTo = 1,
    bUpTo = upTo,
    info: Partial<CompareInfo> = {},
    sess: Partial<SessionInfo> = {},
  ): Promise<void> {
    const n = await renderedCount(page);
    const msgs: any[] = [
      { type: 'reset', session: sessionOf(a.semantics, sess), steps: a.packed.slice(0, upTo), thinned: 0 },
    ];
    if (b) msgs.push({ type: 'compare', compare: compareOf(b.semantics, info), steps: b.packed.slice(0, bUpTo) });
    await post(page, msgs);
    await rendered(page, n + 1);
    await frame(page);
  }

  const frame = (page: Page) =>
    page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0)))));
  const card = (page: Page, name: string) =>
    page.locator('section.card').filter({ has: page.locator('.layer-name', { hasText: new RegExp(`^${name}$`) }) });
  const row = (page: Page, name: string) =>
    page.locator('.ov-row').filter({ has: page.locator('.ov-layer-name', { hasText: new RegExp(`^${name}$`) }) });
  const commands = (page: Page) =>
    page.evaluate(() =>
      (window as any).__bn
        .messages()
        .filter((m: any) => m.type === 'command')
        .map((m: any) => m.command),
    );

  it('the real runs differ as the contract says (the data the other cases show)', () => {
    // Keras: the frozen layer ran fit in inference mode: its moving statistics are still the initial 0 and 1
    const kf = layerOf(keras, 1, 'frozen_bn');
    assert.equal(kf.updates, 0);
    assert.equal(kf.lastCall!.statsUsed, 'moving');
    assert.deepEqual(Array.from(kf.movingMean!), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(kf.movingVariance!), [1, 1, 1, 1, 1, 1]);
    // tfjs: updated by both batches of fit
    const tf = layerOf(tfjs, 1, 'frozen_bn');
    assert.equal(tf.updates, 2);
    assert.equal(tf.lastCall!.statsUsed, 'batch');
    assert.ok(maxAbsDiff(tf.movingMean!, kf.movingMean!) > 1e-3);
  });

  it('header: "Semantics: tfjs ▾" and Compare… post their commands, by mouse and keyboard; comparing: status and Stop', async () => {
    const page = await open('dark', 521, 900);
    await show(page, tfjs, null);
    const sem = page.locator('.semantics-row button.semantics-pick');
    assert.equal((await sem.innerText()).replace(/\s+/g, ' ').trim(), 'Semantics: tfjs ▾');
    assert.match((await sem.getAttribute('aria-label'))!, /^Semantics: tfjs\. Choose/);
    assert.equal(await page.locator('.semantics-row').getAttribute('role'), 'toolbar');
    const cmpBtn = page.locator('.semantics-row button.compare-start');
    assert.equal((await cmpBtn.innerText()).trim(), 'Compare…');
    assert.match((await cmpBtn.getAttribute('aria-label'))!, /^Compare…/);
    assert.equal(await page.locator('.compare-status').isVisible(), false);
    assert.equal(await page.locator('button.compare-stop').isVisible(), false);
    // one row at 521 px: the five commands, and the semantics row
    const tops = (sel: string) =>
      page.locator(sel).evaluateAll((bs) => bs.map((b) => Math.round(b.getBoundingClientRect().top)));
    const cmdTops = await tops('.commands button');
    assert.equal(cmdTops.length, 5);
    assert.equal(new Set(cmdTops).size, 1, `commands on one row: ${cmdTops}`);
    const semTops = await tops('.semantics-row button:not([hidden])');
    assert.equal(semTops.length, 2);
    assert.equal(new Set(semTops).size, 1, `semantics and compare on one row: ${semTops}`);
    assert.ok(semTops[0] > cmdTops[0], 'below the commands');
    // keyboard: Tab from Stop (the last command) reaches the semantics button, then Compare…
    await page.locator('.commands button[data-command="stop"]').focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.command), 'pickSemantics');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.command), 'compare');
    await page.keyboard.press('Space');
    await cmpBtn.click();
    assert.deepEqual(await commands(page), ['pickSemantics', 'compare', 'compare']);
    await page.screenshot({ path: join(shots, 'compare-header-dark-521.png') });

    // comparing: the status line and Stop comparing (keyboard too)
    await show(page, tfjs, keras, 1, 1, { status: 'keras: at step 1, in lockstep' });
    const status = page.locator('.compare-status');
    assert.equal(await status.isVisible(), true);
    assert.equal(await status.innerText(), 'Comparing with Keras: at step 1, in lockstep');
    const stop = page.locator('button.compare-stop');
    assert.equal(await stop.isVisible(), true);
    // the three buttons on one row at 521 px, the status on its own line below them
    const semTops2 = await tops('.semantics-row button:not([hidden])');
    assert.equal(semTops2.length, 3);
    assert.equal(new Set(semTops2).size, 1, `semantics, compare and stop on one row: ${semTops2}`);
    const statusBox = await status.boundingBox();
    assert.ok(statusBox!.y > semTops2[0] + 10, 'the status below the buttons');
    assert.ok(statusBox!.height < 30, `the status fits one line at 521 px (${statusBox!.height} px)`);
    assert.equal(await stop.getAttribute('aria-label'), 'Stop comparing with Keras');
    await cmpBtn.focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.command), 'stopCompare');
    await page.keyboard.press('Enter');
    assert.deepEqual((await commands(page)).slice(-1), ['stopCompare']);
    assert.deepEqual(await tops('.commands button').then((t) => new Set(t).size), 1, 'commands still one row');
    await page.screenshot({ path: join(shots, 'compare-header-comparing-dark-521.png') });
    // stopped: the host sends compare null; the status goes
    const n = await renderedCount(page);
    await post(page, [{ type: 'compare', compare: null, steps: [] }]);
    await rendered(page, n + 1);
    assert.equal(await status.isVisible(), false);
    assert.equal(await page.locator('.compare-line:not([hidden])').count(), 0);
    await page.close();
  });

  it('cards: both values per channel, Δ = Keras − tfjs (float64 reference), ≠ marks, the why sentence', async () => {
    const page = await open('light', 900, 1600);
    await show(page, tfjs, keras);
    for (const name of ['frozen_bn', 'head_bn']) {
      const a = layerOf(tfjs, 1, name);
      const b = layerOf(keras, 1, name);
      const c = card(page, name);
      // one table per vector: ch | tfjs | Keras | Δ
      assert.deepEqual(
        await c.locator('.pair-vec > summary').evaluateAll((s) => s.map((e) => e.parentElement!.dataset.vector)),
        ['movingMean', 'movingVariance', 'gamma', 'beta'],
      );
      const vecs = ['movingMean', 'movingVariance', 'gamma', 'beta'] as const;
      let marked = 0;
      for (const k of vecs) {
        const sec = c.locator(`.pair-vec[data-vector="${k}"]`);
        assert.deepEqual(await sec.locator('thead th').allTextContents(), ['ch', 'tfjs', 'Keras', 'Δ = Keras − tfjs']);
        const rows = await sec
          .locator('tbody tr')
          .evaluateAll((trs) =>
            trs.map((tr) => Array.from((tr as HTMLTableRowElement).cells, (td) => td.textContent!)),
          );
        assert.equal(rows.length, a.channels);
        let here = 0;
        rows.forEach(([ch, va, vb, vd], i) => {
          assert.equal(ch, String(i));
          // both values: the engine's float32 values of each run, in the fewest digits that read back as them
          assert.equal(Math.fround(Number(va)), a[k]![i], `${name} ${k} ch ${i}: tfjs ${va}`);
          assert.equal(Math.fround(Number(vb)), b[k]![i], `${name} ${k} ch ${i}: Keras ${vb}`);
          assert.ok(
            va
              .replace(/^-/, '')
              .split('e')[0]
              .replace(/^0\.0*/, '')
              .replace('.', '').length <= 9,
            `${name}: ${va} is short`,
          );
          // Δ = b − a: to 9 digits of the float64 difference of the float32 values (computed here), and equal to
          // the difference of the printed values within float32 printing
          const differs = vd.startsWith('≠ ');
          const d = Number(vd.replace(/^≠ /, ''));
          const ref = b[k]![i] - a[k]![i];
          assert.ok(Math.abs(d - ref) <= 5e-9 * Math.abs(ref), `${name} ${k} ch ${i}: Δ ${d} vs ${ref}`);
          const scale = Math.max(1, Math.abs(a[k]![i]), Math.abs(b[k]![i]));
          assert.ok(Math.abs(d - (Number(vb) - Number(va))) <= 2 ** -23 * scale, `${name} ${k} ch ${i}: Δ as printed`);
          assert.equal(differs, Math.abs(ref) > 1e-6 * scale, `${name} ${k} ch ${i}: ≠ mark (Δ ${d})`);
          if (differs) here++;
        });
        marked += here;
        // the section's summary: the count of differing channels and the largest |Δ| (float64 reference here)
        const sum = await sec.locator('summary').innerText();
        const ref = maxAbsDiff(a[k]!, b[k]!);
        if (here === 0) {
          assert.equal(
            sum,
            `${{ movingMean: 'moving mean', movingVariance: 'moving variance', gamma: 'gamma', beta: 'beta' }[k]}: same in every channel`,
          );
          assert.equal(await sec.evaluate((e) => (e as HTMLDetailsElement).open), false, `${name} ${k}: folded`);
        } else {
          const m = /: ≠ in (\d+) of (\d+) channels, max \|Δ\| (\S+) \(channel (\d+)\)$/.exec(sum);
          assert.ok(m, sum);
          assert.equal(Number(m[1]), here);
          assert.equal(Number(m[2]), a.channels);
          assert.ok(Math.abs(Number(m[3]) - ref) <= 5e-4 * ref, `${name} ${k}: max |Δ| ${m[3]} vs ${ref}`);
          assert.equal(Math.abs(b[k]![Number(m[4])] - a[k]![Number(m[4])]), ref, 'the channel of the max');
          assert.equal(await sec.evaluate((e) => (e as HTMLDetailsElement).open), true, `${name} ${k}: open`);
        }
      }
      assert.ok(marked > 0, `${name}: some channels differ`);
      assert.equal(await c.locator('.pair-table td.differs').count(), marked);
      // the marked cells: bold, not colour alone (the ≠ is text)
      const weight = await c
        .locator('.pair-table td.differs')
        .first()
        .evaluate((e) => getComputedStyle(e).fontWeight);
      assert.equal(weight, '700');
    }
    // the why sentences, visible in the card
    const why = async (name: string) => (await card(page, name).locator('.compare-line').innerText()).trim();
    assert.equal(
      await why('frozen_bn'),
      '≠ Compared with Keras: tfjs: frozen, updated ×2 with batch statistics; Keras: frozen, inference mode although training = true, not updated.',
    );
    assert.match(
      await why('head_bn'),
      /^≠ Compared with Keras: Both trainable, updated ×2 with batch statistics, so the rules agree here: the values differ because this layer's input or weights differ/,
    );
    assert.equal(await card(page, 'frozen_bn').locator('.compare-line').isVisible(), true);
    await page.screenshot({ path: join(shots, 'compare-cards-light.png'), fullPage: true });
    await page.close();
  });

  it('overview: the paired indicator per row (max Δ against a float64 reference), the why in its tooltip, "Differs from Keras"', async () => {
    const page = await open('dark', 900, 1200);
    await show(page, tfjs, keras);
    assert.equal(
      await page.locator('.compare-banner').innerText(),
      'Compared with Keras at step 1: 2 of 2 layers differ.',
    );
    for (const name of ['frozen_bn', 'head_bn']) {
      const a = layerOf(tfjs, 1, name);
      const b = layerOf(keras, 1, name);
      const ind = row(page, name).locator('.ov-cmp');
      const text = await ind.innerText();
      // the vector with the largest |Δ| (float64 reference here), and its value to ~4 digits
      const cand = (['movingMean', 'movingVariance', 'gamma', 'beta'] as const).map((k) => ({
        k,
        m: maxAbsDiff(a[k]!, b[k]!),
      }));
      const best = cand.reduce((x, y) => (y.m > x.m ? y : x));
      const short = { movingMean: 'mean', movingVariance: 'var', gamma: 'gamma', beta: 'beta' }[best.k];
      const m = new RegExp(`^≠ Keras: max Δ ${short} (\\S+)$`).exec(text);
      assert.ok(m, `${name}: ${text}`);
      assert.ok(Math.abs(Number(m[1]) - best.m) <= 5e-4 * best.m, `${name}: ${m[1]} vs ${best.m}`);
      assert.match((await ind.getAttribute('title'))!, /^tfjs: .*; Keras: |^Both /);
    }
    // the filter
    const select = page.getByLabel('Show layers');
    const opts = (await select.locator('option').allTextContents()).map((s) => s.trim());
    assert.equal(opts[opts.length - 1], 'Differs from Keras (2)');
    await select.selectOption('differs');
    await frame(page);
    assert.equal(await page.locator('.ov-row:not([hidden])').count(), 2);
    // the predict step: the same values on both sides for head_bn? no: it kept fit's; compare step 2 with step 2
    await show(page, tfjs, keras, 2, 2);
    assert.equal(await page.locator('.ov-row:not([hidden])').count(), 2, 'step 2 still differs (fit left it so)');
    // against itself: nothing differs
    await show(page, tfjs, { ...tfjs, semantics: 'tfjs' }, 2, 2);
    assert.equal(
      await page.locator('.compare-banner').innerText(),
      'Compared with tfjs at step 2: all 2 layers have the same values.',
    );
    assert.deepEqual(await page.locator('.ov-cmp').allTextContents(), ['= tfjs', '= tfjs']);
    assert.equal(await page.locator('.ov-row:not([hidden])').count(), 0, 'the filter keeps none');
    assert.match(await page.locator('.no-match').innerText(), /No layer here: differs from tfjs/);
    await select.selectOption('all');
    await page.close();
  });

  it('the compare step not there yet (running), or the compare run ended: said in text', async () => {
    const page = await open('dark');
    await show(page, tfjs, keras, 2, 1, { state: 'running', status: 'keras: running to step 2' });
    assert.equal(
      await page.locator('.compare-banner').innerText(),
      'Compared with Keras: step 2 of the Keras run is not there yet (it is running).',
    );
    assert.equal(
      (await card(page, 'head_bn').locator('.compare-line').innerText()).trim(),
      'Compared with Keras: step 2 of the Keras run is not there yet (it is running).',
    );
    assert.equal(await page.locator('.ov-cmp:not([hidden])').count(), 0);
    assert.equal(await page.locator('.pair:not([hidden])').count(), 0);
    // the step arrives: paired
    const n = await renderedCount(page);
    await post(page, [{ type: 'compareStep', buffer: keras.packed[1] }]);
    await rendered(page, n + 1);
    assert.match(
      await page.locator('.compare-banner').innerText(),
      /^Compared with Keras at step 2: 2 of 2 layers differ\.$/,
    );
    // ended early, with an error
    await show(page, tfjs, keras, 2, 1, {
      state: 'ended',
      status: 'keras: ended at step 1 (error)',
      error: { message: 'boom at line 11', line: 11, column: 1, kind: 'run' } as any,
    });
    assert.equal(
      await page.locator('.compare-banner').innerText(),
      'Compared with Keras: the Keras run ended before step 2 (boom at line 11), so there is nothing to compare here.',
    );
    assert.equal(await page.locator('.compare-status').innerText(), 'Comparing with Keras: ended at step 1 (error)');
    await page.close();
  });

  it("the trap in plain view: a frozen layer in predict (tfjs), in Keras's fit; the badges name the mode, not trainable", async () => {
    const page = await open('light', 900, 1400);
    await show(page, tfjs, null, 2);
    const c = card(page, 'frozen_bn');
    const trap = c.locator('.trap');
    assert.equal(await trap.isVisible(), true);
    assert.equal(
      await trap.locator('.trap-text').innerText(),
      'trainable = false is not why its moving statistics stay put: the call ran in inference mode (training = false: predict, evaluate, or apply without training: true), and inference mode never updates them; a trainable layer would not change either.',
    );
    assert.deepEqual(await trap.locator('.trap-meanings li').allTextContents(), [
      TRAINABLE_MEANING.tfjs,
      TRAINABLE_MEANING.keras,
      TRAINABLE_MEANING.pytorch,
    ]);
    // not a tooltip: the text is in the card's visible text
    assert.match(await c.innerText(), /trainable = false is not why its moving statistics stay put/);
    // the trainable layer in predict: no trap text (trainable is true)
    assert.equal(await card(page, 'head_bn').locator('.trap').isVisible(), false);
    // badges: the mode first and prominent, trainable neutral
    const badges = c.locator('.badge');
    assert.deepEqual(await badges.allTextContents(), [
      'inference mode: moving statistics, not updated',
      'training: false',
      'trainable: false',
      '1 call',
    ]);
    assert.match((await badges.nth(0).getAttribute('class'))!, /badge-mode/);
    assert.match((await badges.nth(2).getAttribute('class'))!, /tone-neutral/);
    assert.equal(
      await c.locator('.badge.tone-warn').count(),
      0,
      'no amber badge on a frozen layer that did nothing wrong',
    );
    const w = (i: number) => badges.nth(i).evaluate((e) => getComputedStyle(e).fontWeight);
    assert.ok(Number(await w(0)) > Number(await w(2)), 'the mode badge is the strong one');
    // the overview row: mode first, frozen neutral
    assert.deepEqual(await row(page, 'frozen_bn').locator('.badge').allTextContents(), [
      'inference mode',
      'frozen',
      'not updated',
    ]);
    assert.match((await row(page, 'frozen_bn').locator('.badge').nth(1).getAttribute('class'))!, /tone-neutral/);
    // collapsed, the card keeps the sentence (the list of meanings folds away)
    await c.locator('.card-toggle').click();
    assert.equal(await trap.locator('.trap-text').isVisible(), true);
    assert.equal(await trap.locator('.trap-meanings').isVisible(), false);
    await c.locator('.card-toggle').click();
    await c.screenshot({ path: join(shots, 'compare-trap-predict-light.png') });

    // Keras's fit: training = true, inference mode all the same because trainable is false
    await show(page, keras, tfjs, 1);
    assert.equal(
      await trap.locator('.trap-text').innerText(),
      'Its moving statistics stay put because the call ran in inference mode: under Keras, trainable = false forces inference mode even when training = true (in fit). It is inference mode that keeps them; tfjs and PyTorch would update them here.',
    );
    assert.deepEqual((await badges.allTextContents()).slice(0, 3), [
      'inference mode: moving statistics, not updated',
      'training: true',
      'trainable: false',
    ]);
    assert.match(
      await c.locator('.why').innerText(),
      /^Called with training = true \(2 calls\), but under Keras trainable = false runs this layer in inference mode, even in fit/,
    );
    // tfjs's own trap (frozen, yet updated by fit) keeps its warning tone on the update badge
    await show(page, tfjs, keras, 1);
    assert.deepEqual(await badges.allTextContents(), [
      'training mode: batch statistics',
      'training: true',
      'trainable: false',
      'updated ×2',
      '2 calls',
    ]);
    assert.match((await badges.nth(3).getAttribute('class'))!, /tone-warn/);
    assert.equal(await trap.isVisible(), false);
    await page.close();
  });

  it("PyTorch: its momentum beside tfjs's (session or compare run), and the unbiased variance shows as a difference", async () => {
    const page = await open('dark');
    await show(page, tfjs, pytorch);
    const meta = async (name: string) => card(page, name).locator('.meta').innerText();
    assert.match(await meta('head_bn'), /· momentum 0\.99 \(PyTorch momentum = 0\.01\) ·/);
    const why = (await card(page, 'frozen_bn').locator('.compare-line').innerText()).trim();
    assert.match(
      why,
      /^≠ Compared with PyTorch: tfjs: frozen, updated ×2 with batch statistics; PyTorch: frozen, updated ×2 with batch statistics, the variance unbiased \(× n\/\(n−1\) = 1\.14286\)\.$/,
    );
    // the moving mean agrees, the moving variance does not
    const sum = await card(page, 'frozen_bn').locator('.pair-vec > summary').allTextContents();
    assert.equal(sum[0], 'moving mean: same in every channel');
    assert.match(sum[1], /^moving variance: ≠ in 6 of 6 channels/);
    // a PyTorch session: the same
    await show(page, pytorch, null);
    assert.match(await meta('head_bn'), /momentum 0\.99 \(PyTorch momentum = 0\.01\)/);
    assert.equal(
      (await page.locator('button.semantics-pick').innerText()).replace(/\s+/g, ' ').trim(),
      'Semantics: PyTorch ▾',
    );
    // not when PyTorch is not in the picture
    await show(page, tfjs, keras);
    assert.doesNotMatch(await meta('head_bn'), /PyTorch/);
    await page.close();
  });

  it('screenshots in light, dark and high contrast (tfjs compared with Keras at the fit)', async () => {
    for (const theme of ['light', 'dark', 'hc']) {
      const page = await open(theme, 700, 1500);
      await show(page, tfjs, keras);
      await page.screenshot({ path: join(shots, `compare-${theme}-700.png`) });
      await page.close();
    }
  });
});
