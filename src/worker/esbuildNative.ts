/**
 * esbuild for compiling the user's script: native esbuild, bundled into the worker, running the one platform binary
 * its package carries beside the bundle (dist/esbuild-bin/esbuild[.exe], copied there by scripts/build.mjs; each
 * platform's .vsix gets its own: `node scripts/vscode-host.mjs package --target …`).
 *
 * esbuild's JS API finds its binary through ESBUILD_BINARY_PATH when that is set (and may then be bundled); it is
 * read once, when the API's module is first evaluated, so the API is required only after the variable is set. The
 * worker thread has its own copy of process.env: the host's is untouched. Without dist/esbuild-bin (the unit tests,
 * which run the sources) the API resolves its binary from node_modules as usual.
 *
 * (esbuild-wasm, one package for every platform, was measured against this and is too slow to start for every run:
 * bench/esbuild-wasm.md.)
 */
import type * as Esbuild from 'esbuild';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** where scripts/build.mjs puts the binary, next to dist/worker.js */
export const BUNDLED_BINARY = join(__dirname, 'esbuild-bin', process.platform === 'win32' ? 'esbuild.exe' : 'esbuild');

let api: typeof Esbuild | null = null;
function esbuild(): typeof Esbuild {
  if (api) return api;
  if (!process.env.ESBUILD_BINARY_PATH && existsSync(BUNDLED_BINARY)) process.env.ESBUILD_BINARY_PATH = BUNDLED_BINARY;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- after ESBUILD_BINARY_PATH is set (see above)
  api = require('esbuild') as typeof Esbuild;
  return api;
}

export const build: typeof Esbuild.build = (options) => esbuild().build(options);

/** Stops esbuild's service process (it would keep a finished worker alive otherwise). */
export async function stop(): Promise<void> {
  if (api) await api.stop();
}

export type { BuildFailure, Loader, Message, Plugin } from 'esbuild';
