/**
 * The script's console output, captured in order: `process.stdout` / `process.stderr` writes and the `console`
 * methods become 'console' messages to the host (tfjs's own banners dropped). The worker's console is
 * asynchronous by default; these writes are synchronous, so output and step events keep their order.
 */
import { format } from 'node:util';
import type { WorkerToHost } from '../shared/protocol';
import { isTfjsNoise } from './tfjsRuntime';

/** the real streams, for the worker's own trace output */
export const rawWrite = {
  stdout: process.stdout.write.bind(process.stdout),
  stderr: process.stderr.write.bind(process.stderr),
};

type ConsoleMessage = Extract<WorkerToHost, { type: 'console' }>;

let consoleCaptured = false;

/** From now on everything the script prints goes to `post` (idempotent). */
export function captureOutput(post: (msg: ConsoleMessage) => void): void {
  if (consoleCaptured) return;
  consoleCaptured = true;
  for (const stream of ['stdout', 'stderr'] as const) {
    const write = (chunk: unknown, enc?: unknown, cb?: unknown): boolean => {
      const text =
        typeof chunk === 'string'
          ? chunk
          : Buffer.from(chunk as Uint8Array).toString(typeof enc === 'string' ? (enc as BufferEncoding) : 'utf8');
      if (text && !isTfjsNoise(text)) post({ type: 'console', stream, text });
      const done = typeof enc === 'function' ? enc : cb;
      if (typeof done === 'function') (done as () => void)();
      return true;
    };
    process[stream].write = write as typeof process.stdout.write;
  }
  // the worker's console is asynchronous by default; write through our synchronous streams instead
  const out =
    (stream: 'stdout' | 'stderr') =>
    (...args: unknown[]) => {
      const text = format(...args);
      if (!isTfjsNoise(text)) post({ type: 'console', stream, text: text + '\n' });
    };
  console.log = out('stdout');
  console.info = out('stdout');
  console.debug = out('stdout');
  console.warn = out('stderr');
  console.error = out('stderr');
  console.trace = (...args: unknown[]) => {
    const e = new Error(format(...args));
    e.name = 'Trace';
    post({ type: 'console', stream: 'stderr', text: String(e.stack) + '\n' });
  };
}
