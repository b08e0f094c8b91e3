/**
 * Conv2D gradients as plain loops (NHWC, dilation 1): what conv2dBackprop.ts runs on a backend whose MatMul is
 * JS too (cpu), where the loops beat im2col + MatMul.
 */
import type { ConvInfo } from './kernelOps';

/** dW[kh,kw,c,o] = Σ x[b, oh·sh-pt+kh, ow·sw-pl+kw, c] · dy[b,oh,ow,o], plain loops, float64 sums (NHWC) */
export function filterGradDirect(x: Float32Array, dy: Float32Array, ci: ConvInfo): Float64Array {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: CO } = ci;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = ci;
  const pt = ci.padInfo.top,
    pl = ci.padInfo.left;
  const acc = new Float64Array(KH * KW * C * CO);
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const yo = ((b * OH + oh) * OW + ow) * CO;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh - pt + kh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - pl + kw;
            if (iw < 0 || iw >= W) continue;
            const xo = ((b * H + ih) * W + iw) * C;
            let ao = (kh * KW + kw) * C * CO;
            for (let c = 0; c < C; c++) {
              const a = x[xo + c];
              if (a !== 0) for (let o = 0; o < CO; o++) acc[ao + o] += a * dy[yo + o];
              ao += CO;
            }
          }
        }
      }
  return acc;
}

/** dx[b,ih,iw,c] = Σ dy[b,oh,ow,o] · w[kh,kw,c,o] over the outputs that read (ih, iw), plain loops (NHWC) */
export function inputGradDirect(dy: Float32Array, w: Float32Array, ci: ConvInfo): Float32Array {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: CO } = ci;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = ci;
  const pt = ci.padInfo.top,
    pl = ci.padInfo.left;
  const dx = new Float32Array(B * H * W * C);
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        const yo = ((b * OH + oh) * OW + ow) * CO;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh - pt + kh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - pl + kw;
            if (iw < 0 || iw >= W) continue;
            const xo = ((b * H + ih) * W + iw) * C;
            let wo = (kh * KW + kw) * C * CO;
            for (let c = 0; c < C; c++) {
              let s = 0;
              for (let o = 0; o < CO; o++) s += dy[yo + o] * w[wo + o];
              dx[xo + c] += s;
              wo += CO;
            }
          }
        }
      }
  return dx;
}
