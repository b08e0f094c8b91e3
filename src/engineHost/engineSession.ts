/**
 * Host side of the engine (no `vscode` import): owns one worker that runs one script, turns its
 * messages into events, and sends it commands. Used by bn-inspect (src/engineHost/cli.ts) and by the
 * extension's session (src/extension/). The host is never blocked by the worker.
 *
 * The interface comes first; the implementation (class EngineSession) follows it.
 */
import type { Backend, PausePolicy, ScriptError, StepPoint, StepSnapshot } from '../shared/protocol';

export interface EngineSessionOptions {
  /** absolute path of the entry script */
  scriptPath: string;
  /** run this text instead of the entry file's contents (unsaved editor edits); imports still come from disk */
  sourceText?: string;
  backend?: Backend; // default 'wasm'
  /** where to pause first; default { kind: 'none' } */
  pause?: PausePolicy;
  /** limit on the script's running time (from 'compiled'; pauses not counted); on expiry the worker is terminated and the run ends with reason 'timeout' */
  timeoutMs?: number;
  /** stop (terminate) after this many steps; the run ends with reason 'maxSteps' */
  maxSteps?: number;
  /** worker heap limit (resourceLimits.maxOldGenerationSizeMb); default 4096 */
  memoryMb?: number;
  /** keep every step in `EngineRunResult.steps` (default true); the extension keeps its own bounded history and sets false */
  keepSteps?: boolean;
  /** path of dist/worker.js; default: worker.js next to the running bundle */
  workerPath?: string;
}

export type EndReason = 'done' | 'error' | 'stopped' | 'timeout' | 'maxSteps' | 'crashed' | 'oom';

export interface EngineRunResult {
  reason: EndReason;
  /** script error (compile or run), or a description of timeout / crash / oom; null when it ran to its end or was stopped */
  error: ScriptError | null;
  steps: StepSnapshot[];
  output: string;
  tfjs: string | null;
  backend: Backend;
}

export interface EngineSessionEvents {
  compiled(info: { stepPoints: Record<string, StepPoint[]>; tfjs: string; backend: Backend }): void;
  /** every step, in order; `paused` = the worker now waits for resume()/stop() */
  step(step: StepSnapshot, paused: boolean): void;
  console(text: string, stream: 'stdout' | 'stderr'): void;
  /** exactly once */
  end(result: EngineRunResult): void;
}

// ---------------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------------

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { HostToWorker, WorkerInit, WorkerToHost } from '../shared/protocol';
import { unpackStep } from '../shared/snapshotCodec';

type Listener<K extends keyof EngineSessionEvents> = EngineSessionEvents[K];

/** dist/worker.js: next to the running bundle (dist/cli.js, dist/extension.js), else the repo's dist/ (tests under tsx). */
export function defaultWorkerPath(): string {
  const candidates = [
    join(__dirname, 'worker.js'),
    join(__dirname, '..', '..', 'dist', 'worker.js'),
    join(__dirname, '..', 'dist', 'worker.js'),
  ];
  for (const c of candidates) if (existsSync(c)) return c;
  return candidates[0];
}

/**
 * One run of one script in one worker.
 *
 *   const s = new EngineSession({ scriptPath, pause: { kind: 'next' } });
 *   s.on('step', (step, paused) => { if (paused) s.resume({ kind: 'next' }); });
 *   s.on('end', (result) => …);
 *   s.start();            // or: const result = await s.run();
 */
export class EngineSession {
  readonly options: EngineSessionOptions;
  private listeners: { [K in keyof EngineSessionEvents]: Listener<K>[] } = {
    compiled: [],
    step: [],
    console: [],
    end: [],
  };
  private worker: Worker | null = null;
  private commandPort: MessagePort | null = null;
  private control: Int32Array | null = null;
  private timer: NodeJS.Timeout | null = null;
  private steps: StepSnapshot[] = [];
  private stepTotal = 0;
  private lastStep: StepSnapshot | null = null;
  private output = '';
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
  /** ms from start() to the first step (cold start), null before it */
  firstStepMs: number | null = null;
  private startedAt = 0;

  constructor(options: EngineSessionOptions) {
    this.options = { ...options, scriptPath: resolve(options.scriptPath) };
    this.backend = options.backend ?? 'wasm';
    this.endPromise = new Promise((r) => (this.resolveEnd = r));
  }

  on<K extends keyof EngineSessionEvents>(event: K, fn: Listener<K>): this {
    this.listeners[event].push(fn);
    return this;
  }

  off<K extends keyof EngineSessionEvents>(event: K, fn: Listener<K>): this {
    const l = this.listeners[event] as Listener<K>[];
    const i = l.indexOf(fn);
    if (i >= 0) l.splice(i, 1);
    return this;
  }

  private emit<K extends keyof EngineSessionEvents>(event: K, ...args: Parameters<Listener<K>>): void {
    for (const fn of [...this.listeners[event]] as ((...a: Parameters<Listener<K>>) => void)[]) {
      try {
        fn(...args);
      } catch (e) {
        // a listener's bug must not take the session down
        process.emitWarning(`BatchNorm Inspector: a '${event}' listener threw: ${(e as Error)?.stack ?? e}`);
      }
    }
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

  get stepCount(): number {
    return this.stepTotal;
  }

  start(): void {
    if (this.worker || this.ended) return;
    this.startedAt = performance.now();
    const o = this.options;
    const control = new SharedArrayBuffer(4);
    this.control = new Int32Array(control);
    const { port1, port2 } = new MessageChannel();
    this.commandPort = port1;
    const init: WorkerInit<MessagePort> = {
      scriptPath: o.scriptPath,
      sourceText: o.sourceText,
      backend: this.backend,
      pause: o.pause ?? { kind: 'none' },
      control,
      commandPort: port2,
    };
    let worker: Worker;
    try {
      worker = new Worker(o.workerPath ?? defaultWorkerPath(), {
        workerData: init,
        transferList: [port2],
        resourceLimits: { maxOldGenerationSizeMb: o.memoryMb ?? 4096 },
        stdout: true,
        stderr: true,
        // a clean runtime: not the host's loaders (tsx under the unit tests), inspector or source-map flags
        execArgv: [],
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
    worker.on('error', (e: Error) => {
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
    // --timeout-ms counts the script's own running time: the clock starts at 'compiled' and stands
    // still while the worker is paused; start-up gets a generous guard of its own
    if (o.timeoutMs && o.timeoutMs > 0) {
      this.budgetMs = o.timeoutMs;
      this.timer = setTimeout(() => this.onTimeout('start-up'), Math.max(60_000, o.timeoutMs));
    }
  }

  private budgetMs = 0;
  private clockStartedAt: number | null = null;

  private startClock(): void {
    if (!this.options.timeoutMs || this.ended || this.clockStartedAt !== null) return;
    if (this.timer) clearTimeout(this.timer);
    this.clockStartedAt = performance.now();
    this.timer = setTimeout(() => this.onTimeout('run'), Math.max(0, this.budgetMs));
  }

  private stopClock(): void {
    if (!this.options.timeoutMs || this.clockStartedAt === null) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.budgetMs -= performance.now() - this.clockStartedAt;
    this.clockStartedAt = null;
  }

  private onTimeout(phase: 'start-up' | 'run'): void {
    const n = this.stepTotal;
    this.kill('timeout', {
      kind: 'timeout',
      message:
        phase === 'run'
          ? `the script did not finish within ${this.options.timeoutMs} ms (stopped after ${n} step${n === 1 ? '' : 's'})`
          : `the engine did not start the script within ${Math.max(60_000, this.options.timeoutMs ?? 0)} ms`,
      line: null,
      column: null,
      stack: '',
    });
  }

  /** Continue a paused worker with a new pause policy (also accepted while running: it changes the policy). */
  resume(pause: PausePolicy = { kind: 'none' }): void {
    this.send({ type: 'resume', pause });
    if (this.paused) {
      this.paused = false;
      this.startClock();
    }
  }

  /** Terminates the worker; 'end' follows with reason 'stopped'. Returns fast, whatever the worker is doing. */
  stop(): Promise<EngineRunResult> {
    this.kill('stopped', null);
    return this.endPromise;
  }

  private send(cmd: HostToWorker): void {
    if (!this.commandPort || !this.control || this.ended) return;
    this.commandPort.postMessage(cmd);
    Atomics.add(this.control, 0, 1);
    Atomics.notify(this.control, 0);
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
    setTimeout(() => this.finish(reason, error), 3000).unref?.();
  }

  private onConsole(text: string, stream: 'stdout' | 'stderr'): void {
    if (this.ended || !text) return;
    this.output += text;
    this.emit('console', text, stream);
  }

  private onMessage(m: WorkerToHost): void {
    if (this.ended) return;
    switch (m.type) {
      case 'compiled':
        this.tfjs = m.tfjs;
        this.backend = m.backend;
        this.startClock();
        this.emit('compiled', { stepPoints: m.stepPoints, tfjs: m.tfjs, backend: m.backend });
        break;
      case 'console':
        this.onConsole(m.text, m.stream);
        break;
      case 'step': {
        if (this.endReason) return; // stopping: steps after the limit are not part of the run
        const step = unpackStep(m.buffer);
        this.stepTotal++;
        this.lastStep = step;
        if (this.options.keepSteps !== false) this.steps.push(step);
        if (this.firstStepMs === null) this.firstStepMs = performance.now() - this.startedAt;
        const max = this.options.maxSteps;
        const last = max !== undefined && max > 0 && this.stepTotal >= max;
        this.paused = m.paused;
        if (m.paused) this.stopClock();
        this.emit('step', step, m.paused && !last);
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
    if (this.doneMsg) {
      const err = this.doneMsg.error;
      if (err && err.kind === 'stopped') this.finish('stopped', null);
      else if (err && err.kind === 'crash') this.finish('crashed', err);
      else this.finish(err ? 'error' : 'done', err);
      return;
    }
    const we = this.workerError as (Error & { code?: string }) | null;
    if (we?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      const mb = this.options.memoryMb ?? 4096;
      this.finish('oom', {
        kind: 'oom',
        message: `the script ran out of memory (worker heap limit ${mb} MB) after ${this.stepTotal} step${this.stepTotal === 1 ? '' : 's'}`,
        line: this.lastStep?.line ?? null,
        column: this.lastStep?.column ?? null,
        file: this.lastStep?.file ?? null,
        stack: String(we.stack ?? we.message),
      });
      return;
    }
    if (code === 0 && !we) {
      // the script called process.exit(0), or the worker ended without its 'done' message
      this.finish('done', null);
      return;
    }
    const detail = we ? String(we.stack ?? we.message) : this.stderrTail.trim();
    this.finish('crashed', {
      kind: 'crash',
      message: we ? `the engine worker crashed: ${we.message}` : `the engine worker exited with code ${code}`,
      line: null,
      column: null,
      stack: detail,
    });
  }

  private finish(reason: EndReason, error: ScriptError | null): void {
    if (this.ended) return;
    this.ended = true;
    this.paused = false;
    if (this.timer) clearTimeout(this.timer);
    try {
      this.commandPort?.close();
    } catch {
      /* closed */
    }
    if (this.worker) void this.worker.terminate().catch(() => {});
    const result: EngineRunResult = {
      reason,
      error,
      steps: this.steps,
      output: this.output,
      tfjs: this.tfjs,
      backend: this.backend,
    };
    this.emit('end', result);
    this.resolveEnd(result);
  }
}

/** Runs a script to its end (no pauses unless `pause` says so and a listener resumes) and returns the result. */
export function runScript(options: EngineSessionOptions): Promise<EngineRunResult> {
  return new EngineSession(options).run();
}
