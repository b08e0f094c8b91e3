// Builds every bundle of the project with esbuild. Usage: node scripts/build.mjs [--watch]
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { copyTfjsDeclarations } from '../tsPlugin/copyTfjsDeclarations.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: 'linked', logLevel: 'warning', target: 'es2022', legalComments: 'none' };

const node = { ...common, platform: 'node', format: 'cjs', mainFields: ['main', 'module'] };

// the engine's hand-assembled SIMD modules, assembled once here and defined in the bundles that instantiate them
// (src/worker/prebuiltWasm.ts): assembling their JS byte lists at run time took ~60-70 ms of every cold start
const prebuiltWasm = await (async () => {
  const out = await esbuild.build({
    ...node,
    entryPoints: ['src/worker/wasmModuleBytes.ts'],
    write: false,
    sourcemap: false,
  });
  const module = { exports: {} };
  new Function('module', 'exports', 'require', out.outputFiles[0].text)(
    module,
    module.exports,
    createRequire(import.meta.url),
  );
  return module.exports.allWasmModules();
})();
const withWasm = { define: { __BN_PREBUILT_WASM__: JSON.stringify(prebuiltWasm) } };

const builds = [
  // extension host: vscode is provided by VS Code
  {
    ...node,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode'],
  },
  // the engine worker: bundles tfjs (one instance, instrumented), the light step-point finder and esbuild's JS API
  // (compiles the user's script with the binary in dist/esbuild-bin/, below; the API's require.resolve("esbuild")
  // is only reached without that binary)
  {
    ...node,
    ...withWasm,
    entryPoints: ['src/worker/worker.ts'],
    outfile: 'dist/worker.js',
    logOverride: { 'require-resolve-not-external': 'silent' },
  },
  // the worker's fallback instrumentation with the TypeScript parser (JSX, text the light finder cannot read):
  // required by dist/worker.js only then (src/worker/instrumentSource.ts)
  { ...node, entryPoints: ['src/worker/tsInstrument.ts'], outfile: 'dist/tsInstrument.js' },
  // the second thread of the engine's SIMD kernels on the threaded wasm build (src/worker/kernels/simdHelper.ts)
  { ...node, ...withWasm, entryPoints: ['src/worker/simdHelperThread.ts'], outfile: 'dist/simdHelper.js' },
  // the run's own process: holds the engine worker (dist/worker.js), relays to the host
  { ...node, entryPoints: ['src/runner/runner.ts'], outfile: 'dist/runner.js' },
  // bn-inspect
  {
    ...node,
    entryPoints: ['src/engineHost/cli.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  },
  // the TypeScript server plugin (tsserver loads it from node_modules/bn-inspector-tfjs-types, the "file:tsPlugin"
  // dependency): plain CommonJS, typescript is what tsserver passes in
  {
    ...node,
    entryPoints: ['tsPlugin/tfjsTypesPlugin.ts'],
    outfile: 'tsPlugin/dist/index.js',
    external: ['typescript'],
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
  builds.push({ ...node, entryPoints: vsTests, outdir: 'out/test/vscode', external: ['vscode', 'mocha'] });
// the extension as the extension-host tests load it (never shipped, see test/vscode/support/extensionUnderTest.ts):
// out/dev-extension/ = the test entry + the real manifest with `main` pointing at it + links (writeDevExtension)
const DEV_EXTENSION = 'out/dev-extension';
const TEST_ENTRY = 'test/vscode/support/extensionUnderTest.ts';
if (existsSync(TEST_ENTRY))
  builds.push({
    ...node,
    entryPoints: [TEST_ENTRY],
    outfile: `${DEV_EXTENSION}/extension.js`,
    external: ['vscode'],
  });

mkdirSync('dist', { recursive: true });
// the wasm backend looks its binaries up next to the bundle unless told otherwise: ship them in dist/
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'])
  cpSync(join('node_modules/@tensorflow/tfjs-backend-wasm/dist', f), join('dist', f));
// the threaded build's two scripts for Node's worker_threads (src/worker/wasmThreaded.ts): emscripten's main script,
// which every pthread worker loads again (its pool size made an option), and the pthread worker itself, which tfjs
// ships only as a string
const wasmOut = 'node_modules/@tensorflow/tfjs-backend-wasm/wasm-out';
{
  // emscripten builds its pthread pool size in (8 workers, each a V8 isolate instantiating the module, at start);
  // XNNPACK needs threads - 1 of them: make it the factory's option `pthreadPoolSize` (wasmThreaded.ts)
  const glue = readFileSync(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js'), 'utf8');
  const POOL = 'var pthreadPoolSize=8;';
  if (glue.split(POOL).length !== 2)
    throw new Error(`tfjs-backend-wasm's threaded glue changed: "${POOL}" is not there once (scripts/build.mjs)`);
  const option = 'var pthreadPoolSize=Module["pthreadPoolSize"]>0?Module["pthreadPoolSize"]:8;';
  writeFileSync('dist/tfjs-backend-wasm-threaded-simd.js', glue.replace(POOL, option));
}
{
  const { wasmWorkerContents } = createRequire(import.meta.url)(
    join(root, wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js'),
  );
  // as tfjs's own init() does: the string came out of a template literal, its "\n" escapes are newlines now
  writeFileSync('dist/tfjs-backend-wasm-threaded-simd.worker.js', wasmWorkerContents.replace(/\n/g, '\\n'));
}
// esbuild's binary for this platform, where the worker's bundled esbuild looks for it (src/worker/esbuildNative.ts);
// `vscode-host.mjs package --target` puts another platform's there for that platform's .vsix
const esbuildPkg = `node_modules/@esbuild/${process.platform}-${process.arch}`;
rmSync('dist/esbuild-bin', { recursive: true, force: true });
// the step-point finder was a bundle of its own (with the TypeScript parser) until the editor got its own finder:
// an old build's copy must not go into a package (dist/*.js)
for (const f of ['dist/stepPointFinder.js', 'dist/stepPointFinder.js.map']) rmSync(f, { force: true });
mkdirSync('dist/esbuild-bin');
const esbuildExe = process.platform === 'win32' ? 'esbuild.exe' : 'esbuild';
cpSync(join(esbuildPkg, process.platform === 'win32' ? '' : 'bin', esbuildExe), join('dist/esbuild-bin', esbuildExe));
if (existsSync('node_modules/@vscode/codicons/dist')) {
  mkdirSync('dist/codicons', { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf'])
    cpSync(join('node_modules/@vscode/codicons/dist', f), join('dist/codicons', f));
}

// the tfjs declarations the TypeScript server plugin points the editor at
const tfjsTypes = copyTfjsDeclarations(root, 'tsPlugin/dist/types');
if (!watch) console.log(`tfjs declarations: ${tfjsTypes.files} files, ${(tfjsTypes.bytes / 1e6).toFixed(2)} MB`);

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
  console.log('watching…');
} else {
  const t0 = Date.now();
  await Promise.all(builds.map((b) => esbuild.build(b)));
  console.log(`built ${builds.length} bundles in ${Date.now() - t0} ms`);
  checkShippedBundle();
}
if (existsSync(TEST_ENTRY)) writeDevExtension();

/**
 * the manifest of out/dev-extension/ and its links to the real dist/, media/, examples/ (the walkthrough's fallback)
 * and node_modules/ (tsserver loads the TypeScript server plugin from <extension>/node_modules/bn-inspector-tfjs-types)
 */
function writeDevExtension() {
  mkdirSync(DEV_EXTENSION, { recursive: true });
  const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
  manifest.main = './extension.js';
  writeFileSync(join(DEV_EXTENSION, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  for (const dir of ['dist', 'media', 'examples', 'node_modules']) {
    rmSync(join(DEV_EXTENSION, dir), { recursive: true, force: true });
    symlinkSync(join(root, dir), join(DEV_EXTENSION, dir), 'junction');
  }
}

/**
 * dist/extension.js carries no test API: none of the test entry's names, no source file from test/ (its source map);
 * the dev extension's bundle does carry those names (so the check looks for the right ones)
 */
function checkShippedBundle() {
  const markers = ['stepPointCacheSize', 'clearRendered', 'progressOnScreen', 'WindowWatch', 'extensionUnderTest'];
  const shipped = readFileSync('dist/extension.js', 'utf8');
  const leaked = markers.filter((m) => shipped.includes(m));
  const fromTests = JSON.parse(readFileSync('dist/extension.js.map', 'utf8')).sources.filter((f) =>
    /^(\.\.\/)+test\//.test(f),
  );
  if (leaked.length || fromTests.length)
    throw new Error(`dist/extension.js carries test code: ${[...leaked, ...fromTests].join(', ')}`);
  if (existsSync(TEST_ENTRY)) {
    const dev = readFileSync(`${DEV_EXTENSION}/extension.js`, 'utf8');
    const missing = markers.filter((m) => m !== 'extensionUnderTest' && !dev.includes(m));
    if (missing.length)
      throw new Error(`the test API's markers are stale: ${missing.join(', ')} not in ${DEV_EXTENSION}`);
  }
}
