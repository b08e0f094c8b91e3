/**
 * Convolution gradients for tfjs backends that lack them (wasm) or run them slowly (cpu).
 *
 * Backend-agnostic: every algorithm here talks to a backend through `KernelOps` (registerKernels.ts
 * builds one for 'wasm' and one for 'cpu'). On wasm the heavy arithmetic runs in the backend's own
 * Conv2D / MatMul kernels (XNNPACK); JS only rearranges memory (im2col, dilation, filter flip).
 *
 *  - Conv2DBackpropFilter: with Co % 8 on wasm: per filter tap a SIMD 1x1 filter gradient over the valid
 *    pixels (shiftedFilterSimd; where Ci % 4 ≠ 0, an RGB stem, on x with its channels padded by zeros:
 *    paddedFilterSimd); else with a fast Conv2D (wasm), one convolution with batch and channels swapped;
 *    otherwise dW[K, Co] = im2colᵀ[K, M] · dy[M, Co] with K = KH·KW·Ci, M = B·OH·OW, in batch chunks so
 *    the patch matrix stays small; on cpu (JS MatMul) plain loops.
 *  - Conv2DBackpropInput: stride 1: dx = conv2d(dy, filter rotated 180° with in/out swapped, explicit padding
 *    KH-1-padTop …) on a backend that has a fast Conv2D (wasm); strided (where that conv would run on dy
 *    dilated by zeros) or where the padding does not allow it: col2im(dy[M, Co] · Wᵀ[Co, K]); on cpu plain loops.
 *  - 1x1 stride-1 convs: both gradients are MatMuls over the pixels (dW by a SIMD kernel on wasm).
 *
 * The patch layouts are in im2col.ts, the plain loops in convDirectLoops.ts, the SIMD filter gradients in
 * filterGradSimd.ts; depthwise gradients in depthwiseBackprop.ts.
 *
 * One unit (over 250 lines): both Conv2D gradients, choosing among the same paths (1x1 MatMuls / SIMD, conv,
 * im2col / col2im, loops) by the same geometry and settings.
 */
import { filterGradDirect, inputGradDirect } from './convDirectLoops';
import { col2im, im2colT } from './im2col';
import type { ConvInfo, KernelOps, TInfo } from './kernelOps';
import { paddedFilterSimd, pointwiseFilterSimd, shiftedFilterSimd } from './filterGradSimd';
import type { SimdKernels } from './simdKernelModule';
import { winogradFilterFits, winogradFilterGrad } from './winogradFilterGrad';

/** tunables (tests shrink the chunk to exercise the chunked paths) */
export const kernelSettings = {
  /** patch matrices larger than this many floats are split by batch (64 MiB) */
  im2colChunkFloats: 16 * 1024 * 1024,
};
/** benchmarks switch the 1x1 MatMul path off to compare it with the conv path */
export const conv2dSettings: {
  pointwiseMatMul: boolean;
  pointwiseInputT: 'auto' | 'always' | 'never';
  pointwiseFilterT: 'auto' | 'always' | 'never';
  pointwiseFilterSimd: boolean;
  stridedInputByCol2im: boolean;
  shiftedFilterSimd: boolean;
  paddedFilterSimd: boolean;
} = {
  pointwiseMatMul: true,
  pointwiseInputT: 'auto',
  pointwiseFilterT: 'auto',
  pointwiseFilterSimd: true,
  stridedInputByCol2im: true,
  shiftedFilterSimd: true,
  paddedFilterSimd: true,
};

/** the dilation-1 filter gradient that shiftedFilterSimd covers (channels last, Co % 8; Ci % 4 unless padded) */
function shiftedFilterFits(ops: KernelOps, ci: ConvInfo, padded = false): ops is KernelOps & { simd: SimdKernels } {
  return (
    ops.simd !== null &&
    conv2dSettings.shiftedFilterSimd &&
    ci.dilationHeight === 1 &&
    ci.dilationWidth === 1 &&
    (padded ? conv2dSettings.paddedFilterSimd : ci.inChannels % 4 === 0) &&
    ci.outChannels % 8 === 0
  );
}

/** a 1x1 conv, stride 1, no padding: both gradients are one MatMul each over the B·H·W pixels */
function isPointwise(ci: ConvInfo): boolean {
  const p = ci.padInfo;
  return (
    ci.filterHeight === 1 &&
    ci.filterWidth === 1 &&
    ci.strideHeight === 1 &&
    ci.strideWidth === 1 &&
    p.top === 0 &&
    p.bottom === 0 &&
    p.left === 0 &&
    p.right === 0
  );
}

function toNHWC(ops: KernelOps, t: TInfo, channelsFirst: boolean): TInfo {
  return channelsFirst ? ops.transpose(t, [0, 2, 3, 1]) : t;
}

/** dW [KH, KW, Ci, Co] of a conv2d (dilation 1). x, dy in the data format of `ci`. */
export function conv2dBackpropFilter(ops: KernelOps, x: TInfo, dy: TInfo, ci: ConvInfo): TInfo {
  const channelsFirst = ci.dataFormat === 'channelsFirst';
  const xN = toNHWC(ops, x, channelsFirst);
  const dyN = toNHWC(ops, dy, channelsFirst);
  try {
    const { batchSize: B, outHeight: OH, outWidth: OW, outChannels: Co } = ci;
    const K = ci.filterHeight * ci.filterWidth * ci.inChannels;
    if (!ops.direct && conv2dSettings.pointwiseMatMul && isPointwise(ci)) {
      // dW[Ci, Co] = x[M, Ci]ᵀ · dy[M, Co], or dWᵀ = dyᵀ · x (then one small transpose): the MatMul
      // transposes its first operand and XNNPACK packs the second. Measured on MobileNetV2's 1x1 layers
      // (batch 8): the second order only pays for many pixels and few input channels (8192 x 16 -> 96: ~0.7x)
      const Ci = ci.inChannels;
      const M = B * OH * OW;
      if (ops.simd !== null && conv2dSettings.pointwiseFilterSimd && Ci % 4 === 0 && Co % 8 === 0)
        return pointwiseFilterSimd(ops, ops.simd, xN, dyN, M, Ci, Co);
      const x3 = ops.reshape(xN, [1, M, Ci]);
      const dy3 = ops.reshape(dyN, [1, M, Co]);
      const byT = conv2dSettings.pointwiseFilterT;
      if (byT === 'auto' ? M >= 4096 && Co >= 4 * Ci : byT === 'always') {
        const rT = ops.matMul(dy3, x3, true, false); // [1, Co, Ci]
        const r = ops.transpose(ops.reshape(rT, [Co, Ci]), [1, 0]);
        ops.dispose(rT);
        return ops.reshape(r, [1, 1, Ci, Co]);
      }
      const r = ops.matMul(x3, dy3, true, false);
      return ops.reshape(r, [1, 1, Ci, Co]);
    }
    if (winogradFilterFits(ops, ci)) return winogradFilterGrad(ops, ops.simd, xN, dyN, ci);
    if (!ops.direct && shiftedFilterFits(ops, ci)) return shiftedFilterSimd(ops, ops.simd, xN, dyN, ci);
    if (!ops.direct && shiftedFilterFits(ops, ci, true)) return paddedFilterSimd(ops, ops.simd, xN, dyN, ci);
    const byConv = ops.conv2d !== null ? backpropFilterByConv(ops, ops.conv2d, xN, dyN, ci) : null;
    if (byConv !== null) return byConv;
    if (ops.direct) {
      const acc = ops.read([xN, dyN], (xv, dv) => filterGradDirect(xv, dv, ci));
      return ops.create([ci.filterHeight, ci.filterWidth, ci.inChannels, Co], [], (out) => out.set(acc));
    }
    const perImage = OH * OW * K;
    const chunk = Math.max(1, Math.min(B, Math.floor(kernelSettings.im2colChunkFloats / Math.max(1, perImage))));
    const wShape = [ci.filterHeight, ci.filterWidth, ci.inChannels, Co];
    if (chunk >= B) {
      const colT = ops.create([K, B * OH * OW], [xN], (out, xv) => im2colT(xv, out, ci, 0, B));
      const dy2 = ops.reshape(dyN, [B * OH * OW, Co]);
      const r = ops.matMul(colT, dy2, false, false);
      ops.dispose(colT);
      return ops.reshape(r, wShape);
    }
    // large inputs: accumulate per batch chunk
    const acc = new Float32Array(K * Co);
    const dyVals = ops.read([dyN], (v) => v.slice()); // one copy: chunks of dy become small tensors
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const nb = Math.min(chunk, B - b0);
      const m = nb * OH * OW;
      const colT = ops.create([K, m], [xN], (out, xv) => im2colT(xv, out, ci, b0, nb));
      const dyc = ops.create([m, Co], [], (out) =>
        out.set(dyVals.subarray(b0 * OH * OW * Co, (b0 + nb) * OH * OW * Co)),
      );
      const r = ops.matMul(colT, dyc, false, false);
      ops.read([r], (rv) => {
        for (let i = 0; i < acc.length; i++) acc[i] += rv[i];
      });
      ops.dispose(colT);
      ops.dispose(dyc);
      ops.dispose(r);
    }
    return ops.create(wShape, [], (out) => out.set(acc));
  } finally {
    if (xN !== x) ops.dispose(xN);
    if (dyN !== dy) ops.dispose(dyN);
  }
}

/**
 * dW as one convolution on the backend's fast Conv2D: batch and channels swap roles.
 *   X' = x^[Ci, H, W, B], F = dy^[OH, OW, B, Co], dW' = conv(X', F, stride 1, dilation = the strides,
 *   pads (padTop, KH + (OH-1)·sh - H - padTop)) = [Ci, KH, KW, Co], dW = dW'^[KH, KW, Ci, Co].
 * null when the padding that needs is negative (unused input rows/columns): the caller uses im2col.
 */
function backpropFilterByConv(
  ops: KernelOps,
  conv: NonNullable<KernelOps['conv2d']>,
  xN: TInfo,
  dyN: TInfo,
  ci: ConvInfo,
): TInfo | null {
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, inHeight: H, inWidth: W } = ci;
  const pt = ci.padInfo.top,
    pl = ci.padInfo.left;
  const pb = KH + (ci.outHeight - 1) * sh - H - pt;
  const pr = KW + (ci.outWidth - 1) * sw - W - pl;
  if (pt < 0 || pl < 0 || pb < 0 || pr < 0) return null;
  const xT = ops.transpose(xN, [3, 1, 2, 0]);
  const f = ops.transpose(dyN, [1, 2, 0, 3]);
  let r: TInfo;
  try {
    r = conv(
      xT,
      f,
      [1, 1],
      [
        [0, 0],
        [pt, pb],
        [pl, pr],
        [0, 0],
      ],
      [sh, sw],
    );
  } finally {
    ops.dispose(xT);
    ops.dispose(f);
  }
  const dW = ops.transpose(r, [1, 2, 0, 3]);
  ops.dispose(r);
  return dW;
}

/** dx [B, H, W, Ci] (or NCHW) of a conv2d (dilation 1). */
export function conv2dBackpropInput(ops: KernelOps, dy: TInfo, filter: TInfo, ci: ConvInfo): TInfo {
  const channelsFirst = ci.dataFormat === 'channelsFirst';
  const dyN = toNHWC(ops, dy, channelsFirst);
  let dxN: TInfo;
  try {
    const conv = ops.conv2d;
    const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = ci;
    if (!ops.direct && conv2dSettings.pointwiseMatMul && isPointwise(ci)) {
      // dx[M, Ci] = dy[M, Co] · W[Ci, Co]ᵀ. The MatMul transposes its second operand and XNNPACK packs it
      // (both ~Ci·Co); with few pixels (M < Ci·Co / (2·Co + Ci), the deep layers) dxᵀ[Ci, M] = W · dyᵀ moves
      // less: dy is transposed and packed instead (2·M·Co), then the small result transposed (M·Ci).
      const { inChannels: Ci, outChannels: Co } = ci;
      const M = ci.batchSize * ci.outHeight * ci.outWidth;
      const dy3 = ops.reshape(dyN, [1, M, Co]);
      const w3 = ops.reshape(filter, [1, Ci, Co]);
      let r: TInfo;
      const byT = conv2dSettings.pointwiseInputT;
      if (byT === 'auto' ? 2 * M * Co + M * Ci < Ci * Co : byT === 'always') {
        const rT = ops.matMul(w3, dy3, false, true); // [1, Ci, M]
        r = ops.transpose(ops.reshape(rT, [Ci, M]), [1, 0]);
        ops.dispose(rT);
      } else {
        r = ops.matMul(dy3, w3, false, true);
      }
      dxN = ops.reshape(r, [ci.batchSize, ci.inHeight, ci.inWidth, Ci]);
      return channelsFirst ? toNCHW(ops, dxN) : dxN;
    }
    const pt2 = KH - 1 - ci.padInfo.top;
    const pl2 = KW - 1 - ci.padInfo.left;
    const DH = (ci.outHeight - 1) * sh + 1;
    const DW = (ci.outWidth - 1) * sw + 1;
    const pb2 = ci.inHeight - DH + ci.padInfo.top; // makes the output exactly inHeight rows
    const pr2 = ci.inWidth - DW + ci.padInfo.left;
    const byConv = conv !== null && pt2 >= 0 && pl2 >= 0 && pb2 >= 0 && pr2 >= 0;
    // strided: the conv on the stride-dilated dy multiplies mostly zeros (3/4 at stride 2); col2im of one
    // MatMul measured 1.3-3.5x faster at stride 2 (3x3, 3 to 128 channels, e.g. MobileNetV2's RGB stem)
    const strided = (sh > 1 || sw > 1) && conv2dSettings.stridedInputByCol2im;
    if (byConv && !(strided && !ops.direct)) {
      dxN = backpropInputByConv(ops, conv, dyN, filter, ci, [pt2, pb2], [pl2, pr2]);
    } else if (ops.direct) {
      const dx = ops.read([dyN, filter], (dv, wv) => inputGradDirect(dv, wv, ci));
      dxN = ops.create([ci.batchSize, ci.inHeight, ci.inWidth, ci.inChannels], [], (out) => out.set(dx));
    } else {
      dxN = backpropInputByCol2im(ops, dyN, filter, ci);
    }
  } finally {
    if (dyN !== dy) ops.dispose(dyN);
  }
  return channelsFirst ? toNCHW(ops, dxN) : dxN;
}

function toNCHW(ops: KernelOps, dxN: TInfo): TInfo {
  const dx = ops.transpose(dxN, [0, 3, 1, 2]);
  ops.dispose(dxN);
  return dx;
}

function backpropInputByConv(
  ops: KernelOps,
  conv: NonNullable<KernelOps['conv2d']>,
  dyN: TInfo,
  filter: TInfo,
  ci: ConvInfo,
  padH: [number, number],
  padW: [number, number],
): TInfo {
  const { filterHeight: KH, filterWidth: KW, inChannels: Ci, outChannels: Co, strideHeight: sh, strideWidth: sw } = ci;
  const { batchSize: B, outHeight: OH, outWidth: OW } = ci;
  // rotated filter, [KH, KW, Co, Ci]: wf[kh, kw, co, ci] = w[KH-1-kh, KW-1-kw, ci, co]
  const wf = ops.create([KH, KW, Co, Ci], [filter], (out, w) => {
    for (let kh = 0; kh < KH; kh++)
      for (let kw = 0; kw < KW; kw++) {
        const src = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * Ci * Co;
        const dst = (kh * KW + kw) * Co * Ci;
        for (let c = 0; c < Ci; c++) for (let o = 0; o < Co; o++) out[dst + o * Ci + c] = w[src + c * Co + o];
      }
  });
  let src = dyN;
  if (sh > 1 || sw > 1) {
    const DH = (OH - 1) * sh + 1;
    const DW = (OW - 1) * sw + 1;
    src = ops.create([B, DH, DW, Co], [dyN], (out, d) => {
      out.fill(0);
      for (let b = 0; b < B; b++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            const s = ((b * OH + oh) * OW + ow) * Co;
            const t = ((b * DH + oh * sh) * DW + ow * sw) * Co;
            for (let o = 0; o < Co; o++) out[t + o] = d[s + o];
          }
    });
  }
  try {
    return conv(src, wf, [1, 1], [[0, 0], padH, padW, [0, 0]], [1, 1]);
  } finally {
    ops.dispose(wf);
    if (src !== dyN) ops.dispose(src);
  }
}

function backpropInputByCol2im(ops: KernelOps, dyN: TInfo, filter: TInfo, ci: ConvInfo): TInfo {
  const { batchSize: B, outHeight: OH, outWidth: OW, outChannels: Co, inHeight: H, inWidth: W, inChannels: Ci } = ci;
  const K = ci.filterHeight * ci.filterWidth * Ci;
  const w2 = ops.reshape(filter, [K, Co]);
  const dx = new Float32Array(B * H * W * Ci);
  const chunk = Math.max(1, Math.min(B, Math.floor(kernelSettings.im2colChunkFloats / Math.max(1, OH * OW * K))));
  for (let b0 = 0; b0 < B; b0 += chunk) {
    const nb = Math.min(chunk, B - b0);
    const m = nb * OH * OW;
    const dyc =
      nb === B
        ? ops.reshape(dyN, [m, Co])
        : ops.create([m, Co], [dyN], (out, d) => out.set(d.subarray(b0 * OH * OW * Co, (b0 + nb) * OH * OW * Co)));
    const col = ops.matMul(dyc, w2, false, true); // [m, K]
    ops.read([col], (cv) => col2im(cv, dx, ci, b0, nb));
    ops.dispose(col);
    if (nb !== B) ops.dispose(dyc);
  }
  return ops.create([B, H, W, Ci], [], (out) => out.set(dx));
}
