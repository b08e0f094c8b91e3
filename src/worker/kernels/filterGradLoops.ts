/**
 * The loops of the engine's SIMD filter gradients (filterGradSimd.ts) over a part of dW, on byte addresses of the
 * wasm heap: the same calls whichever thread runs them (the calling thread, or the helper thread of the threaded
 * build, simdHelperThread.ts, which takes the whole gradient while the calling thread goes on: simdHelper.ts).
 *
 * pointwiseFilterRows: dW[Ci, Co] += x[r0..r1, Ci]ᵀ · dy[r0..r1, Co] (a 1x1 convolution over some of its pixels),
 * 4 x 8 blocks of dW in registers (outer4x8), the pixels in blocks that stay in the L2 cache (~256 KiB of x and dy).
 *
 * filterGradTaps (images b0 to b1):
 * dW[kh, kw] = Σ over the output pixels whose input pixel (oh·sh + kh − padTop, ow·sw + kw − padLeft) is inside x
 * of x[that pixel]ᵀ · dy[pixel]: per tap a 1x1 filter gradient over the valid pixels, by outer4x8 reading x and dy in
 * place (an output row's valid pixels are contiguous in dy and every sw pixels in x; at stride 1, where the tap is
 * the centre column, the rows of one image run on in one call).
 */
import type { SimdKernels } from './simdKernelModule';

/** a convolution's geometry (channels last, dilation 1; Ci % 4 = 0, Co % 8 = 0) */
export interface TapGeometry {
  B: number;
  H: number;
  W: number;
  Ci: number;
  OH: number;
  OW: number;
  Co: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
}

/** the geometry as numbers in a fixed order (what the helper thread receives) */
export const TAP_FIELDS = ['B', 'H', 'W', 'Ci', 'OH', 'OW', 'Co', 'KH', 'KW', 'sh', 'sw', 'pt', 'pl'] as const;

/** dW over the images [b0, b1) added into `out` (bytes; the caller zeroes it), x and dy at `x`, `dy` */
export function filterGradTaps(
  simd: SimdKernels,
  g: TapGeometry,
  out: number,
  x: number,
  dy: number,
  b0: number,
  b1: number,
): void {
  const { H, W, Ci, OH, OW, Co, KH, KW, sh, sw, pt, pl } = g;
  const xs = sw * Ci * 4, // consecutive output pixels of a row read x every sw pixels
    ds = Co * 4,
    as = Co * 4;
  for (let t = 0; t < KH * KW; t++) {
    const kh = Math.floor(t / KW),
      kw = t % KW;
    // output rows whose input row oh·sh + kh − pt lies in [0, H)
    const ohMin = Math.max(0, Math.ceil((pt - kh) / sh));
    const ohMax = Math.min(OH, Math.floor((H - 1 + pt - kh) / sh) + 1); // exclusive
    if (ohMin >= ohMax) continue;
    const owMin = Math.max(0, Math.ceil((pl - kw) / sw));
    const owMax = Math.min(OW, Math.floor((W - 1 + pl - kw) / sw) + 1);
    if (owMin >= owMax) continue;
    const tap = out + t * Ci * as;
    // stride 1, the centre column and x's rows as wide as dy's: every pixel valid, the rows of an image run on
    const whole = sh === 1 && sw === 1 && owMin === 0 && owMax === OW && OW === W && kw === pl;
    // calls per image: one over all its valid rows, or one per output row
    const calls = whole ? 1 : ohMax - ohMin;
    const n = whole ? (ohMax - ohMin) * OW : owMax - owMin;
    for (let b = b0; b < b1; b++) {
      for (let oh = ohMin; oh < ohMin + calls; oh++) {
        const x0 = x + ((b * H + oh * sh + kh - pt) * W + owMin * sw + kw - pl) * Ci * 4;
        const d0 = dy + ((b * OH + oh) * OW + owMin) * Co * 4;
        for (let i = 0; i < Ci; i += 4) simd.outer4x8(tap + i * as, x0 + i * 4, d0, n, xs, ds, as, Co / 8);
      }
    }
  }
}

/** the pixels [r0, r1) of a 1x1 filter gradient (all of dW) added into `out` (the caller zeroes it) */
export function pointwiseFilterRows(
  simd: SimdKernels,
  out: number,
  x: number,
  dy: number,
  r0: number,
  r1: number,
  Ci: number,
  Co: number,
): void {
  const block = Math.max(16, Math.floor(65536 / (Ci + Co)));
  const xs = Ci * 4,
    ds = Co * 4,
    as = Co * 4;
  for (let r = r0; r < r1; r += block) {
    const n = Math.min(block, r1 - r);
    const x0 = x + r * xs;
    const d0 = dy + r * ds;
    for (let i = 0; i < Ci; i += 4) simd.outer4x8(out + i * as, x0 + i * 4, d0, n, xs, ds, as, Co / 8);
  }
}
