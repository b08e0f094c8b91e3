// What every goal script of bench/scripts/ does around its training: optional warm-up calls (BENCH_WARMUP, default
// 0), then ONE timed call, and one line `BENCH_RESULT {json}` on stdout with the time the script itself measured.
// The same file runs in plain Node (stock tfjs, cpu backend) and inside bn-inspect (the engine's tfjs).
//
//   fitMs      wall time of the timed call (model.fit of all its steps)
//   fitCpuMs   process CPU time over the same call (all threads of the process)
//   stepMs     per-step wall times inside the timed call
//   warmupMs   wall times of the warm-up calls (the first one is the cold call a user's script pays)

/**
 * @param {any} tf the script's tfjs
 * @param {{ name: string, train: () => Promise<{ times: number[] }> }} spec one training call (a fit)
 */
export async function runBenchScript(tf, { name, train }) {
  const warmup = Number(process.env.BENCH_WARMUP ?? 0);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`BENCH_WARMUP must be an integer >= 0, got ${warmup}`);
  const warmupMs = [];
  for (let i = 0; i < warmup; i++) {
    const t0 = performance.now();
    await train();
    warmupMs.push(performance.now() - t0);
  }
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await train();
  const fitMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const r1 = (v) => Math.round(v * 10) / 10;
  const result = {
    name,
    backend: tf.getBackend(),
    // the wasm backend's XNNPACK thread count (1 in the single-threaded build), null on other backends
    threads: tf.backend()?.wasm?._get_threads_count?.() ?? null,
    tfjs: tf.version?.tfjs ?? null,
    fitMs: r1(fitMs),
    fitCpuMs: r1((c.user + c.system) / 1000),
    stepMs: r.times.map(r1),
    warmupMs: warmupMs.map(r1),
  };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
  return result;
}
