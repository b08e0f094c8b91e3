/**
 * Conv2D / FusedConv2D on wasm for a 1x1 stride-1 conv over few pixels (the 4x4 and 2x2 layers of MobileNetV2
 * at batch 8: M = B·H·W <= 128): there the stock XNNPACK conv spends most of its time packing the weights,
 * which training makes fresh at every step (measured: 32 x 960 -> 320 takes 7.3 ms stock, 1.4 ms here; at
 * M = 128 about even; at M = 512 stock is ~1.6x faster, so those stay stock). Here the SIMD kernel outer4x8
 * (simdKernelModule.ts) reads the filter where it lies: outᵀ[Co, M] = Σ_ci W[ci, co..co+4]ᵀ · xᵀ[ci, pixels]
 * (W's rows are the contraction, 4 output channels by 8 pixels in registers); x and the result are transposed
 * by the SIMD 4 x 4 blocks (M·Ci and M·Co floats, small here). Anything else (more pixels, other shapes, an activation, prelu)
 * goes to the stock kernel; a bias is added here.
 */
import { transposeInto } from './denseMatMul';
import type { KernelFunc, TInfo } from './kernelOps';
import type { SimdOf } from './wasmElementwise';

/** tunables (benchmarks and tests move the pixel limit) */
export const pointwiseForwardSettings = { maxPixels: 128 };

const ones = (v: unknown): boolean => v == null || v === 1 || (Array.isArray(v) && v.every((d) => d === 1));

export function fastPointwiseConv(stock: KernelFunc, simdOf: SimdOf): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs = {} } = args;
    const { x, filter, bias, preluActivationWeights } = inputs;
    const simd = simdOf(backend);
    if (
      simd === null ||
      x.dtype !== 'float32' ||
      filter.dtype !== 'float32' ||
      x.shape.length !== 4 ||
      filter.shape.length !== 4 ||
      filter.shape[0] !== 1 ||
      filter.shape[1] !== 1 ||
      !(attrs.dataFormat == null || attrs.dataFormat === 'NHWC' || attrs.dataFormat === 'channelsLast') ||
      !ones(attrs.strides) ||
      !ones(attrs.dilations) ||
      !(attrs.pad === 'same' || attrs.pad === 'valid' || attrs.pad === 0) ||
      !(attrs.activation == null || attrs.activation === 'linear') ||
      preluActivationWeights != null ||
      (bias != null && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== filter.shape[3]))
    )
      return stock(args);
    const [B, H, W, Ci] = x.shape;
    const Co = filter.shape[3];
    const M = B * H * W;
    if (filter.shape[2] !== Ci || M % 8 !== 0 || Co % 4 !== 0 || M === 0 || M > pointwiseForwardSettings.maxPixels)
      return stock(args);
    const out = backend.makeOutput([B, H, W, Co], 'float32') as TInfo;
    const xT = backend.makeOutput([Ci, M], 'float32') as TInfo;
    const accT = backend.makeOutput([Co, M], 'float32') as TInfo;
    try {
      // views after every allocation: malloc may grow (and move) the heap
      const view = (t: TInfo): Float32Array => backend.typedArrayFromHeap(t) as Float32Array;
      const xv = view(x),
        wv = view(filter),
        xt = view(xT),
        at = view(accT),
        ov = view(out);
      // the transposes by the SIMD 4 x 4 blocks (denseMatMul.ts): as JS loops they were ~19 ms of a MobileNetV2
      // 64 fit (its 4x4 and 2x2 layers up to 960 -> 320 channels)
      const heap = new Float32Array(xv.buffer);
      transposeInto(simd, heap, xv.byteOffset / 4, M, Ci, xt.byteOffset / 4);
      at.fill(0);
      for (let o = 0; o < Co; o += 4)
        simd.outer4x8(at.byteOffset + o * M * 4, wv.byteOffset + o * 4, xt.byteOffset, Ci, Co * 4, M * 4, M * 4, M / 8);
      transposeInto(simd, heap, at.byteOffset / 4, Co, M, ov.byteOffset / 4);
      // the bias, a float32 sum per element (Co % 4 = 0: whole SIMD rows)
      if (bias != null) simd.add(ov.byteOffset, ov.byteOffset, view(bias).byteOffset, M, Co * 4, Co * 4, 0);
      return out;
    } finally {
      backend.disposeData(xT.dataId);
      backend.disposeData(accT.dataId);
    }
  };
}
