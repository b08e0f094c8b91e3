/**
 * Host side of the engine (no `vscode` import): owns one worker that runs one script, turns its
 * messages into events, and sends it commands. Used by bn-inspect (src/engineHost/cli.ts) and by the
 * extension's session (src/extension/). The host is never blocked by the worker.
 *
 * Each step is handed on as the worker packed it (`PackedStep.buffer`, never re-packed) with its header read;
 * whoever needs the vectors decodes the buffer (snapshotCodec.unpackStep): the CLI, the webview.
 * The API (options, events, result) is engineApi.ts; the time budget runClock.ts; how a worker's exit ends the
 * run workerEnd.ts; the listener lists listeners.ts; the exact step limit stepLimit.ts.
 *
 * What is left, class EngineSession (about 260 lines), is one unit on purpose: it is the lifecycle of one
 * worker (spawn, messages, commands, kill, end), and every part reads and writes the same few fields
 * (worker, command port, paused / ended / endReason) whose order of change is the correctness of a run.
 */
import { resolve } from 'node:path';
import type { Backend, HostToWorker, PausePolicy, ScriptError, StepPoint, WorkerToHost } from '../shared/protocol';
import { readStepHeader, type StepHeader } from '../shared/snapshotCodec';
import type { EndReason, EngineRunResult, EngineSessionEvents, EngineSessionOptions, PackedStep } from './engineApi';
import { BoundedText } from './boundedText';
import { Listeners } from './listeners';
import { ProcessWorker } from './processWorker';
import { defaultRunnerPath, defaultWorkerPath } from './runnerPaths';
import { spareSpecOf } from './runnerPool';
import { RunClock, type ClockPhase } from './runClock';
import { CallerPolicy, PAUSE_AT_EVERY_STEP, inWorkerTerms } from './stepLimit';
import { endOfWorker } from './workerEnd';

export type { EndReason, EngineRunResult, EngineSessionEvents, EngineSessionOptions, PackedStep };

export { defaultRunnerPath, defaultWorkerPath };

/**
 * One run of one script in one worker, in a process of its own (processWorker.ts, src/runner/runner.ts).
 *
 *   const s = new EngineSession({ scriptPath, pause: { kind: 'next' } });
 *   s.on('step', ({ header, buffer }, paused) => { if (paused) s.resume({ kind: 'next' }); });
 *   s.on('end', (result) => …);
 *   s.start();            // or: const result = await s.run();
 */
export class EngineSession {
  readonly options: EngineSessionOptions;
  private readonly listeners = new Listeners<EngineSessionEvents>('BatchNorm Inspector engine');
  private worker: ProcessWorker | null = null;
  private clock: RunClock | null = null;
  /** with maxSteps: the caller's pause policy (the worker itself pauses at every step) */
  private limited: CallerPolicy | null = null;
  /** the user's files with their step points, as the worker names them (from 'compiled') */
  private stepPoints: Record<string, StepPoint[]> = {};
  private giveUpTimer: NodeJS.Timeout | null = null;
  private steps: PackedStep[] = [];
  private stepTotal = 0;
  private lastStep: StepHeader | null = null;
  /** the script's output, bounded (boundedText.ts) */
  private output = new BoundedText();
  private tfjs: string | null = null;
  private backend: Backend;
  private ended = false;
  private endReason: EndReason | null = null;
  private endError: ScriptError | null = null;
  private doneMsg: { error: ScriptError | null } | null = null;
  private workerError: Error | null = null;
  private stderrTail = '';
  private endPromise: Promise<EngineRunResult>;
  private resolveEnd!: (r: EngineRunResult) => void;
  /** the worker is blocked waiting for resume()/stop() */
  paused = false;
  /** ms from start() to the first step (cold start, or from a warm spare: `fromSpare`), null before it */
  firstStepMs: number | null = null;
  /** the run took a warm spare of `options.pool` (else its process was forked at start()) */
  fromSpare = false;
  private startedAt = 0;

  constructor(options: EngineSessionOptions) {
    this.options = { ...options, scriptPath: resolve(options.scriptPath) };
    if (options.maxSteps !== undefined && options.maxSteps > 0)
      this.limited = new CallerPolicy(options.pause ?? { kind: 'none' });
    this.backend = options.backend ?? 'wasm';
    this.endPromise = new Promise((r) => (this.resolveEnd = r));
  }

  on<K extends keyof EngineSessionEvents>(event: K, fn: EngineSessionEvents[K]): this {
    this.listeners.add(event, fn);
    return this;
  }

  off<K extends keyof EngineSessionEvents>(event: K, fn: EngineSessionEvents[K]): this {
    this.listeners.remove(event, fn);
    return this;
  }

  /** resolves once, with the result of the run (the same object 'end' carries) */
  get done(): Promise<EngineRunResult> {
    return this.endPromise;
  }

  /** start() and wait for the end */
  run(): Promise<EngineRunResult> {
    this.start();
    return this.endPromise;
  }

  /** id of the run's process (once started; also its process group's on POSIX) */
  get pid(): number | undefined {
    return this.worker?.pid;
  }

  get stepCount(): number {
    return this.stepTotal;
  }

  start(): void {
    if (this.worker || this.ended) return;
    this.startedAt = performance.now();
    const o = this.options;
    const spec = spareSpecOf(o);
    const memoryMb = spec.heapMb;
    let worker: ProcessWorker;
    try {
      // a warm spare if the pool has one prepared for this run (runnerPool.ts), else a process forked now
      const spare = o.pool?.take(spec) ?? null;
      this.fromSpare = spare !== null;
      worker = new ProcessWorker(spare ?? spec.runnerPath, {
        workerPath: spec.workerPath,
        init: {
          scriptPath: o.scriptPath,
          sourceText: o.sourceText,
          backend: this.backend,
          semantics: o.semantics ?? 'tfjs',
          pause: this.limited ? PAUSE_AT_EVERY_STEP : (o.pause ?? { kind: 'none' }),
        },
        heapMb: memoryMb,
        memoryMb,
        cwd: o.cwd,
      });
    } catch (e) {
      this.finish('crashed', {
        kind: 'crash',
        message: `could not start the engine worker: ${(e as Error).message}`,
        line: null,
        column: null,
        stack: String((e as Error).stack ?? e),
      });
      return;
    }
    this.worker = worker;
    worker.on('message', (m: WorkerToHost) => this.onMessage(m));
    worker.on('error', (e) => {
      this.workerError = e;
    });
    worker.on('exit', (code) => this.onExit(code));
    // raw writes the worker's own capture missed (native code, early engine failures)
    worker.stdout.setEncoding('utf8').on('data', (t: string) => this.onConsole(t, 'stdout'));
    worker.stderr.setEncoding('utf8').on('data', (t: string) => {
      this.stderrTail = (this.stderrTail + t).slice(-4000);
      // BN_INSPECTOR_TRACE timings are the engine's, not the script's output
      if (t.startsWith('[bn-inspector worker]')) process.stderr.write(t);
      else this.onConsole(t, 'stderr');
    });
    if (o.timeoutMs && o.timeoutMs > 0) {
      this.clock = new RunClock(o.timeoutMs, (phase) => this.onTimeout(phase));
      this.clock.startUp();
    }
  }

  private onTimeout(phase: ClockPhase): void {
    const n = this.stepTotal;
    const clock = this.clock!;
    this.kill('timeout', {
      kind: 'timeout',
      message:
        phase === 'run'
          ? `the script did not finish within ${clock.timeoutMs} ms (stopped after ${n} step${n === 1 ? '' : 's'})`
          : `the engine did not start the script within ${clock.startUpGuardMs} ms`,
      line: null,
      column: null,
      stack: '',
    });
  }

  /** Continue a paused worker with a new pause policy (also accepted while running: it changes the policy). */
  resume(pause: PausePolicy = { kind: 'none' }): void {
    const p = inWorkerTerms(pause, this.stepPoints);
    this.limited?.set(p);
    this.send({ type: 'resume', pause: this.limited ? PAUSE_AT_EVERY_STEP : p });
    if (this.paused) {
      this.paused = false;
      if (!this.ended) this.clock?.run();
    }
  }

  /** Terminates the worker; 'end' follows with reason 'stopped'. Returns fast, whatever the worker is doing. */
  stop(): Promise<EngineRunResult> {
    this.kill('stopped', null);
    return this.endPromise;
  }

  private send(cmd: HostToWorker): void {
    if (!this.worker || this.ended) return;
    this.worker.command(cmd);
  }

  private kill(reason: EndReason, error: ScriptError | null): void {
    if (this.ended || this.endReason) return;
    this.endReason = reason;
    this.endError = error;
    if (!this.worker) {
      this.finish(reason, error);
      return;
    }
    this.send({ type: 'stop' });
    const w = this.worker;
    void w.terminate().catch(() => {});
    // 'exit' finishes the run; if it never comes, do not wait forever
    this.giveUpTimer = setTimeout(() => this.finish(reason, error), 3000);
    this.giveUpTimer.unref?.();
  }

  private onConsole(text: string, stream: 'stdout' | 'stderr'): void {
    if (this.ended || !text) return;
    this.output.add(text);
    this.listeners.emit('console', text, stream);
  }

  private onMessage(m: WorkerToHost): void {
    if (this.ended) return;
    switch (m.type) {
      case 'compiled':
        this.tfjs = m.tfjs;
        this.backend = m.backend;
        this.stepPoints = m.stepPoints;
        this.limited?.compiled(m.stepPoints);
        this.clock?.run();
        this.listeners.emit('compiled', { stepPoints: m.stepPoints, tfjs: m.tfjs, backend: m.backend });
        break;
      case 'console':
        this.onConsole(m.text, m.stream);
        break;
      case 'modelBuilding':
        this.limited?.modelBuilding(m.file, m.point);
        if (!this.endReason) this.listeners.emit('modelBuilding', { file: m.file, point: m.point, line: m.line });
        break;
      case 'step': {
        if (this.endReason) return; // stopping: steps after the limit are not part of the run
        // the buffer goes on as it came: only its header is read here
        const step: PackedStep = { buffer: m.buffer, header: readStepHeader(m.buffer) };
        this.stepTotal++;
        this.lastStep = step.header;
        if (this.options.keepSteps !== false) this.steps.push(step);
        if (this.firstStepMs === null) {
          this.firstStepMs = performance.now() - this.startedAt;
          // the start-up is over: the pool's next spare may take the CPU now
          if (this.fromSpare) this.options.pool?.replenish();
        }
        const last = this.limited !== null && this.stepTotal >= this.options.maxSteps!;
        let paused = m.paused;
        // with a step limit the worker pauses at every step: go on at once where the caller did not want a pause
        if (paused && !last && this.limited && !this.limited.wantsPause(step.header)) {
          this.send({ type: 'resume', pause: PAUSE_AT_EVERY_STEP });
          paused = false;
        }
        this.paused = paused;
        if (paused) this.clock?.pause();
        this.listeners.emit('step', step, paused && !last);
        // at the limit the worker waits at this step: nothing after it runs
        if (last && !this.ended) this.kill('maxSteps', null);
        break;
      }
      case 'done':
        this.doneMsg = { error: m.error };
        break;
    }
  }

  private onExit(code: number): void {
    if (this.ended) return;
    if (this.endReason) {
      this.finish(this.endReason, this.endError);
      return;
    }
    const { reason, error } = endOfWorker({
      code,
      done: this.doneMsg,
      workerError: this.workerError,
      stderrTail: this.stderrTail,
      memoryMb: this.options.memoryMb ?? 4096,
      stepCount: this.stepTotal,
      lastStep: this.lastStep,
    });
    this.finish(reason, error);
  }

  private finish(reason: EndReason, error: ScriptError | null): void {
    if (this.ended) return;
    this.ended = true;
    this.paused = false;
    this.clock?.dispose();
    if (this.giveUpTimer) clearTimeout(this.giveUpTimer);
    if (this.worker) void this.worker.terminate().catch(() => {});
    const result: EngineRunResult = {
      reason,
      error,
      steps: this.steps,
      output: this.output.toString(),
      tfjs: this.tfjs,
      backend: this.backend,
      semantics: this.options.semantics ?? 'tfjs',
      cpuMs: this.worker?.cpuMs ?? null,
    };
    if (this.fromSpare) this.options.pool?.replenish();
    this.listeners.emit('end', result);
    this.resolveEnd(result);
  }
}

/** Runs a script to its end (no pauses unless `pause` says so and a listener resumes) and returns the result. */
export function runScript(options: EngineSessionOptions): Promise<EngineRunResult> {
  return new EngineSession(options).run();
}
