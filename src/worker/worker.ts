/**
 * Engine worker (bundled to dist/worker.js, tfjs inside): runs ONE user script.
 *
 *   setup tfjs (tfjsRuntime) ‖ compile the script (compileScript)  ->  'compiled'
 *   import the bundle; at each step point the instrumented code calls __bnStep(file, point):
 *     snapshot every BN layer -> packStep -> post 'step' (buffer transferred)
 *     if the pause policy says so: block (Atomics.wait on WorkerInit.control) and read the host's
 *     command synchronously from the command port (resume with a new policy, or stop)
 *   the script's console output is posted as 'console' messages, in order
 *   'done' when the event loop drains (normal end) or at the first uncaught error / rejection
 */
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { format } from 'node:util';
import { pathToFileURL } from 'node:url';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort as NodePort } from 'node:worker_threads';
import type {
  HostToWorker,
  PausePolicy,
  ScriptError,
  StepSnapshot,
  WorkerInit,
  WorkerToHost,
} from '../shared/protocol';
import { packStep } from '../shared/snapshotCodec';
import { compileScript, stopCompiler, type CompiledScript } from './compileScript';
import { isTfjsNoise, setupTfjs, type TfjsRuntime } from './tfjsRuntime';

const init = workerData as WorkerInit<NodePort>;
const port = parentPort!;
const control = new Int32Array(init.control);
const commandPort = init.commandPort;

function post(msg: WorkerToHost, transfer?: ArrayBuffer[]): void {
  port.postMessage(msg, transfer);
}

// ---------------------------------------------------------------------------------------------
// console capture: everything the script prints, in order, as 'console' messages

const rawWrite = {
  stdout: process.stdout.write.bind(process.stdout),
  stderr: process.stderr.write.bind(process.stderr),
};
let consoleCaptured = false;
function captureOutput(): void {
  if (consoleCaptured) return;
  consoleCaptured = true;
  for (const stream of ['stdout', 'stderr'] as const) {
    (process[stream] as any).write = (chunk: unknown, enc?: unknown, cb?: unknown) => {
      const text =
        typeof chunk === 'string'
          ? chunk
          : Buffer.from(chunk as Uint8Array).toString(typeof enc === 'string' ? (enc as BufferEncoding) : 'utf8');
      if (text && !isTfjsNoise(text)) post({ type: 'console', stream, text });
      const done = typeof enc === 'function' ? enc : cb;
      if (typeof done === 'function') (done as () => void)();
      return true;
    };
  }
  // the worker's console is asynchronous by default; write through our synchronous streams instead
  const out =
    (stream: 'stdout' | 'stderr') =>
    (...args: unknown[]) => {
      const text = format(...args);
      if (!isTfjsNoise(text)) post({ type: 'console', stream, text: text + '\n' });
    };
  console.log = out('stdout');
  console.info = out('stdout');
  console.debug = out('stdout');
  console.warn = out('stderr');
  console.error = out('stderr');
  console.trace = (...args: unknown[]) => {
    const e = new Error(format(...args));
    e.name = 'Trace';
    post({ type: 'console', stream: 'stderr', text: String(e.stack) + '\n' });
  };
}

/** BN_INSPECTOR_TRACE=1: timings of the worker's phases on the real stderr */
const traceOn = !!process.env.BN_INSPECTOR_TRACE;
/** BN_INSPECTOR_TRACE=steps: also the cost of every step */
const traceSteps = process.env.BN_INSPECTOR_TRACE === 'steps';
const t0 = performance.now();
function trace(what: string): void {
  if (traceOn) rawWrite.stderr(`[bn-inspector worker] ${(performance.now() - t0).toFixed(1)} ms ${what}\n`);
}

// ---------------------------------------------------------------------------------------------
// errors

let compiled: CompiledScript | null = null;

function toScriptError(e: unknown, kind: ScriptError['kind'] = 'run'): ScriptError {
  const err = e instanceof Error ? e : null;
  const message = err ? err.message : typeof e === 'string' ? e : safeString(e);
  let stack = '';
  try {
    stack = err?.stack ? String(err.stack) : `${message}`;
  } catch {
    stack = message;
  }
  let line: number | null = null;
  let column: number | null = null;
  let file: string | null = null;
  if (compiled) {
    const userFiles = compiled.files;
    // frames look like "at f (/abs/file.ts:7:9)" or "at file:///abs/file.ts:7:9"
    const frame = /(?:\(|at )((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?\s*$/;
    for (const l of stack.split('\n').slice(1)) {
      const m = frame.exec(l.trim());
      if (!m) continue;
      let f = m[1];
      if (f.startsWith('file://')) {
        try {
          f = decodeURIComponent(new URL(f).pathname);
        } catch {
          continue;
        }
      }
      if (userFiles.includes(f)) {
        file = f;
        line = Number(m[2]);
        column = Number(m[3]);
        break;
      }
    }
  }
  return { kind, message, line, column, stack: trimEngineFrames(stack), file };
}

/** Drops the engine's own frames below the script (the module loader, the worker's main). */
function trimEngineFrames(stack: string): string {
  const lines = stack.split('\n');
  let end = lines.length;
  while (
    end > 1 &&
    /^\s+at /.test(lines[end - 1]) &&
    /node:internal|[\\/]worker\.js:\d+|\bModuleJob\.run\b/.test(lines[end - 1])
  )
    end--;
  return lines.slice(0, end).join('\n');
}

function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

let finished = false;
function finish(error: ScriptError | null): void {
  if (finished) return;
  finished = true;
  cleanupBundle();
  post({ type: 'done', error });
}

function fail(e: unknown): never {
  finish(toScriptError(e));
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// steps and pausing

let policy: PausePolicy = init.pause ?? { kind: 'none' };
/** for a 'line' policy: the step point (file index, point index) it resolves to; null = none */
let target: { file: number; point: number } | null = null;
let stepIndex = 0;
let hits: number[][] = [];
let rt: TfjsRuntime | null = null;

function resolvePolicy(p: PausePolicy): void {
  policy = p;
  target = null;
  if (p.kind !== 'line' || !compiled) return;
  const f = compiled.files.indexOf(p.file);
  if (f < 0) return;
  // the first step point at or after the line (run to cursor)
  const pts = compiled.points[f];
  let best = -1;
  for (let k = 0; k < pts.length; k++)
    if (pts[k].line >= p.line && (best < 0 || pts[k].start < pts[best].start)) best = k;
  if (best >= 0) target = { file: f, point: best };
}

function handleCommand(cmd: HostToWorker): void {
  if (cmd.type === 'stop') {
    finish({ kind: 'stopped', message: 'stopped', line: null, column: null, stack: '' });
    process.exit(0);
  }
  if (cmd.type === 'resume') resolvePolicy(cmd.pause);
}

/** Commands that came while running (a new policy, stop): read without blocking. */
function pollCommands(): void {
  for (let m = receiveMessageOnPort(commandPort); m; m = receiveMessageOnPort(commandPort))
    handleCommand(m.message as HostToWorker);
}

/** Blocks the worker until the host sends a command. */
function waitForCommand(): void {
  for (;;) {
    const seen = Atomics.load(control, 0);
    const m = receiveMessageOnPort(commandPort);
    if (m) {
      handleCommand(m.message as HostToWorker);
      return;
    }
    Atomics.wait(control, 0, seen);
  }
}

function shouldPause(file: number, point: number): boolean {
  if (policy.kind === 'next') return true;
  if (policy.kind === 'line') return target !== null && target.file === file && target.point === point;
  return false;
}

function step(file: number, point: number): void {
  if (!compiled || !rt) return;
  cleanupBundle();
  pollCommands();
  const p = compiled.points[file]?.[point];
  if (!p) return;
  const hit = ++hits[file][point];
  if (stepIndex === 0) trace('first step');
  const ts0 = traceSteps ? performance.now() : 0;
  const snap: StepSnapshot = {
    index: ++stepIndex,
    line: p.line,
    column: p.column,
    file: compiled.files[file],
    hit,
    layers: rt.bn.snapshotLayers(),
  };
  const buffer = packStep(snap);
  if (traceSteps)
    trace(`step ${snap.index}: snapshot + pack ${(performance.now() - ts0).toFixed(2)} ms, ${buffer.byteLength} bytes`);
  const paused = shouldPause(file, point);
  post({ type: 'step', buffer, paused }, [buffer]);
  if (paused) waitForCommand();
}

(globalThis as any).__bnStep = step;
(globalThis as any).__bnStepValue = (file: number, point: number, value: unknown) => {
  step(file, point);
  return value;
};

let bundleFile: string | null = null;
function cleanupBundle(): void {
  if (!bundleFile) return;
  const f = bundleFile;
  bundleFile = null;
  try {
    rmSync(f, { force: true });
  } catch {
    /* gone already */
  }
}
// the bundle's banner calls this when the module starts evaluating: its text has been read by then
(globalThis as any).__bnBundleLoaded = () => cleanupBundle();

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  trace(`worker module loaded (${t0.toFixed(0)} ms after the worker thread started)`);
  process.setSourceMapsEnabled(true);
  // compile while tfjs starts (esbuild works in its own process; instrumentation runs in between)
  const compiling = compileScript({ scriptPath: init.scriptPath, sourceText: init.sourceText });
  const runtime = await setupTfjs(init.backend, (text) => post({ type: 'console', stream: 'stderr', text }));
  trace(
    `tfjs ready (${runtime.setupMs.toFixed(1)} ms, ${runtime.backend}, batch statistics: ${runtime.bn.captureMode()}${runtime.bn.captureNote() ? ': ' + runtime.bn.captureNote() : ''}, kernels: ${runtime.kernels.join(' ')})`,
  );
  rt = runtime;
  const c = await compiling;
  trace(`compiled (${c.ms.toFixed(1)} ms)`);
  await stopCompiler();
  if (!c.ok) {
    post({ type: 'compiled', stepPoints: {}, tfjs: runtime.version, backend: runtime.backend });
    finish(c.error);
    return;
  }
  compiled = c;
  bundleFile = c.outFile;
  hits = c.points.map((pts) => pts.map(() => 0));
  resolvePolicy(policy);
  const stepPoints: Record<string, (typeof c.points)[number]> = {};
  c.files.forEach((f, i) => (stepPoints[f] = c.points[i]));
  post({ type: 'compiled', stepPoints, tfjs: runtime.version, backend: runtime.backend });

  captureOutput();
  for (const w of c.warnings) post({ type: 'console', stream: 'stderr', text: `[bn-inspector] ${w}\n` });
  process.on('uncaughtException', (e) => fail(e));
  process.on('unhandledRejection', (e) => fail(e));
  process.on('beforeExit', () => finish(null));
  // CommonJS code inside the bundle (and `require` in the user's ESM) resolves from the script's folder
  (globalThis as any).require = createRequire(init.scriptPath);
  // the script sees itself as the program, as under `node script`
  process.argv = [process.execPath, init.scriptPath];
  try {
    trace('importing the script');
    await import(pathToFileURL(c.outFile).href);
    trace('script module settled');
  } catch (e) {
    fail(e);
  } finally {
    if (existsSync(c.outFile)) cleanupBundle();
  }
  // the script may still have work queued (an un-awaited main(), timers): 'done' comes at beforeExit
}

main().catch((e) => {
  // an engine failure (tfjs setup, esbuild): report it as an error without a user position
  captureOutput();
  finish({ ...toScriptError(e, 'crash'), line: null, column: null });
  process.exit(1);
});
