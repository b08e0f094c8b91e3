/**
 * The host's handle on one run's own process (src/runner/runner.ts, dist/runner.js): it looks to EngineSession like
 * the worker it holds (message / error / exit events, the raw stdout and stderr, terminate) and carries its
 * commands. Why a process: whatever the user's script does (kill or abort its process, exit, exhaust memory, spawn
 * children, write to fd 1/2), only this process and its group suffer; the host sees the end from outside.
 *
 * - The runner is forked with an IPC channel ('advanced' serialization: a step's ArrayBuffer travels as bytes) and
 *   its own stdout/stderr pipes, in its own process group (POSIX), so ending the run ends the script's children too.
 * - The end is told once, after the process is gone and its pipes are drained: the worker's exit code if the
 *   runner relayed it, else what killed the process (a signal, the memory budget, an exit code).
 * - In VS Code's extension host `process.execPath` is Electron: ELECTRON_RUN_AS_NODE makes it plain Node.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import {
  DEFERRED_CA_ENV,
  type HostToRunner,
  type HostToWorker,
  type RunnerStart,
  type RunnerToHost,
  type WorkerToHost,
} from '../shared/protocol';

/** an error as the Worker would give it (`code` 'ERR_WORKER_OUT_OF_MEMORY' for the memory budget) */
export type RunError = Error & { code?: string };

export interface ProcessWorkerEvents {
  message: [WorkerToHost];
  error: [RunError];
  exit: [number];
}

/** how long to wait for the pipes to drain after the process exited */
const DRAIN_MS = 2000;

/**
 * Forks a runner (dist/runner.js): IPC with 'advanced' serialization, its own stdout/stderr pipes, its own process
 * group (POSIX). `label` is its only argument (the runner ignores it; `ps` shows whose run the process is).
 */
export function forkRunner(runnerPath: string, label: string, cwd?: string): ChildProcess {
  return fork(runnerPath, [label], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
    execArgv: [],
    // NODE_EXTRA_CA_CERTS is deferred to the first TLS context the script makes (it costs every process ~100 ms of
    // start-up in Node 20): src/worker/deferredCaCerts.ts
    env: { ...withDeferredCaCerts(process.env), ELECTRON_RUN_AS_NODE: '1' },
    detached: process.platform !== 'win32',
    cwd,
  });
}

/**
 * The environment a runner starts with: `env` with NODE_EXTRA_CA_CERTS renamed to DEFERRED_CA_ENV, which the worker
 * gives back (src/worker/deferredCaCerts.ts says why), unless NODE_OPTIONS asks for the system's or OpenSSL's
 * certificate store (not the bundled roots the worker would extend).
 */
export function withDeferredCaCerts(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file || /--use-(openssl|system)-ca\b/.test(env.NODE_OPTIONS ?? '')) return env;
  const out: NodeJS.ProcessEnv = { ...env, [DEFERRED_CA_ENV]: file };
  delete out.NODE_EXTRA_CA_CERTS;
  return out;
}

/** SIGKILL to the process and its group (POSIX); nothing if it is gone */
export function killRunnerGroup(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  try {
    if (process.platform !== 'win32') process.kill(-pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    /* already gone */
  }
}

export class ProcessWorker extends EventEmitter<ProcessWorkerEvents> {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** the process's id (also its process group's, on POSIX) */
  readonly pid: number | undefined;
  private readonly child: ChildProcess;
  private workerExit: number | null = null;
  /** CPU time of the run's process (user + system, ms), as it reported when its worker exited; null before */
  cpuMs: number | null = null;
  private overBudget: { rssMb: number; memoryMb: number } | null = null;
  private signalled: string | null = null;
  private exited = false;
  private told = false;

  /**
   * @param from the runner to use: a path (a new process is forked for this run) or a spare runner process
   *   (forkRunner + 'prepare', runnerPool.ts) that has never had a run; either way the process is this run's only
   */
  constructor(from: string | ChildProcess, start: RunnerStart) {
    super();
    // the script path as an argument: the runner ignores it, `ps` shows whose run the process is
    this.child = typeof from === 'string' ? forkRunner(from, start.init.scriptPath, start.cwd) : from;
    this.pid = this.child.pid;
    this.stdout = this.child.stdout!;
    this.stderr = this.child.stderr!;
    this.child.on('message', (m: RunnerToHost) => this.onRunner(m));
    this.child.on('error', (e) => {
      // could not start (or could not be signalled): the end comes from 'exit' or, if it never ran, from here
      this.emit('error', e);
      if (this.child.pid === undefined) this.tell(1);
    });
    this.child.on('exit', (code, signal) => this.onExit(code, signal));
    this.child.on('close', () => this.tellEnd());
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      // a spare that ended between the pool's check and now: the run ends as a crash (once the caller listens)
      const { exitCode, signalCode } = this.child;
      setImmediate(() => {
        this.onExit(exitCode, signalCode);
        this.tellEnd();
      });
      return;
    }
    const m: HostToRunner = { type: 'start', start };
    if (this.child.connected) this.child.send(m);
  }

  /** a command for the worker (resume / stop) */
  command(command: HostToWorker): void {
    if (!this.exited && this.child.connected) this.child.send({ type: 'command', command });
  }

  /** ends the process and its group at once (SIGKILL); resolves when it has exited */
  terminate(): Promise<void> {
    this.killGroup();
    return this.exited ? Promise.resolve() : new Promise((r) => this.child.once('exit', () => r()));
  }

  private onRunner(m: RunnerToHost): void {
    switch (m.type) {
      case 'worker':
        this.emit('message', m.message);
        break;
      case 'workerError':
        this.emit(
          'error',
          Object.assign(new Error(m.message), { name: m.name, stack: m.stack, code: m.code ?? undefined }),
        );
        break;
      case 'workerExit':
        this.workerExit = m.code;
        this.cpuMs = m.cpuMs;
        break;
      case 'signalled':
        this.signalled = m.signal;
        break;
      case 'overBudget':
        this.overBudget = { rssMb: m.rssMb, memoryMb: m.memoryMb };
        this.killGroup();
        break;
    }
  }

  private onExit(code: number | null, exitSignal: NodeJS.Signals | null): void {
    this.exited = true;
    const signal = exitSignal ?? this.signalled;
    // the script's children, if any, end with the run
    this.killGroup();
    if (this.signalled) this.workerExit = null;
    if (this.workerExit === null) {
      if (this.overBudget) {
        const { rssMb, memoryMb } = this.overBudget;
        this.emit(
          'error',
          Object.assign(
            new Error(`the script's process ran out of memory: it used ${rssMb} MB, over its ${memoryMb} MB budget`),
            {
              code: 'ERR_WORKER_OUT_OF_MEMORY',
            },
          ),
        );
      } else {
        this.emit(
          'error',
          new Error(
            signal
              ? `the script's process was ended by ${signal}` +
                  (signal === 'SIGTERM' || signal === 'SIGKILL' ? ' (did the script kill its own process?)' : '')
              : `the script's process exited with code ${code}`,
          ),
        );
      }
    }
    const t = setTimeout(() => this.tellEnd(), DRAIN_MS);
    t.unref?.();
  }

  private tellEnd(): void {
    if (!this.exited) return;
    this.tell(this.workerExit ?? 1);
  }

  private tell(code: number): void {
    if (this.told) return;
    this.told = true;
    this.emit('exit', code);
  }

  private killGroup(): void {
    killRunnerGroup(this.child);
  }
}
