/**
 * The engine's SIMD filter gradients of a convolution (Conv2DBackpropFilter on wasm; conv2dBackprop.ts chooses them
 * by geometry and settings): 1x1 (pointwiseFilterSimd), KxK with Ci % 4 = 0 (shiftedFilterSimd), and KxK with other
 * Ci on x padded by zero channels (paddedFilterSimd). They allocate through KernelOps and hand the arithmetic to the
 * loops of filterGradLoops.ts, on the calling thread alone or shared with the threaded build's helper thread
 * (simdHelper.ts).
 */
import { filterGradTaps, pointwiseFilterRows, type TapGeometry } from './filterGradLoops';
import type { ConvInfo, KernelOps, TInfo } from './kernelOps';
import type { SimdKernels } from './simdKernelModule';

/**
 * dW[Ci, Co] = x[M, Ci]ᵀ · dy[M, Co] by the SIMD kernel outer4x8 (filterGradLoops.ts, pointwiseFilterRows); on the
 * threaded build the helper thread takes the second half of the pixels, into a dW of its own added after, where the
 * call is large enough (simdHelper.ts): each thread reads half of x and dy (split by channels instead, both read all
 * of dy: measured slower than one thread on MobileNetV2's [8, 32, 32, 16] → 96). XNNPACK's MatMul would need one
 * operand transposed and the other packed as weights, both of M x channels floats: measured, packing a fresh
 * [8192, 96] dy costs ~6x the multiply itself, and training makes every operand fresh.
 */
export function pointwiseFilterSimd(
  ops: KernelOps,
  simd: SimdKernels,
  xN: TInfo,
  dyN: TInfo,
  M: number,
  Ci: number,
  Co: number,
): TInfo {
  const helper = M >= 64 && ops.helper !== null && ops.helper.worthIt(2 * M * Ci * Co) ? ops.helper : null;
  if (helper === null)
    return ops.create([1, 1, Ci, Co], [xN, dyN], (out, xv, dv) => {
      out.fill(0);
      pointwiseFilterRows(simd, out.byteOffset, xv.byteOffset, dv.byteOffset, 0, M, Ci, Co);
    });
  const theirs = ops.create([Ci, Co], [], (t) => t.fill(0));
  try {
    return ops.create([1, 1, Ci, Co], [xN, dyN, theirs], (out, xv, dv, tv) => {
      out.fill(0);
      const [o, x, dy, half] = [out.byteOffset, xv.byteOffset, dv.byteOffset, M >> 1];
      helper.pointwiseFilterRows(tv.byteOffset, x, dy, half, M, Ci, Co, () =>
        pointwiseFilterRows(simd, o, x, dy, 0, half, Ci, Co),
      );
      simd.add(o, o, tv.byteOffset, 1, Ci * Co * 4, 0, 0);
    });
  } finally {
    ops.dispose(theirs);
  }
}

/**
 * dW by the SIMD per-tap filter gradient (filterGradLoops.ts, filterGradTaps), reading x and dy in place; on the
 * threaded build, with its helper thread ready (simdHelper.ts) and enough arithmetic to pay for waking it, the helper
 * takes the second half of the images, into a dW of its own added after. The stock path (one XNNPACK convolution
 * with batch and channels swapped, dy as a B x OH x OW "filter") packs that filter at every call and transposes x
 * and dy first: measured ~8 GFLOP/s on the small CNN's 3x3 layers.
 */
export function shiftedFilterSimd(ops: KernelOps, simd: SimdKernels, xN: TInfo, dyN: TInfo, ci: ConvInfo): TInfo {
  const g: TapGeometry = {
    B: ci.batchSize,
    H: ci.inHeight,
    W: ci.inWidth,
    Ci: ci.inChannels,
    OH: ci.outHeight,
    OW: ci.outWidth,
    Co: ci.outChannels,
    KH: ci.filterHeight,
    KW: ci.filterWidth,
    sh: ci.strideHeight,
    sw: ci.strideWidth,
    pt: ci.padInfo.top,
    pl: ci.padInfo.left,
  };
  const { B, KH, KW, Ci, Co } = g;
  const flops = 2 * B * g.OH * g.OW * KH * KW * Ci * Co;
  const helper = B >= 2 && ops.helper !== null && ops.helper.worthIt(flops) ? ops.helper : null;
  if (helper === null)
    return ops.create([KH, KW, Ci, Co], [xN, dyN], (out, xv, dv) => {
      out.fill(0);
      filterGradTaps(simd, g, out.byteOffset, xv.byteOffset, dv.byteOffset, 0, B);
    });
  const theirs = ops.create([KH * KW * Ci, Co], [], (t) => t.fill(0));
  try {
    return ops.create([KH, KW, Ci, Co], [xN, dyN, theirs], (out, xv, dv, tv) => {
      out.fill(0);
      const [o, x, dy, half] = [out.byteOffset, xv.byteOffset, dv.byteOffset, B >> 1];
      helper.filterGradTaps(g, tv.byteOffset, x, dy, half, B, () => filterGradTaps(simd, g, o, x, dy, 0, half));
      simd.add(o, o, tv.byteOffset, 1, KH * KW * Ci * Co * 4, 0, 0);
    });
  } finally {
    ops.dispose(theirs);
  }
}

/**
 * shiftedFilterSimd where Ci % 4 ≠ 0 (an RGB stem: Ci = 3): on a copy of x with its channels padded by zeros to the
 * next multiple of 4, then dW's padded rows dropped. The zeros add (4 − Ci % 4) / Ci to the arithmetic (a third for
 * RGB), the copy one pass over x. The route it replaces (one XNNPACK convolution with batch and channels swapped: the
 * output is only KH·KW·Ci pixels, each a sum over the whole batch) measured ~3 GFLOP/s on the small CNN's first
 * layer ([32, 32, 32, 3] ⊛ 3×3×3×16: 9 ms of a 122 ms step, with its two transposes).
 */
export function paddedFilterSimd(ops: KernelOps, simd: SimdKernels, xN: TInfo, dyN: TInfo, ci: ConvInfo): TInfo {
  const Ci = ci.inChannels,
    C4 = (Ci + 3) & ~3,
    Co = ci.outChannels,
    taps = ci.filterHeight * ci.filterWidth;
  const pixels = ci.batchSize * ci.inHeight * ci.inWidth;
  const xP = ops.create([ci.batchSize, ci.inHeight, ci.inWidth, C4], [xN], (out, xv) => {
    for (let p = 0, s = 0, d = 0; p < pixels; p++, s += Ci, d += C4) {
      for (let c = 0; c < Ci; c++) out[d + c] = xv[s + c];
      for (let c = Ci; c < C4; c++) out[d + c] = 0;
    }
  });
  let wP: TInfo;
  try {
    wP = shiftedFilterSimd(ops, simd, xP, dyN, { ...ci, inChannels: C4 });
  } finally {
    ops.dispose(xP);
  }
  try {
    return ops.create([ci.filterHeight, ci.filterWidth, Ci, Co], [wP], (out, wv) => {
      for (let t = 0; t < taps; t++)
        for (let c = 0; c < Ci; c++) out.set(wv.subarray((t * C4 + c) * Co, (t * C4 + c + 1) * Co), (t * Ci + c) * Co);
    });
  } finally {
    ops.dispose(wP);
  }
}
