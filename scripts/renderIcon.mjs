#!/usr/bin/env node
// Renders media/icon.svg to media/icon.png (256x256, transparent corners) with the installed Chromium through
// playwright-core. Run after editing the SVG: node scripts/renderIcon.mjs
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, ROOT } from './lib/tools.mjs';
import { CHROMIUM_ARGS } from './lib/codeServer.mjs';

const svg = readFileSync(join(ROOT, 'media', 'icon.svg'), 'utf8');
const out = join(ROOT, 'media', 'icon.png');
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 256, height: 256 }, deviceScaleFactor: 1 });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
  await page.locator('svg').screenshot({ path: out, omitBackground: true });
} finally {
  await browser.close();
}
console.log(`media/icon.png: ${statSync(out).size} bytes`);
