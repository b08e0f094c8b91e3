/**
 * Runs dist/worker.js in the worker thread with a V8 code cache (issue 11, item 5): the bundle is 5 MB (tfjs; it was
 * 15 MB with the TypeScript parser, now dist/tsInstrument.js, loaded only for the files the light step-point finder
 * cannot read), and compiling it took much of every cold start; from the cache it takes a few ms.
 *
 * - The runner starts its worker thread on dist/runner.js itself (this module, in the thread), which compiles
 *   worker.js with `vm.Script` and `cachedData`, and runs it as a CommonJS module (its own `require`, `module`,
 *   `__filename`, `__dirname`: the same as when Node loads it).
 * - The cache lives in a private per-user folder (XDG_CACHE_HOME or ~/.cache, ~/Library/Caches, %LOCALAPPDATA%:
 *   bn-inspector/code-cache, mode 0700, used only if it is a real folder owned by this user and closed to others),
 *   never in a shared temporary folder: code read from there would run. The file's name is a hash of the bundle's
 *   path, size and mtime and V8's version and arch: another bundle never reads it (V8 itself checks little more
 *   than the source's length).
 * - The cache is written once, after the worker has done its start-up work (the functions compiled by then are in
 *   it): the worker calls `saveCodeCache` when idle (a spare waiting for its run), right after its first step, or
 *   when its run has ended without a step. Not later: V8 drops the bytecode of functions unused for a while, so a
 *   cache written at the end of a long run held a third less (1.1 MB instead of 1.7 after a MobileNetV2 fit,
 *   measured) and every later cold start compiled the rest again (400 ms to the first snapshot instead of 284).
 *   A cache written more than LATE_CACHE_MS after the loader began (a first step after a long computation, the end
 *   of a long run) may already lack start-up's functions: a MobileNetV2 script whose first step came after its fit
 *   wrote 1.15 MB instead of 1.7, and cold starts from it took ~500 ms instead of ~300 (measured, alternating). Such
 *   a cache goes to a `.late` name and is only used while there is no other; the next run that saves early writes
 *   the regular one and removes it. (Keeping V8 from dropping bytecode, `--no-flush-bytecode` for the runner, made
 *   late caches whole but cost every cold start ~80 ms: not used.)
 *   It is written to a temporary name and renamed (two processes may write at once). A rejected cache is
 *   rewritten. The newest 4 caches of a bundle name are kept (older builds, other Node / Electron versions), the
 *   others deleted, and so are temporary files a killed process left (older than an hour).
 * - Code compiled by `vm.Script` has no module loader for `import()`: the worker imports the user's bundle through
 *   `importModule`, this module's own `import()`.
 * Any failure of the cache (no folder, unreadable, rejected) only costs the compile: the worker always runs.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** What the worker (dist/worker.js) finds at globalThis[WORKER_LOADER]. */
export interface WorkerLoaderHooks {
  /** `import(url)` for code compiled here */
  importModule(url: string): Promise<unknown>;
  /** writes the code cache if it is missing, was rejected, or was a late one (once; cheap afterwards) */
  saveCodeCache(): void;
  /**
   * how the bundle was compiled: 'cache' (accepted), 'late' (accepted, a cache written late: see above), 'rejected',
   * 'none' (no cache yet or no folder)
   */
  readonly cache: 'cache' | 'late' | 'rejected' | 'none';
  /** ms spent reading and compiling the bundle */
  readonly compileMs: number;
  /** performance.now() when the loader began (the thread's own start-up before it) */
  readonly loaderAt: number;
  /** performance.now() when the bundle started to run (its modules' evaluation) */
  readonly startedAt: number;
}

export const WORKER_LOADER = Symbol.for('bn-inspector.workerLoader');

/** a code cache written later than this after the loader began is a `.late` one (see above) */
export const LATE_CACHE_MS = 3000;

/** the private cache folder, created if missing; null where it cannot be made safe */
export function codeCacheDir(): string | null {
  const env = process.env;
  const base =
    process.platform === 'win32'
      ? env.LOCALAPPDATA
      : process.platform === 'darwin'
        ? join(homedir(), 'Library', 'Caches')
        : env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/')
          ? env.XDG_CACHE_HOME
          : join(homedir(), '.cache');
  if (!base) return null;
  const dir = join(base, 'bn-inspector', 'code-cache');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (process.platform !== 'win32') {
      const st = lstatSync(dir);
      const uid = process.getuid?.();
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) return null;
    }
    return dir;
  } catch {
    return null;
  }
}

function cacheFileFor(dir: string, file: string): string {
  const st = statSync(file);
  const key = [file, st.size, st.mtimeMs, process.versions.v8, process.arch].join('\n');
  return join(dir, `${basename(file)}-${createHash('sha256').update(key).digest('hex').slice(0, 32)}.v8cache`);
}

function readCache(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** caches kept per bundle name (older builds of it, other Node / Electron versions): the newest few */
const KEEP_CACHES = 4;

function pruneOldCaches(dir: string, file: string): void {
  const prefix = `${basename(file)}-`;
  const caches = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.v8cache'))
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { f } of caches.slice(KEEP_CACHES)) rmSync(join(dir, f), { force: true });
  // a process killed while writing leaves its temporary file (`<cache>.<pid>.tmp`)
  const stale = Date.now() - 3600_000;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(prefix) || !f.endsWith('.tmp')) continue;
    try {
      if (statSync(join(dir, f)).mtimeMs < stale) rmSync(join(dir, f), { force: true });
    } catch {
      /* gone already */
    }
  }
}

/** Compiles `file` (a CommonJS bundle) with the code cache and runs it as a module of this thread. */
export function runWithCodeCache(file: string): void {
  const t0 = performance.now();
  const source = readFileSync(file, 'utf8');
  const dir = codeCacheDir();
  let cachePath: string | null = null;
  try {
    cachePath = dir ? cacheFileFor(dir, file) : null;
  } catch {
    cachePath = null;
  }
  const latePath = cachePath && cachePath.replace(/\.v8cache$/, '.late.v8cache');
  let cachedData = cachePath ? readCache(cachePath) : undefined;
  const fromLate = cachedData === undefined && latePath !== null;
  if (fromLate) cachedData = readCache(latePath);
  // the wrapper of Node's CommonJS loader: (exports, require, module, __filename, __dirname)
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, {
    filename: file,
    cachedData,
  });
  const cache =
    cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : fromLate ? 'late' : 'cache';
  const compileMs = performance.now() - t0;
  let saved = cache === 'cache';
  const hooks: WorkerLoaderHooks = {
    importModule: (url) => import(url),
    saveCodeCache() {
      if (saved || !cachePath || !latePath) return;
      saved = true;
      const late = performance.now() - t0 > LATE_CACHE_MS;
      // a late cache is kept until an early one replaces it
      if (late && cache === 'late') return;
      const target = late ? latePath : cachePath;
      const tmp = `${target}.${process.pid}.tmp`;
      try {
        const fd = openSync(tmp, 'wx', 0o600);
        try {
          writeSync(fd, script.createCachedData());
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, target);
        if (!late) rmSync(latePath, { force: true });
        pruneOldCaches(dirname(cachePath), file);
      } catch {
        rmSync(tmp, { force: true });
      }
    },
    cache,
    compileMs,
    loaderAt: t0,
    startedAt: 0,
  };
  (globalThis as Record<symbol, unknown>)[WORKER_LOADER] = hooks;
  const run = script.runInThisContext() as (...a: unknown[]) => void;
  (hooks as { startedAt: number }).startedAt = performance.now();
  const mod = { exports: {}, filename: file, id: file, loaded: false };
  run.call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  mod.loaded = true;
}
