// The user-script compiler, esbuild-wasm (one package for every platform) against native esbuild (one package per
// platform, what the .vsix ships):
// compile time of each examples/*.ts and of a large generated script, the first compile in a fresh process (the
// service's start: every run's worker pays it), and the engine's cold start to the first snapshot. One run, the two
// engines alternating; prints the tables and writes them to .cache/bench/esbuild-wasm/results.md (bench/esbuild-wasm.md
// quotes a run of it, with the decision).
//
//   node bench/esbuildWasm.mjs [--runs N]      (expects npm run build: dist/worker.js is the native engine)
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const esbuild = require('esbuild'); // the project's build tool, native
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const log = (s) => process.stderr.write(`[esbuild-wasm bench] ${s}\n`);
const out = join(root, '.cache', 'bench', 'esbuild-wasm');
mkdirSync(out, { recursive: true });

// esbuild-wasm in place of src/worker/esbuildNative.ts (bench/esbuildWasmCompiler.ts)
const wasm = {
  name: 'esbuild-wasm',
  setup(b) {
    b.onResolve({ filter: /\/esbuildNative$/ }, () => ({ path: join(root, 'bench', 'esbuildWasmCompiler.ts') }));
  },
};
const node = { bundle: true, platform: 'node', format: 'cjs', mainFields: ['main', 'module'], target: 'es2022' };
const bundles = {};
for (const engine of ['wasm', 'native']) {
  bundles[engine] = join(out, `bench-${engine}.cjs`);
  await esbuild.build({
    ...node,
    entryPoints: [join(root, 'bench', 'esbuildWasmBench.ts')],
    outfile: bundles[engine],
    external: ['esbuild', 'esbuild-wasm'], // the native one then finds its binary in node_modules
    plugins: engine === 'wasm' ? [wasm] : [],
    logLevel: 'warning',
  });
}
// the engine worker with esbuild-wasm, beside the tfjs wasm binaries it loads; dist/worker.js is the native one
const wasmWorkerDir = join(out, 'wasm-worker');
mkdirSync(wasmWorkerDir, { recursive: true });
await esbuild.build({
  ...node,
  entryPoints: [join(root, 'src', 'worker', 'worker.ts')],
  outfile: join(wasmWorkerDir, 'worker.js'),
  external: ['esbuild-wasm'],
  plugins: [wasm],
  logLevel: 'warning',
});
for (const f of readdirSync(join(root, 'dist')).filter((f) => f.endsWith('.wasm')))
  cpSync(join(root, 'dist', f), join(wasmWorkerDir, f));
const workers = { native: join(root, 'dist', 'worker.js'), wasm: join(wasmWorkerDir, 'worker.js') };

// a large script: 400 small models, 8,000 lines, ~300 kB, one step point each
const large = join(out, 'large-script.ts');
let text = "import * as tf from '@tensorflow/tfjs';\n\n";
for (let i = 0; i < 400; i++)
  text += `
export function model${i}(units: number): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units, inputShape: [${(i % 7) + 2}] }));
  m.add(tf.layers.batchNormalization({ momentum: ${(0.5 + (i % 5) / 10).toFixed(1)} }));
  m.add(tf.layers.dense({ units: 1 }));
  return m;
}
export async function run${i}(x: tf.Tensor): Promise<number[]> {
  const m = model${i}(${(i % 13) + 3});
  const values: number[] = [];
  for (let k = 0; k < ${(i % 3) + 1}; k++) values.push(k * ${i});
  const y = m.predict(x) as tf.Tensor;
  return [...values, ...(await y.data())];
}
`;
writeFileSync(large, text);
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.ts'))
  .sort()
  .map((f) => join(root, 'examples', f));
const cold = join(root, 'examples', 'frozen-predict.ts');

function runJson(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (text += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(text.trim().split('\n').pop())) : reject(new Error(`${args} exited ${code}`)),
    );
  });
}
const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const load0 = os.loadavg();
const started = new Date();
const first = { wasm: [], native: [] };
const engine = { wasm: [], native: [] };
for (let i = 0; i < RUNS; i++)
  for (const e of ['native', 'wasm']) {
    first[e].push((await runJson([bundles[e], 'first', cold])).ms);
    engine[e].push((await runJson([bundles[e], 'engine', workers[e], cold])).ms);
    log(
      `round ${i + 1}/${RUNS} ${e}: first compile ${first[e].at(-1).toFixed(0)} ms, engine ${engine[e].at(-1).toFixed(0)} ms`,
    );
  }
const warm = {};
for (const e of ['native', 'wasm']) warm[e] = await runJson([bundles[e], 'warm', ...examples, large]);
const load1 = os.loadavg();

const ms = (v) => `${Math.round(v)} ms`;
const rows = [...examples, large].map((f) => {
  const name =
    f === large ? `large generated script (8,000 lines, ${(text.length / 1000).toFixed(0)} kB)` : relative(root, f);
  return `| ${name} | ${ms(warm.native[f])} | ${ms(warm.wasm[f])} | ${(warm.wasm[f] / warm.native[f]).toFixed(1)}× |`;
});
const list = (a) => a.map((v) => Math.round(v)).join(', ');
const md = `# esbuild-wasm against native esbuild (compiling the user's script)

The engine compiles the user's script with esbuild (src/worker/compileScript.ts). Measured here: **esbuild-wasm**
0.28.2 (one WebAssembly binary for every platform: one universal .vsix) against **native esbuild** 0.28.2 (one
binary per platform: one .vsix per platform). Measured by \`node bench/esbuildWasm.mjs\` (${started.toISOString()}),
Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model?.trim()}, load average
${load0.map((v) => v.toFixed(1)).join(' / ')} at the start and ${load1.map((v) => v.toFixed(1)).join(' / ')} at the end
(1 / 5 / 15 min). The two engines alternate, so both see the same machine. Times are compileScript's own
(instrumentation with the TypeScript parser included: the same for both engines).

## First compile in a fresh process (starts esbuild's service: every run's worker pays it)

examples/frozen-predict.ts, ${RUNS} fresh processes each:

| engine | median | runs |
| --- | --- | --- |
| native esbuild | ${ms(median(first.native))} | ${list(first.native)} |
| esbuild-wasm | ${ms(median(first.wasm))} | ${list(first.wasm)} |

## Engine cold start: spawn → first snapshot (EngineSession, fresh worker; goal ≤ 1.5 s)

examples/frozen-predict.ts (its first step point, the first predict), ${RUNS} sessions each:

| engine | median | runs |
| --- | --- | --- |
| native esbuild | ${ms(median(engine.native))} | ${list(engine.native)} |
| esbuild-wasm | ${ms(median(engine.wasm))} | ${list(engine.wasm)} |

## Warm compiles (service running; median of 7 per file)

| script | native esbuild | esbuild-wasm | ratio |
| --- | --- | --- | --- |
${rows.join('\n')}
`;
writeFileSync(join(out, 'results.md'), md);
log(`wrote ${relative(root, join(out, 'results.md'))} (bench/esbuild-wasm.md quotes a run of it)`);
console.log(md);
