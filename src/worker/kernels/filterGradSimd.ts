/**
 * The engine's SIMD filter gradients of a convolution (Conv2DBackpropFilter on wasm; conv2dBackprop.ts chooses them
 * by geometry and settings): 1x1 (pointwiseFilterSimd), KxK with Ci % 4 = 0 (shiftedFilterSimd), and KxK with other
 * Ci on x padded by zero channels (paddedFilterSimd). They allocate through KernelOps and hand the arithmetic to the
 * loops of filterGradLoops.ts, on the calling thread or, on the threaded build, on its helper thread while the calling
 * thread goes on (simdHelper.ts).
 */
import { filterGradTaps, pointwiseFilterRows, type TapGeometry } from './filterGradLoops';
import type { ConvInfo, KernelOps, TInfo } from './kernelOps';
import type { SimdKernels } from './simdKernelModule';
import type { JobData } from './simdHelper';
import { winogradFilterFits, winogradFilterGrad } from './winogradFilterGrad';

/**
 * dW of `shape`, zeroed here, then computed by `start` on the helper thread, which returns at once (the helper's job
 * is fenced: simdHelper.ts); dW is this kernel's output.
 */
function onHelper(
  ops: KernelOps,
  shape: number[],
  xN: TInfo,
  dyN: TInfo,
  start: (out: number, x: number, dy: number, data: JobData) => void,
): TInfo {
  const out = ops.create(shape, [], (o) => o.fill(0));
  try {
    ops.read([out, xN, dyN], (o, xv, dv) =>
      start(o.byteOffset, xv.byteOffset, dv.byteOffset, {
        out: out.dataId,
        outAddress: o.byteOffset,
        reads: [xv.byteOffset, dv.byteOffset],
      }),
    );
  } catch (e) {
    ops.dispose(out); // the job before failed: nothing was started
    throw e;
  }
  return out;
}

/**
 * dW[Ci, Co] = x[M, Ci]ᵀ · dy[M, Co] by the SIMD kernel outer4x8 (filterGradLoops.ts, pointwiseFilterRows), on the
 * threaded build's helper thread where the call is large enough to pay for a job (simdHelper.ts), else here.
 * XNNPACK's MatMul would need one operand transposed and the other packed as weights, both of M x channels floats:
 * measured, packing a fresh [8192, 96] dy costs ~6x the multiply itself, and training makes every operand fresh.
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
  const helper = ops.helper !== null && ops.helper.worthIt(2 * M * Ci * Co) ? ops.helper : null;
  if (helper !== null)
    return onHelper(ops, [1, 1, Ci, Co], xN, dyN, (out, x, dy, data) =>
      helper.pointwiseFilterRows(out, x, dy, M, Ci, Co, data),
    );
  return ops.create([1, 1, Ci, Co], [xN, dyN], (out, xv, dv) => {
    out.fill(0);
    pointwiseFilterRows(simd, out.byteOffset, xv.byteOffset, dv.byteOffset, 0, M, Ci, Co);
  });
}

/**
 * dW by the SIMD per-tap filter gradient (filterGradLoops.ts, filterGradTaps), reading x and dy in place; on the
 * threaded build's helper thread where the call is large enough (simdHelper.ts), else here. The stock path (one
 * XNNPACK convolution with batch and channels swapped, dy as a B x OH x OW "filter") packs that filter at every call
 * and transposes x and dy first: measured ~8 GFLOP/s on the small CNN's 3x3 layers.
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
  const helper = ops.helper !== null && ops.helper.worthIt(flops) ? ops.helper : null;
  if (helper !== null)
    return onHelper(ops, [KH, KW, Ci, Co], xN, dyN, (out, x, dy, data) => helper.filterGradTaps(g, out, x, dy, data));
  return ops.create([KH, KW, Ci, Co], [xN, dyN], (out, xv, dv) => {
    out.fill(0);
    filterGradTaps(simd, g, out.byteOffset, xv.byteOffset, dv.byteOffset, 0, B);
  });
}

/**
 * shiftedFilterSimd (or, 3x3 stride 1, the Winograd filter gradient) where Ci % 4 ≠ 0 (an RGB stem: Ci = 3): on a
 * copy of x with its channels padded by zeros to the next multiple of 4, then dW's padded rows dropped. The zeros add
 * (4 − Ci % 4) / Ci to the arithmetic (a third for RGB), the copy one pass over x. The route it replaces (one XNNPACK
 * convolution with batch and channels swapped: the output is only KH·KW·Ci pixels, each a sum over the whole batch)
 * measured ~3 GFLOP/s on the small CNN's first layer ([32, 32, 32, 3] ⊛ 3×3×3×16: 9 ms of a 122 ms step, with its
 * two transposes).
 */
export function paddedFilterSimd(ops: KernelOps, simd: SimdKernels, xN: TInfo, dyN: TInfo, ci: ConvInfo): TInfo {
  const Ci = ci.inChannels,
    C4 = (Ci + 3) & ~3,
    Co = ci.outChannels,
    taps = ci.filterHeight * ci.filterWidth;
  const pixels = ci.batchSize * ci.inHeight * ci.inWidth;
  // in wasm: as a JS loop (called a few times a step) it ran unoptimised in a process's second step, ~4 ms
  const xP = ops.create([ci.batchSize, ci.inHeight, ci.inWidth, C4], [xN], (out, xv) =>
    simd.padChannels(out.byteOffset, xv.byteOffset, pixels, 4 * Ci, 4 * C4),
  );
  let wP: TInfo;
  try {
    // a 3x3 stride-1 stem: the Winograd filter gradient on the padded x (winogradFilterGrad.ts; [32, 32, 32, 3] ⊛
    // 3x3 -> 16: 1.38 against 1.76 ms, one process, alternating; its forward stays XNNPACK's: padded, 2.72 against 2.50)
    const ciP = { ...ci, inChannels: C4 };
    wP = winogradFilterFits(ops, ciP)
      ? winogradFilterGrad(ops, simd, xP, dyN, ciP)
      : shiftedFilterSimd(ops, simd, xP, dyN, ciP);
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
