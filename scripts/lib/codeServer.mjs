// Start and stop code-server (host A) and Chromium; shared by scripts/vscode-host.mjs, scripts/start.mjs and
// the UI-test harness test/e2e/harness.ts. Every server is bound to 127.0.0.1 on a free port, started in its
// own process group, and killed by process group on stop, on exit, on SIGINT/SIGTERM and on uncaught errors
// (POSIX: process.kill(-pgid); Windows: taskkill /T /F).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CHROMIUM, CODE_SERVER, toolEnv } from './tools.mjs';
import { addGroup, installHandlers, killGroup, killGroupSync } from './processGroups.mjs';

export * from './processGroups.mjs';

// ---- code-server ---------------------------------------------------------------------------------------

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Writes <userDataDir>/User/settings.json (merged with what is there). */
export function writeUserSettings(userDataDir, settings) {
  const dir = join(userDataDir, 'User');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'settings.json');
  let current = {};
  try {
    current = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    /* none yet */
  }
  writeFileSync(file, JSON.stringify({ ...current, ...settings }, null, 2));
  return file;
}

/** Settings that keep a test/dev session quiet and deterministic. */
export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'github.gitAuthentication': false,
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'never',
  'window.dialogStyle': 'custom',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

async function waitHealthy(port, child, timeoutMs) {
  const until = Date.now() + timeoutMs;
  let exited = null;
  child.once('exit', (code, sig) => {
    exited = sig ?? code;
  });
  while (Date.now() < until) {
    if (exited !== null) throw new Error(`code-server exited (${exited}) before it answered`);
    try {
      const res = await globalThis.fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer on 127.0.0.1:${port}/healthz within ${timeoutMs} ms`);
}

/**
 * Starts code-server. Options:
 *  userDataDir, extensionsDir (required), trusted (default true: --disable-workspace-trust),
 *  smokeTestDriver (enable-smoke-test-driver: needed for extensionTestsPath payloads),
 *  env (extra variables for the server and so for its extension host), logFile, settings (user settings),
 *  startupTimeoutMs (default 60000).
 */
export async function startCodeServer(opts) {
  installHandlers();
  const {
    userDataDir,
    extensionsDir,
    trusted = true,
    smokeTestDriver = false,
    env = {},
    logFile,
    settings = {},
    startupTimeoutMs = 60_000,
  } = opts;
  mkdirSync(userDataDir, { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeUserSettings(userDataDir, { ...QUIET_SETTINGS, ...settings });
  const port = opts.port ?? (await freePort());
  const args = [
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
  ];
  if (trusted) args.push('--disable-workspace-trust');
  if (smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  args.push(...(opts.extraArgs ?? []));
  const child = spawn(CODE_SERVER, args, {
    env: toolEnv({ node24: true, extra: env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: killed as a whole
    windowsHide: true,
  });
  addGroup(child.pid);
  const out = logFile ? createWriteStream(logFile) : null;
  const lines = [];
  const keep = (d) => {
    out?.write(d);
    for (const l of String(d).split('\n'))
      if (l) {
        lines.push(l);
        if (lines.length > 200) lines.shift();
      }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const origin = `http://127.0.0.1:${port}`;
  const server = {
    port,
    origin,
    pid: child.pid,
    child,
    logFile,
    /** last lines code-server printed */
    tail: (n = 40) => lines.slice(-n).join('\n'),
    /** URL of the workbench on a folder, optionally with a smoke-test payload (array of [key, value]) */
    url(folder, payload) {
      let u = `${origin}/?folder=${encodeURIComponent(folder)}`;
      if (payload) u += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
      return u;
    },
    /** a vscode-remote:// URI of a path on the server's machine, for payload entries */
    remoteUri: (absPath) => `vscode-remote://127.0.0.1:${port}${absPath}`,
    async stop() {
      await killGroup(child.pid);
      out?.end();
    },
  };
  try {
    await waitHealthy(port, child, startupTimeoutMs);
  } catch (err) {
    await server.stop();
    throw new Error(`${err.message}\n${server.tail()}`, { cause: err });
  }
  return server;
}

/** `code-server --install-extension vsix` into extensionsDir (runs to completion, no server). */
export function installExtension({ vsix, userDataDir, extensionsDir, logFile }) {
  return new Promise((resolve, reject) => {
    mkdirSync(userDataDir, { recursive: true });
    mkdirSync(extensionsDir, { recursive: true });
    installHandlers();
    const child = spawn(
      CODE_SERVER,
      ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix],
      { env: toolEnv({ node24: true }), stdio: ['ignore', 'pipe', 'pipe'], detached: true, windowsHide: true },
    );
    addGroup(child.pid);
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
    });
    child.stderr.on('data', (d) => {
      text += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      killGroupSync(child.pid); // whatever the installer left in its group
      if (logFile) writeFileSync(logFile, text);
      if (code === 0 && /successfully installed/i.test(text)) resolve(text);
      else reject(new Error(`installing ${vsix} failed (exit ${code}):\n${text}`));
    });
  });
}

// ---- Chromium (Debian's, through playwright-core) ------------------------------------------------------

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Launches a persistent Chromium context with a fresh profile folder. Returns { context, page }. */
export async function launchChromium({ profileDir, viewport = { width: 1600, height: 900 } }) {
  const { chromium } = await import('playwright-core');
  mkdirSync(profileDir, { recursive: true });
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

// ---- log noise that is expected on a machine with no internet, and the workbench's start-up chatter ---------
// Matched against the first line of a message (a stack trace below it goes with it).
export const NOISE = [
  /ENOTFOUND (open-vsx\.org|mobile\.events\.data\.microsoft\.com|[a-z.]*visualstudio\.com|[a-z.]*github\.com|[a-z.]*microsoft\.com)/i,
  /Timed out waiting for authentication provider/i,
  /No signed-in session/i,
  /File not found: .*vsda/i,
  /vsda/i,
  /^\[?(AgentHost|AccountPolicyGate|ChatModelSelection|chatEntitlement|reconnection-grace-time|Service Worker)/i,
  /copilot/i,
  /^(Resolving|Resolved) connection token|^Creating a socket|^Updating additional builtin extensions cache/,
  /Failed to load resource|net::ERR_/i,
  /The web worker extension host is started in a same-origin iframe/,
  /allow-scripts and allow-same-origin/,
  /^Creation of workbench contribution .* took \d+ms/,
];
export const isNoise = (message) => NOISE.some((re) => re.test(String(message).split('\n')[0]));
