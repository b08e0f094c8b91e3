/**
 * Convolution gradients for tfjs backends that lack them (wasm) or run them slowly (cpu).
 *
 * Backend-agnostic: every algorithm here talks to a backend through `KernelOps` (registerKernels.ts
 * builds one for 'wasm' and one for 'cpu'). On wasm the heavy arithmetic runs in the backend's own
 * Conv2D / MatMul kernels (XNNPACK); JS only rearranges memory (im2col, dilation, filter flip).
 *
 *  - Conv2DBackpropFilter: with a fast Conv2D (wasm), one convolution with batch and channels swapped;
 *    otherwise dW[K, Co] = im2colᵀ[K, M] · dy[M, Co] with K = KH·KW·Ci, M = B·OH·OW, in batch chunks so
 *    the patch matrix stays small; on cpu (JS MatMul) plain loops.
 *  - Conv2DBackpropInput: dx = conv2d(dy dilated by the strides, filter rotated 180° with in/out swapped,
 *    stride 1, explicit padding KH-1-padTop …) on a backend that has a fast Conv2D (wasm);
 *    otherwise col2im(dy[M, Co] · Wᵀ[Co, K]); on cpu plain loops.
 *  - DepthwiseConv2dNativeBackpropFilter / -Input: flat-indexed JS loops (depthwise work is small).
 */

/** The part of a tfjs TensorInfo the kernels use. */
export interface TInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

/** What the algorithms need from a backend. All tensors are float32. */
export interface KernelOps {
  readonly backendName: string;
  /**
   * Allocate a float32 tensor of `shape` and fill it: `fill(out, ...views of inputs)`.
   * The views are only valid inside `fill` (a wasm allocation can move the heap).
   * `out` is NOT zero-initialised.
   */
  create(shape: number[], inputs: TInfo[], fill: (out: Float32Array, ...ins: Float32Array[]) => void): TInfo;
  /** run `f` on read-only views of the inputs (valid only inside `f`) */
  read<T>(inputs: TInfo[], f: (...ins: Float32Array[]) => T): T;
  /** [.., M, K] x [.., K, N] through the backend's own BatchMatMul kernel; result shape [1, M, N] or batched */
  matMul(a: TInfo, b: TInfo, transposeA: boolean, transposeB: boolean): TInfo;
  transpose(x: TInfo, perm: number[]): TInfo;
  /** the backend's own fast Conv2D (NHWC, explicit pads), or null if it has none worth using */
  conv2d:
    | ((
        x: TInfo,
        filter: TInfo,
        strides: [number, number],
        pad: [[number, number], [number, number], [number, number], [number, number]],
        dilations: [number, number],
      ) => TInfo)
    | null;
  dispose(t: TInfo): void;
  /** true: plain JS loops beat im2col + the backend's MatMul (the cpu backend, whose MatMul is JS too) */
  readonly direct: boolean;
  /** same data, another shape (no copy) */
  reshape(t: TInfo, shape: number[]): TInfo;
}

/** The fields of tfjs's backend_util.Conv2DInfo used here. */
export interface ConvInfo {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  filterHeight: number;
  filterWidth: number;
  padInfo: { top: number; left: number; right: number; bottom: number; type: string };
  dataFormat: 'channelsLast' | 'channelsFirst';
  inShape: number[];
  outShape: number[];
  filterShape: number[];
}

/** tunables (tests shrink the chunk to exercise the chunked paths) */
export const kernelSettings = {
  /** patch matrices larger than this many floats are split by batch (64 MiB) */
  im2colChunkFloats: 16 * 1024 * 1024,
};

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
    const pt2 = KH - 1 - ci.padInfo.top;
    const pl2 = KW - 1 - ci.padInfo.left;
    const DH = (ci.outHeight - 1) * sh + 1;
    const DW = (ci.outWidth - 1) * sw + 1;
    const pb2 = ci.inHeight - DH + ci.padInfo.top; // makes the output exactly inHeight rows
    const pr2 = ci.inWidth - DW + ci.padInfo.left;
    if (conv !== null && pt2 >= 0 && pl2 >= 0 && pb2 >= 0 && pr2 >= 0) {
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
  if (!channelsFirst) return dxN;
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
