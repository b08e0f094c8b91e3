/**
 * Depthwise conv2d gradients (DepthwiseConv2dNativeBackpropFilter / -Input, NHWC, dilation 1) as flat-indexed
 * JS loops over the backend's views: depthwise work is small, so no MatMul is needed.
 */
import type { ConvInfo, KernelOps, TInfo } from './kernelOps';

/** dW [KH, KW, Ci, chMul] of a depthwise conv (NHWC, dilation 1). */
export function depthwiseBackpropFilter(ops: KernelOps, x: TInfo, dy: TInfo, ci: ConvInfo): TInfo {
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

/** dx [B, H, W, Ci] of a depthwise conv (NHWC, dilation 1). */
export function depthwiseBackpropInput(ops: KernelOps, dy: TInfo, filter: TInfo, ci: ConvInfo): TInfo {
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
