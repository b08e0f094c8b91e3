/**
 * Where each BatchNormalization layer was constructed (LayerSnapshot.source): the innermost stack frame in the
 * user's own files when the user's code called `tf.layers.batchNormalization(…)`.
 *
 * Only the factory the user's script gets records (layersWithSources, on the `tf.layers` of the namespace
 * tfjsRuntime.ts gives the script; tfjs-layers does not export the class itself): a layer tfjs makes by itself
 * (deserialising a model in `tf.loadLayersModel`, `tf.models.modelFromJSON`) has no record, so no source.
 *
 * Cheap by design: at construction only the caller's frame is taken, as V8's structured call site (no stack text
 * is formatted: Node's source-mapped formatting costs about 1 ms a stack, 100 ms for a 52-layer model); it is
 * mapped to the user's file through the script's source map (module.findSourceMap, as Node maps an error's
 * stack) at the layer's first snapshot, and the position kept from then on.
 */
import { findSourceMap, type SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { SourcePosition } from '../shared/protocol';

/** frames looked at per layer: the caller, and a few native frames (Array.map …) that may stand before it */
const STACK_FRAMES = 8;

/** a frame as V8 reports it: the generated file (the script's bundle) and 1-based position in it */
interface RawFrame {
  file: string;
  line: number;
  column: number;
}

/** the parts of V8's CallSite read here */
interface CallSite {
  getFileName(): string | null | undefined;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
  isAsync?(): boolean;
}

export class LayerSources {
  /** the caller's frame of each recorded layer (null: none with a file), until its position is read */
  private readonly frames = new WeakMap<object, RawFrame | null>();
  private readonly positions = new WeakMap<object, SourcePosition | null>();
  private readonly maps = new Map<string, SourceMap | null>();
  /** the user's own files (absolute paths, the compiled script's `files`); a frame elsewhere gives no source */
  userFiles: readonly string[] = [];

  /** Records where `layer` is being constructed: the frame that called `factory`. */
  record(layer: object, factory: (...a: never[]) => unknown): void {
    this.frames.set(layer, callerFrame(factory));
  }

  /** The layer's source position; null when it was not made by the user's own code. */
  of(layer: object): SourcePosition | null {
    const known = this.positions.get(layer);
    if (known !== undefined) return known;
    const frame = this.frames.get(layer);
    if (frame === undefined) return null;
    const pos = frame && this.userPosition(frame);
    this.frames.delete(layer);
    this.positions.set(layer, pos);
    return pos;
  }

  /** The frame's position in the user's source (through the bundle's source map), if in one of the user's files. */
  private userPosition(frame: RawFrame): SourcePosition | null {
    let map = this.maps.get(frame.file);
    if (map === undefined) {
      map = findSourceMap(frame.file) ?? null;
      this.maps.set(frame.file, map);
    }
    let pos: SourcePosition | null = { ...frame, file: toPath(frame.file) };
    if (map) {
      const e = map.findEntry(frame.line - 1, frame.column - 1) as Partial<{
        originalSource: string;
        originalLine: number;
        originalColumn: number;
      }>;
      pos =
        e.originalSource !== undefined && e.originalLine !== undefined && e.originalColumn !== undefined
          ? { file: toPath(e.originalSource), line: e.originalLine + 1, column: e.originalColumn + 1 }
          : null;
    }
    return pos && this.userFiles.includes(pos.file) ? pos : null;
  }
}

function toPath(f: string): string {
  if (!f.startsWith('file://')) return f;
  try {
    return fileURLToPath(f);
  } catch {
    return f;
  }
}

/**
 * The first frame below `fn` that names a file: frames of native code are passed over (`Array.prototype.map`
 * calling the factory); none once Node's `async` frames are reached (they only say which awaited call was
 * running, not who constructed the layer). A frame in a file that is not the user's (a library in node_modules,
 * the engine) is returned as it is, and gives no source when mapped.
 */
function callerFrame(fn: (...a: never[]) => unknown): RawFrame | null {
  const holder: { stack?: unknown } = {};
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let sites: unknown;
  try {
    Error.prepareStackTrace = (_e, s) => s;
    Error.stackTraceLimit = STACK_FRAMES;
    Error.captureStackTrace(holder, fn);
    sites = holder.stack; // read here, while prepareStackTrace gives the call sites
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
  if (!Array.isArray(sites)) return null;
  for (const site of sites as CallSite[]) {
    if (site.isAsync?.()) return null;
    const file = site.getFileName();
    if (!file || file.startsWith('node:')) continue;
    const line = site.getLineNumber();
    const column = site.getColumnNumber();
    return line && column ? { file, line, column } : null;
  }
  return null;
}

/**
 * A copy of tfjs's `tf.layers` namespace whose `batchNormalization` factory records where each layer is made.
 * The copy is what the user's script sees as `tf.layers` (tfjs's own object stays as it is).
 */
export function layersWithSources<T extends object>(layers: T, sources: LayerSources): T {
  const copy = { ...layers } as Record<string, unknown>;
  const factory = copy.batchNormalization;
  if (typeof factory === 'function') {
    const batchNormalization = function (this: unknown, ...args: unknown[]): unknown {
      const layer: unknown = Reflect.apply(factory, this, args);
      if (typeof layer === 'object' && layer !== null) sources.record(layer, batchNormalization);
      return layer;
    };
    copy.batchNormalization = batchNormalization;
  }
  return copy as T;
}
