// Local http server (127.0.0.1 only) for the inspector panel's browser harness: serves the page that
// src/extension/panelHtml.ts produces (same strict CSP as in VS Code), plus dist/, media/ and the harness
// bundle (bench/render-harness/harness.ts, built in memory with esbuild). Used by bench/renderBench.mjs and
// test/unit/webview.test.ts. Runs the build when dist/webview.js is missing or stale.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

async function bundle(entry, format) {
  const r = await esbuild.build({
    entryPoints: [join(root, entry)],
    bundle: true,
    write: false,
    format,
    platform: format === 'iife' ? 'browser' : 'node',
    target: 'es2022',
    logLevel: 'warning',
  });
  return r.outputFiles[0].text;
}

function newestMtime(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Runs `npm run build` (scripts/build.mjs) when dist/webview.js is missing or older than its sources. */
export function ensureWebviewBuilt() {
  const out = join(root, 'dist', 'webview.js');
  const src = Math.max(newestMtime(join(root, 'webview')), newestMtime(join(root, 'src', 'shared')));
  if (existsSync(out) && existsSync(join(root, 'dist', 'codicons', 'codicon.css')) && statSync(out).mtimeMs >= src)
    return false;
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  return true;
}

/** Starts the harness server; resolves to { url, close() }. Builds dist/ first when it is missing or stale. */
export async function startHarnessServer({ port = 0 } = {}) {
  ensureWebviewBuilt();
  const harnessJs = await bundle('bench/render-harness/harness.ts', 'iife');
  const panelMod = await bundle('src/extension/panelHtml.ts', 'esm');
  const { panelHtml } = await import('data:text/javascript;base64,' + Buffer.from(panelMod).toString('base64'));

  const server = createServer(async (req, res) => {
    try {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const origin = `http://${req.headers.host}`;
      if (u.pathname === '/' || u.pathname === '/index.html') {
        const nonce = randomBytes(16).toString('base64');
        let html = panelHtml({
          cspSource: origin,
          nonce,
          scriptUri: `${origin}/dist/webview.js`,
          styleUri: `${origin}/media/inspector.css`,
          codiconsUri: `${origin}/dist/codicons/codicon.css`,
        });
        // the harness: theme variables + the fake VS Code API, loaded before the panel's script
        const i = html.indexOf('<script nonce=');
        html = `${html.slice(0, i)}<link rel="stylesheet" href="${origin}/bench/render-harness/themes.css">\n<script nonce="${nonce}" src="${origin}/harness.js"></script>\n${html.slice(i)}`;
        res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store' });
        return res.end(html);
      }
      if (u.pathname === '/harness.js') {
        res.writeHead(200, { 'content-type': TYPES['.js'], 'cache-control': 'no-store' });
        return res.end(harnessJs);
      }
      const rel = normalize(decodeURIComponent(u.pathname)).replace(/^[/\\]+/, '');
      const allowed = ['dist' + sep, 'media' + sep, join('bench', 'render-harness') + sep];
      if (rel.includes('..') || !allowed.some((a) => rel.startsWith(a))) {
        res.writeHead(404);
        return res.end('not found');
      }
      const body = await readFile(join(root, rel));
      res.writeHead(200, {
        'content-type': TYPES[extname(rel)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches Debian's Chromium headless through playwright-core. */
export async function launchChromium(extraArgs = []) {
  const { chromium } = await import('playwright-core');
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath))
    throw new Error(`Chromium not found at ${executablePath} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

// `node bench/render-harness/server.mjs` serves the harness for a person: open the printed URL (?theme=dark|hc)
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const s = await startHarnessServer({ port: Number(process.env.PORT) || 0 });
  console.log(`harness at ${s.url}  (add ?theme=dark or ?theme=hc); call __bn.resnet(5) in the console`);
}
