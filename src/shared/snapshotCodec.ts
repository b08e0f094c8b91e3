/**
 * Packs a StepSnapshot into ONE ArrayBuffer and reads it back. The worker packs each step once; that buffer is
 * transferred to the host, kept there as it came (the engine host and the extension read only its header,
 * `readStepHeader`), and posted to the webview, which decodes it (`unpackStep`). Nothing packs a step twice.
 *
 * Layout: [u32 magic][u32 headerOffset][u32 headerBytes][u32 0][float32 data of the vectors][header: UTF-8 JSON,
 *         vectors replaced by [offset, length] into the data][unused bytes]
 * The vectors (the bulk of a snapshot) are never JSON-encoded on the way. Data first: the worker's snapshot copies its
 * vectors straight into the buffer the step is packed into (`StepVectors`), and packStep writes the header after them
 * instead of copying every vector a second time. In the JSON, each warning's message is an index into the header's
 * `messages`, each sentence once: many layers say the same (the 52 frozen layers of a fine-tuned MobileNetV2 the
 * same ~900 characters each step); readStepHeader puts the sentences back.
 */
import type { CallRecord, LayerSnapshot, LayerWarning, StepSnapshot, VectorRef } from './protocol';

const MAGIC = 0x424e5332; // "BNS2"
const DATA_START = 16;
const encoder = new TextEncoder();

/** A packed step's header: the snapshot with every vector replaced by where it lies in the buffer. */
export type StepHeader = StepSnapshot<VectorRef>;

/**
 * A step's vectors, copied into the buffer the step will be packed into: `copy` gives a fresh Float32Array there
 * (its own allocation once the room set at the start is used up; packStep then copies as usual). The room after
 * the vectors is for the header, sized from the previous step's.
 */
export class StepVectors {
  private readonly data: Float32Array;
  private used = 0;
  constructor(floats: number, layers: number) {
    // the header of the previous step and a margin (the next one is about as long), or ~1 KB a layer at first
    const headerRoom = lastHeaderBytes > 0 ? Math.ceil(lastHeaderBytes * 1.1) + 256 : 1024 * (layers + 1);
    const buffer = new ArrayBuffer(DATA_START + 4 * floats + headerRoom);
    this.data = new Float32Array(buffer, DATA_START, floats);
    vectorBuffers.set(buffer, this);
  }
  copy(src: ArrayLike<number>): Float32Array {
    const n = src.length;
    if (this.used + n > this.data.length) return Float32Array.from(src);
    const v = this.data.subarray(this.used, this.used + n);
    v.set(src);
    this.used += n;
    return v;
  }
  /** floats copied so far */
  get floats(): number {
    return this.used;
  }
}
/** the buffers of live StepVectors (one packStep each: the first pack takes the buffer) */
const vectorBuffers = new WeakMap<ArrayBufferLike, StepVectors>();
/** the previous packed header's size, for the next StepVectors' room */
let lastHeaderBytes = 0;

/** the parts of a packed step; throws if `buf` is not one */
export function packedParts(buf: ArrayBuffer): { header: Uint8Array; data: Float32Array } {
  const dv = new DataView(buf);
  if (buf.byteLength < DATA_START || dv.getUint32(0, true) !== MAGIC)
    throw new Error('not a packed BatchNorm Inspector step');
  const at = dv.getUint32(4, true),
    bytes = dv.getUint32(8, true);
  if (at < DATA_START || at % 4 !== 0 || at + bytes > buf.byteLength)
    throw new Error('not a packed BatchNorm Inspector step');
  return { header: new Uint8Array(buf, at, bytes), data: new Float32Array(buf, DATA_START, (at - DATA_START) / 4) };
}

/** Maps every vector of a step, keeping everything else (one place that knows where the vectors are). */
function mapVectors<A, B>(step: StepSnapshot<A>, f: (v: A) => B): StepSnapshot<B> {
  const call = (c: CallRecord<A> | null): CallRecord<B> | null =>
    c && { ...c, batchMean: f(c.batchMean), batchVariance: f(c.batchVariance) };
  return {
    ...step,
    layers: step.layers.map((l): LayerSnapshot<B> => ({
      ...l,
      movingMean: f(l.movingMean),
      movingVariance: f(l.movingVariance),
      movingBefore: l.movingBefore ? { mean: f(l.movingBefore.mean), variance: f(l.movingBefore.variance) } : null,
      gamma: l.gamma === null ? null : f(l.gamma),
      beta: l.beta === null ? null : f(l.beta),
      lastCall: call(l.lastCall),
      lastTrainingCall: call(l.lastTrainingCall),
    })),
  };
}

/** a warning as the packed header holds it: its message an index into the header's `messages` */
interface PackedWarning {
  code: LayerWarning['code'];
  message: number;
}
/** the JSON header of a packed step */
type PackedHeader = Omit<StepHeader, 'layers'> & {
  layers: (Omit<StepHeader['layers'][number], 'warnings'> & { warnings: PackedWarning[] })[];
  messages: string[];
};

export function packStep(step: StepSnapshot): ArrayBuffer {
  const first = step.layers.length ? step.layers[0].movingMean : null;
  const own = first ? vectorBuffers.get(first.buffer) : undefined;
  if (first && own) {
    vectorBuffers.delete(first.buffer); // one pack per buffer: a second pack of the step copies
    const packed = packInPlace(step, first.buffer as ArrayBuffer, own.floats);
    if (packed) return packed;
  }
  return packCopying(step);
}

/** the step packed into the StepVectors buffer its vectors lie in; null if one does not, or the header does not fit */
function packInPlace(step: StepSnapshot, buf: ArrayBuffer, floats: number): ArrayBuffer | null {
  let outside = false;
  const header = mapVectors(step, (v): VectorRef => {
    if (v.buffer !== buf) outside = true;
    return [(v.byteOffset - DATA_START) / 4, v.length];
  });
  if (outside) return null;
  const json = headerJson(header);
  const at = DATA_START + 4 * floats;
  const { read, written } = encoder.encodeInto(json, new Uint8Array(buf, at));
  if (read !== json.length) return null;
  lastHeaderBytes = written;
  return finish(buf, at, written);
}

/** the step packed into a new buffer: each vector copied once, after the header is made */
function packCopying(step: StepSnapshot): ArrayBuffer {
  const vectors: Float32Array[] = [];
  let total = 0;
  const header = mapVectors(step, (v): VectorRef => {
    vectors.push(v);
    const r: VectorRef = [total, v.length];
    total += v.length;
    return r;
  });
  const headerBytes = encoder.encode(headerJson(header));
  lastHeaderBytes = headerBytes.length;
  const at = DATA_START + 4 * total;
  const buf = new ArrayBuffer(at + headerBytes.length);
  const data = new Float32Array(buf, DATA_START, total);
  let off = 0;
  for (const v of vectors) {
    data.set(v, off);
    off += v.length;
  }
  new Uint8Array(buf, at).set(headerBytes);
  return finish(buf, at, headerBytes.length);
}

/** the JSON of a header (mapVectors made its layer objects), each warning's sentence once in `messages` */
function headerJson(h: StepHeader): string {
  const header = h as unknown as PackedHeader;
  const messages: string[] = [];
  const indexOf = new Map<string, number>();
  for (const layer of header.layers) {
    // mapVectors made the layer objects: their warnings are replaced, the step's own are left as they were
    const packed: PackedWarning[] = [];
    for (const w of layer.warnings as unknown as LayerWarning[]) {
      let i = indexOf.get(w.message);
      if (i === undefined) {
        i = messages.push(w.message) - 1;
        indexOf.set(w.message, i);
      }
      packed.push({ code: w.code, message: i });
    }
    layer.warnings = packed;
  }
  header.messages = messages;
  return JSON.stringify(header);
}

function finish(buf: ArrayBuffer, headerAt: number, headerBytes: number): ArrayBuffer {
  const dv = new DataView(buf);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, headerAt, true);
  dv.setUint32(8, headerBytes, true);
  dv.setUint32(12, 0, true);
  return buf;
}

/**
 * The header of a packed step: index, line, column, file, hit and every layer's scalars (names, flags,
 * counts, warnings), with each vector as its [offset, length]. Reads only the JSON header, not the vectors.
 */
export function readStepHeader(buf: ArrayBuffer): StepHeader {
  const packed = JSON.parse(new TextDecoder().decode(packedParts(buf).header)) as PackedHeader;
  const { messages, ...rest } = packed;
  const header = rest as unknown as StepHeader;
  // defensive: the buffer comes from the process that runs the user's script
  const sentences = Array.isArray(messages) ? messages : [];
  for (const layer of Array.isArray(packed.layers) ? packed.layers : [])
    (layer as unknown as { warnings: LayerWarning[] }).warnings = (
      Array.isArray(layer.warnings) ? layer.warnings : []
    ).map((w) => ({
      code: w.code,
      message: typeof sentences[w.message] === 'string' ? sentences[w.message] : String(w.message),
    }));
  return header;
}

/** The whole step; `header` (from readStepHeader on the same buffer) saves parsing it again. */
export function unpackStep(buf: ArrayBuffer, header: StepHeader = readStepHeader(buf)): StepSnapshot {
  const { data } = packedParts(buf);
  // subarray views: no copy; the snapshot keeps the buffer alive
  return mapVectors(header, (r) => data.subarray(r[0], r[0] + r[1]));
}
