/**
 * Where the user called the API that led to an error the engine throws on the user's behalf (PyTorch's
 * one-value-per-channel error, bnSemantics.ts). A BatchNormalization call inside `await model.fit(...)` runs after
 * tfjs's own awaits: its stack holds no frame of the user's files, so the editor would not know where to put the
 * diagnostic. The async entry points (fit, fitDataset, trainOnBatch, evaluateDataset) therefore record a stack
 * (an Error, formatted only if needed) when they are entered, and drop it when their promise settles; an error made
 * by `userPositionedError` carries the active ones (most recent first) as `userCallSites`, which
 * scriptErrors.ts reads when the error's own stack has no user frame. Synchronous entry points (predict, apply,
 * execute, evaluate) need nothing: their stack holds the user's frame.
 *
 * A rejection of such a call (any error inside tfjs's async fit: a wrong label shape, tfjs-layers' own TypeError) gets
 * the call's site attached the same way when it has none, so that every error of an awaited fit has the user's line.
 * Installed with the instrument: it costs one stack capture per entry of those methods (tens of µs against a
 * training step's milliseconds).
 */
import type { Restore } from './monkeyPatch';
import { patchMethod } from './monkeyPatch';

const ASYNC_ENTRY_POINTS = ['fit', 'fitDataset', 'trainOnBatch', 'evaluateDataset'];

/** An Error whose stack reaches the user's frame: tfjs's layers nest deeper than the default 10 frames. */
function deepError(message: string): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  try {
    return new Error(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** the recorded entries whose promise has not settled yet, oldest first */
const active: Error[] = [];

function drop(site: Error): void {
  const i = active.lastIndexOf(site);
  if (i >= 0) active.splice(i, 1);
}

/** Wraps the async entry points of these prototypes (own or inherited methods); returns the undos. */
export function recordUserCallSites(protos: object[]): Restore[] {
  const undos: Restore[] = [];
  for (const proto of protos) {
    for (const name of ASYNC_ENTRY_POINTS) {
      if (!Object.prototype.hasOwnProperty.call(proto, name)) continue;
      const undo = patchMethod(
        proto,
        name,
        (orig) =>
          function (this: unknown, ...args: unknown[]) {
            const site = deepError('call site');
            active.push(site);
            let r: unknown;
            try {
              r = orig.apply(this, args);
            } catch (e) {
              drop(site);
              throw e;
            }
            // rejections stay the caller's to handle, with the call's site attached
            if (r instanceof Promise)
              return r.then(
                (v) => {
                  drop(site);
                  return v;
                },
                (e: unknown) => {
                  drop(site);
                  attachSites(e, [site]);
                  throw e;
                },
              );
            drop(site);
            return r;
          },
      );
      if (undo) undos.push(undo);
    }
  }
  undos.push(() => (active.length = 0));
  return undos;
}

/** `e` (if an object without them) gets the stacks of `sites`, most recent first, as `userCallSites` */
function attachSites(e: unknown, sites: Error[]): void {
  if (!sites.length || typeof e !== 'object' || e === null || Object.prototype.hasOwnProperty.call(e, 'userCallSites'))
    return;
  const stacks = sites
    .slice()
    .reverse()
    .map((site) => String(site.stack ?? ''));
  try {
    Object.defineProperty(e, 'userCallSites', { value: stacks, enumerable: false });
  } catch {
    /* a frozen object: reported without a line */
  }
}

/** An error with the stacks of the active async entry points attached (see above). */
export function userPositionedError(message: string): Error {
  const e = deepError(message);
  attachSites(e, active);
  return e;
}
