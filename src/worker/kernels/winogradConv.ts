/**
 * Conv2D / FusedConv2D on wasm for a 3x3 stride-1 convolution by Winograd's minimal filtering: F(4x4, 3x3) (each 4x4
 * block of output pixels, a tile, from its 6x6 input pixels with 36 products per channel pair instead of 144: 4x
 * fewer multiplications) where the output is at least 6 x 6 pixels, else F(2x2, 3x3) (4x4 inputs, 16 products
 * instead of 36). Per chunk of tiles: the input transform V = Bᵀ·d·B (winoIn), then for each of the n² positions ξ a
 * product M_ξ[tiles, Co] = V_ξ[tiles, Ci] · U_ξ[Ci, Co] (gemm4x8), then the output transform Y = Aᵀ·M·A + bias
 * (winoOut); U = G·g·Gᵀ is the filter's transform, computed in float64 and rounded once (simdWinogradFilter.ts). The
 * matrices and the SIMD transforms generated from them: simdWinograd.ts; the loops: winogradLoops.ts. Why not
 * XNNPACK: it has no Winograd convolution (its 3x3 convolution is an indirect GEMM, ~15-19 GFLOP/s on one core here,
 * about wasm SIMD's peak without fused multiply-add); fewer multiplications get past that on one core. Measured (one process, fresh
 * inputs each call), F(2x2): [32, 32, 32, 16] ⊛ 3x3 -> 16 ~7.8 against ~10.5 ms, [8, 14, 14, 256] -> 256 ~50 against
 * ~80 ms; the small CNN's training step in one process (engine kernels, no bn-inspect fast paths, 10 alternating
 * fits each): F(4x4) 106, F(2x2) 119, XNNPACK 131 ms.
 * The chunks are sized to stay in cache (V and M ~100-300 KiB); each chunk's input rows are first copied into a band
 * with the padding's zeros, so the transforms never test bounds. On the threaded build the helper thread
 * (simdHelper.ts) takes the second half of the chunks when it is idle.
 *
 * Numerics: each output is the direct convolution's sum up to the rounding of the transforms, which the test bounds
 * against float64 (measured worst, in units of 2^-24·Σ|terms|: F(2x2) 1.4-4.6, F(4x4) 7-44, XNNPACK's direct sum
 * 1.5-3.8; the textbook bound of a float32 dot product of the 9·Ci terms is 9·Ci).
 *
 * Applies where the arithmetic is: float32, NHWC, 3x3 filter, strides and dilations 1, Ci % 4 = 0, Co % 8 = 0,
 * no activation (or linear), no prelu, enough output pixels; the training step's input gradient (a Conv2D with the
 * rotated filter: conv2dBackprop.ts) comes here too. Anything else goes to `next`.
 */
import type { KernelFunc, TInfo } from './kernelOps';
import { guardBackend, simdHelperFor } from './simdHelper';
import { backendMemory } from './simdKernelModule';
import { winogradLayout, winogradRange, type WinogradJob } from './winogradLoops';
import type { SimdOf } from './wasmElementwise';
import { F2x2_3x3, F4x4_3x3, type WinogradMatrices } from './simdWinograd';

/** tunables (tests and benchmarks switch it off or shrink the chunk) */
export const winogradSettings: {
  enabled: boolean;
  tile: 'auto' | 2 | 4;
  chunkTiles: number;
  minOutputPixels: number;
  filterGrad: boolean;
} = {
  /** BN_INSPECTOR_WINOGRAD=0: XNNPACK's direct convolution and the direct filter gradients instead (A/B, a way out) */
  enabled: process.env.BN_INSPECTOR_WINOGRAD !== '0',
  /** F(4x4, 3x3) where the output is at least 6 x 6 pixels, else F(2x2, 3x3) */
  tile: 'auto',
  chunkTiles: 256,
  minOutputPixels: 256,
  /** the filter gradient too (winogradFilterGrad.ts) */
  filterGrad: true,
};

/** the padding (top, bottom, left, right) of a stride-1 3x3 conv, or null where tfjs's `pad` is not understood */
function pads3x3(pad: unknown): [number, number, number, number] | null {
  if (pad === 'same') return [1, 1, 1, 1];
  if (pad === 'valid') return [0, 0, 0, 0];
  if (typeof pad === 'number' && Number.isInteger(pad) && pad >= 0) return [pad, pad, pad, pad];
  if (Array.isArray(pad) && pad.length === 4) {
    const [n, h, w, c] = pad as unknown[];
    const pair = (p: unknown): p is [number, number] =>
      Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0);
    if (pair(n) && pair(h) && pair(w) && pair(c) && n[0] + n[1] + c[0] + c[1] === 0) return [h[0], h[1], w[0], w[1]];
  }
  return null;
}

const ones = (v: unknown): boolean => v == null || v === 1 || (Array.isArray(v) && v.every((d) => d === 1));

/**
 * U[ξ][ci][co] = (G·g·Gᵀ)[i][j], ξ = n·i + j, from the filter [3, 3, Ci, Co], in float64, rounded once: the reference
 * of the SIMD module's transform (filterTransform below), which computes the same operations two cells at a time
 */
export function winogradFilter(w: Float32Array, ci: number, co: number, out: Float32Array, G: number[][]): void {
  const n = G.length;
  const cells = ci * co;
  const g = new Float64Array(9);
  const a = new Float64Array(3 * n);
  for (let p = 0; p < cells; p++) {
    for (let k = 0; k < 9; k++) g[k] = w[k * cells + p];
    // a = G·g (n x 3)
    for (let i = 0; i < n; i++)
      for (let c = 0; c < 3; c++) a[3 * i + c] = G[i][0] * g[c] + G[i][1] * g[3 + c] + G[i][2] * g[6 + c];
    // U = a·Gᵀ (n x n)
    for (let i = 0; i < n; i++)
      for (let jj = 0; jj < n; jj++)
        out[(n * i + jj) * cells + p] = a[3 * i] * G[jj][0] + a[3 * i + 1] * G[jj][1] + a[3 * i + 2] * G[jj][2];
  }
}

/**
 * winogradFilter by the SIMD module's float64 transform (simdWinogradFilter.ts; the same bits), two cells at a time;
 * an odd last cell in JavaScript. `w` and `u` lie in the backend's heap.
 */
export function filterTransform(
  simd: Simd,
  m: WinogradMatrices,
  w: Float32Array,
  cells: number,
  u: Float32Array,
): void {
  const n = m.G.length;
  const pairs = cells >> 1;
  const planeBytes = 4 * cells;
  if (pairs > 0) (m.m === 4 ? simd.winoFilter4 : simd.winoFilter2)(u.byteOffset, w.byteOffset, pairs, planeBytes);
  if (cells % 2 === 0) return;
  // the last cell: its 9 taps and n² results, by winogradFilter on one-cell copies
  const g = new Float32Array(9),
    r = new Float32Array(n * n);
  for (let k = 0; k < 9; k++) g[k] = w[k * cells + cells - 1];
  winogradFilter(g, 1, 1, r, m.G);
  for (let x = 0; x < n * n; x++) u[x * cells + cells - 1] = r[x];
}

export function fastWinogradConv(next: KernelFunc, simdOf: SimdOf): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs = {} } = args;
    const { x, filter, bias, preluActivationWeights } = inputs;
    const pads = pads3x3(attrs.pad);
    const simd = winogradSettings.enabled ? simdOf(backend) : null;
    if (
      simd === null ||
      pads === null ||
      x.dtype !== 'float32' ||
      filter.dtype !== 'float32' ||
      x.shape.length !== 4 ||
      filter.shape.length !== 4 ||
      filter.shape[0] !== 3 ||
      filter.shape[1] !== 3 ||
      !(attrs.dataFormat == null || attrs.dataFormat === 'NHWC' || attrs.dataFormat === 'channelsLast') ||
      !ones(attrs.strides) ||
      !ones(attrs.dilations) ||
      !(attrs.activation == null || attrs.activation === 'linear') ||
      preluActivationWeights != null ||
      (bias != null && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== filter.shape[3]))
    )
      return next(args);
    const [B, H, W, Ci] = x.shape;
    const Co = filter.shape[3];
    const [pt, pb, pl, pr] = pads;
    const OH = H + pt + pb - 2,
      OW = W + pl + pr - 2;
    if (filter.shape[2] !== Ci || Ci % 4 !== 0 || Co % 8 !== 0 || OH <= 0 || OW <= 0 || B === 0) return next(args);
    if (B * OH * OW < winogradSettings.minOutputPixels) return next(args);
    const memory = backendMemory(backend);
    if (memory === null) return next(args);
    return winogradConv(backend, simd, memory, x, filter, bias ?? null, [B, H, W, Ci, Co, OH, OW, pt, pl]);
  };
}

/**
 * The algorithm for an output of OH x OW pixels (F(4x4, 3x3) from 6 x 6 on, unless the settings say) and the tile rows
 * a chunk takes (about `chunkTiles` tiles, never more rows than the output has): for a convolution and its filter
 * gradient alike
 */
export function winogradPlan(OH: number, OW: number): { w: WinogradMatrices; rowsPerChunk: number } {
  const setting = winogradSettings.tile;
  const w = (setting === 'auto' ? OH >= 6 && OW >= 6 : setting === 4) ? F4x4_3x3 : F2x2_3x3;
  const tilesX = Math.ceil(OW / w.m),
    tilesY = Math.ceil(OH / w.m);
  return { w, rowsPerChunk: Math.max(1, Math.min(tilesY, Math.floor(winogradSettings.chunkTiles / tilesX))) };
}

type Backend = Parameters<KernelFunc>[0]['backend'];
type Simd = NonNullable<ReturnType<SimdOf>>;

function winogradConv(
  backend: Backend,
  simd: Simd,
  memory: WebAssembly.Memory,
  x: TInfo,
  filter: TInfo,
  bias: TInfo | null,
  [B, H, W, Ci, Co, OH, OW, pt, pl]: number[],
): TInfo {
  const { w, rowsPerChunk } = winogradPlan(OH, OW);
  const geometry = { B, H, W, Ci, Co, OH, OW, pt, pl, tile: w.m, rowsPerChunk };
  const L = winogradLayout(geometry);
  const flops = 2 * B * OH * OW * Co * 9 * Ci;
  const helper = simdHelperFor(memory);
  // half the units on the helper thread (threaded build) when it is idle; busy with a filter gradient it was given
  // (backpropagation: the layer's dW while this computes its dx), it keeps that and this thread takes the whole conv
  const split =
    helper !== null && L.units >= 2 && !helper.busy() && helper.worthIt(flops / 2) && guardBackend(backend, helper)
      ? helper
      : null;
  const out = backend.makeOutput([B, OH, OW, Co], 'float32') as TInfo;
  const temps: TInfo[] = [];
  const temp = (floats: number): TInfo => {
    const t = backend.makeOutput([floats], 'float32') as TInfo;
    temps.push(t);
    return t;
  };
  const scratchTemps = () => {
    const { band, v, prod, row, edge } = L.scratch;
    return { band: temp(band), v: temp(v), prod: temp(prod), row: temp(row), edge: temp(edge) };
  };
  try {
    const uT = temp(L.n * L.n * Ci * Co),
      zT = temp(Co);
    const own = scratchTemps();
    const theirs = split ? scratchTemps() : null;
    // views after every allocation: malloc may grow (and move) the heap
    const view = (t: TInfo): Float32Array => backend.typedArrayFromHeap(t) as Float32Array;
    const at = (t: TInfo): number => view(t).byteOffset;
    filterTransform(simd, w, view(filter), Ci * Co, view(uT));
    view(zT).fill(0);
    const shared = { x: at(x), out: at(out), u: at(uT), bias: bias ? at(bias) : at(zT), zeros: at(zT) };
    const job = (s: ReturnType<typeof scratchTemps>): WinogradJob => ({
      ...geometry,
      ...shared,
      band: at(s.band),
      v: at(s.v),
      prod: at(s.prod),
      row: at(s.row),
      edge: at(s.edge),
    });
    let mine = L.units;
    if (split && theirs) {
      // the helper takes the second half of the units (its own scratch); this thread the first; the fence makes the
      // frees of anything the helper reads (below) and any read of the output wait until it is done
      mine = Math.ceil(L.units / 2);
      const j = job(theirs);
      split.winograd(j, mine, L.units, {
        out: out.dataId,
        outAddress: j.out,
        reads: [j.x, j.u, j.bias, j.zeros, j.band, j.v, j.prod, j.row, j.edge],
      });
    }
    winogradRange(simd, memory, job(own), 0, mine);
    return out;
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}
