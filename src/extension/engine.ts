/**
 * The one place the extension touches the engine's host API (src/engineHost/engineSession.ts).
 * Everything else in src/extension talks to `EngineHandle`.
 */
import {
  EngineSession,
  type EngineRunResult,
  type EngineSessionOptions,
  type PackedStep,
} from '../engineHost/engineSession';
import { RunnerPool, type SpareFor } from '../engineHost/runnerPool';
import type { Backend, PausePolicy, StepPoint } from '../shared/protocol';

export { realPath, samePath } from '../engineHost/filePaths';

export type { EngineRunResult, EngineSessionOptions, PackedStep };

export interface EngineHandlers {
  compiled(info: { stepPoints: Record<string, StepPoint[]>; tfjs: string; backend: Backend }): void;
  /** the step as the worker packed it (its buffer goes on to the webview as it is) and its header */
  step(step: PackedStep, paused: boolean): void;
  console(text: string, stream: 'stdout' | 'stderr'): void;
  /** a step point reached only while building a model (not a step); once per step point, `point` indexes stepPoints[file] */
  modelBuilding?(info: { file: string; point: number; line: number }): void;
  end(result: EngineRunResult): void;
}

export interface EngineHandle {
  resume(pause: PausePolicy): void;
  /** terminates the worker; `end` follows (reason 'stopped') */
  stop(): void;
}

/** the warm spare runner the runs take (runnerPool.ts); made by the first prewarmEngine() */
let pool: RunnerPool | null = null;

/** Keeps a warm spare runner for runs with these options: a click on a lens then skips the process's start-up. */
export function prewarmEngine(o: SpareFor): void {
  (pool ??= new RunnerPool()).prewarm(o);
}

/** Ends the spare runner (its process group); resolves once it has exited. */
export function disposeEnginePool(): Promise<void> {
  const p = pool;
  pool = null;
  return p ? p.dispose() : Promise.resolve();
}

/**
 * Creates and starts one engine session (one worker) with its handlers wired. If it cannot even be created, `end`
 * still comes (asynchronously, as the engine would), with reason 'crashed'.
 */
export function startEngine(options: EngineSessionOptions, handlers: EngineHandlers): EngineHandle {
  let s: EngineSession;
  try {
    // the session keeps its own bounded history (history.ts): the engine need not keep every step
    s = new EngineSession({ ...options, keepSteps: false, pool: pool ?? undefined });
  } catch (e) {
    queueMicrotask(() =>
      handlers.end({
        reason: 'crashed',
        error: {
          message: `could not start the worker: ${(e as Error).message}`,
          line: null,
          column: null,
          stack: String((e as Error).stack ?? e),
          kind: 'crash',
        },
        steps: [],
        output: '',
        tfjs: null,
        backend: options.backend ?? 'wasm',
        semantics: options.semantics ?? 'tfjs',
      }),
    );
    return { resume: () => {}, stop: () => {} };
  }
  s.on('compiled', handlers.compiled);
  s.on('step', handlers.step);
  s.on('console', handlers.console);
  if (handlers.modelBuilding) s.on('modelBuilding', handlers.modelBuilding);
  s.on('end', handlers.end);
  s.start();
  return {
    resume: (pause) => s.resume(pause),
    stop: () => {
      void s.stop().catch(() => {});
    },
  };
}
