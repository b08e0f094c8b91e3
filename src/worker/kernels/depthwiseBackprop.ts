/**
 * Depthwise conv2d gradients (DepthwiseConv2dNativeBackpropFilter / -Input, NHWC, dilation 1).
 *
 * On wasm (measured on MobileNetV2 64x64, batch 8, its 17 depthwise layers, in one run: flat loops dW 108 ms,
 * dx 123 ms; the paths below dW 12 ms, dx 13 ms):
 *  - dx = XNNPACK's depthwise conv (`ops.depthwiseConv2d`) of dy (zeros inserted between rows/columns for
 *    strides > 1) with the filter rotated by 180°, stride 1, pads (KH-1-padTop, H - ((OH-1)·sh+1) + padTop) …;
 *    with a channel multiplier cm > 1 the C·cm channels are convolved one by one (filter [KH, KW, C·cm, 1])
 *    and summed over m.
 *  - dW, multiplier 1 and channels a multiple of 4: the SIMD kernel macRows (simdKernelModule.ts), per tap and
 *    output row acc[kh, kw, :] += Σ_ow x[…] · dy[…].
 *  - dW otherwise: ONE depthwise conv with batch and channels folded together: x^[1, H, W, B·C] convolved with
 *    dy^[OH, OW, B·C, cm] as the filter, stride 1, dilation = the strides, output [1, KH, KW, B·C·cm], then a
 *    sum over the batch (78 ms on the layers above: XNNPACK runs a 32x32 "filter" as a grouped GEMM).
 * Otherwise (cpu, or a padding the conv cannot express: negative pads) flat-indexed JS loops over the backend's
 * views.
 *
 * One unit (over 250 lines): both depthwise gradients and their three paths (backend conv, SIMD, loops),
 * chosen by the same geometry and `depthwiseSettings`.
 */
import type { ConvInfo, KernelOps, TInfo } from './kernelOps';
import type { SimdKernels } from './simdKernelModule';

type Pads = [[number, number], [number, number], [number, number], [number, number]];

/** dy with sh-1 zero rows between rows and sw-1 zero columns between columns: [B, (OH-1)·sh+1, (OW-1)·sw+1, C] */
function dilateByStrides(ops: KernelOps, dy: TInfo, sh: number, sw: number): TInfo {
  if (sh === 1 && sw === 1) return dy;
  const [B, OH, OW, C] = dy.shape;
  const DH = (OH - 1) * sh + 1;
  const DW = (OW - 1) * sw + 1;
  return ops.create([B, DH, DW, C], [dy], (out, d) => {
    out.fill(0);
    for (let b = 0; b < B; b++)
      for (let oh = 0; oh < OH; oh++) {
        const rowOut = (b * DH + oh * sh) * DW * C;
        const rowIn = (b * OH + oh) * OW * C;
        if (sw === 1) {
          out.set(d.subarray(rowIn, rowIn + OW * C), rowOut);
          continue;
        }
        for (let ow = 0; ow < OW; ow++) {
          const s = rowIn + ow * C;
          const t = rowOut + ow * sw * C;
          for (let c = 0; c < C; c++) out[t + c] = d[s + c];
        }
      }
  });
}

/** dx through the backend's depthwise conv, or null when the padding it needs is negative */
function depthwiseInputByConv(
  ops: KernelOps,
  conv: NonNullable<KernelOps['depthwiseConv2d']>,
  dy: TInfo,
  filter: TInfo,
  ci: ConvInfo,
): TInfo | null {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: Co } = ci;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = ci;
  const pt2 = KH - 1 - ci.padInfo.top;
  const pl2 = KW - 1 - ci.padInfo.left;
  const pb2 = H - ((OH - 1) * sh + 1) + ci.padInfo.top;
  const pr2 = W - ((OW - 1) * sw + 1) + ci.padInfo.left;
  if (pt2 < 0 || pl2 < 0 || pb2 < 0 || pr2 < 0) return null;
  const cm = Co / C;
  // rotated filter, one channel per output channel: wf[kh, kw, o, 0] = w[KH-1-kh, KW-1-kw, o]
  const wf = ops.create([KH, KW, Co, 1], [filter], (out, w) => {
    for (let kh = 0; kh < KH; kh++)
      for (let kw = 0; kw < KW; kw++) {
        const src = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * Co;
        out.set(w.subarray(src, src + Co), (kh * KW + kw) * Co);
      }
  });
  const src = dilateByStrides(ops, dy, sh, sw);
  let r: TInfo;
  try {
    const pads: Pads = [
      [0, 0],
      [pt2, pb2],
      [pl2, pr2],
      [0, 0],
    ];
    r = conv(src, wf, [1, 1], pads, [1, 1]);
  } finally {
    ops.dispose(wf);
    if (src !== dy) ops.dispose(src);
  }
  if (cm === 1) return r;
  const n = B * H * W;
  const dx = ops.create([B, H, W, C], [r], (out, rv) => {
    for (let p = 0; p < n; p++)
      for (let c = 0; c < C; c++) {
        let s = 0;
        const o = p * Co + c * cm;
        for (let m = 0; m < cm; m++) s += rv[o + m];
        out[p * C + c] = s;
      }
  });
  ops.dispose(r);
  return dx;
}

/** dW through the backend's depthwise conv (batch folded into channels), or null when a pad would be negative */
function depthwiseFilterByConv(
  ops: KernelOps,
  conv: NonNullable<KernelOps['depthwiseConv2d']>,
  x: TInfo,
  dy: TInfo,
  ci: ConvInfo,
): TInfo | null {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: Co } = ci;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = ci;
  const pt = ci.padInfo.top,
    pl = ci.padInfo.left;
  const pb = KH + (OH - 1) * sh - H - pt;
  const pr = KW + (OW - 1) * sw - W - pl;
  if (pt < 0 || pl < 0 || pb < 0 || pr < 0) return null;
  const cm = Co / C;
  const xT = B === 1 ? x : ops.transpose(x, [1, 2, 0, 3]); // [H, W, B, C]
  const fT = B === 1 ? dy : ops.transpose(dy, [1, 2, 0, 3]); // [OH, OW, B, Co]
  let r: TInfo;
  try {
    const pads: Pads = [
      [0, 0],
      [pt, pb],
      [pl, pr],
      [0, 0],
    ];
    r = conv(ops.reshape(xT, [1, H, W, B * C]), ops.reshape(fT, [OH, OW, B * C, cm]), [1, 1], pads, [sh, sw]);
  } finally {
    if (xT !== x) ops.dispose(xT);
    if (fT !== dy) ops.dispose(fT);
  }
  // r [1, KH, KW, B, C·cm] -> sum over B
  const T = KH * KW;
  const dW = ops.create([KH, KW, C, cm], [r], (out, rv) => {
    for (let t = 0; t < T; t++) {
      const o = t * Co;
      const i0 = t * B * Co;
      for (let k = 0; k < Co; k++) out[o + k] = rv[i0 + k];
      for (let b = 1; b < B; b++) {
        const ib = i0 + b * Co;
        for (let k = 0; k < Co; k++) out[o + k] += rv[ib + k];
      }
    }
  });
  ops.dispose(r);
  return dW;
}

/**
 * dW by the SIMD kernel macRows (simdKernelModule.ts) on the wasm heap: for each tap (kh, kw) and each output
 * row (b, oh), acc[kh, kw, 0..C) += Σ_ow x[b, ih, iw, 0..C) · dy[b, oh, ow, 0..C). Channel multiplier 1, C a
 * multiple of 4; float32 sums (as XNNPACK's convolutions).
 */
function depthwiseFilterSimd(ops: KernelOps, simd: SimdKernels, x: TInfo, dy: TInfo, ci: ConvInfo): TInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = ci;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = ci;
  const pt = ci.padInfo.top,
    pl = ci.padInfo.left;
  return ops.create([KH, KW, C, 1], [x, dy], (out, xv, dv) => {
    out.fill(0);
    const xs = sw * C * 4;
    const ds = C * 4;
    for (let kh = 0; kh < KH; kh++) {
      const ohMin = Math.max(0, Math.ceil((pt - kh) / sh));
      const ohMax = Math.min(OH, Math.floor((H - 1 + pt - kh) / sh) + 1);
      for (let kw = 0; kw < KW; kw++) {
        const owMin = Math.max(0, Math.ceil((pl - kw) / sw));
        const owMax = Math.min(OW, Math.floor((W - 1 + pl - kw) / sw) + 1);
        const n = owMax - owMin;
        if (n <= 0) continue;
        const acc = out.byteOffset + (kh * KW + kw) * C * 4;
        const iw0 = owMin * sw - pl + kw;
        for (let b = 0; b < B; b++)
          for (let oh = ohMin; oh < ohMax; oh++) {
            const ih = oh * sh - pt + kh;
            const xp = xv.byteOffset + ((b * H + ih) * W + iw0) * C * 4;
            const dp = dv.byteOffset + ((b * OH + oh) * OW + owMin) * C * 4;
            simd.macRows(acc, xp, dp, n, xs, ds, C * 4);
          }
      }
    }
  });
}

/** dW [KH, KW, Ci, chMul] of a depthwise conv (NHWC, dilation 1). */
export function depthwiseBackpropFilter(ops: KernelOps, x: TInfo, dy: TInfo, ci: ConvInfo): TInfo {
  if (
    ops.simd !== null &&
    depthwiseSettings.path === 'simd' &&
    ci.outChannels === ci.inChannels &&
    ci.inChannels % 4 === 0
  )
    return depthwiseFilterSimd(ops, ops.simd, x, dy, ci);
  const byConv =
    ops.depthwiseConv2d !== null && depthwiseSettings.path !== 'loops'
      ? depthwiseFilterByConv(ops, ops.depthwiseConv2d, x, dy, ci)
      : null;
  return byConv ?? depthwiseFilterLoops(ops, x, dy, ci);
}

/** dx [B, H, W, Ci] of a depthwise conv (NHWC, dilation 1). */
export function depthwiseBackpropInput(ops: KernelOps, dy: TInfo, filter: TInfo, ci: ConvInfo): TInfo {
  const byConv =
    ops.depthwiseConv2d !== null && depthwiseSettings.path !== 'loops'
      ? depthwiseInputByConv(ops, ops.depthwiseConv2d, dy, filter, ci)
      : null;
  return byConv ?? depthwiseInputLoops(ops, dy, filter, ci);
}

/**
 * tunables (tests and benchmarks compare the paths): 'simd' = the SIMD kernel for dW where it applies, else
 * the backend's depthwise conv, else loops; 'conv' = the conv for both where it applies; 'loops' = loops only.
 */
export const depthwiseSettings: { path: 'simd' | 'conv' | 'loops' } = { path: 'simd' };

/** dW by flat loops (float64 sums) */
function depthwiseFilterLoops(ops: KernelOps, x: TInfo, dy: TInfo, ci: ConvInfo): TInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: Co } = ci;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = ci;
  const pt = ci.padInfo.top,
    pl = ci.padInfo.left;
  const cm = Co / C;
  const acc = new Float64Array(KH * KW * C * cm);
  ops.read([x, dy], (xv, dv) => {
    for (let kh = 0; kh < KH; kh++) {
      const ohMin = Math.max(0, Math.ceil((pt - kh) / sh));
      const ohMax = Math.min(OH, Math.floor((H - 1 + pt - kh) / sh) + 1);
      for (let kw = 0; kw < KW; kw++) {
        const owMin = Math.max(0, Math.ceil((pl - kw) / sw));
        const owMax = Math.min(OW, Math.floor((W - 1 + pl - kw) / sw) + 1);
        const a0 = (kh * KW + kw) * Co; // acc index of (kh, kw, c, m) = a0 + c*cm + m = a0 + d2
        for (let b = 0; b < B; b++)
          for (let oh = ohMin; oh < ohMax; oh++) {
            const ih = oh * sh - pt + kh;
            for (let ow = owMin; ow < owMax; ow++) {
              const iw = ow * sw - pl + kw;
              const xo = ((b * H + ih) * W + iw) * C;
              const yo = ((b * OH + oh) * OW + ow) * Co;
              if (cm === 1) {
                for (let c = 0; c < C; c++) acc[a0 + c] += xv[xo + c] * dv[yo + c];
              } else {
                for (let c = 0; c < C; c++) {
                  const xval = xv[xo + c];
                  for (let m = 0; m < cm; m++) acc[a0 + c * cm + m] += xval * dv[yo + c * cm + m];
                }
              }
            }
          }
      }
    }
  });
  return ops.create([KH, KW, C, cm], [], (out) => out.set(acc));
}

/** dx by flat loops */
function depthwiseInputLoops(ops: KernelOps, dy: TInfo, filter: TInfo, ci: ConvInfo): TInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: Co } = ci;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = ci;
  const pt = ci.padInfo.top,
    pl = ci.padInfo.left;
  const cm = Co / C;
  const dx = new Float32Array(B * H * W * C);
  ops.read([dy, filter], (dv, wv) => {
    // scatter: dx[b, oh*sh-pt+kh, ow*sw-pl+kw, c] += sum_m dy[b, oh, ow, c*cm+m] * w[kh, kw, c, m]
    for (let kh = 0; kh < KH; kh++) {
      const ohMin = Math.max(0, Math.ceil((pt - kh) / sh));
      const ohMax = Math.min(OH, Math.floor((H - 1 + pt - kh) / sh) + 1);
      for (let kw = 0; kw < KW; kw++) {
        const owMin = Math.max(0, Math.ceil((pl - kw) / sw));
        const owMax = Math.min(OW, Math.floor((W - 1 + pl - kw) / sw) + 1);
        const w0 = (kh * KW + kw) * Co;
        for (let b = 0; b < B; b++)
          for (let oh = ohMin; oh < ohMax; oh++) {
            const ih = oh * sh - pt + kh;
            for (let ow = owMin; ow < owMax; ow++) {
              const iw = ow * sw - pl + kw;
              const xo = ((b * H + ih) * W + iw) * C;
              const yo = ((b * OH + oh) * OW + ow) * Co;
              if (cm === 1) {
                for (let c = 0; c < C; c++) dx[xo + c] += dv[yo + c] * wv[w0 + c];
              } else {
                for (let c = 0; c < C; c++) {
                  let s = 0;
                  for (let m = 0; m < cm; m++) s += dv[yo + c * cm + m] * wv[w0 + c * cm + m];
                  dx[xo + c] += s;
                }
              }
            }
          }
      }
    }
  });
  return ops.create([B, H, W, C], [], (out) => out.set(dx));
}
