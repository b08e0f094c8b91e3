// What the UI tests compare the panel with, and how they reach it: the engine's own document from the command line
// (the installed extension's dist/cli.js, an independent run of the same script), lines of a workspace file, and
// the panel's document as a Frame. Shared by the UI test suites.
import { execFile } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import type { Frame, Page } from 'playwright-core';
import { ROOT } from '../../scripts/lib/tools.mjs';
import { EXTENSION_ID } from './harness';

/**
 * dist/cli.js of the extension under test: the installed .vsix's own copy when the runner installed one (the
 * same build as the extension, whatever rebuilt the checkout's dist/ since), else the checkout's.
 */
function cliPath(): string {
  const dir = process.env.BN_E2E_EXTENSIONS_DIR;
  if (dir && existsSync(dir)) {
    const ext = readdirSync(dir).find((d) => d.toLowerCase().startsWith(`${EXTENSION_ID.toLowerCase()}-`));
    if (ext && existsSync(join(dir, ext, 'dist', 'cli.js'))) return join(dir, ext, 'dist', 'cli.js');
  }
  return join(ROOT, 'dist', 'cli.js');
}

/** `node dist/cli.js run FILE --json --to LINE`: the steps up to the first step point at or after LINE */
export function cliRun<Doc extends { error: unknown }>(file: string, toLine: number, timeoutMs: number): Promise<Doc> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cliPath(), 'run', file, '--json', '--to', String(toLine)],
      { cwd: ROOT, maxBuffer: 256 << 20, timeout: timeoutMs },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`bn-inspect failed (${err.message}): ${stderr}`));
        try {
          const doc = JSON.parse(stdout) as Doc;
          if (doc.error) return reject(new Error(`bn-inspect: the script failed: ${JSON.stringify(doc.error)}`));
          resolve(doc);
        } catch (e) {
          reject(new Error(`bn-inspect printed no JSON: ${(e as Error).message}\n${stdout.slice(0, 500)}`));
        }
      },
    );
  });
}

/** 1-based line of the first non-comment line of `file` that contains `text` */
export function lineOf(file: string, text: string, from = 1): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = from - 1; i < lines.length; i++)
    if (lines[i].includes(text) && !lines[i].trimStart().startsWith('//')) return i + 1;
  throw new Error(`${file}: no line with ${JSON.stringify(text)}`);
}

/** a regular expression matching exactly `s` (surrounding white space allowed) */
export const exactRe = (s: string) => new RegExp(`^\\s*${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);

/** the panel's document as a Frame (for evaluate / waitForFunction); resolved afresh each time */
export async function webviewFrame(page: Page, timeoutMs: number): Promise<Frame> {
  const outer = await page.locator('iframe.webview.ready').first().elementHandle({ timeout: timeoutMs });
  const outerFrame = await outer!.contentFrame();
  if (!outerFrame) throw new Error('the webview iframe has no frame');
  const inner = await outerFrame.locator('#active-frame').elementHandle({ timeout: timeoutMs });
  const frame = await inner!.contentFrame();
  if (!frame) throw new Error('the webview has no #active-frame');
  return frame;
}
