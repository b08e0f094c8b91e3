/**
 * Packs a StepSnapshot into ONE ArrayBuffer and reads it back. The worker packs each step once; that buffer is
 * transferred to the host, kept there as it came (the engine host and the extension read only its header,
 * `readStepHeader`), and posted to the webview, which decodes it (`unpackStep`). Nothing packs a step twice.
 *
 * Layout: [u32 magic][u32 headerBytes][header: UTF-8 JSON, vectors replaced by [offset, length]]
 *         [padding to 4][float32 data of every vector, back to back]
 * The vectors (the bulk of a snapshot) are never JSON-encoded on the way. In the JSON, each warning's message is
 * an index into the header's `messages`, each sentence once: many layers say the same (the 52 frozen layers of a
 * fine-tuned MobileNetV2 the same ~900 characters each step); readStepHeader puts the sentences back.
 */
import type { CallRecord, LayerSnapshot, LayerWarning, StepSnapshot, VectorRef } from './protocol';

const MAGIC = 0x424e5331; // "BNS1"
const encoder = new TextEncoder();

/** A packed step's header: the snapshot with every vector replaced by where it lies in the buffer. */
export type StepHeader = StepSnapshot<VectorRef>;

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
  // the header first (a vector's place needs only the lengths before it), then each vector copied once, into the buffer
  const vectors: Float32Array[] = [];
  let total = 0;
  const header = mapVectors(step, (v): VectorRef => {
    vectors.push(v);
    const r: VectorRef = [total, v.length];
    total += v.length;
    return r;
  }) as unknown as PackedHeader;
  const messages: string[] = [];
  const indexOf = new Map<string, number>();
  for (const layer of header.layers) {
    // mapVectors made the layer objects: their warnings are replaced, the step's own are left as they were
    layer.warnings = (layer.warnings as unknown as LayerWarning[]).map((w) => {
      let i = indexOf.get(w.message);
      if (i === undefined) {
        i = messages.push(w.message) - 1;
        indexOf.set(w.message, i);
      }
      return { code: w.code, message: i };
    });
  }
  header.messages = messages;
  const headerBytes = encoder.encode(JSON.stringify(header));
  const dataStart = (8 + headerBytes.length + 3) & ~3;
  const buf = new ArrayBuffer(dataStart + total * 4);
  const dv = new DataView(buf);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, headerBytes.length, true);
  new Uint8Array(buf, 8, headerBytes.length).set(headerBytes);
  const data = new Float32Array(buf, dataStart, total);
  let off = 0;
  for (const v of vectors) {
    data.set(v, off);
    off += v.length;
  }
  return buf;
}

/**
 * The header of a packed step: index, line, column, file, hit and every layer's scalars (names, flags,
 * counts, warnings), with each vector as its [offset, length]. Reads only the JSON header, not the vectors.
 */
export function readStepHeader(buf: ArrayBuffer): StepHeader {
  const dv = new DataView(buf);
  if (buf.byteLength < 8 || dv.getUint32(0, true) !== MAGIC) throw new Error('not a packed BatchNorm Inspector step');
  const hlen = dv.getUint32(4, true);
  const packed = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, hlen))) as PackedHeader;
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
  const hlen = new DataView(buf).getUint32(4, true);
  const dataStart = (8 + hlen + 3) & ~3;
  const data = new Float32Array(buf, dataStart, (buf.byteLength - dataStart) / 4);
  // subarray views: no copy; the snapshot keeps the buffer alive
  return mapVectors(header, (r) => data.subarray(r[0], r[0] + r[1]));
}
