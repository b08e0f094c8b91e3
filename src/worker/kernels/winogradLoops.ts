/**
 * The loops of the Winograd F(2x2, 3x3) convolution (winogradConv.ts says what it computes and why) over a part of its
 * work, on byte addresses of the wasm heap: the same calls whichever thread runs them (the calling thread, or on the
 * threaded build the helper thread, simdHelperThread.ts, which takes the second half of the units: simdHelper.ts).
 * A unit is an image's chunk of tile rows: per tile row, its 4 input rows copied into a band with the padding's zeros
 * and the input transform (winoIn), then the chunk's 16 products (gemm4x8), then per tile row the output transform
 * (winoOut), a last half tile (odd width) through `edge`, a last half row (odd height) into `row`.
 */
import type { SimdKernels } from './simdKernelModule';

type Simd = SimdKernels;

/**
 * One convolution as either thread runs a part of it (byte addresses in the wasm heap): the geometry, the shared
 * inputs (x, the transformed filter u, the bias or zeros, zeros for the products' initial rows), the output, and the
 * running thread's own scratch (band, v, m, row, edge; sizes from `winogradLayout`).
 */
export interface WinogradJob {
  B: number;
  H: number;
  W: number;
  Ci: number;
  Co: number;
  OH: number;
  OW: number;
  pt: number;
  pl: number;
  rowsPerChunk: number;
  x: number;
  out: number;
  u: number;
  bias: number;
  zeros: number;
  band: number;
  v: number;
  m: number;
  row: number;
  edge: number;
}
/** the job as numbers in a fixed order (what the helper thread receives) */
export const WINOGRAD_FIELDS = [
  'B', 'H', 'W', 'Ci', 'Co', 'OH', 'OW', 'pt', 'pl', 'rowsPerChunk',
  'x', 'out', 'u', 'bias', 'zeros', 'band', 'v', 'm', 'row', 'edge',
] as const; // prettier-ignore

/** the tiles, chunks and scratch sizes (floats) of a job's geometry */
export function winogradLayout(j: Pick<WinogradJob, 'B' | 'Ci' | 'Co' | 'OH' | 'OW' | 'rowsPerChunk'>) {
  const tilesX = Math.ceil(j.OW / 2),
    tilesY = Math.ceil(j.OH / 2);
  const bandW = 2 * tilesX + 2; // input pixels a tile row reads
  const chunk = 4 * Math.ceil((j.rowsPerChunk * tilesX) / 4); // tiles a chunk's products hold (a multiple of 4)
  // the 16 positions' planes, one cache line more than their size apart: at a multiple of 4 KiB, the transforms' 16
  // streams would share cache sets (measured: the input transform 3x slower)
  const vXi = chunk * 4 * j.Ci + 64,
    mXi = chunk * 4 * j.Co + 64;
  const chunksPerImage = Math.ceil(tilesY / j.rowsPerChunk);
  return {
    tilesX,
    tilesY,
    fullX: Math.floor(j.OW / 2),
    bandW,
    chunk,
    vXi,
    mXi,
    /** the units of work: (image, chunk of tile rows) pairs, image-major */
    units: j.B * chunksPerImage,
    chunksPerImage,
    scratch: { band: 4 * bandW * j.Ci, v: (16 * vXi) / 4, m: (16 * mXi) / 4, row: 2 * tilesX * j.Co, edge: 4 * j.Co },
  };
}

/** the units [from, to) of a job (winogradLayout), with the running thread's SIMD kernels on `memory` */
export function winogradRange(simd: Simd, memory: WebAssembly.Memory, j: WinogradJob, from: number, to: number): void {
  const { B, H, W, Ci, Co, OH, OW, pt, pl, rowsPerChunk } = j;
  const L = winogradLayout(j);
  const { tilesX, tilesY, fullX, bandW, vXi, mXi } = L;
  const ciB = 4 * Ci,
    coB = 4 * Co;
  const heap = new Float32Array(memory.buffer); // nothing allocates below: the view stays valid
  const band = j.band / 4;
  const rowFloats = bandW * Ci;
  for (let unit = from; unit < to && unit < L.units; unit++) {
    const b = Math.floor(unit / L.chunksPerImage);
    const ty0 = (unit % L.chunksPerImage) * rowsPerChunk;
    if (b >= B) break;
    const rows = Math.min(rowsPerChunk, tilesY - ty0);
    for (let k = 0; k < rows; k++) {
      // the band: input rows 2·ty - pt .. + 3, columns -pl .. bandW - pl - 1, zeros outside x
      const ih0 = 2 * (ty0 + k) - pt;
      for (let r = 0; r < 4; r++) {
        const ih = ih0 + r;
        const row = band + r * rowFloats;
        if (ih < 0 || ih >= H) {
          heap.fill(0, row, row + rowFloats);
          continue;
        }
        const n = Math.min(W, bandW - pl); // x's pixels the band holds
        if (pl > 0) heap.fill(0, row, row + pl * Ci);
        const src = j.x / 4 + (b * H + ih) * W * Ci;
        heap.copyWithin(row + pl * Ci, src, src + n * Ci);
        if (pl + n < bandW) heap.fill(0, row + (pl + n) * Ci, row + rowFloats);
      }
      simd.winoIn(j.v + k * tilesX * ciB, j.band, tilesX, Ci / 4, bandW * ciB, vXi);
    }
    const m4 = Math.ceil((rows * tilesX) / 4);
    for (let xi = 0; xi < 16; xi++)
      simd.gemm4x8(j.m + xi * mXi, j.v + xi * vXi, j.u + xi * Ci * coB, m4, Ci, Co / 8, ciB, 4, coB, coB, j.zeros, 0);
    for (let k = 0; k < rows; k++) {
      const oh = 2 * (ty0 + k);
      const y0 = j.out + (b * OH + oh) * OW * coB;
      const y1 = oh + 1 < OH ? y0 + OW * coB : j.row;
      const m = j.m + k * tilesX * coB;
      if (fullX > 0) simd.winoOut(y0, y1, m, fullX, Co / 4, mXi, j.bias);
      if (fullX < tilesX) {
        // a last half tile: its 2x2 pixels into `edge`, then the left column where it belongs
        const e = j.edge / 4;
        simd.winoOut(j.edge, j.edge + 2 * coB, m + fullX * coB, 1, Co / 4, mXi, j.bias);
        heap.copyWithin((y0 + (OW - 1) * coB) / 4, e, e + Co);
        if (oh + 1 < OH) heap.copyWithin((y1 + (OW - 1) * coB) / 4, e + 2 * Co, e + 3 * Co);
      }
    }
  }
}
