// UI-test harness: a real VS Code workbench (code-server 4.139.1 = Code 1.139.1) with the PACKAGED .vsix
// installed, on a temp copy of a workspace folder, driven in Debian's Chromium through playwright-core.
//
// Run UI tests with `node scripts/vscode-host.mjs ui [test/e2e/x.e2e.ts ...]` (npm test runs them all): it
// packages the .vsix, installs it once into an extensions folder and passes it here in BN_E2E_EXTENSIONS_DIR.
// Conventions: test/README in test/vscode/README.md ("UI tests").
//
//   const vs = await startVsCode({ theme: 'dark' });      // workspace = copy of examples/
//   await vs.openFile('frozen-predict.ts');
//   await vs.clickLens('Run until this statement finishes');
//   await vs.webview().locator('h1').waitFor();
//   await vs.screenshot('panel-dark');                    // test-results/screenshots/panel-dark.png
//   await vs.close();
// One unit: every UI test uses this one object; its parts (server, browser, workbench actions) share its state.
import { cpSync, existsSync, mkdirSync, rmSync } from 'fs';
import { basename, join } from 'path';
import type { BrowserContext, FrameLocator, Locator, Page } from 'playwright-core';
import {
  CodeServer,
  installExtension,
  launchChromium,
  startCodeServer,
  writeUserSettings,
} from '../../scripts/lib/codeServer.mjs';
import { ROOT, RUNS, ensureTools } from '../../scripts/lib/tools.mjs';

export type Theme = 'light' | 'dark';
/** Code 1.139's default themes (ids "Light 2026"/"Dark 2026"; older ids such as "Default Dark Modern" no longer exist) */
export const THEMES: Record<Theme, { name: string; bodyClass: string }> = {
  light: { name: 'Light 2026', bodyClass: 'vs' },
  dark: { name: 'Dark 2026', bodyClass: 'vs-dark' },
};
/** the workbench's class for some other built-in themes, by the label the theme picker shows */
const THEME_CLASS: Record<string, string> = {
  'Light 2026': 'vs',
  'Dark 2026': 'vs-dark',
  'Light Modern': 'vs',
  'Dark Modern': 'vs-dark',
  'Light+': 'vs',
  'Dark+': 'vs-dark',
  'Dark High Contrast': 'hc-black',
  'Light High Contrast': 'hc-light',
};
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');
export const EXTENSION_ID = process.env.BN_E2E_EXTENSION_ID || 'bn-inspector.batchnorm-inspector';

export interface StartOptions {
  /** folder copied as the workspace (tests may write into the copy); default examples/ */
  workspace?: string;
  /** false: workspace trust on and the folder not trusted; default true */
  trusted?: boolean;
  /** initial color theme (THEMES: Code 1.139's default light/dark); default 'dark'. startVsCode returns once it shows */
  theme?: Theme;
  /** extra user settings */
  settings?: Record<string, unknown>;
  viewport?: { width: number; height: number };
  /** ms to wait for the workbench and the explorer; default 90000 */
  startupTimeoutMs?: number;
}

export interface VsCode {
  page: Page;
  context: BrowserContext;
  server: CodeServer;
  /** absolute path of the workspace copy */
  workspace: string;
  userDataDir: string;
  /** errors the workbench page threw (uncaught), for assertions */
  pageErrors: string[];
  /** PNG of the whole window into test-results/screenshots/<name>.png; returns the path */
  screenshot(name: string): Promise<string>;
  /** the explorer row of a file or folder (relative path; only its last segment is matched) */
  explorerRow(relPath: string): Locator;
  /** opens a file from the explorer (expanding its folders) and waits for its editor */
  openFile(relPath: string): Promise<void>;
  /** opens a file through Quick Open (Ctrl+P) and waits for its editor */
  quickOpen(relPath: string): Promise<void>;
  /** the active editor group's text area (after a lens opened the panel beside, the panel's group is the active one) */
  editor(): Locator;
  /** every code lens (of any visible editor) whose text contains `text` */
  lens(text: string | RegExp): Locator;
  /** waits until such a lens is shown; returns the first */
  waitForLens(text: string | RegExp, timeoutMs?: number): Promise<Locator>;
  /** clicks the nth (default first) such lens once it is shown */
  clickLens(text: string | RegExp, opts?: { nth?: number; timeoutMs?: number }): Promise<void>;
  /** the content frame of the nth (default first) ready webview: where the extension's HTML is */
  webview(nth?: number): FrameLocator;
  /** switches the color theme with the theme picker ('light'/'dark', or a label the picker shows, e.g. 'Dark Modern') */
  setTheme(theme: Theme | string): Promise<void>;
  /** writes user settings (merged) into the settings file; code-server reads it at start, so pass settings to startVsCode when they must apply */
  setSettings(settings: Record<string, unknown>): void;
  /** runs a command through the command palette by its title (as shown, e.g. "BatchNorm Inspector: Stop") */
  runCommand(title: string): Promise<void>;
  /** notification toasts whose text contains `text` */
  notification(text: string | RegExp): Locator;
  /**
   * clicks `link` (a panel link that asks the host to reveal a line) and waits until the status bar's selection
   * says that line. A click that moves nothing in 10 s is logged with a screenshot and made once more: CI on a loaded
   * 2-core machine lost one such click (the workbench took 124 s to start; the same kind of click in another suite of
   * that run worked), and a person would click again. The line must still be reached, or the test fails.
   */
  clickToRevealLine(link: Locator, line: number): Promise<void>;
  /**
   * clicks `target` and waits until `shown` is visible. A click that shows nothing in `retryAfterMs` (default 20 s)
   * is logged with a screenshot and made once more, if `target` is still there: CI on a loaded 2-core machine lost a
   * lens click once (the panel never showed the run; the same click passed in every other run). `shown` must then
   * come within `timeoutMs`, or the test fails.
   */
  clickUntil(
    target: Locator,
    shown: Locator,
    o: { what: string; timeoutMs: number; retryAfterMs?: number },
  ): Promise<void>;
  /**
   * after a failed test: a screenshot (failed-<title>.png) and, on the test's output, the notifications shown and
   * the panel's header (script, step, status), so that a CI log says what the window showed
   */
  describeFailure(title: string): Promise<void>;
  /** closes the browser, kills the server's process group, removes the session folder */
  close(): Promise<void>;
}

let sessionCount = 0;
let installed: Promise<string> | undefined;

/** The extensions folder with the packaged .vsix installed (from the runner, or installed here from BN_E2E_VSIX). */
function extensionsDir(runDir: string): Promise<string> {
  if (process.env.BN_E2E_EXTENSIONS_DIR) return Promise.resolve(process.env.BN_E2E_EXTENSIONS_DIR);
  const vsix = process.env.BN_E2E_VSIX;
  if (!vsix || !existsSync(vsix)) {
    throw new Error(
      'UI tests need the packaged extension: run them with `node scripts/vscode-host.mjs ui [file]` (or set BN_E2E_VSIX to a .vsix)',
    );
  }
  installed ??= installExtension({
    vsix,
    userDataDir: join(runDir, 'install-user-data'),
    extensionsDir: join(runDir, 'extensions'),
  }).then(() => join(runDir, 'extensions'));
  return installed;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function startVsCode(opts: StartOptions = {}): Promise<VsCode> {
  const theme = opts.theme ?? 'dark';
  await ensureTools({ log: (m: string) => console.log(`[harness] ${m}`) });
  const runDir = process.env.BN_E2E_RUN_DIR || join(RUNS, `e2e-${process.pid}`);
  const dir = join(runDir, `session-${++sessionCount}`);
  mkdirSync(dir, { recursive: true });
  const source = opts.workspace ?? join(ROOT, 'examples');
  const workspace = join(dir, 'ws', basename(source));
  mkdirSync(workspace, { recursive: true });
  cpSync(source, workspace, { recursive: true });
  const userDataDir = join(dir, 'user-data');

  const server = await startCodeServer({
    userDataDir,
    extensionsDir: await extensionsDir(runDir),
    trusted: opts.trusted ?? true,
    logFile: join(dir, 'code-server.log'),
    settings: { 'workbench.colorTheme': THEMES[theme].name, ...opts.settings },
  });
  let context: BrowserContext | undefined;
  const close = async () => {
    await context?.close().catch(() => {});
    await server.stop();
    if (!process.env.BN_KEEP) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const launched = await launchChromium({ profileDir: join(dir, 'chromium'), viewport: opts.viewport });
    context = launched.context;
    const page = launched.page;
    page.setDefaultTimeout(60_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    if (process.env.BN_VERBOSE) page.on('console', (m) => console.log('[browser]', m.text()));
    const startupTimeout = opts.startupTimeoutMs ?? 90_000;
    await page.goto(server.url(workspace));
    await page.locator('.monaco-workbench').waitFor({ timeout: startupTimeout });
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: startupTimeout });
    // the user settings (and with them the theme) apply a few seconds after the explorer shows: wait for them,
    // so that screenshots and the theme picker see the settled workbench
    if (!opts.settings?.['workbench.colorTheme']) {
      await page.locator(`.monaco-workbench.${THEMES[theme].bodyClass}`).waitFor({ timeout: startupTimeout });
    }

    const vs: VsCode = {
      page,
      context,
      server,
      workspace,
      userDataDir,
      pageErrors,
      async screenshot(name) {
        mkdirSync(SCREENSHOTS, { recursive: true });
        const file = join(SCREENSHOTS, `${name.replace(/[^\w.-]+/g, '_')}.png`);
        await page.screenshot({ path: file });
        return file;
      },
      explorerRow(relPath) {
        const name = relPath.split('/').filter(Boolean).pop()!;
        return page
          .locator('.explorer-folders-view .monaco-list-row')
          .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(name)}$`) }) });
      },
      async openFile(relPath) {
        const parts = relPath.split('/').filter(Boolean);
        for (let i = 0; i < parts.length - 1; i++) {
          const row = vs.explorerRow(parts.slice(0, i + 1).join('/')).first();
          await row.waitFor();
          if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
        }
        const row = vs.explorerRow(relPath).first();
        await row.waitFor();
        await row.click();
        await waitForEditor(page, parts[parts.length - 1]);
      },
      async quickOpen(relPath) {
        await page.keyboard.press('Control+P');
        const input = page.locator('.quick-input-widget input');
        await input.waitFor();
        await input.fill(relPath);
        await page.locator('.quick-input-list .monaco-list-row').first().waitFor();
        await page.keyboard.press('Enter');
        await waitForEditor(page, relPath.split('/').pop()!);
      },
      editor: () => page.locator('.editor-group-container.active .monaco-editor .view-lines').first(),
      // not scoped to the active group: once a lens opens the panel beside, the panel's group is the active one
      lens: (text) => page.locator('.monaco-editor .codelens-decoration a', { hasText: text }),
      async waitForLens(text, timeoutMs = 60_000) {
        const first = vs.lens(text).first();
        await first.waitFor({ timeout: timeoutMs });
        return first;
      },
      async clickLens(text, o = {}) {
        await vs.waitForLens(text, o.timeoutMs);
        await vs
          .lens(text)
          .nth(o.nth ?? 0)
          .click();
      },
      webview: (nth = 0) => page.locator('iframe.webview.ready').nth(nth).contentFrame().frameLocator('#active-frame'),
      async setTheme(t) {
        const label = t in THEMES ? THEMES[t as Theme].name : t;
        const cls = t in THEMES ? THEMES[t as Theme].bodyClass : THEME_CLASS[label];
        // code-server's web workbench does not reliably re-read a changed settings file: use the theme picker,
        // as a person would (the choice is saved in the user settings)
        await vs.runCommand('Preferences: Color Theme');
        const input = page.locator('.quick-input-widget input');
        await input.fill(label);
        await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor();
        await page.keyboard.press('Enter');
        await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
        if (cls) await page.locator(`.monaco-workbench.${cls}`).waitFor({ timeout: 30_000 });
      },
      setSettings(settings) {
        writeUserSettings(userDataDir, settings);
      },
      async runCommand(title) {
        await page.keyboard.press('F1');
        const input = page.locator('.quick-input-widget input');
        await input.waitFor();
        await input.fill(`>${title}`);
        const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
        await row.waitFor();
        await row.click();
      },
      notification: (text) => page.locator('.notifications-toasts .notification-toast', { hasText: text }),
      async clickToRevealLine(link, line) {
        const at = page.locator('[id="status.editor.selection"]').filter({ hasText: new RegExp(`Ln ${line},`) });
        await vs.clickUntil(link, at, { what: `the link to line ${line}`, retryAfterMs: 10_000, timeoutMs: 30_000 });
      },
      async clickUntil(target, shown, o) {
        const retryAfter = o.retryAfterMs ?? 20_000;
        await target.click();
        try {
          await shown.waitFor({ timeout: retryAfter });
          return;
        } catch {
          const shot = await vs.screenshot(`click-lost-${o.what}`);
          console.log(
            `      [note] the click on ${o.what} showed nothing in ${retryAfter / 1000} s; clicking again (${shot})`,
          );
        }
        if (await target.isVisible()) await target.click();
        await shown.waitFor({ timeout: Math.max(1, o.timeoutMs - retryAfter) });
      },
      async describeFailure(title) {
        const shot = await vs
          .screenshot(`failed-${title.slice(0, 60)}`)
          .catch((e: Error) => `no screenshot: ${e.message}`);
        const toasts = await page
          .locator('.notifications-toasts .notification-toast')
          .allInnerTexts()
          .catch(() => [] as string[]);
        const header = await vs
          .webview()
          .locator('header, .header')
          .first()
          .innerText({ timeout: 2_000 })
          .catch(() => '(no panel)');
        console.log(`      [failed] ${title}: screenshot ${shot}`);
        for (const t of toasts) console.log(`      [notification] ${t.replace(/\s+/g, ' ').trim()}`);
        console.log(`      [panel header] ${header.replace(/\s+/g, ' ').trim()}`);
      },
      close,
    };
    return vs;
  } catch (err) {
    await close();
    throw err;
  }
}

async function waitForEditor(page: Page, fileName: string): Promise<void> {
  await page.locator('.editor-group-container.active .tab.active', { hasText: fileName }).first().waitFor();
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().waitFor();
}
