/**
 * The user-script compiler, esbuild-wasm against native esbuild; bundled twice by bench/esbuildWasm.mjs (once as is,
 * native, once with bench/esbuildWasmCompiler.ts in place of src/worker/esbuildNative.ts) and run one part per child
 * process:
 *
 *   first  FILE          the first compileScript in a fresh process (starts esbuild's service: the worker's case)
 *   warm   FILE...       every FILE compiled REPEAT times after one warm-up compile; median per file
 *   engine WORKER FILE   a fresh EngineSession on WORKER: spawn -> first snapshot of FILE
 *
 * JSON on stdout.
 */
import { rmSync } from 'node:fs';
import { compileScript, stopCompiler } from '../src/worker/compileScript';
import { EngineSession } from '../src/engineHost/engineSession';

function median(a: number[]): number {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function compileOnce(file: string): Promise<number> {
  const t0 = performance.now();
  const r = await compileScript({ scriptPath: file });
  const ms = performance.now() - t0;
  if (!r.ok) throw new Error(`${file}: ${r.error.message}`);
  rmSync(r.outFile, { force: true });
  return ms;
}

async function main(): Promise<unknown> {
  const [part, ...args] = process.argv.slice(2);
  if (part === 'first') {
    const ms = await compileOnce(args[0]);
    await stopCompiler();
    return { ms };
  }
  if (part === 'warm') {
    const repeat = Number(process.env.BN_BENCH_REPEAT ?? 7);
    await compileOnce(args[0]);
    const out: Record<string, number> = {};
    for (const f of args) {
      const t: number[] = [];
      for (let i = 0; i < repeat; i++) t.push(await compileOnce(f));
      out[f] = median(t);
    }
    await stopCompiler();
    return out;
  }
  if (part === 'engine') {
    const s = new EngineSession({ scriptPath: args[1], workerPath: args[0] });
    const t0 = performance.now();
    const first = new Promise<number>((res) => s.on('step', () => res(performance.now() - t0)));
    s.start();
    const ms = await first;
    s.stop();
    await s.done;
    return { ms };
  }
  throw new Error(`usage: esbuildWasmBench first FILE | warm FILE... | engine WORKER FILE (got ${part})`);
}

main().then(
  (r) => {
    process.stdout.write(JSON.stringify(r) + '\n');
    process.exit(0);
  },
  (e) => {
    process.stderr.write(String(e?.stack ?? e) + '\n');
    process.exit(1);
  },
);
