/**
 * The run's own process (bundled to dist/runner.js; started by src/engineHost/processWorker.ts with an IPC channel).
 * It holds the engine worker thread that runs the user's script, so that nothing the script does reaches the
 * host (the extension host, bn-inspect): `process.kill(process.pid)`, `abort()`, exhausting memory, writing to fd 1
 * all end or fill THIS process, which the host watches from outside.
 *
 *   host --start--> runner: new Worker(dist/worker.js), with the pause word and command port it owns
 *   or, a warm spare (src/engineHost/runnerPool.ts): host --prepare--> runner: the worker starts at once without a
 *   script, sets up tfjs and the compiler, 'spareReady'; later host --start--> runner: it changes to the run's
 *   working directory, starts the memory watch with the run's budget and posts the run's init to the worker
 *   host --command--> runner: posted to the worker's command port, then the pause word is bumped (Atomics.notify)
 *   worker messages / error / exit --> host, as they come
 *   SIGTERM / SIGINT / SIGHUP (e.g. the script's `process.kill(process.pid)`): the steps so far go first, then the end
 *   every 50 ms: the resident set size against the budget (tensors and wasm memory count, not only the JS heap);
 *   over it, the host is told and the process ends at once
 *
 * The worker's own stdout/stderr are this process's (fd 1/2: pipes the host reads as the script's raw output),
 * never the host's. When the host goes away (IPC channel closed), the runner ends: it never outlives its host.
 */
import { MessageChannel, Worker, isMainThread } from 'node:worker_threads';
import { runWithCodeCache } from './cachedWorkerLoad';
import type {
  HostToRunner,
  RunnerPrepare,
  RunnerStart,
  RunnerToHost,
  RunnerToSpareWorker,
  WorkerInit,
  WorkerSpareData,
  WorkerToHost,
} from '../shared/protocol';

const MEMORY_POLL_MS = 50;
const SIGNAL_GRACE_MS = 30;

function send(m: RunnerToHost, then?: () => void): void {
  if (process.connected) process.send!(m, undefined, undefined, then ? () => then() : undefined);
  else then?.();
}

/** ends the process once stdout and stderr are flushed (what the script wrote still reaches the host) */
function exitWhenFlushed(): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(0);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

let control: Int32Array | null = null;
let port: MessageChannel['port1'] | null = null;
let worker: Worker | null = null;
let pendingDone: WorkerToHost | null = null;
/** a spare: what its worker was started with (before it had a run) */
let prepared: RunnerPrepare | null = null;
let started = false;
/** a signal that ends the process came (see the handlers at the end) */
let signalled = false;

/** the worker thread, its command port and pause word; `data` gets the port and the word */
function startWorker(
  workerPath: string,
  heapMb: number,
  data: (c: { control: SharedArrayBuffer; commandPort: MessageChannel['port2'] }) => object,
): void {
  const sab = new SharedArrayBuffer(4);
  control = new Int32Array(sab);
  const { port1, port2 } = new MessageChannel();
  port = port1;
  // the thread runs this file, which loads worker.js with the V8 code cache (cachedWorkerLoad.ts), unless
  // BN_INSPECTOR_CODE_CACHE=0
  const cached = process.env.BN_INSPECTOR_CODE_CACHE !== '0';
  worker = new Worker(cached ? __filename : workerPath, {
    argv: cached ? [workerPath] : [],
    workerData: data({ control: sab, commandPort: port2 }),
    transferList: [port2],
    resourceLimits: { maxOldGenerationSizeMb: heapMb },
    // a clean runtime: no loaders, inspector or source-map flags
    execArgv: [],
  });
  worker.on('message', (message: WorkerToHost | { type: 'spareReady' }) => {
    if (message.type === 'spareReady') {
      if (!started) send({ type: 'spareReady' });
      return;
    }
    // the end is told once the worker has exited and no signal came meanwhile (see below)
    if (message.type === 'done') pendingDone = message;
    else send({ type: 'worker', message });
  });
  worker.on('error', (e: Error & { code?: string }) =>
    send({
      type: 'workerError',
      name: e.name,
      message: e.message,
      stack: String(e.stack ?? e.message),
      code: typeof e.code === 'string' ? e.code : null,
    }),
  );
  worker.on('exit', (code) => {
    // a script that signals its own process (`process.kill(process.pid)` as its last statement) may finish before
    // the signal's handler runs here: wait a moment, so that the signal, not the script's end, is the run's end
    setTimeout(() => {
      if (signalled) return;
      if (pendingDone) send({ type: 'worker', message: pendingDone });
      // the process ends once the host has this message and the pipes are flushed
      const u = process.cpuUsage();
      send({ type: 'workerExit', code, cpuMs: (u.user + u.system) / 1000 }, exitWhenFlushed);
    }, SIGNAL_GRACE_MS);
  });
}

/** a spare: the worker starts now (tfjs, backend, compiler) and waits for its run ('start') */
function prepare(p: RunnerPrepare): void {
  if (worker) return;
  prepared = p;
  startWorker(p.workerPath, p.heapMb, (c): WorkerSpareData<MessageChannel['port2']> => ({
    spare: true,
    backend: p.backend,
    ...c,
  }));
}

/** the run cannot start here (a spare that does not fit, a working directory that is not there): the end */
function cannotStart(message: string): void {
  send({ type: 'workerError', name: 'Error', message, stack: message, code: null });
  const u = process.cpuUsage();
  send({ type: 'workerExit', code: 1, cpuMs: (u.user + u.system) / 1000 }, exitWhenFlushed);
}

function start(s: RunnerStart): void {
  if (started) return;
  started = true;
  if (s.cwd !== undefined && process.cwd() !== s.cwd) {
    try {
      process.chdir(s.cwd);
    } catch (e) {
      cannotStart(`cannot run the script in ${s.cwd}: ${(e as Error).message}`);
      return;
    }
  }
  if (worker && prepared) {
    // a spare: its worker is set up (or on its way) with what the host asked for then; it must be what this run needs
    if (prepared.workerPath !== s.workerPath || prepared.heapMb !== s.heapMb || prepared.backend !== s.init.backend) {
      cannotStart('internal error: a spare runner was given a run it was not prepared for');
      return;
    }
    // `ps` showed it as a spare: now it shows whose run it is (as a process forked for the run does; the title
    // may be cut to the length of the spare's command line)
    process.title = `bn-inspector run ${s.init.scriptPath}`;
    const m: RunnerToSpareWorker = { type: 'init', init: s.init };
    worker.postMessage(m);
  } else {
    startWorker(s.workerPath, s.heapMb, (c): WorkerInit<MessageChannel['port2']> => ({ ...s.init, ...c }));
  }
  const budget = s.memoryMb * 1024 * 1024;
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss <= budget) return;
    clearInterval(timer);
    send({ type: 'overBudget', rssMb: Math.round(rss / (1024 * 1024)), memoryMb: s.memoryMb });
    // the host kills the process group on this message; if it does not within a moment, end here
    setTimeout(() => process.exit(137), 500).unref();
  }, MEMORY_POLL_MS);
  timer.unref();
}

if (!isMainThread) {
  // this file in the worker thread: it only loads the worker bundle, named by the runner (argv)
  runWithCodeCache(process.argv[process.argv.length - 1]);
} else {
  // a signal that would end the process (the script's own `process.kill(process.pid)` among others): first let the
  // worker's messages already posted (its steps so far) reach the host, then end. SIGKILL cannot be caught.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      setTimeout(() => {
        void worker?.terminate();
        send({ type: 'signalled', signal }, exitWhenFlushed);
      }, 20);
    });

  process.on('message', (m: HostToRunner) => {
    if (m.type === 'start') start(m.start);
    else if (m.type === 'prepare') prepare(m.prepare);
    else if (m.type === 'command' && port && control) {
      port.postMessage(m.command);
      Atomics.add(control, 0, 1);
      Atomics.notify(control, 0);
    }
  });
  // the host is gone: so is the run
  process.on('disconnect', () => process.exit(0));
}
