// Process groups of the servers scripts/lib/codeServer.mjs starts (code-server, Chromium): every one is killed as
// a group on stop, on exit, on SIGINT/SIGTERM and on uncaught errors (POSIX: process.kill(-pgid); Windows:
// taskkill /T /F). Re-exported by codeServer.mjs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
export function addGroup(pgid) {
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

export function installHandlers() {
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
