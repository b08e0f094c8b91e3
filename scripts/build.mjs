// Builds every bundle of the project with esbuild. Usage: node scripts/build.mjs [--watch]
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: 'linked', logLevel: 'warning', target: 'es2022', legalComments: 'none' };

const node = { ...common, platform: 'node', format: 'cjs', mainFields: ['main', 'module'] };
const builds = [
  // extension host: vscode is provided by VS Code
  {
    ...node,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode'],
  },
  // the engine worker: bundles tfjs (one instance, instrumented), typescript (step points) and esbuild's JS API
  // (compiles the user's script with the binary in dist/esbuild-bin/, below; the API's require.resolve("esbuild")
  // is only reached without that binary)
  {
    ...node,
    entryPoints: ['src/worker/worker.ts'],
    outfile: 'dist/worker.js',
    logOverride: { 'require-resolve-not-external': 'silent' },
  },
  // bn-inspect
  {
    ...node,
    entryPoints: ['src/engineHost/cli.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  },
  // the inspector panel
  { ...common, platform: 'browser', format: 'iife', entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js' },
];
// extension tests that run inside a real VS Code
const vsTests = existsSync('test/vscode')
  ? readdirSync('test/vscode')
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `test/vscode/${f}`)
  : [];
if (vsTests.length)
  builds.push({
    ...node,
    entryPoints: vsTests,
    outdir: 'out/test/vscode',
    external: ['vscode', 'mocha'],
  });

mkdirSync('dist', { recursive: true });
// the wasm backend looks its binaries up next to the bundle unless told otherwise: ship them in dist/
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'])
  cpSync(join('node_modules/@tensorflow/tfjs-backend-wasm/dist', f), join('dist', f));
// esbuild's binary for this platform, where the worker's bundled esbuild looks for it (src/worker/esbuildNative.ts);
// `vscode-host.mjs package --target` puts another platform's there for that platform's .vsix
const esbuildPkg = `node_modules/@esbuild/${process.platform}-${process.arch}`;
rmSync('dist/esbuild-bin', { recursive: true, force: true });
mkdirSync('dist/esbuild-bin');
const esbuildExe = process.platform === 'win32' ? 'esbuild.exe' : 'esbuild';
cpSync(join(esbuildPkg, process.platform === 'win32' ? '' : 'bin', esbuildExe), join('dist/esbuild-bin', esbuildExe));
if (existsSync('node_modules/@vscode/codicons/dist')) {
  mkdirSync('dist/codicons', { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf'])
    cpSync(join('node_modules/@vscode/codicons/dist', f), join('dist/codicons', f));
}

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
  console.log('watching…');
} else {
  const t0 = Date.now();
  await Promise.all(builds.map((b) => esbuild.build(b)));
  console.log(`built ${builds.length} bundles in ${Date.now() - t0} ms`);
}
