/** Where the engine's bundles are: dist/worker.js (the engine worker) and dist/runner.js (the run's own process). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

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

/** dist/runner.js (the run's own process): beside the worker, else beside the running bundle, else the repo's dist/. */
export function defaultRunnerPath(workerPath: string): string {
  const candidates = [
    join(dirname(workerPath), 'runner.js'),
    join(__dirname, 'runner.js'),
    join(__dirname, '..', '..', 'dist', 'runner.js'),
    join(__dirname, '..', 'dist', 'runner.js'),
  ];
  for (const c of candidates) if (existsSync(c)) return c;
  return candidates[0];
}
