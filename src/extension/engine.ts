/**
 * The one place the extension touches the engine's host API (src/engine/engineSession.ts).
 * Everything else in src/extension talks to `EngineHandle`.
 */
import * as engineModule from '../engine/engineSession';
import type { EngineRunResult, EngineSessionOptions } from '../engine/engineSession';
import type { Backend, PausePolicy, StepPoint, StepSnapshot } from '../shared/protocol';

export type { EngineRunResult, EngineSessionOptions };

export interface EngineHandlers {
  compiled(info: { stepPoints: Record<string, StepPoint[]>; tfjs: string; backend: Backend }): void;
  step(step: StepSnapshot, paused: boolean): void;
  console(text: string, stream: 'stdout' | 'stderr'): void;
  end(result: EngineRunResult): void;
}

export interface EngineHandle {
  resume(pause: PausePolicy): void;
  /** terminates the worker; `end` follows (reason 'stopped') */
  stop(): void;
}

/** Creates and starts one engine session (one worker) with its handlers wired. */
export function startEngine(options: EngineSessionOptions, handlers: EngineHandlers): EngineHandle {
  const Ctor = (engineModule as any).EngineSession as new (o: EngineSessionOptions) => any;
  if (typeof Ctor !== 'function') throw new Error('the engine is not built into this extension (EngineSession missing)');
  const s = new Ctor(options);
  s.on('compiled', handlers.compiled);
  s.on('step', handlers.step);
  s.on('console', handlers.console);
  s.on('end', handlers.end);
  if (typeof s.start === 'function') s.start();
  return {
    resume: (pause) => s.resume(pause),
    stop: () => {
      void Promise.resolve(s.stop()).catch(() => {});
    },
  };
}
