/**
 * The patch-matrix layouts of a conv2d (NHWC) that the im2col + MatMul gradients of conv2dBackprop.ts use:
 * im2col, its transpose, and col2im (the adjoint of im2col, which scatters back).
 */
import type { ConvInfo } from './kernelOps';

/**
 * im2col, transposed: out[k, m] for k = (kh, kw, ci), m = (b - b0, oh, ow), b in [b0, b0 + nb).
 * x is NHWC. Zero where the patch falls into the padding.
 */
export function im2colT(x: Float32Array, out: Float32Array, ci: ConvInfo, b0: number, nb: number): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = ci;
  const KH = ci.filterHeight,
    KW = ci.filterWidth,
    pt = ci.padInfo.top,
    pl = ci.padInfo.left;
  const M = nb * OH * OW;
  const xBatch = H * W * C;
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      // valid ow range for this kw: 0 <= ow*sw - pl + kw < W
      const owMin = Math.max(0, Math.ceil((pl - kw) / sw));
      const owMax = Math.min(OW, Math.floor((W - 1 + pl - kw) / sw) + 1); // exclusive
      const ohMin = Math.max(0, Math.ceil((pt - kh) / sh));
      const ohMax = Math.min(OH, Math.floor((H - 1 + pt - kh) / sh) + 1);
      for (let c = 0; c < C; c++) {
        const row = ((kh * KW + kw) * C + c) * M;
        let m = row;
        for (let b = 0; b < nb; b++) {
          const xb = (b0 + b) * xBatch + c;
          for (let oh = 0; oh < OH; oh++) {
            if (oh < ohMin || oh >= ohMax || owMin >= owMax) {
              out.fill(0, m, m + OW);
              m += OW;
              continue;
            }
            const ih = oh * sh - pt + kh;
            const xr = xb + ih * W * C;
            let ow = 0;
            for (; ow < owMin; ow++) out[m++] = 0;
            let xi = xr + (owMin * sw - pl + kw) * C;
            const step = sw * C;
            for (; ow < owMax; ow++) {
              out[m++] = x[xi];
              xi += step;
            }
            for (; ow < OW; ow++) out[m++] = 0;
          }
        }
      }
    }
  }
}

/**
 * im2col, row-major: out[m, k] for m = (b - b0, oh, ow), k = (kh, kw, ci). x is NHWC.
 */
export function im2col(x: Float32Array, out: Float32Array, ci: ConvInfo, b0: number, nb: number): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = ci;
  const KH = ci.filterHeight,
    KW = ci.filterWidth,
    pt = ci.padInfo.top,
    pl = ci.padInfo.left;
  let o = 0;
  for (let b = 0; b < nb; b++) {
    const xb = (b0 + b) * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh - pt + kh;
          if (ih < 0 || ih >= H) {
            out.fill(0, o, o + KW * C);
            o += KW * C;
            continue;
          }
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - pl + kw;
            if (iw < 0 || iw >= W) {
              out.fill(0, o, o + C);
              o += C;
              continue;
            }
            let xi = xb + (ih * W + iw) * C;
            for (let c = 0; c < C; c++) out[o++] = x[xi++];
          }
        }
      }
    }
  }
}

/** col2im: dx[b, ih, iw, ci] += col[m, k] (the adjoint of im2col). dx must be zeroed first. */
export function col2im(col: Float32Array, dx: Float32Array, ci: ConvInfo, b0: number, nb: number): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = ci;
  const KH = ci.filterHeight,
    KW = ci.filterWidth,
    pt = ci.padInfo.top,
    pl = ci.padInfo.left;
  let o = 0;
  for (let b = 0; b < nb; b++) {
    const xb = (b0 + b) * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh - pt + kh;
          if (ih < 0 || ih >= H) {
            o += KW * C;
            continue;
          }
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - pl + kw;
            if (iw < 0 || iw >= W) {
              o += C;
              continue;
            }
            let xi = xb + (ih * W + iw) * C;
            for (let c = 0; c < C; c++) dx[xi++] += col[o++];
          }
        }
      }
    }
  }
}
