#!/usr/bin/env node
// `npm start` (after `npm run build`): a real VS Code with the extension loaded on examples/, the question example
// examples/frozen-predict.ts open (so the extension activates) and the walkthrough beside it (the extension shows it
// when its host's environment has BN_INSPECTOR_WALKTHROUGH=1: src/extension/walkthrough.ts).
//  - desktop VS Code when `code` is on the PATH: code --extensionDevelopmentPath=<repo> examples/ examples/frozen-predict.ts
//  - otherwise the pinned code-server of the test host (Code 1.139.1, installed once into .cache/vscode-host/),
//    bound to 127.0.0.1, with this checkout linked into its extensions folder; prints the address to open.
// Runs until Ctrl-C, then kills code-server's whole process group: nothing is left behind.
//
// Options: --code-server (use code-server even if `code` is on the PATH), --port N (default: a free port),
//          --untrusted (workspace trust on: see how the extension behaves in restricted mode),
//          --watch (rebuild on change with scripts/build.mjs --watch; reload the window to pick it up).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CACHE, CODE_SERVER_VERSION, CODE_VERSION, ROOT, ensureTools, seconds } from './lib/tools.mjs';
import { isShuttingDown, killGroup, killGroupSync, onExitCleanup, startCodeServer } from './lib/codeServer.mjs';

const argv = process.argv.slice(2);
const flag = (n) => argv.includes(`--${n}`);
const option = (n) => {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const EXAMPLES = join(ROOT, 'examples');
const FIRST_EXAMPLE = join(EXAMPLES, 'frozen-predict.ts');
/** the extension host's environment: show the walkthrough */
const WALKTHROUGH_ENV = { BN_INSPECTOR_WALKTHROUGH: '1' };
const log = (...a) => console.log('[start]', ...a);

if (!existsSync(join(ROOT, 'dist', 'extension.js'))) {
  console.error('dist/extension.js is missing: run `npm start` (it builds first) or `npm run build`');
  process.exit(1);
}

function hasDesktopCode() {
  if (flag('code-server') || process.env.BN_START_HOST === 'code-server') return false;
  // inside a code-server / VS Code Server terminal, `code` is a remote CLI that cannot load a development extension
  if (process.env.VSCODE_IPC_HOOK_CLI && /code-server|remote-cli/.test(process.env.PATH ?? '')) return false;
  return spawnSync('sh', ['-c', 'command -v code'], { stdio: 'ignore' }).status === 0;
}

function startWatch() {
  if (!flag('watch')) return undefined;
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--watch'], {
    cwd: ROOT,
    stdio: 'inherit',
    detached: true, // its own process group, killed as one
    windowsHide: true,
  });
  onExitCleanup(() => killGroupSync(child.pid));
  return child;
}

async function desktop() {
  log(`desktop VS Code: code --extensionDevelopmentPath=${ROOT} ${EXAMPLES} ${FIRST_EXAMPLE}`);
  const watch = startWatch();
  // --wait: the command returns when the window is closed; Ctrl-C here ends the command (and the watcher).
  // The development host's extension host gets the environment through --extensionEnvironment (as F5 gives it)
  const child = spawn(
    'code',
    [
      '--new-window',
      '--wait',
      `--extensionDevelopmentPath=${ROOT}`,
      `--extensionEnvironment=${JSON.stringify(WALKTHROUGH_ENV)}`,
      EXAMPLES,
      FIRST_EXAMPLE,
    ],
    { stdio: 'inherit', env: { ...process.env, ...WALKTHROUGH_ENV } },
  );
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 0)));
  if (watch) await killGroup(watch.pid, 1000);
  return code;
}

async function codeServer() {
  const t0 = Date.now();
  await ensureTools({ log });
  const base = join(CACHE, 'start');
  // user settings persist between runs; the extensions folder is rebuilt each time with a link to this checkout,
  // so the workbench loads the freshly built dist/ (Developer: Reload Window after a rebuild)
  const extensionsDir = join(base, 'extensions');
  rmSync(extensionsDir, { recursive: true, force: true });
  mkdirSync(extensionsDir, { recursive: true });
  symlinkSync(ROOT, join(extensionsDir, `${PKG.publisher}.${PKG.name}-${PKG.version}`));
  const port = option('port') ? Number(option('port')) : undefined;
  const server = await startCodeServer({
    userDataDir: join(base, 'user-data'),
    extensionsDir,
    port,
    trusted: !flag('untrusted'),
    logFile: join(base, 'code-server.log'),
    settings: { 'workbench.startupEditor': 'none' },
    env: WALKTHROUGH_ENV,
  });
  startWatch();
  // the question example opens with the folder (the smoke-test payload's openFile), which activates the extension
  const url = server.url(EXAMPLES, [['openFile', server.remoteUri(FIRST_EXAMPLE)]]);
  console.log(`
  BatchNorm Inspector in VS Code ${CODE_VERSION} (code-server ${CODE_SERVER_VERSION}), ready in ${seconds(Date.now() - t0)}:

      ${url}

  Open it in a browser on this machine (it listens on 127.0.0.1 only; from elsewhere: ssh -L ${server.port}:127.0.0.1:${server.port} <host>).
  ${flag('untrusted') ? 'Workspace trust is ON (--untrusted).' : 'Workspace trust is off (the examples are trusted).'} Log: ${relative(ROOT, server.logFile)}
  Ctrl-C stops it.
`);
  await new Promise((resolve) => server.child.once('exit', resolve));
  if (isShuttingDown()) return new Promise(() => {}); // Ctrl-C: the handler exits once the group is gone
  console.error(`code-server exited unexpectedly; last lines:\n${server.tail()}`);
  return 1;
}

const run = hasDesktopCode() ? desktop : codeServer;
run().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err?.stack ?? err);
    process.exit(1);
  },
);
