/**
 * For bench/esbuildWasm.mjs: src/worker/esbuildNative.ts's interface on `esbuild-wasm` (one WebAssembly binary for
 * every platform), put in its place to measure the engine with it.
 *
 * esbuild-wasm's Node API runs its service as a child process `node <esbuild-wasm>/bin/esbuild --service=…`, with
 * whatever `node` the PATH has. Inside VS Code there may be none (an editor started from a desktop launcher) or
 * another version; so the service is started with this process's own runtime instead: `process.execPath`, which
 * in VS Code's extension host is Electron run as Node (`ELECTRON_RUN_AS_NODE=1`, as VS Code starts its own
 * Node helpers), in code-server and the CLI plain Node. Only that one spawn, made synchronously inside the first
 * build call, is redirected; every other use of child_process is left alone.
 */
import type * as Esbuild from 'esbuild-wasm';
import { dirname, join } from 'node:path';

/* eslint-disable @typescript-eslint/no-require-imports -- the real module objects: esbuild-wasm calls
   `child_process.spawn` on the one it requires, and esbuild-wasm must stay external (it finds its .wasm beside it) */
const childProcess = require('node:child_process') as typeof import('node:child_process');
const esbuild = require('esbuild-wasm') as typeof Esbuild;
/* eslint-enable @typescript-eslint/no-require-imports */

/** the script esbuild-wasm's API starts as its service */
const SERVICE_SCRIPT = join(dirname(require.resolve('esbuild-wasm/package.json')), 'bin', 'esbuild');

/** Runs `fn` (an esbuild API call) so that a service it starts runs on this process's own Node. */
function onOwnNode<T>(fn: () => T): T {
  const spawn = childProcess.spawn;
  const redirected = function (this: unknown, command: string, ...rest: unknown[]) {
    const [args, options] = rest as [string[] | undefined, object | undefined];
    if (command === 'node' && Array.isArray(args) && args[0] === SERVICE_SCRIPT)
      return spawn(process.execPath, args, {
        ...options,
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      });
    return (spawn as (...a: unknown[]) => unknown).call(this, command, ...rest);
  };
  childProcess.spawn = redirected as typeof spawn;
  try {
    return fn();
  } finally {
    childProcess.spawn = spawn;
  }
}

export const build: typeof esbuild.build = (options) => onOwnNode(() => esbuild.build(options));

/** Stops esbuild's service process (it would keep a finished worker alive otherwise). */
export function stop(): Promise<void> {
  return esbuild.stop();
}

export type { BuildFailure, Loader, Message, Plugin } from 'esbuild-wasm';
