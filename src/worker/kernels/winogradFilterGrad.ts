/**
 * Conv2DBackpropFilter of a 3x3 stride-1 convolution by the same Winograd algorithms as its forward pass
 * (winogradConv.ts; F(4x4, 3x3) where the output is at least 6 x 6, else F(2x2, 3x3)), on the calling thread on
 * either build (the same sums in the same order whichever build runs: the threaded one gives the same bits; its
 * helper thread meanwhile idle, it takes half of the input gradient's convolution that follows). The forward identity Y = Aᵀ[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]A, read as a bilinear form in (dy tile e, g),
 * gives each tile's share of dW as Gᵀ[(A·e·Aᵀ) ⊙ (Bᵀ·d·B)]G; summed over every tile of every image, the sum moves
 * inside:
 *
 *   S_ξ[Ci, Co] = Σ_tiles V_ξ[tile, Ci]ᵀ · E_ξ[tile, Co]      V = Bᵀ·d·B (winoIn), E = A·e·Aᵀ (winoDy), ξ < n²
 *   dW[p][q] = Σ_ij G[i][p]·G[j][q]·S_ij                       (one product, gemm4x8, once)
 *
 * The products by outer4x8 (4 rows of S by 8 columns in registers over all the chunk's tiles); x's rows go through the
 * forward's band (padding zeros), dy's through a band zero beyond its edges (the last tiles' overhang). F(4x4): 36
 * products per tile of 16 output pixels against 144 for the direct sum (filterGradLoops.ts).
 */
import type { ConvInfo, KernelOps, TInfo } from './kernelOps';
import type { SimdKernels } from './simdKernelModule';
import { winogradPlan, winogradSettings } from './winogradConv';
import { planeBytes } from './winogradLoops';

/** the filter gradients this covers (and the settings allow) */
export function winogradFilterFits(ops: KernelOps, ci: ConvInfo): ops is KernelOps & { simd: SimdKernels } {
  return (
    ops.simd !== null &&
    !ops.direct &&
    winogradSettings.enabled &&
    winogradSettings.filterGrad &&
    ci.filterHeight === 3 &&
    ci.filterWidth === 3 &&
    ci.strideHeight === 1 &&
    ci.strideWidth === 1 &&
    ci.dilationHeight === 1 &&
    ci.dilationWidth === 1 &&
    ci.inChannels % 4 === 0 &&
    ci.outChannels % 8 === 0 &&
    ci.padInfo.top >= 0 &&
    ci.padInfo.left >= 0 &&
    ci.outHeight === ci.inHeight + ci.padInfo.top + ci.padInfo.bottom - 2 &&
    ci.outWidth === ci.inWidth + ci.padInfo.left + ci.padInfo.right - 2 &&
    ci.batchSize * ci.outHeight * ci.outWidth >= winogradSettings.minOutputPixels
  );
}

/** dW [3, 3, Ci, Co] from x and dy, both channels last */
export function winogradFilterGrad(ops: KernelOps, simd: SimdKernels, xN: TInfo, dyN: TInfo, ci: ConvInfo): TInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co } = ci;
  const { top: pt, left: pl } = ci.padInfo;
  const { w, rowsPerChunk } = winogradPlan(OH, OW);
  const m = w.m,
    n = m + 2;
  const [winoIn, winoDy] = m === 4 ? [simd.winoIn4, simd.winoDy4] : [simd.winoIn2, simd.winoDy2];
  const tilesX = Math.ceil(OW / m),
    tilesY = Math.ceil(OH / m);
  const chunk = rowsPerChunk * tilesX;
  const bandW = m * tilesX + 2,
    dyBandW = m * tilesX;
  const ciB = 4 * Ci,
    coB = 4 * Co;
  const vXi = planeBytes(chunk, Ci),
    eXi = planeBytes(chunk, Co);
  const temps: TInfo[] = [];
  const temp = (floats: number): TInfo => {
    const t = ops.create([floats], [], () => undefined);
    temps.push(t);
    return t;
  };
  try {
    const band = temp((m * rowsPerChunk + 2) * bandW * Ci),
      dyBand = temp(m * rowsPerChunk * dyBandW * Co),
      v = temp((n * n * vXi) / 4),
      e = temp((n * n * eXi) / 4),
      s = temp(n * n * Ci * Co);
    ops.read([xN, dyN, band, dyBand, v, e, s], (xv, dv, bandV, dyBandV, vV, eV, sV) => {
      sV.fill(0);
      for (let b = 0; b < B; b++)
        for (let ty0 = 0; ty0 < tilesY; ty0 += rowsPerChunk) {
          const rows = Math.min(rowsPerChunk, tilesY - ty0);
          const image = xv.byteOffset + b * H * W * ciB;
          simd.band(bandV.byteOffset, image, m * ty0 - pt, m * rows + 2, H, W * ciB, pl * ciB, bandW * ciB);
          winoIn(vV.byteOffset, bandV.byteOffset, tilesX, Ci / 4, bandW * ciB, vXi, rows);
          const dyImage = dv.byteOffset + b * OH * OW * coB;
          simd.band(dyBandV.byteOffset, dyImage, m * ty0, m * rows, OH, OW * coB, 0, dyBandW * coB);
          winoDy(eV.byteOffset, dyBandV.byteOffset, tilesX, Co / 4, dyBandW * coB, eXi, rows);
          for (let xi = 0; xi < n * n; xi++)
            for (let c4 = 0; c4 < Ci / 4; c4++)
              simd.outer4x8(
                sV.byteOffset + (xi * Ci + 4 * c4) * coB,
                vV.byteOffset + xi * vXi + 16 * c4,
                eV.byteOffset + xi * eXi,
                rows * tilesX,
                ciB,
                coB,
                coB,
                Co / 8,
              );
        }
    });
    // dW[p·3 + q] = Σ_ξ C[p·3 + q][ξ]·S_ξ with C[p·3 + q][n·i + j] = G[i][p]·G[j][q]: one product by gemm4x8 (C padded
    // to 12 rows by zeros; a JS loop here ran unoptimised in a process's second training step, ~5 ms of it)
    const cells = Ci * Co;
    const coef = temp(12 * n * n),
      zeros = temp(cells),
      full = temp(12 * cells);
    ops.read([coef, zeros, s, full], (cv, zv, sv, fv) => {
      cv.fill(0);
      zv.fill(0);
      for (let p = 0; p < 3; p++)
        for (let q = 0; q < 3; q++)
          for (let i = 0; i < n; i++)
            for (let j = 0; j < n; j++) cv[(3 * p + q) * n * n + n * i + j] = w.G[i][p] * w.G[j][q];
      simd.gemm4x8(
        fv.byteOffset,
        cv.byteOffset,
        sv.byteOffset,
        3,
        n * n,
        cells / 8,
        4 * n * n,
        4,
        4 * cells,
        4 * cells,
        zv.byteOffset,
        0,
      );
    });
    return ops.create([3, 3, Ci, Co], [full], (out, fv) => out.set(fv.subarray(0, 9 * cells)));
  } finally {
    for (const t of temps) ops.dispose(t);
  }
}
