#!/usr/bin/env node
// Host A: the extension's tests in a REAL VS Code, here = code-server 4.139.1 (Code 1.139.1) on Node 24, both
// from the npm registry, with Debian's Chromium through playwright-core. See test/vscode/README.md.
//
//   node scripts/vscode-host.mjs test      extension-host suite (trusted, then untrusted) + UI tests   (npm run test:vscode)
//   node scripts/vscode-host.mjs ext       extension-host suite only            [--files a,b] [--grep re] [--untrusted|--trusted]
//   node scripts/vscode-host.mjs ui        UI tests only (packages the .vsix)   [test/e2e/x.e2e.ts ...] [--grep re] [--vsix prebuilt.vsix]
//   node scripts/vscode-host.mjs package   the .vsix (vsce 3.9.2), one per platform [--target t[,t…] | --all-targets] [--out file.vsix]
//   node scripts/vscode-host.mjs install   the pinned tools only
// Options: --verbose (every log line of code-server, the workbench and the browser), --keep (keep run folders).
// It expects `npm run build` to have run (npm test does it first). One command line, so one file: its sections are
// the extension-host suite and the UI tests; packaging is lib/packageVsix.mjs, servers lib/codeServer.mjs.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { format } from 'node:util';
import {
  CACHE,
  CODE_SERVER_VERSION,
  DEV_EXTENSION,
  NODE24_VERSION,
  ROOT,
  RUNS,
  ensureTools,
  seconds,
} from './lib/tools.mjs';
import {
  installExtension,
  isNoise,
  isShuttingDown,
  killGroup,
  killGroupSync,
  killRecordedGroups,
  launchChromium,
  onExitCleanup,
  startCodeServer,
  trackGroup,
} from './lib/codeServer.mjs';
import { VSIX_TARGETS, hostTarget, packageVsix } from './lib/packageVsix.mjs';

const argv = process.argv.slice(2);
const command = argv[0] ?? 'test';
const flag = (name) => argv.includes(`--${name}`);
const option = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const positional = argv
  .slice(1)
  .filter((a, i, all) => !a.startsWith('--') && !(i > 0 && /^--(files|grep|out|vsix)$/.test(all[i - 1])));
const VERBOSE = flag('verbose') || !!process.env.BN_VERBOSE;
const KEEP = flag('keep') || !!process.env.BN_KEEP;
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const EXTENSION_ID = `${PKG.publisher}.${PKG.name}`;
/** one extension-host suite run (mocha inside VS Code); generous: the suite runs real scripts */
const EXT_TIMEOUT_MS = Number(process.env.BN_VSCODE_SUITE_TIMEOUT_MS || 15 * 60_000);
const UI_TIMEOUT_MS = Number(process.env.BN_E2E_SUITE_TIMEOUT_MS || 20 * 60_000);

const t0 = Date.now();
const log = (...a) => console.log(`[vscode-host +${seconds(Date.now() - t0)}]`, ...a);
const timings = [];
async function timed(label, fn) {
  const t = Date.now();
  try {
    return await fn();
  } finally {
    timings.push([label, Date.now() - t]);
    log(`${label}: ${seconds(Date.now() - t)}`);
  }
}
/** runs one part; an error is reported and counts as a failed part (exit 1) so that the other parts still run */
async function part(label, fn) {
  try {
    return await timed(label, fn);
  } catch (err) {
    console.error(`${label} FAILED: ${err?.stack ?? err}`);
    return 1;
  }
}

function newRunDir(label) {
  mkdirSync(RUNS, { recursive: true });
  const dir = join(RUNS, `${label}-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const unregister = onExitCleanup(() => {
    if (!KEEP) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });
  return {
    dir,
    done() {
      unregister();
      if (KEEP) log(`kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    },
  };
}

/** a temp copy of examples/ named examples (tests may write files into it) */
function copyExamples(runDir) {
  const ws = join(runDir, 'ws', 'examples');
  mkdirSync(ws, { recursive: true });
  if (existsSync(join(ROOT, 'examples'))) cpSync(join(ROOT, 'examples'), ws, { recursive: true });
  return ws;
}

function requireBuild() {
  const missing = ['dist/extension.js', 'out/test/vscode/index.js', 'out/dev-extension/package.json'].filter(
    (f) => !existsSync(join(ROOT, f)),
  );
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: run \`npm run build\` first`);
}

// ---- extension-host suite ------------------------------------------------------------------------------

/** the compiled test files a session of this mode runs (same rule as test/vscode/index.ts), narrowed by --files */
function listSuiteFiles(mode, filter) {
  const dir = join(ROOT, 'out', 'test', 'vscode');
  if (!existsSync(dir)) return [];
  const subs = (filter ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.js') && f.endsWith('.untrusted.test.js') === (mode === 'untrusted'))
    .filter((f) => subs.length === 0 || subs.some((x) => f.includes(x)));
}

/**
 * Runs out/test/vscode/index.js inside the extension host of a fresh code-server on a temp copy of examples/.
 * mode 'trusted': --disable-workspace-trust; 'untrusted': workspace trust on and the folder not trusted.
 * Resolves with mocha's exit code (0 = passed).
 */
async function runExtensionSuite(mode, { files, grep } = {}) {
  requireBuild();
  const run = newRunDir(`ext-${mode}`);
  const ws = copyExamples(run.dir);
  const env = { BN_VSCODE_TEST_MODE: mode };
  if (files) env.BN_VSCODE_TEST_FILES = files;
  if (grep) env.BN_VSCODE_TEST_GREP = grep;
  let server, context, page;
  try {
    server = await startCodeServer({
      userDataDir: join(run.dir, 'user-data'),
      extensionsDir: join(run.dir, 'extensions'),
      trusted: mode === 'trusted',
      smokeTestDriver: true,
      env,
      logFile: join(run.dir, 'code-server.log'),
    });
    log(`code-server ${CODE_SERVER_VERSION} (${mode} workspace) on ${server.origin}, pid ${server.pid}`);
    ({ context, page } = await launchChromium({ profileDir: join(run.dir, 'chromium') }));
    let exit;
    const exited = new Promise((resolve) => {
      exit = resolve;
    });
    page.on('pageerror', (e) => {
      if (VERBOSE || !isNoise(e.message)) console.error('[workbench error]', e.message);
    });
    if (VERBOSE) page.on('console', (m) => console.log('[browser]', m.text()));
    // the smoke-test driver forwards the extension host's console (mocha's reporter) here
    let crashTimer;
    let mochaResult; // from test/vscode/index.ts's RESULT_MARK line: { failed, total }
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = format(...(Array.isArray(args) ? args : [args]));
      const m = /\[bn-tests\] result: (\d+) failed of (\d+)/.exec(text);
      if (m) mochaResult = { failed: Number(m[1]), total: Number(m[2]) };
      // a crashed extension host may never report anything: give it 20 s, then fail instead of waiting for the timeout
      if (
        /Extension host .*(terminated unexpectedly|crashed)|\[ExtensionHost\].*socket close event/i.test(text) &&
        !crashTimer &&
        !mochaResult
      ) {
        crashTimer = setTimeout(() => exit('crash'), 20_000);
      }
      if (!VERBOSE && isNoise(text)) return;
      if (type === 'error' || type === 'warn') console.log(`[vscode:${type}] ${text}`);
      else console.log(text);
    });
    await page.exposeFunction('codeAutomationExit', (code) => {
      clearTimeout(crashTimer);
      exit(Number(code));
    });
    // the development extension is out/dev-extension (the test entry, whose activate() returns the tests' API, with
    // the real manifest, dist/ and media/), not the checkout: dist/extension.js has no test API
    const payload = [
      ['extensionDevelopmentPath', server.remoteUri(DEV_EXTENSION)],
      ['extensionTestsPath', server.remoteUri(join(ROOT, 'out', 'test', 'vscode', 'index.js'))],
      ['skipWelcome', 'true'],
    ];
    // no wait for the page's load event (30 s by default, which a loaded machine overruns): the results come through
    // codeAutomationLog/Exit, and EXT_TIMEOUT_MS bounds a workbench that never starts
    await page.goto(server.url(ws, payload), { waitUntil: 'commit' });
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), EXT_TIMEOUT_MS);
    });
    const serverDied = new Promise((resolve) => server.child.once('exit', () => resolve('server-exit')));
    const result = await Promise.race([exited, timeout, serverDied]);
    clearTimeout(timer);
    clearTimeout(crashTimer);
    if (isShuttingDown()) return 130; // Ctrl-C / SIGTERM: the handler is stopping everything
    if (typeof result === 'number') {
      // the workbench also reports 0 when the extension host died mid-run: trust a 0 only with mocha's own result
      if (!mochaResult) await new Promise((r) => setTimeout(r, 2000)); // its last log line may trail the exit
      if (result === 0 && !mochaResult) {
        console.error(
          `extension-host suite (${mode}): the workbench reported exit 0 but mocha never reported a result (the extension host died?)\nlast lines of code-server:\n${server.tail()}`,
        );
        return 3;
      }
      if (result === 0 && mochaResult.failed > 0) return 1;
      if (mochaResult) log(`mocha: ${mochaResult.total - mochaResult.failed}/${mochaResult.total} passed`);
      return result;
    }
    mkdirSync(SHOTS, { recursive: true });
    const shot = join(SHOTS, `ext-${mode}-${result}.png`);
    await page.screenshot({ path: shot }).catch(() => {});
    const why = {
      timeout: `no result after ${seconds(EXT_TIMEOUT_MS)}`,
      crash: 'the extension host crashed',
      'server-exit': 'code-server exited',
    }[result];
    console.error(
      `extension-host suite (${mode}): ${why}; screenshot ${relative(ROOT, shot)}\nlast lines of code-server:\n${server.tail()}`,
    );
    return result === 'timeout' ? 124 : 3;
  } finally {
    await context?.close().catch(() => {});
    await server?.stop();
    run.done();
  }
}

// ---- UI tests ------------------------------------------------------------------------------------------

function listUiTests() {
  const dir = join(ROOT, 'test', 'e2e');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.e2e\.(ts|mts|js|mjs)$/.test(f))
    .sort()
    .map((f) => join('test', 'e2e', f));
}

/** Packages the .vsix, installs it once, runs mocha (tdd, tsx) over the UI tests. Resolves with mocha's exit code. */
async function runUiTests(files, { grep, vsix: prebuilt } = {}) {
  if (files.length === 0) {
    log('no UI tests (test/e2e/*.e2e.ts)');
    return 0;
  }
  const run = newRunDir('ui');
  try {
    const vsix =
      prebuilt ?? (await timed('package .vsix', () => packageVsix(join(run.dir, `${PKG.name}-${PKG.version}.vsix`))));
    const extensionsDir = join(run.dir, 'extensions');
    await timed('install .vsix into code-server', () =>
      installExtension({
        vsix,
        userDataDir: join(run.dir, 'install-user-data'),
        extensionsDir,
        logFile: join(run.dir, 'install.log'),
      }),
    );
    const mocha = join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
    const args = [
      mocha,
      '--no-config',
      '--no-package',
      '--ui',
      'tdd',
      '--require',
      'tsx/cjs',
      '--timeout',
      '180000',
      '--reporter',
      'spec',
      '--exit',
      ...(grep ? ['--grep', grep] : []),
      ...files,
    ];
    // the harness's code-servers lead groups of their own; each is recorded in groupsDir, so that whatever of
    // them outlives mocha (killed, crashed) is killed by its group here
    const groupsDir = join(run.dir, 'process-groups');
    const env = {
      ...process.env,
      BN_E2E_RUN_DIR: run.dir,
      BN_E2E_EXTENSIONS_DIR: extensionsDir,
      BN_E2E_VSIX: vsix,
      BN_E2E_EXTENSION_ID: EXTENSION_ID,
      BN_PROCESS_GROUPS_DIR: groupsDir,
    };
    log(`UI tests: ${files.join(', ')}`);
    // mocha in its own process group, stopped like a server (SIGTERM: the harness stops its servers, then SIGKILL)
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'inherit', detached: true });
    const untrack = trackGroup(child.pid);
    const unregister = onExitCleanup(() => killRecordedGroups(groupsDir));
    const timer = setTimeout(() => {
      console.error(`UI tests: no result after ${seconds(UI_TIMEOUT_MS)}`);
      void killGroup(child.pid, 5000); // SIGTERM: the harness stops its servers; SIGKILL after 5 s
    }, UI_TIMEOUT_MS);
    const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 124 : 1))));
    clearTimeout(timer);
    untrack();
    killGroupSync(child.pid);
    const left = killRecordedGroups(groupsDir);
    if (left) console.error(`UI tests left ${left} process group(s) running: killed`);
    unregister();
    return code;
  } finally {
    run.done();
  }
}

// ---- main ----------------------------------------------------------------------------------------------

async function tools() {
  const ms = await timed('tools (Node ' + NODE24_VERSION + ', code-server ' + CODE_SERVER_VERSION + ')', () =>
    ensureTools({ log }),
  );
  if (ms < 1000) log(`tools cached in ${relative(ROOT, CACHE)}`);
}

function summary(results) {
  console.log('\n── real-VS-Code host (code-server ' + CODE_SERVER_VERSION + ') ──');
  for (const [label, ms] of timings) console.log(`  ${label.padEnd(48)} ${seconds(ms).padStart(9)}`);
  console.log(`  ${'total'.padEnd(48)} ${seconds(Date.now() - t0).padStart(9)}`);
  for (const [label, code] of results)
    console.log(`  ${label.padEnd(48)} ${code === 0 ? 'passed' : `FAILED (exit ${code})`}`);
}

async function main() {
  const results = [];
  switch (command) {
    case 'install':
      await tools();
      return 0;
    case 'package': {
      // --target t[,t…] | --all-targets (default: this machine's platform); --out only with one target
      const targets = flag('all-targets')
        ? Object.keys(VSIX_TARGETS)
        : (option('target') ?? hostTarget()).split(',').map((t) => t.trim());
      if (option('out') && targets.length > 1) throw new Error('--out takes one target');
      for (const t of targets)
        await packageVsix(option('out') ?? join(ROOT, `${PKG.name}-${PKG.version}-${t}.vsix`), t);
      return 0;
    }
    case 'ext': {
      await tools();
      const modes = flag('untrusted') ? ['untrusted'] : flag('trusted') ? ['trusted'] : ['trusted', 'untrusted'];
      for (const mode of modes) {
        if (listSuiteFiles(mode, option('files')).length === 0 && modes.length > 1) continue;
        results.push([
          `extension host, ${mode} workspace`,
          await part(`extension-host suite (${mode} workspace)`, () =>
            runExtensionSuite(mode, { files: option('files'), grep: option('grep') }),
          ),
        ]);
      }
      break;
    }
    case 'ui':
      await tools();
      results.push([
        'UI tests',
        await part('UI tests', () =>
          runUiTests(positional.length ? positional : listUiTests(), { grep: option('grep'), vsix: option('vsix') }),
        ),
      ]);
      break;
    case 'test':
      await tools();
      results.push([
        'extension host, trusted workspace',
        await part('extension-host suite (trusted workspace)', () => runExtensionSuite('trusted')),
      ]);
      if (listSuiteFiles('untrusted').length)
        results.push([
          'extension host, untrusted workspace',
          await part('extension-host suite (untrusted workspace)', () => runExtensionSuite('untrusted')),
        ]);
      results.push(['UI tests', await part('UI tests', () => runUiTests(listUiTests()))]);
      break;
    default:
      console.error(`unknown command ${command}; see the top of ${basename(import.meta.url)}`);
      return 2;
  }
  summary(results);
  return results.every(([, c]) => c === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err?.stack ?? err);
    process.exit(1);
  },
);
