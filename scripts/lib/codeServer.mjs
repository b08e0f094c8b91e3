// Start and stop code-server (host A) and Chromium; shared by scripts/vscode-host.mjs, scripts/start.mjs and
// the UI-test harness test/e2e/harness.ts. Every server is bound to 127.0.0.1 on a free port, started in its
// own process group, and killed by process group on stop, on exit, on SIGINT/SIGTERM and on uncaught errors
// (POSIX: process.kill(-pgid); Windows: taskkill /T /F).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CHROMIUM, CODE_SERVER, toolEnv } from './tools.mjs';

// ---- process-group bookkeeping -------------------------------------------------------------------------
// Every server is spawned detached: on POSIX it leads a process group of its own, and everything it starts (the
// extension host, file watchers, language servers) stays in that group unless it makes one itself; the group is
// signalled as a whole with process.kill(-pgid). On Windows a detached process has no such group: its tree is
// ended with `taskkill /T /F /PID` (taskkill follows the parent links).
const groups = new Set(); // pgids (Windows: root pids) of live servers
let handlersInstalled = false;
const WINDOWS = process.platform === 'win32';

function groupAlive(pgid) {
  try {
    process.kill(WINDOWS ? pgid : -pgid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Signals a whole group; false when there is none left. On Windows any signal ends the tree (taskkill /T /F). */
function signalGroup(pgid, sig) {
  if (WINDOWS) {
    if (!groupAlive(pgid)) return false;
    spawnSync('taskkill', ['/T', '/F', '/PID', String(pgid)], { stdio: 'ignore', windowsHide: true });
    return true;
  }
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs a group now (synchronous: usable in an exit handler). */
export function killGroupSync(pgid) {
  signalGroup(pgid, 'SIGKILL');
  groups.delete(pgid);
  forgetRecorded(pgid);
}

/** SIGTERM the group, wait up to graceMs, then SIGKILL whatever is left. */
export async function killGroup(pgid, graceMs = 3000) {
  if (!signalGroup(pgid, 'SIGTERM')) {
    groups.delete(pgid);
    forgetRecorded(pgid);
    return;
  }
  const until = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  groups.delete(pgid);
  forgetRecorded(pgid);
}

function killAllSync() {
  for (const pgid of [...groups]) killGroupSync(pgid);
}

/** Tracks a process group started elsewhere (e.g. a test process that starts servers itself): it is stopped like a server. */
export function trackGroup(pgid) {
  installHandlers();
  groups.add(pgid);
  return () => groups.delete(pgid);
}

// A process that starts servers for a parent (the UI tests' mocha, started by vscode-host.mjs) records each group
// as a file named by its pgid in the folder $BN_PROCESS_GROUPS_DIR: if that process dies before it can stop them
// (SIGKILL, a crash), the parent kills the recorded groups (killRecordedGroups) and nothing is left behind.
const RECORD_DIR = process.env.BN_PROCESS_GROUPS_DIR;
function addGroup(pgid) {
  groups.add(pgid);
  if (!RECORD_DIR) return;
  try {
    mkdirSync(RECORD_DIR, { recursive: true });
    writeFileSync(join(RECORD_DIR, String(pgid)), '');
  } catch {
    /* the record is a safety net: the group is still tracked here */
  }
}
function forgetRecorded(pgid) {
  if (RECORD_DIR) rmSync(join(RECORD_DIR, String(pgid)), { force: true });
}

/** SIGKILLs every process group recorded in `dir` (see BN_PROCESS_GROUPS_DIR); synchronous. Returns how many were alive. */
export function killRecordedGroups(dir) {
  let alive = 0;
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return 0; // nothing recorded
  }
  for (const name of names) {
    const pgid = Number(name);
    if (!Number.isInteger(pgid) || pgid <= 1) continue;
    if (groupAlive(pgid)) {
      alive++;
      signalGroup(pgid, 'SIGKILL');
    }
    rmSync(join(dir, name), { force: true });
  }
  return alive;
}

const extraCleanups = new Set();
/** Registers a synchronous cleanup (e.g. removing a temp folder) that also runs on exit/signals. Returns an unregister function. */
export function onExitCleanup(fn) {
  installHandlers();
  extraCleanups.add(fn);
  return () => extraCleanups.delete(fn);
}

function runExtraCleanups() {
  for (const fn of [...extraCleanups].reverse()) {
    try {
      fn();
    } catch {
      /* one failed cleanup must not stop the others */
    }
  } // last registered first
  extraCleanups.clear();
}

let shuttingDown = false;
/** true once a signal or an uncaught error started the shutdown */
export const isShuttingDown = () => shuttingDown;
/** On a signal: SIGTERM every group, give them 2 s, SIGKILL the rest, run the cleanups, exit. A second signal: SIGKILL now. */
async function shutdown(code) {
  if (shuttingDown) {
    killAllSync();
    runExtraCleanups();
    process.exit(code);
  }
  shuttingDown = true;
  await Promise.all([...groups].map((pgid) => killGroup(pgid, 2000)));
  runExtraCleanups();
  process.exit(code);
}

function installHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    killAllSync();
    runExtraCleanups();
  });
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ])
    process.on(sig, () => {
      void shutdown(code);
    });
  process.on('uncaughtException', (err) => {
    console.error(err);
    void shutdown(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error(err);
    void shutdown(1);
  });
}

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
