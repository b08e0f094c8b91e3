/**
 * tfjs-node's `file://` model IO, for scripts written for `@tensorflow/tfjs-node` (which the engine stands in
 * for, see compileScript.ts): `model.save('file://dir')` writes `dir/model.json` + `dir/weights.bin`, and
 * `tf.loadLayersModel('file://dir/model.json')` / `tf.loadGraphModel(...)` read a model.json and the weight
 * files its manifest lists (paths relative to model.json's folder). Also `tf.io.fileSystem(path)`.
 *
 * Why our own code: tfjs-node cannot be installed here (its install step downloads a native TensorFlow
 * binary), and the engine runs the pure-JS tfjs anyway. This file is a faithful port of tfjs-node 4.22's
 * `src/io/file_system.ts` (NodeFileSystem, nodeFileSystemRouter; Apache-2.0, Copyright 2018 Google LLC) and of
 * its registration in `src/index.ts` (`tf.io.registerLoadRouter` / `registerSaveRouter`). Same behaviour:
 * - a path is resolved with `path.resolve`, i.e. against `process.cwd()` of the worker, as tfjs-node does;
 * - save: one directory path (created if it does not exist: the last folder only, like tfjs-node's
 *   non-recursive mkdir; a file at that path is an error), writes model.json (topology, weightsManifest
 *   `[{paths: ['weights.bin'], weights}]`, format/generatedBy/convertedBy, trainingConfig, signature,
 *   userDefinedMetadata when present) and weights.bin;
 * - load: one path to a model.json file (a directory is an error), or two paths [topology .pb, weights
 *   manifest .json] (binary topology); missing files give tfjs-node's "… does not exist: loading failed";
 * - the router answers `file://…` URLs (a string, or an array whose every element starts with file://).
 * Differences, both additive: weightData given as an array of buffers (tfjs 4.22's sharded WeightData) is
 * joined before writing (tfjs-node's Buffer.from would mangle it), and an error carries, below its own stack,
 * the frames of the call that asked for the handler (the user's `model.save(…)` / `loadLayersModel(…)` line),
 * which tfjs's transpiled async code would otherwise lose.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

type Tf = typeof tfjs;
type ModelArtifacts = tfjs.io.ModelArtifacts;
type WeightsManifestEntry = tfjs.io.WeightsManifestEntry;

export const URL_SCHEME = 'file://';
const MODEL_JSON_FILENAME = 'model.json';
const WEIGHTS_BINARY_FILENAME = 'weights.bin';

interface ErrnoError extends Error {
  code?: string;
  path?: string;
}

function doesNotExist(name: string): (e: ErrnoError) => never {
  return (e) => {
    if (e.code === 'ENOENT') throw new Error(`${name} ${e.path} does not exist: loading failed`);
    throw e;
  };
}

/** Concatenates buffers in order into one ArrayBuffer (tfjs-node's io_utils.toArrayBuffer). */
function toArrayBuffer(bufs: Uint8Array[]): ArrayBuffer {
  let total = 0;
  for (const b of bufs) total += b.byteLength;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const b of bufs) {
    out.set(b, pos);
    pos += b.byteLength;
  }
  return out.buffer;
}

/**
 * The frames of the current stack outside the engine's own bundle (this file and tfjs are bundled into it):
 * the user's call that asked for a handler, and what called it.
 */
function callerFrames(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  let stack: string;
  try {
    stack = String(new Error().stack ?? '');
  } finally {
    Error.stackTraceLimit = limit;
  }
  return stack
    .split('\n')
    .filter(
      (l) =>
        /^\s+at /.test(l) && !l.includes(__filename) && !l.includes('node:internal') && !l.endsWith('(<anonymous>)'),
    )
    .slice(0, 10)
    .join('\n');
}

/** tfjs-node's NodeFileSystem IOHandler. */
export class NodeFileSystem implements tfjs.io.IOHandler {
  readonly path: string | string[];
  /** where the handler was asked for (the user's call), appended to the stack of an error */
  private readonly origin: string;

  constructor(
    private readonly tf: Tf,
    path: string | string[],
  ) {
    if (Array.isArray(path)) {
      tf.util.assert(path.length === 2, () => `file paths must have a length of 2, (actual length is ${path.length}).`);
      this.path = path.map((p) => resolve(p));
    } else {
      this.path = resolve(path);
    }
    this.origin = callerFrames();
  }

  /** runs `fn`; an error it throws gets the frames of the user's call below its own */
  private async withOrigin<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof Error && this.origin) {
        e.stack = `${String(e.stack ?? `${e.name}: ${e.message}`)}\n${this.origin}`;
      }
      throw e;
    }
  }

  save(modelArtifacts: ModelArtifacts): Promise<tfjs.io.SaveResult> {
    return this.withOrigin(() => this.doSave(modelArtifacts));
  }

  load(): Promise<ModelArtifacts> {
    return this.withOrigin(() => (Array.isArray(this.path) ? this.loadBinaryModel(this.path) : this.loadJSONModel()));
  }

  private async doSave(modelArtifacts: ModelArtifacts): Promise<tfjs.io.SaveResult> {
    if (Array.isArray(this.path)) throw new Error('Cannot perform saving to multiple paths.');
    await this.createOrVerifyDirectory(this.path);
    if (modelArtifacts.modelTopology instanceof ArrayBuffer)
      throw new Error('NodeFileSystem.save() does not support saving model topology in binary format yet.');
    const weightsManifest = [{ paths: [WEIGHTS_BINARY_FILENAME], weights: modelArtifacts.weightSpecs ?? [] }];
    const modelJSON: tfjs.io.ModelJSON = {
      modelTopology: modelArtifacts.modelTopology as object,
      weightsManifest,
      format: modelArtifacts.format,
      generatedBy: modelArtifacts.generatedBy,
      convertedBy: modelArtifacts.convertedBy,
    };
    if (modelArtifacts.trainingConfig != null) modelJSON.trainingConfig = modelArtifacts.trainingConfig;
    if (modelArtifacts.signature != null) modelJSON.signature = modelArtifacts.signature;
    if (modelArtifacts.userDefinedMetadata != null) modelJSON.userDefinedMetadata = modelArtifacts.userDefinedMetadata;
    await writeFile(join(this.path, MODEL_JSON_FILENAME), JSON.stringify(modelJSON), 'utf8');
    const data = modelArtifacts.weightData;
    const joined = data == null ? new ArrayBuffer(0) : this.tf.io.CompositeArrayBuffer.join(data);
    await writeFile(join(this.path, WEIGHTS_BINARY_FILENAME), Buffer.from(joined));
    return { modelArtifactsInfo: this.tf.io.getModelArtifactsInfoForJSON(modelArtifacts) };
  }

  private async loadBinaryModel(paths: string[]): Promise<ModelArtifacts> {
    const [topologyPath, weightManifestPath] = paths;
    const topology = await stat(topologyPath).catch(doesNotExist('Topology Path'));
    const weightManifest = await stat(weightManifestPath).catch(doesNotExist('Weight Manifest Path'));
    if (!topology.isFile()) throw new Error('File specified for topology is not a file!');
    if (!weightManifest.isFile()) throw new Error('File specified for the weight manifest is not a file!');
    const bytes = await readFile(topologyPath);
    const modelTopology = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const manifest = JSON.parse(await readFile(weightManifestPath, 'utf8')) as tfjs.io.WeightsManifestConfig;
    const [weightSpecs, weightData] = await this.loadWeights(manifest, weightManifestPath);
    return { modelTopology, weightSpecs, weightData };
  }

  private async loadJSONModel(): Promise<ModelArtifacts> {
    const path = this.path as string;
    const info = await stat(path).catch(doesNotExist('Path'));
    if (!info.isFile())
      throw new Error('The path to load from must be a file. Loading from a directory is not supported.');
    const modelJSON = JSON.parse(await readFile(path, 'utf8')) as tfjs.io.ModelJSON;
    return this.tf.io.getModelArtifactsForJSON(modelJSON, (manifest) => this.loadWeights(manifest, path));
  }

  /** every group's files, in manifest order, relative to the folder of `path`; their specs in the same order */
  private async loadWeights(
    manifest: tfjs.io.WeightsManifestConfig,
    path: string,
  ): Promise<[WeightsManifestEntry[], ArrayBuffer]> {
    const dirName = dirname(path);
    const buffers: Uint8Array[] = [];
    const weightSpecs: WeightsManifestEntry[] = [];
    for (const group of manifest) {
      for (const p of group.paths) {
        buffers.push(await readFile(join(dirName, p)).catch(doesNotExist('Weight file')));
      }
      weightSpecs.push(...group.weights);
    }
    return [weightSpecs, toArrayBuffer(buffers)];
  }

  /** creates the directory (not its parents, like tfjs-node) or checks that it is one */
  private async createOrVerifyDirectory(path: string): Promise<void> {
    let exists = false;
    try {
      await mkdir(path);
    } catch (e) {
      const err = e as ErrnoError;
      if (err.code === 'EEXIST') exists = true;
      else if (err.code === 'ENOENT') {
        // tfjs-node rethrows Node's own "ENOENT: no such file or directory, mkdir …"; same code, plainer words
        const clearer: ErrnoError = new Error(
          `Cannot save to ${path}: its parent folder ${dirname(path)} does not exist ` +
            `(like tfjs-node, save creates the last folder of the path only)`,
          { cause: e },
        );
        clearer.code = 'ENOENT';
        throw clearer;
      } else throw e;
    }
    if (exists && (await stat(path)).isFile())
      throw new Error(`Path ${path} exists as a file. The path must be nonexistent or point to a directory.`);
  }
}

/** tfjs-node's nodeFileSystemRouter: a handler for `file://` URLs, null for anything else. */
export function nodeFileSystemRouter(tf: Tf, url: string | string[]): NodeFileSystem | null {
  if (Array.isArray(url)) {
    if (url.every((u) => u.startsWith(URL_SCHEME)))
      return new NodeFileSystem(
        tf,
        url.map((u) => u.slice(URL_SCHEME.length)),
      );
    return null;
  }
  if (typeof url === 'string' && url.startsWith(URL_SCHEME))
    return new NodeFileSystem(tf, url.slice(URL_SCHEME.length));
  return null;
}

/**
 * Registers the `file://` load and save routers on `tf.io` (as tfjs-node's index.ts does) and gives the
 * script's namespace tfjs-node's `tf.io.fileSystem(path)`.
 */
export function installNodeFileSystemIo(tf: Tf, ns: Record<string, unknown>): void {
  // tfjs's IORouter type says IOHandler, but a router answers null for URLs it does not handle (router_registry)
  type IORouter = Parameters<Tf['io']['registerLoadRouter']>[0];
  const router = ((url: string | string[]) => nodeFileSystemRouter(tf, url)) as IORouter;
  tf.io.registerLoadRouter(router);
  tf.io.registerSaveRouter(router);
  ns.io = { ...tf.io, fileSystem: (path: string | string[]) => new NodeFileSystem(tf, path) };
}
