/**
 * The loops of the Winograd convolutions F(2x2, 3x3) and F(4x4, 3x3) (winogradConv.ts says what they compute and
 * why) over a part of their work, on byte addresses of the wasm heap: the same calls whichever thread runs them (the
 * calling thread, or on the threaded build the helper thread, simdHelperThread.ts, which takes the second half of the
 * units: simdHelper.ts). A unit is an image's chunk of tile rows: its m·rows + 2 input rows copied into a band with
 * the padding's zeros (so the transforms never test bounds), the input transform of all its tiles (winoIn), the
 * n² products (gemm4x8, n = m + 2), then per tile row the output transform (winoOut); a last partial tile column or
 * row goes through `edge` / `row` and only its pixels inside the output are copied out.
 */
import type { SimdKernels } from './simdKernelModule';

/**
 * One convolution as either thread runs a part of it (byte addresses in the wasm heap): the geometry, the tile size
 * m (2 or 4), the shared inputs (x, the transformed filter u, the bias or zeros, zeros for the products' initial
 * rows), the output, and the running thread's own scratch (band, v, prod, row, edge; sizes from `winogradLayout`).
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
  tile: number;
  rowsPerChunk: number;
  x: number;
  out: number;
  u: number;
  bias: number;
  zeros: number;
  band: number;
  v: number;
  prod: number;
  row: number;
  edge: number;
}
/** the job as numbers in a fixed order (what the helper thread receives) */
export const WINOGRAD_FIELDS = [
  'B', 'H', 'W', 'Ci', 'Co', 'OH', 'OW', 'pt', 'pl', 'tile', 'rowsPerChunk',
  'x', 'out', 'u', 'bias', 'zeros', 'band', 'v', 'prod', 'row', 'edge',
] as const; // prettier-ignore

/**
 * the byte distance between two of the n² positions' planes of `tiles` tiles of `channels` channels: one cache line
 * more than a plane's size (at a multiple of 4 KiB the transforms' streams would share cache sets: measured, the
 * F(2x2) input transform 3x slower)
 */
export const planeBytes = (tiles: number, channels: number): number => tiles * 4 * channels + 64;

/** the tiles, chunks and scratch sizes (floats) of a job's geometry */
export function winogradLayout(j: Pick<WinogradJob, 'B' | 'Ci' | 'Co' | 'OH' | 'OW' | 'tile' | 'rowsPerChunk'>) {
  const m = j.tile,
    n = m + 2;
  const tilesX = Math.ceil(j.OW / m),
    tilesY = Math.ceil(j.OH / m);
  const bandW = m * tilesX + 2; // input pixels a tile row reads
  const chunk = 4 * Math.ceil((j.rowsPerChunk * tilesX) / 4); // tiles a chunk's products hold (a multiple of 4)
  const vXi = planeBytes(chunk, j.Ci),
    mXi = planeBytes(chunk, j.Co);
  const chunksPerImage = Math.ceil(tilesY / j.rowsPerChunk);
  return {
    m,
    n,
    tilesX,
    tilesY,
    fullX: Math.floor(j.OW / m),
    bandW,
    vXi,
    mXi,
    /** the units of work: (image, chunk of tile rows) pairs, image-major */
    units: j.B * chunksPerImage,
    chunksPerImage,
    scratch: {
      band: (m * j.rowsPerChunk + 2) * bandW * j.Ci,
      v: (n * n * vXi) / 4,
      prod: (n * n * mXi) / 4,
      row: m * m * tilesX * j.Co,
      edge: m * m * j.Co,
    },
  };
}

/** the units [from, to) of a job (winogradLayout), with the running thread's SIMD kernels on `memory` */
export function winogradRange(
  simd: SimdKernels,
  memory: WebAssembly.Memory,
  j: WinogradJob,
  from: number,
  to: number,
): void {
  const { H, W, Ci, Co, OH, OW, pt, pl, rowsPerChunk } = j;
  const L = winogradLayout(j);
  const { m, n, tilesX, tilesY, fullX, bandW, vXi, mXi } = L;
  const [winoIn, winoOut] = m === 4 ? [simd.winoIn4, simd.winoOut4] : [simd.winoIn2, simd.winoOut2];
  const ciB = 4 * Ci,
    coB = 4 * Co;
  const heap = new Float32Array(memory.buffer); // nothing allocates below: the view stays valid
  const bandRow = bandW * Ci; // floats
  for (let unit = from; unit < Math.min(to, L.units); unit++) {
    const b = Math.floor(unit / L.chunksPerImage);
    const ty0 = (unit % L.chunksPerImage) * rowsPerChunk;
    const rows = Math.min(rowsPerChunk, tilesY - ty0);
    simd.band(j.band, j.x + b * H * W * ciB, m * ty0 - pt, m * rows + 2, H, W * ciB, pl * ciB, bandW * ciB);
    winoIn(j.v, j.band, tilesX, Ci / 4, bandRow * 4, vXi, rows);
    const m4 = Math.ceil((rows * tilesX) / 4);
    for (let xi = 0; xi < n * n; xi++)
      simd.gemm4x8(
        j.prod + xi * mXi,
        j.v + xi * vXi,
        j.u + xi * Ci * coB,
        m4,
        Ci,
        Co / 8,
        ciB,
        4,
        coB,
        coB,
        j.zeros,
        0,
      );
    for (let k = 0; k < rows; k++) {
      const oh = m * (ty0 + k);
      const valid = Math.min(m, OH - oh); // output rows of this tile row
      const y = j.out + (b * OH + oh) * OW * coB;
      const mm = j.prod + k * tilesX * coB;
      if (fullX > 0) {
        if (valid === m) winoOut(y, OW * coB, mm, fullX, Co / 4, mXi, j.bias);
        else {
          // a last partial tile row: its m rows into `row`, the valid ones copied out
          winoOut(j.row, m * tilesX * coB, mm, fullX, Co / 4, mXi, j.bias);
          for (let a = 0; a < valid; a++) {
            const s = j.row / 4 + a * m * tilesX * Co;
            heap.copyWithin((y + a * OW * coB) / 4, s, s + fullX * m * Co);
          }
        }
      }
      if (fullX < tilesX) {
        // a last partial tile column: its m x m pixels into `edge`, the ones inside the output copied out
        winoOut(j.edge, m * coB, mm + fullX * coB, 1, Co / 4, mXi, j.bias);
        for (let a = 0; a < valid; a++) {
          const s = j.edge / 4 + a * m * Co;
          heap.copyWithin((y + a * OW * coB) / 4 + fullX * m * Co, s, s + (OW - fullX * m) * Co);
        }
      }
    }
  }
}
