/** The change of a layer's moving statistics since the previous step (shown in the card, its table and charts). */
import type { LayerSnapshot } from '../src/shared/protocol';

function sameValue(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

export interface LayerDelta {
  /** channels whose moving mean or variance changed */
  changed: number;
  maxMean: number;
  maxVar: number;
  marksMean: Uint8Array;
  marksVar: Uint8Array;
  dMean: Float32Array;
  dVar: Float32Array;
}

/** Change of a layer's moving statistics since the previous step (null when the shapes differ or no previous). */
export function layerDelta(l: LayerSnapshot, prev: LayerSnapshot | null | undefined): LayerDelta | null {
  if (!prev || prev.channels !== l.channels || prev.movingMean.length !== l.movingMean.length) return null;
  const n = l.movingMean.length;
  const d: LayerDelta = {
    changed: 0,
    maxMean: 0,
    maxVar: 0,
    marksMean: new Uint8Array(n),
    marksVar: new Uint8Array(n),
    dMean: new Float32Array(n),
    dVar: new Float32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const a = l.movingMean[i];
    const pa = prev.movingMean[i];
    const b = l.movingVariance[i];
    const pb = prev.movingVariance[i];
    const cm = !sameValue(a, pa);
    const cv = !sameValue(b, pb);
    const dm = a - pa;
    const dv = b - pb;
    d.dMean[i] = cm ? dm : 0;
    d.dVar[i] = cv ? dv : 0;
    if (cm) {
      d.marksMean[i] = 1;
      const m = Math.abs(dm);
      d.maxMean = m !== m || d.maxMean !== d.maxMean ? NaN : Math.max(d.maxMean, m);
    }
    if (cv) {
      d.marksVar[i] = 1;
      const m = Math.abs(dv);
      d.maxVar = m !== m || d.maxVar !== d.maxVar ? NaN : Math.max(d.maxVar, m);
    }
    if (cm || cv) d.changed++;
  }
  return d;
}
