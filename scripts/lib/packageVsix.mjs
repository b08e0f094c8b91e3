// Packaging for scripts/vscode-host.mjs (`package`, and the UI tests' .vsix): one .vsix per platform, staged from a
// copy of the checkout, with that platform's esbuild binary and the TypeScript server plugin, checked after vsce.
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CACHE, ROOT } from './tools.mjs';
import { onExitCleanup } from './codeServer.mjs';
import { listZip, nativeBinariesIn } from './vsixContents.mjs';

const log = (...a) => console.log('[package]', ...a);

function requireBuild() {
  for (const f of ['dist/extension.js', 'dist/worker.js', 'dist/tsInstrument.js', 'dist/webview.js', 'dist/cli.js'])
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run npm run build first`);
}

function runNode(args, { env = process.env, cwd = ROOT, quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd,
      env,
      stdio: quiet ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    });
    let text = '';
    child.stdout?.on('data', (d) => {
      text += d;
    });
    child.stderr?.on('data', (d) => {
      text += d;
    });
    child.on('error', reject);
    child.on('exit', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), text }));
  });
}

// One .vsix per platform (vsce --target): each carries esbuild's binary for its platform only, in dist/esbuild-bin/
// (esbuild-wasm, one package for all, is too slow to start for every run: bench/esbuild-wasm.md).
/** vsce target -> esbuild's platform package (esbuild's Linux binaries are static: Alpine's targets use them too) */
export const VSIX_TARGETS = {
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'linux-armhf': 'linux-arm',
  'alpine-x64': 'linux-x64',
  'alpine-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-x64',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-x64',
  'win32-arm64': 'win32-arm64',
};
export const hostTarget = () => `${process.platform}-${process.arch === 'arm' ? 'armhf' : process.arch}`;
const esbuildExe = (target) => (target.startsWith('win32-') ? 'esbuild.exe' : 'esbuild');

/** esbuild's binary for a target: from node_modules when installed (the host's), else `npm pack`ed into .cache */
async function esbuildBinaryFor(target) {
  const name = VSIX_TARGETS[target];
  if (!name) throw new Error(`unknown target ${target}; one of ${Object.keys(VSIX_TARGETS).join(', ')}`);
  const version = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8')).version;
  const inside = target.startsWith('win32-') ? 'esbuild.exe' : join('bin', 'esbuild');
  const installed = join(ROOT, 'node_modules', '@esbuild', name);
  if (existsSync(join(installed, inside))) {
    const v = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version;
    if (v === version) return join(installed, inside);
  }
  const dir = join(CACHE, 'esbuild-platforms', `${name}-${version}`);
  if (!existsSync(join(dir, 'package', inside))) {
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    mkdirSync(dir, { recursive: true });
    log(`fetching @esbuild/${name}@${version} (npm pack)`);
    const npm = spawnSync('npm', ['pack', `@esbuild/${name}@${version}`, '--pack-destination', dir, '--silent'], {
      cwd: dir,
      encoding: 'utf8',
      shell: process.platform === 'win32',
    });
    if (npm.status !== 0) throw new Error(`npm pack @esbuild/${name}@${version} failed:\n${npm.stderr}`);
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    const tar = spawnSync('tar', ['-xzf', tgz], { cwd: dir, encoding: 'utf8' });
    if (tar.status !== 0 || !existsSync(join(dir, 'package', inside)))
      throw new Error(`could not unpack ${tgz}: ${tar.stderr}`);
  }
  return join(dir, 'package', inside);
}

/**
 * The TypeScript server plugin in the staged package: tsserver loads it by name from the extension's node_modules, and
 * in the checkout it is a link (the "file:tsPlugin" dependency). The stage gets a real copy (its manifest and dist/),
 * and the staged manifest names it as the one runtime dependency by version (the bundles carry everything else), so
 * that vsce's `npm list --production` accepts it and packages it.
 */
function stageTsPlugin(stage) {
  const plugin = JSON.parse(readFileSync(join(ROOT, 'tsPlugin', 'package.json'), 'utf8'));
  const into = join(stage, 'node_modules', plugin.name);
  mkdirSync(into, { recursive: true });
  cpSync(join(ROOT, 'tsPlugin', 'package.json'), join(into, 'package.json'));
  cpSync(join(ROOT, 'tsPlugin', 'dist'), join(into, 'dist'), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8'));
  manifest.dependencies = { [plugin.name]: plugin.version };
  writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
}

/**
 * vsce package (the pinned devDependency) for one target -> out. .vscodeignore decides the content. It packages a
 * staged copy of the checkout with this target's esbuild binary in dist/esbuild-bin/: the checkout's own dist/ is
 * never touched (an engine running from it meanwhile keeps its binary).
 */
export async function packageVsix(out, target = hostTarget()) {
  requireBuild();
  const exe = await esbuildBinaryFor(target);
  const stage = join(CACHE, 'package-stage', `${target}-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  const unregister = onExitCleanup(() => rmSync(stage, { recursive: true, force: true }));
  try {
    mkdirSync(stage, { recursive: true });
    for (const f of [
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      '.vscodeignore',
      'docs',
      'dist',
      'media',
      'examples',
    ])
      if (existsSync(join(ROOT, f)))
        cpSync(join(ROOT, f), join(stage, f), {
          recursive: true,
          filter: (src) => !src.endsWith('.map') && relative(join(ROOT, 'dist'), src) !== 'esbuild-bin',
        });
    stageTsPlugin(stage);
    mkdirSync(join(stage, 'dist', 'esbuild-bin'), { recursive: true });
    cpSync(exe, join(stage, 'dist', 'esbuild-bin', esbuildExe(target)));
    chmodSync(join(stage, 'dist', 'esbuild-bin', esbuildExe(target)), 0o755);
    const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
    // --no-rewrite-relative-links: README.md's relative image (docs/screenshot.png) stays relative; with no detectable
    // repository (package.json's URL is a placeholder) vsce would otherwise refuse to package. The staged manifest's
    // only dependency is the TypeScript server plugin (stageTsPlugin); .vscodeignore lets in only its files
    const args = [
      vsce,
      'package',
      '--target',
      target,
      '--no-update-package-json',
      '--no-git-tag-version',
      '--allow-missing-repository',
      '--no-rewrite-relative-links',
      '--out',
      resolve(out),
    ];
    if (!['LICENSE', 'LICENSE.md', 'LICENSE.txt'].some((f) => existsSync(join(ROOT, f)))) args.push('--skip-license');
    const { code, text } = await runNode(args, { quiet: true, cwd: stage });
    if (code !== 0) throw new Error(`vsce package failed (exit ${code}):\n${text}`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
    unregister();
  }
  const size = statSync(out).size;
  checkPlatformBinaries(out, target);
  log(
    `packaged ${relative(ROOT, out) || out} for ${target} (${(size / 1e6).toFixed(1)} MB, ${listZip(out).length} files)`,
  );
  return out;
}

/** A target's .vsix carries exactly one native binary: esbuild's, for that target's OS and CPU. */
function checkPlatformBinaries(vsix, target) {
  const [os, cpu] = target.replace(/^alpine-/, 'linux-').split('-');
  const want = { os, arch: cpu === 'armhf' ? 'arm' : cpu, name: `extension/dist/esbuild-bin/${esbuildExe(target)}` };
  const native = nativeBinariesIn(vsix);
  const wrong = native.filter((b) => b.name !== want.name || b.os !== want.os || b.arch !== want.arch);
  if (wrong.length || native.length !== 1)
    throw new Error(
      `${relative(ROOT, vsix) || vsix} (${target}) must carry exactly ${want.name} (${want.os}-${want.arch}); it has:\n` +
        (native.map((b) => `  ${b.name} (${b.kind}, ${b.os}-${b.arch})`).join('\n') || '  no native binary'),
    );
}
