/**
 * Packs a StepSnapshot into ONE ArrayBuffer (transferable worker -> host -> webview) and back,
 * and writes the contract's JSON form of a step.
 *
 * Layout: [u32 magic][u32 headerBytes][header: UTF-8 JSON, vectors replaced by [offset, length]]
 *         [padding to 4][float32 data of every vector, back to back]
 * The vectors (the bulk of a snapshot) are never JSON-encoded on the way.
 */
import type { CallRecord, LayerSnapshot, StepSnapshot } from './protocol';

const MAGIC = 0x424e5331; // "BNS1"

type VecRef = [number, number] | null;

function collectVectors(step: StepSnapshot): Float32Array[] {
  const out: Float32Array[] = [];
  for (const l of step.layers) {
    out.push(l.movingMean, l.movingVariance);
    if (l.gamma) out.push(l.gamma);
    if (l.beta) out.push(l.beta);
    for (const c of [l.lastCall, l.lastTrainingCall]) if (c) out.push(c.batchMean, c.batchVariance);
  }
  return out;
}

export function packStep(step: StepSnapshot): ArrayBuffer {
  let total = 0;
  for (const v of collectVectors(step)) total += v.length;
  const data = new Float32Array(total);
  let off = 0;
  const ref = (v: Float32Array | null): VecRef => {
    if (!v) return null;
    data.set(v, off);
    const r: VecRef = [off, v.length];
    off += v.length;
    return r;
  };
  const callRef = (c: CallRecord | null) =>
    c && { ...c, batchMean: ref(c.batchMean), batchVariance: ref(c.batchVariance) };
  const header = {
    ...step,
    layers: step.layers.map((l) => ({
      ...l,
      movingMean: ref(l.movingMean),
      movingVariance: ref(l.movingVariance),
      gamma: ref(l.gamma),
      beta: ref(l.beta),
      lastCall: callRef(l.lastCall),
      lastTrainingCall: callRef(l.lastTrainingCall),
    })),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = (8 + headerBytes.length + 3) & ~3;
  const buf = new ArrayBuffer(dataStart + data.byteLength);
  const dv = new DataView(buf);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, headerBytes.length, true);
  new Uint8Array(buf, 8, headerBytes.length).set(headerBytes);
  new Float32Array(buf, dataStart, total).set(data);
  return buf;
}

export function unpackStep(buf: ArrayBuffer): StepSnapshot {
  const dv = new DataView(buf);
  if (dv.getUint32(0, true) !== MAGIC) throw new Error('not a packed BatchNorm Inspector step');
  const hlen = dv.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, hlen)));
  const dataStart = (8 + hlen + 3) & ~3;
  const data = new Float32Array(buf, dataStart, (buf.byteLength - dataStart) / 4);
  // subarray views: no copy; the snapshot keeps the buffer alive
  const vec = (r: VecRef) => (r ? data.subarray(r[0], r[0] + r[1]) : null);
  const call = (c: any): CallRecord | null =>
    c && { ...c, batchMean: vec(c.batchMean)!, batchVariance: vec(c.batchVariance)! };
  header.layers = header.layers.map((l: any): LayerSnapshot => ({
    ...l,
    movingMean: vec(l.movingMean)!,
    movingVariance: vec(l.movingVariance)!,
    gamma: vec(l.gamma),
    beta: vec(l.beta),
    lastCall: call(l.lastCall),
    lastTrainingCall: call(l.lastTrainingCall),
  }));
  return header as StepSnapshot;
}

/** A float32 value as the contract writes it: the nearest double, or "NaN" / "Infinity" / "-Infinity". */
export function jsonNumber(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

export function jsonVector(v: Float32Array | null): (number | string)[] | null {
  if (!v) return null;
  const out = new Array<number | string>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = jsonNumber(v[i]);
  return out;
}

function callJson(c: CallRecord | null) {
  return (
    c && {
      training: c.training,
      statsUsed: c.statsUsed,
      inputShape: c.inputShape,
      batchMean: jsonVector(c.batchMean),
      batchVariance: jsonVector(c.batchVariance),
    }
  );
}

/** The contract's JSON object for one step (schema bn-inspector/v1), plus the additive `column` and `file`. */
export function stepToJson(step: StepSnapshot) {
  return {
    index: step.index,
    line: step.line,
    column: step.column,
    file: step.file,
    hit: step.hit,
    layers: step.layers.map((l) => ({
      name: l.name,
      path: l.path,
      axis: l.axis,
      channels: l.channels,
      momentum: jsonNumber(l.momentum),
      epsilon: jsonNumber(l.epsilon),
      trainable: l.trainable,
      calls: l.calls,
      updates: l.updates,
      movingMean: jsonVector(l.movingMean),
      movingVariance: jsonVector(l.movingVariance),
      gamma: jsonVector(l.gamma),
      beta: jsonVector(l.beta),
      movingUpdated: l.movingUpdated,
      lastCall: callJson(l.lastCall),
      lastTrainingCall: callJson(l.lastTrainingCall),
      warnings: l.warnings.map((w) => ({ code: w.code, message: w.message })),
    })),
  };
}
