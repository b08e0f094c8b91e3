/**
 * Engine worker (bundled to dist/worker.js, tfjs inside): runs ONE user script.
 *
 *   setup tfjs (tfjsRuntime) ‖ compile the script (compileScript)  ->  'compiled'
 *   import the bundle; at each step point the instrumented code calls __bnStep(file, point):
 *     if every layer call since the previous reach only built a model (modelBuilding.ts): no step; post
 *       'modelBuilding' the first time for this point
 *     else snapshot every BN layer -> packStep -> post 'step' (buffer transferred)
 *     if the pause policy says so (pauseControl): block (Atomics.wait on WorkerInit.control) and read the host's
 *     command synchronously from the command port (resume with a new policy, or stop)
 *   the script's console output is posted as 'console' messages, in order (consoleCapture)
 *   'done' when the event loop drains (normal end) or at the first uncaught error / rejection
 * Every BatchNormalization call follows WorkerInit.semantics (bnSemantics.ts); the script's Math.random is seeded
 * (seededRandom.ts), so two runs of one script compute the same thing up to the semantics.
 *
 * A warm spare (WorkerSpareData, src/engineHost/runnerPool.ts) first sets up tfjs, warms the compiler and the
 * kernels (kernelWarmUp.ts), says 'spareReady' and waits for its run (the runner's 'init'); its messages until then
 * wait with it. Loaded by dist/runner.js with a V8 code cache (src/runner/cachedWorkerLoad.ts): the user's bundle is
 * imported through it.
 *
 * One unit (about 300 lines) on purpose: it is the worker's one lifecycle (start, compile, run, steps, end), and
 * its parts share the same module state (the run, the compiled script, the runtime, the pause control, the hits).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData, type MessagePort as NodePort } from 'node:worker_threads';
import { join } from 'node:path';
import type {
  RunnerToSpareWorker,
  ScriptError,
  SpareWorkerToRunner,
  StepSnapshot,
  WorkerInit,
  WorkerSpareData,
  WorkerToHost,
} from '../shared/protocol';
import { packStep } from '../shared/snapshotCodec';
import { compileScript, stopCompiler, type CompiledScript } from './compileScript';
import { removeBundle } from './privateBundle';
import { captureOutput, rawWrite } from './consoleCapture';
import { installDeferredCaCerts } from './deferredCaCerts';
import { warmUpKernels } from './kernelWarmUp';
import { installModelBuildingProbe, type ModelBuildingProbe } from './modelBuilding';
import { PauseControl } from './pauseControl';
import { scriptGlobals } from './scriptGlobals';
import { seedMathRandom } from './seededRandom';
import { toScriptError as toScriptErrorIn } from './scriptErrors';
import { setupTfjs, type TfjsRuntime } from './tfjsRuntime';

type RunInit = Omit<WorkerInit<never>, 'control' | 'commandPort'>;
/** set when dist/runner.js loaded this bundle with the V8 code cache (src/runner/cachedWorkerLoad.ts) */
const loader = (globalThis as Record<symbol, unknown>)[Symbol.for('bn-inspector.workerLoader')] as
  | {
      importModule(url: string): Promise<unknown>;
      saveCodeCache(): void;
      cache: string;
      compileMs: number;
      loaderAt: number;
      startedAt: number;
    }
  | undefined;
// NODE_EXTRA_CA_CERTS, deferred by the host (its start-up cost), is back before anything of the script's runs
installDeferredCaCerts();
const data = workerData as WorkerInit<NodePort> | WorkerSpareData<NodePort>;
/** a warm spare (src/engineHost/runnerPool.ts): set up first, the run ('init' from the runner) comes later */
const spare = 'spare' in data && data.spare === true;
const port = parentPort!;
const control = new Int32Array(data.control);
const commandPort = data.commandPort;
/** the run: from workerData, or (a spare) from the runner's 'init' message */
const runInit: Promise<RunInit> = spare
  ? new Promise((resolve) => port.once('message', (m: RunnerToSpareWorker) => resolve(m.init)))
  : Promise.resolve(data as WorkerInit<NodePort>);
let runKnown = !spare;
void runInit.then(() => (runKnown = true));

/** a spare's messages before it has a run (tfjs's fallback warning) wait for the run */
let held: [WorkerToHost, ArrayBuffer[] | undefined][] | null = spare ? [] : null;
function post(msg: WorkerToHost, transfer?: ArrayBuffer[]): void {
  if (held) held.push([msg, transfer]);
  else port.postMessage(msg, transfer);
}
function releaseHeld(): void {
  const h = held ?? [];
  held = null;
  for (const [m, t] of h) port.postMessage(m, t);
}

// ---------------------------------------------------------------------------------------------
// tracing

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
  return toScriptErrorIn(e, compiled?.files ?? null, kind);
}

let finished = false;
function finish(error: ScriptError | null): void {
  if (finished) return;
  finished = true;
  cleanupBundle();
  post({ type: 'done', error });
  // the run is over for the host: the code cache of this bundle, if missing (once per bundle and machine)
  loader?.saveCodeCache();
}

function fail(e: unknown): never {
  finish(toScriptError(e));
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// steps and pausing

let stepIndex = 0;
/** the script's module (its top-level awaits included) has settled */
let moduleSettled = false;
let hits: number[][] = [];
/** per step point: 'modelBuilding' was posted for it */
let buildingPosted: boolean[][] = [];
let rt: TfjsRuntime | null = null;
let probe: ModelBuildingProbe | null = null;
let pause: PauseControl = null!; // made in main(), once the run's pause policy is known

function step(file: number, point: number): void {
  if (!compiled || !rt) return;
  cleanupBundle();
  pause.pollCommands();
  const p = compiled.points[file]?.[point];
  if (!p) return;
  // a `// @step` line is the user's explicit request: always a step (even right after loading a model, whose
  // deserialisation applies its layers to symbolic tensors)
  if (probe?.takeReach() === 'modelBuilding' && p.reason !== '@step') {
    modelBuilding(file, point, p.line);
    return;
  }
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
  const paused = pause.shouldPause(file, point);
  post({ type: 'step', buffer, paused }, [buffer]);
  // the code cache, if missing, right after the first step: start-up (tfjs, the compile, the import, a snapshot)
  // has run, and nothing yet has aged its code out (a long run's end would cache much less: cachedWorkerLoad.ts)
  if (snap.index === 1) loader?.saveCodeCache();
  if (paused) pause.waitForCommand();
}

/** A reach that only built a model: not a step (no snapshot, no index, no hit, no pause). */
function modelBuilding(file: number, point: number, line: number): void {
  pause.passedAsModelBuilding(file, point);
  if (buildingPosted[file][point]) return;
  buildingPosted[file][point] = true;
  post({ type: 'modelBuilding', file: compiled!.files[file], point, line });
}

scriptGlobals.__bnStep = step;
scriptGlobals.__bnStepValue = (file: number, point: number, value: unknown) => {
  step(file, point);
  return value;
};

let bundleFile: string | null = null;
function cleanupBundle(): void {
  if (!bundleFile) return;
  const f = bundleFile;
  bundleFile = null;
  removeBundle(f);
}
// the bundle's banner calls this when the module starts evaluating: its text has been read by then
scriptGlobals.__bnBundleLoaded = () => cleanupBundle();

// ---------------------------------------------------------------------------------------------

/** a script for a spare's compiler warm-up: esbuild's service starts, the step-point parser loads and runs once */
const WARM_UP_SOURCE = `import * as tf from '@tensorflow/tfjs';
const m = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
// @step
m.predict(tf.zeros([1, 1]));
`;

/** a spare, before its run: tfjs and the backend are set up, the compiler and the kernels warm; then the run's init */
async function prepareSpare(backend: WorkerSpareData<NodePort>['backend']): Promise<RunInit> {
  const { tf } = await setupTfjs(backend, (text) => post({ type: 'console', stream: 'stderr', text }));
  trace('spare: tfjs ready');
  if (!runKnown) {
    // never on disk: the entry's text is given; its folder (dist/) only anchors esbuild's resolution
    const warm = await compileScript({
      scriptPath: join(__dirname, 'bn-inspector-warm-up.ts'),
      sourceText: WARM_UP_SOURCE,
    });
    if (warm.ok) removeBundle(warm.outFile);
    trace(`spare: compiler warm (${warm.ms.toFixed(1)} ms)`);
  }
  // the code cache, if missing, is written now: before the kernels' warm-up adds its functions (see cachedWorkerLoad.ts)
  if (!runKnown) loader?.saveCodeCache();
  // the kernels' warm-up (kernelWarmUp.ts): the run's first fit on compiled code; it stops when the run comes. Ready
  // after it: a run that comes meanwhile waits at most one warm-up step (a cold process takes longer to set up)
  if (!runKnown && tf.getBackend() === 'wasm' && process.env.BN_INSPECTOR_WARM_UP !== '0') {
    try {
      const w = await warmUpKernels(tf, 4, () => runKnown);
      trace(`spare: kernels warm (${w.ms.toFixed(1)} ms, ${w.steps} steps)`);
    } catch (e) {
      trace(`spare: the kernel warm-up failed: ${(e as Error)?.message ?? e}`);
    }
  }
  const ready: SpareWorkerToRunner = { type: 'spareReady' };
  port.postMessage(ready);
  const init = await runInit;
  trace('spare: the run came');
  releaseHeld();
  return init;
}

async function main(): Promise<void> {
  trace(
    `worker module loaded (${t0.toFixed(0)} ms after the worker thread started; ${loader ? `loader began at ${loader.loaderAt.toFixed(1)} ms, code cache: ${loader.cache}, read + compile ${loader.compileMs.toFixed(1)} ms, modules' evaluation ${(t0 - loader.startedAt).toFixed(1)} ms` : 'no code cache'})`,
  );
  process.setSourceMapsEnabled(true);
  const init = spare ? await prepareSpare((data as WorkerSpareData<NodePort>).backend) : (data as WorkerInit<NodePort>);
  pause = new PauseControl(control, commandPort, init.pause ?? { kind: 'none' }, () => {
    finish({ kind: 'stopped', message: 'stopped', line: null, column: null, stack: '' });
    process.exit(0);
  });
  // compile while tfjs starts (esbuild works in its own process; instrumentation runs in between); a spare's tfjs is
  // set up already: setupTfjs returns it
  const compiling = compileScript({ scriptPath: init.scriptPath, sourceText: init.sourceText });
  const runtime = await setupTfjs(init.backend, (text) => post({ type: 'console', stream: 'stderr', text }));
  trace(
    `tfjs ready (${runtime.setupMs.toFixed(1)} ms, ${runtime.backend}, batch statistics: ${runtime.bn.captureMode()}${runtime.bn.captureNote() ? ': ' + runtime.bn.captureNote() : ''}, kernels: ${runtime.kernels.join(' ')})`,
  );
  rt = runtime;
  // every BatchNormalization call follows the run's semantics (bnSemantics.ts); 'tfjs' changes nothing
  runtime.bn.setSemantics(init.semantics ?? 'tfjs');
  probe = installModelBuildingProbe(runtime.tf);
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
  buildingPosted = c.points.map((pts) => pts.map(() => false));
  runtime.bn.sources.userFiles = c.files;
  pause.script = c;
  pause.resolvePolicy();
  const stepPoints: Record<string, (typeof c.points)[number]> = {};
  c.files.forEach((f, i) => (stepPoints[f] = c.points[i]));
  post({ type: 'compiled', stepPoints, tfjs: runtime.version, backend: runtime.backend });

  captureOutput(post);
  for (const w of c.warnings) post({ type: 'console', stream: 'stderr', text: `[bn-inspector] ${w}\n` });
  process.on('uncaughtException', (e) => fail(e));
  process.on('unhandledRejection', (e) => fail(e));
  process.on('beforeExit', () => {
    // as in Node (exit code 13): a top-level await that can no longer settle is an error, not an end
    if (!moduleSettled)
      finish({
        kind: 'run',
        message:
          'the script never finished: a top-level await is still waiting for a promise that nothing can settle any more (Node exits with code 13 here)',
        line: null,
        column: null,
        stack: '',
      });
    else finish(null);
  });
  // CommonJS code inside the bundle (and `require` in the user's ESM) resolves from the script's folder
  scriptGlobals.require = createRequire(init.scriptPath);
  // the script sees itself as the program, as under `node script`
  process.argv = [process.execPath, init.scriptPath];
  // repeatable runs: the same initial weights and fit shuffling every run, under every semantics
  seedMathRandom();
  try {
    trace('importing the script');
    // compiled by vm.Script (code cache), this bundle has no loader for import(): the runner's own import() then
    const url = pathToFileURL(c.outFile).href;
    await (loader ? loader.importModule(url) : import(url));
    moduleSettled = true;
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
  captureOutput(post);
  finish({ ...toScriptError(e, 'crash'), line: null, column: null });
  process.exit(1);
});
