/**
 * Packs a StepSnapshot into ONE ArrayBuffer and reads it back. The worker packs each step once; that buffer is
 * transferred to the host, kept there as it came (the engine host and the extension read only its header,
 * `readStepHeader`), and posted to the webview, which decodes it (`unpackStep`). Nothing packs a step twice.
 *
 * Layout: [u32 magic][u32 headerBytes][header: UTF-8 JSON, vectors replaced by [offset, length]]
 *         [padding to 4][float32 data of every vector, back to back]
 * The vectors (the bulk of a snapshot) are never JSON-encoded on the way.
 */
import type { CallRecord, LayerSnapshot, StepSnapshot, VectorRef } from './protocol';

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

export function packStep(step: StepSnapshot): ArrayBuffer {
  // the header first (a vector's place needs only the lengths before it), then each vector copied once, into the buffer
  const vectors: Float32Array[] = [];
  let total = 0;
  const header: StepHeader = mapVectors(step, (v): VectorRef => {
    vectors.push(v);
    const r: VectorRef = [total, v.length];
    total += v.length;
    return r;
  });
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
  return JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, hlen))) as StepHeader;
}

/** The whole step; `header` (from readStepHeader on the same buffer) saves parsing it again. */
export function unpackStep(buf: ArrayBuffer, header: StepHeader = readStepHeader(buf)): StepSnapshot {
  const hlen = new DataView(buf).getUint32(4, true);
  const dataStart = (8 + hlen + 3) & ~3;
  const data = new Float32Array(buf, dataStart, (buf.byteLength - dataStart) / 4);
  // subarray views: no copy; the snapshot keeps the buffer alive
  return mapVectors(header, (r) => data.subarray(r[0], r[0] + r[1]));
}
