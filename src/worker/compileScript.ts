/**
 * Compiles a user's tfjs script for the engine worker with esbuild (native, bundled: ./esbuildNative):
 * - TS and JS, ESM and CommonJS, top-level await: one ES module bundle (platform node), written to a
 *   .mjs file in a private temporary folder of its own (see privateBundlePath) with an inline source map (sourcesContent) back to the user's own files;
 * - `@tensorflow/tfjs`, `-node`, `-core`, `-layers` (and their subpaths) resolve to a virtual module
 *   `module.exports = globalThis.__bnTfjs`: the worker's one instrumented tfjs. The script needs no
 *   node_modules of its own;
 * - every user file (not in node_modules) is instrumented (./instrumentSource), so step points work in the
 *   entry and in the files it imports (fileIndex = position in `files`): by the light finder; a file it cannot read
 *   (JSX, or a syntax error it reports) is compiled as it is, and only if the whole build then succeeds (the error
 *   was not real, or JSX) built again with the TypeScript parser instrumenting those files (its bundle loads in ~1 s);
 * - the entry's text can be replaced by `sourceText` (unsaved editor edits);
 * - other bare imports are bundled from the script's folder as usual.
 * A build error comes back as a ScriptError of kind 'compile' at the user's line and column.
 */
import * as esbuild from './esbuildNative';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ScriptError, StepPoint } from '../shared/protocol';
import { instrumentLight, instrumentSource } from './instrumentSource';
import { privateBundlePath, removeBundle } from './privateBundle';

export interface CompileOptions {
  /** absolute path of the entry script */
  scriptPath: string;
  /** text to compile instead of the entry file's contents */
  sourceText?: string;
  /** insert the step-point calls (default true) */
  instrument?: boolean;
  /** where to write the bundle; default a temporary folder */
  outFile?: string;
}

export interface CompiledScript {
  ok: true;
  /** absolute path of the bundle (.mjs) */
  outFile: string;
  /** absolute paths of the instrumented user files; a step's fileIndex indexes this */
  files: string[];
  /** step points per file, same order as `files` */
  points: StepPoint[][];
  /** files whose text the step-point parser could not read (they run, without step points) */
  warnings: string[];
  ms: number;
}

export interface CompileFailure {
  ok: false;
  error: ScriptError;
  ms: number;
}

/** Packages the engine provides itself (its one, instrumented tfjs). */
export const TFJS_ALIAS = /^@tensorflow\/tfjs(-node|-node-gpu|-core|-layers)?(\/.*)?$/;
const TFJS_WASM_ALIAS = /^@tensorflow\/tfjs-backend-wasm(\/.*)?$/;

const LOADERS: Record<string, esbuild.Loader> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
};

function isUserFile(path: string): boolean {
  return !path.split(sep).includes('node_modules') && extname(path).toLowerCase() in LOADERS;
}

export async function compileScript(opts: CompileOptions): Promise<CompiledScript | CompileFailure> {
  const t0 = performance.now();
  const entry = resolve(opts.scriptPath);
  const instrument = opts.instrument !== false;
  let first = await build(entry, opts, instrument ? { withTypeScript: new Set() } : false);
  if (first.ok && first.unread.length) {
    // esbuild compiled files the light finder could not read: TypeScript instruments them
    removeBundle(first.outFile);
    first = await build(entry, opts, { withTypeScript: new Set(first.unread) });
  }
  if (first.ok) {
    const { unread: _unread, ...compiled } = first;
    return { ...compiled, ms: performance.now() - t0 };
  }
  if (!instrument) return { ...first, ms: performance.now() - t0 };
  // report positions in the user's text exactly: the same build without instrumentation
  const plain = await build(entry, opts, false);
  const failure = plain.ok ? first : plain;
  if (plain.ok) removeBundle(plain.outFile);
  return { ...failure, ms: performance.now() - t0 };
}

/** how build() instruments: not at all, or by the light finder except the files given to TypeScript */
type Instrumenting = false | { withTypeScript: ReadonlySet<string> };

/** a built bundle, and the files the light finder could not read (compiled without step points) */
type Built = Omit<CompiledScript, 'ms'> & { unread: string[] };

async function build(
  entry: string,
  opts: CompileOptions,
  instrument: Instrumenting,
): Promise<Built | Omit<CompileFailure, 'ms'>> {
  const unread: string[] = [];
  const files: string[] = [];
  const points: StepPoint[][] = [];
  const warnings: string[] = [];
  const entryDir = dirname(entry);
  const outFile = opts.outFile ?? privateBundlePath();

  const plugin: esbuild.Plugin = {
    name: 'bn-inspector',
    setup(b) {
      // with sourceText the entry need not exist on disk (an untitled editor)
      if (opts.sourceText !== undefined)
        b.onResolve({ filter: /.*/ }, (a) => (a.kind === 'entry-point' ? { path: entry } : undefined));
      b.onResolve({ filter: TFJS_ALIAS }, () => ({ path: 'tfjs', namespace: 'bn-tfjs' }));
      b.onResolve({ filter: TFJS_WASM_ALIAS }, () => ({ path: 'tfjs-backend-wasm', namespace: 'bn-tfjs' }));
      b.onLoad({ filter: /.*/, namespace: 'bn-tfjs' }, (a) => ({
        contents:
          a.path === 'tfjs' ? 'module.exports = globalThis.__bnTfjs;' : 'module.exports = globalThis.__bnTfjsWasm;',
        loader: 'js',
      }));
      b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (a) => {
        if (!isUserFile(a.path)) return undefined;
        const text = a.path === entry && opts.sourceText !== undefined ? opts.sourceText : readFileSync(a.path, 'utf8');
        const loader = LOADERS[extname(a.path).toLowerCase()];
        if (!instrument) return { contents: text, loader, resolveDir: dirname(a.path) };
        const fileIndex = files.length;
        let r = instrument.withTypeScript.has(a.path)
          ? instrumentSource(text, a.path, fileIndex)
          : instrumentLight(text, a.path, fileIndex);
        if (!r) {
          unread.push(a.path);
          r = { code: text, points: [], syntaxError: null };
        }
        files.push(a.path);
        points.push(r.points);
        if (r.syntaxError)
          warnings.push(
            `${a.path}:${r.syntaxError.line}:${r.syntaxError.column}: ${r.syntaxError.message} (no step points in this file)`,
          );
        return { contents: r.code, loader, resolveDir: dirname(a.path) };
      });
    },
  };

  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      absWorkingDir: entryDir,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outfile: outFile,
      write: false,
      sourcemap: 'inline',
      sourcesContent: true,
      logLevel: 'silent',
      keepNames: false,
      plugins: [plugin],
      // the bundle lives in a temporary folder: give the user's code its own file's identity
      define: {
        __dirname: JSON.stringify(entryDir),
        __filename: JSON.stringify(entry),
        'import.meta.url': JSON.stringify(pathToFileURL(entry).href),
        'import.meta.dirname': JSON.stringify(entryDir),
        'import.meta.filename': JSON.stringify(entry),
      },
      // runs when the module starts evaluating: the worker may delete the file then
      banner: { js: 'globalThis.__bnBundleLoaded?.();' },
    });
    const out = result.outputFiles.find((f) => f.path.endsWith('.mjs')) ?? result.outputFiles[0];
    writeFileSync(outFile, out.contents, { mode: 0o600, flag: opts.outFile ? 'w' : 'wx' });
    return { ok: true, outFile, files, points, warnings, unread };
  } catch (e) {
    if (!opts.outFile) removeBundle(outFile);
    return { ok: false, error: buildError(e, entryDir, entry) };
  }
}

function buildError(e: unknown, workDir: string, entry: string): ScriptError {
  const errors: esbuild.Message[] = (e as esbuild.BuildFailure)?.errors ?? [];
  if (!errors.length) {
    const err = e as Error;
    return {
      kind: 'compile',
      message: String(err?.message ?? e),
      line: null,
      column: null,
      stack: String(err?.stack ?? e),
      file: entry,
    };
  }
  const m = errors[0];
  const loc = m.location;
  let message = m.text;
  const unresolved = /^Could not resolve "([^"]+)"/.exec(m.text);
  if (unresolved && !unresolved[1].startsWith('.') && !unresolved[1].startsWith('/'))
    message += ` (the engine provides @tensorflow/tfjs itself; other packages must be installed in the script's folder)`;
  const file = loc ? resolve(workDir, loc.file) : entry;
  const stack = errors
    .map((x) =>
      x.location
        ? `${resolve(workDir, x.location.file)}:${x.location.line}:${x.location.column + 1}: error: ${x.text}\n    ${x.location.lineText}`
        : `error: ${x.text}`,
    )
    .join('\n');
  return {
    kind: 'compile',
    message,
    line: loc ? loc.line : null,
    column: loc ? loc.column + 1 : null,
    stack,
    file,
  };
}

/** Stops esbuild's service process (it would keep a finished worker alive otherwise). */
export async function stopCompiler(): Promise<void> {
  try {
    await esbuild.stop();
  } catch {
    /* already stopped */
  }
}
