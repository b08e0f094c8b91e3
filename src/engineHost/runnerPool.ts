/**
 * A warm spare runner (issue 11, item 5): one run's process started ahead of the run, so that clicking a lens does
 * not wait for Node, the 5 MB worker bundle, tfjs, the wasm backend and the compiler to start.
 *
 * - The spare is a runner process (dist/runner.js) told 'prepare': its worker thread loads, sets up tfjs on the
 *   backend, warms the compiler (esbuild's service, the step-point parser), says 'spareReady' and waits.
 * - A run takes it (`take`): the pool forgets it at once, so a process is never given to two runs; the run's
 *   'start' then brings the script, the working directory (the runner changes to it) and the memory budget (the
 *   runner's watch starts with it). The heap limit and the backend are fixed when the spare starts: a run that needs
 *   others does not take it (it forks a process of its own, as without a pool).
 * - Isolation is the same as a process forked for the run (issue 10): one process per run, never reused after it,
 *   its own process group, killed with its group when the run ends. Only the spare's start is earlier.
 * - A new spare starts once the run that took the last one lets the CPU go (its first step, its end, or a few
 *   seconds after it started), not at once: the 2 cores are the run's while it starts. A spare that dies before it
 *   is taken is replaced after a second, up to 3 times in a row (then the next prewarm() tries again).
 * - dispose() kills the spare's group: nothing outlives the pool's owner (the extension, a bench).
 *
 * bn-inspect runs once per process: it cannot profit from a spare (its run pays the cold start).
 */
import type { ChildProcess } from 'node:child_process';
import type { Backend, HostToRunner, RunnerToHost } from '../shared/protocol';
import { forkRunner, killRunnerGroup } from './processWorker';
import { defaultRunnerPath, defaultWorkerPath } from './runnerPaths';

/** What a spare is prepared for; a run takes it only if its own needs are the same. */
export interface SpareSpec {
  runnerPath: string;
  workerPath: string;
  /** the worker's heap limit (MB): EngineSessionOptions.memoryMb */
  heapMb: number;
  backend: Backend;
}

/** the options of runs the spare is for (EngineSessionOptions' fields, with the same defaults) */
export interface SpareFor {
  workerPath?: string;
  runnerPath?: string;
  memoryMb?: number;
  backend?: Backend;
}

export function spareSpecOf(o: SpareFor): SpareSpec {
  const workerPath = o.workerPath ?? defaultWorkerPath();
  return {
    workerPath,
    runnerPath: o.runnerPath ?? defaultRunnerPath(workerPath),
    heapMb: o.memoryMb ?? 4096,
    backend: o.backend ?? 'wasm',
  };
}

const sameSpec = (a: SpareSpec, b: SpareSpec) =>
  a.runnerPath === b.runnerPath && a.workerPath === b.workerPath && a.heapMb === b.heapMb && a.backend === b.backend;

const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null && c.connected;

/** after a take, a new spare starts at the latest this long after (if the run has neither stepped nor ended) */
const REPLENISH_AFTER_MS = 3000;
/** a spare that died before it was taken is replaced after this long… */
const RESPAWN_MS = 1000;
/** …this many times in a row at most */
const MAX_FAILURES = 3;

interface Spare {
  child: ChildProcess;
  spec: SpareSpec;
  ready: boolean;
  readyWaiters: ((ready: boolean) => void)[];
  onMessage: (m: RunnerToHost) => void;
  onExit: () => void;
}

export class RunnerPool {
  private spare: Spare | null = null;
  /** what prewarm() asked for last: a taken or dead spare is replaced by one like it */
  private wanted: SpareSpec | null = null;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private disposed = false;
  /** spares started so far */
  startedCount = 0;
  /** spares given to runs so far */
  takenCount = 0;

  /** Keeps one spare for runs like `o`; a spare for other options is ended and replaced. */
  prewarm(o: SpareFor = {}): void {
    if (this.disposed) return;
    const spec = spareSpecOf(o);
    this.wanted = spec;
    this.failures = 0;
    if (this.spare && sameSpec(this.spare.spec, spec) && alive(this.spare.child)) return;
    this.endSpare();
    this.spawn(spec);
  }

  /**
   * The spare, for a run with `spec`, if there is a live one prepared for it (else null: the run forks its own). The
   * pool lets go of it: it is the run's alone. A new spare follows at `replenish()` (or a few seconds later).
   */
  take(spec: SpareSpec): ChildProcess | null {
    const s = this.spare;
    if (this.disposed || !s || !sameSpec(s.spec, spec) || !alive(s.child)) return null;
    this.spare = null;
    s.child.off('message', s.onMessage);
    s.child.off('exit', s.onExit);
    for (const w of s.readyWaiters.splice(0)) w(false);
    this.takenCount++;
    this.schedule(REPLENISH_AFTER_MS);
    return s.child;
  }

  /** A new spare now, if one is wanted and none is there (the run that took the last one has let the CPU go). */
  replenish(): void {
    if (this.disposed || this.spare || !this.wanted) return;
    this.clearTimer();
    this.spawn(this.wanted);
  }

  /** pid of the spare, if there is one */
  get sparePid(): number | undefined {
    return this.spare?.child.pid;
  }

  /** resolves true once the spare is set up and waiting; false if it is taken, dies or is ended first, or none */
  whenReady(): Promise<boolean> {
    const s = this.spare;
    if (!s) return Promise.resolve(false);
    if (s.ready) return Promise.resolve(true);
    return new Promise((r) => s.readyWaiters.push(r));
  }

  /** Ends the spare (its process group) and starts no other; resolves once it has exited. */
  dispose(): Promise<void> {
    this.disposed = true;
    this.wanted = null;
    this.clearTimer();
    return this.endSpare();
  }

  private spawn(spec: SpareSpec): void {
    let child: ChildProcess;
    try {
      child = forkRunner(spec.runnerPath, '(spare: no script yet)');
    } catch {
      this.died();
      return;
    }
    const s: Spare = {
      child,
      spec,
      ready: false,
      readyWaiters: [],
      onMessage: (m) => {
        if (m.type !== 'spareReady') return;
        s.ready = true;
        this.failures = 0;
        for (const w of s.readyWaiters.splice(0)) w(true);
      },
      onExit: () => {
        if (this.spare !== s) return;
        this.spare = null;
        for (const w of s.readyWaiters.splice(0)) w(false);
        killRunnerGroup(child);
        this.died();
      },
    };
    child.on('message', s.onMessage);
    child.on('exit', s.onExit);
    // could not start at all: 'exit' does not come
    child.on('error', () => (child.pid === undefined ? s.onExit() : undefined));
    // the spare's pipes are read by the run that takes it; until then a spare writes nothing (BN_INSPECTOR_TRACE
    // lines only, a few)
    this.spare = s;
    this.startedCount++;
    const m: HostToRunner = {
      type: 'prepare',
      prepare: { workerPath: spec.workerPath, heapMb: spec.heapMb, backend: spec.backend },
    };
    if (child.connected) child.send(m);
  }

  private died(): void {
    if (this.disposed || ++this.failures > MAX_FAILURES) return;
    this.schedule(RESPAWN_MS);
  }

  private schedule(ms: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.replenish();
    }, ms);
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private endSpare(): Promise<void> {
    const s = this.spare;
    if (!s) return Promise.resolve();
    this.spare = null;
    s.child.off('message', s.onMessage);
    s.child.off('exit', s.onExit);
    for (const w of s.readyWaiters.splice(0)) w(false);
    const gone =
      s.child.exitCode !== null || s.child.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((r) => s.child.once('exit', () => r()));
    killRunnerGroup(s.child);
    return gone;
  }
}
