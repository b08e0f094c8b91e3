/**
 * The kernels of src/worker/kernels/: each checked against an independent float64 reference (plain JS
 * loops of the textbook formulas) and against the stock tfjs cpu kernel; whole-model gradients on
 * wasm-with-ours against stock cpu; models that could not train on wasm now do; no tensor leak;
 * the same in a worker_threads Worker with setWasmPaths, as the bundle runs it.
 *
 * One suite file per area (the kernels): its cases share the float64 reference and the backends.
 */
import * as assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';
import { columnSums, tileInto } from '../../src/worker/kernels/wasmFast';
import { conv2dSettings, kernelSettings } from '../../src/worker/kernels/conv2dBackprop';
import { depthwiseSettings } from '../../src/worker/kernels/depthwiseBackprop';
import { simdHelperFor, simdHelperSettings } from '../../src/worker/kernels/simdHelper';
import { backendMemory } from '../../src/worker/kernels/simdKernelModule';
import { shipWasm } from './shippedWasm';

// the wasm build the engine ships: threaded (all cores), or single-threaded with BN_INSPECTOR_WASM_THREADS=1
const threads = shipWasm(tf);

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Shape4 = [number, number, number, number];

// ---------------------------------------------------------------- float64 references
interface Geo {
  B: number;
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  CO: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
}
function geometry(
  xShape: Shape4,
  wShape: Shape4,
  strides: number | [number, number],
  pad: Pad,
  depthwise = false,
): Geo {
  const info = tf.backend_util.computeConv2DInfo(xShape, wShape, strides, 1, pad as never, undefined, depthwise);
  return {
    B: info.batchSize,
    H: info.inHeight,
    W: info.inWidth,
    C: info.inChannels,
    OH: info.outHeight,
    OW: info.outWidth,
    CO: info.outChannels,
    KH: info.filterHeight,
    KW: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    pt: info.padInfo.top,
    pl: info.padInfo.left,
  };
}
/** dW[kh,kw,c,o] = Σ_{b,oh,ow} x[b, oh·sh-pt+kh, ow·sw-pl+kw, c] · dy[b,oh,ow,o] (NHWC) */
function convFilterRef(x: ArrayLike<number>, dy: ArrayLike<number>, g: Geo): Float64Array {
  const out = new Float64Array(g.KH * g.KW * g.C * g.CO);
  for (let kh = 0; kh < g.KH; kh++)
    for (let kw = 0; kw < g.KW; kw++)
      for (let c = 0; c < g.C; c++)
        for (let o = 0; o < g.CO; o++) {
          let s = 0;
          for (let b = 0; b < g.B; b++)
            for (let oh = 0; oh < g.OH; oh++)
              for (let ow = 0; ow < g.OW; ow++) {
                const ih = oh * g.sh - g.pt + kh,
                  iw = ow * g.sw - g.pl + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                s += x[((b * g.H + ih) * g.W + iw) * g.C + c] * dy[((b * g.OH + oh) * g.OW + ow) * g.CO + o];
              }
          out[((kh * g.KW + kw) * g.C + c) * g.CO + o] = s;
        }
  return out;
}
/** dx[b,ih,iw,c] = Σ dy[b,oh,ow,o] · w[kh,kw,c,o] over the (oh,ow,kh,kw) that read (ih,iw) */
function convInputRef(dy: ArrayLike<number>, w: ArrayLike<number>, g: Geo): Float64Array {
  const out = new Float64Array(g.B * g.H * g.W * g.C);
  for (let b = 0; b < g.B; b++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++)
        for (let kh = 0; kh < g.KH; kh++)
          for (let kw = 0; kw < g.KW; kw++) {
            const ih = oh * g.sh - g.pt + kh,
              iw = ow * g.sw - g.pl + kw;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
            for (let c = 0; c < g.C; c++) {
              let s = 0;
              for (let o = 0; o < g.CO; o++)
                s += dy[((b * g.OH + oh) * g.OW + ow) * g.CO + o] * w[((kh * g.KW + kw) * g.C + c) * g.CO + o];
              out[((b * g.H + ih) * g.W + iw) * g.C + c] += s;
            }
          }
  return out;
}
/** depthwise: out channel o = c·cm + m; dW[kh,kw,c,m], dx[b,ih,iw,c] */
function dwFilterRef(x: ArrayLike<number>, dy: ArrayLike<number>, g: Geo): Float64Array {
  const cm = g.CO / g.C;
  const out = new Float64Array(g.KH * g.KW * g.C * cm);
  for (let b = 0; b < g.B; b++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++)
        for (let kh = 0; kh < g.KH; kh++)
          for (let kw = 0; kw < g.KW; kw++) {
            const ih = oh * g.sh - g.pt + kh,
              iw = ow * g.sw - g.pl + kw;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
            for (let c = 0; c < g.C; c++)
              for (let m = 0; m < cm; m++)
                out[((kh * g.KW + kw) * g.C + c) * cm + m] +=
                  x[((b * g.H + ih) * g.W + iw) * g.C + c] * dy[((b * g.OH + oh) * g.OW + ow) * g.CO + c * cm + m];
          }
  return out;
}
function dwInputRef(dy: ArrayLike<number>, w: ArrayLike<number>, g: Geo): Float64Array {
  const cm = g.CO / g.C;
  const out = new Float64Array(g.B * g.H * g.W * g.C);
  for (let b = 0; b < g.B; b++)
    for (let oh = 0; oh < g.OH; oh++)
      for (let ow = 0; ow < g.OW; ow++)
        for (let kh = 0; kh < g.KH; kh++)
          for (let kw = 0; kw < g.KW; kw++) {
            const ih = oh * g.sh - g.pt + kh,
              iw = ow * g.sw - g.pl + kw;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
            for (let c = 0; c < g.C; c++)
              for (let m = 0; m < cm; m++)
                out[((b * g.H + ih) * g.W + iw) * g.C + c] +=
                  dy[((b * g.OH + oh) * g.OW + ow) * g.CO + c * cm + m] * w[((kh * g.KW + kw) * g.C + c) * cm + m];
          }
  return out;
}
/** max |a - ref| / max |ref| */
function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(a.length, ref.length, 'same length');
  let d = 0,
    m = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(a[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return m === 0 ? d : d / m;
}
function nhwcToNchw(v: Float32Array, [B, H, W, C]: Shape4): Float32Array {
  const o = new Float32Array(v.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let c = 0; c < C; c++) o[((b * C + c) * H + h) * W + w] = v[((b * H + h) * W + w) * C + c];
  return o;
}

// ---------------------------------------------------------------- helpers
const TOL = 1e-4;
let seed = 1;
const rnd = (shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed++);
const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: object): Float32Array => {
  const r = tf.engine().runKernel(name, inputs as never, attrs as never) as tf.Tensor;
  const v = r.dataSync() as Float32Array;
  r.dispose();
  return v.slice();
};
async function withBackend<T>(name: string, f: () => T | Promise<T>): Promise<T> {
  await tf.setBackend(name);
  await tf.ready();
  return await f();
}
function silenceCpuBanner(): void {
  const cpu = tf.engine().findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && cpu.firstUse) cpu.firstUse = false;
}

interface ConvCase {
  x: Shape4;
  w: Shape4;
  s: number | [number, number];
  pad: Pad;
  nchw?: boolean;
}
const CONV_CASES: ConvCase[] = [
  { x: [2, 7, 9, 3], w: [3, 3, 3, 5], s: 1, pad: 'same' },
  { x: [2, 7, 9, 3], w: [3, 3, 3, 5], s: 2, pad: 'same' },
  { x: [2, 8, 8, 4], w: [3, 3, 4, 6], s: 2, pad: 'valid' }, // last input row/column unused: im2col path
  { x: [2, 9, 9, 4], w: [3, 3, 4, 6], s: 2, pad: 'valid' },
  { x: [3, 10, 11, 2], w: [5, 3, 2, 4], s: 1, pad: 'valid' },
  { x: [1, 9, 9, 2], w: [2, 2, 2, 3], s: 3, pad: 'same' },
  { x: [2, 9, 8, 3], w: [3, 3, 3, 4], s: [2, 1], pad: 'same' },
  {
    x: [2, 6, 6, 2],
    w: [3, 3, 2, 2],
    s: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { x: [2, 6, 7, 3], w: [3, 3, 3, 4], s: 2, pad: 1 },
  { x: [2, 5, 5, 4], w: [1, 1, 4, 6], s: 1, pad: 'valid' }, // 1x1: MatMuls
  { x: [4, 32, 32, 4], w: [1, 1, 4, 16], s: 1, pad: 'same' }, // 1x1, many pixels, Co >= 4 Ci: dWᵀ = dyᵀ·x
  { x: [2, 2, 2, 64], w: [1, 1, 64, 128], s: 1, pad: 'same' }, // 1x1, few pixels: dxᵀ = W·dyᵀ
  { x: [3, 40, 40, 12], w: [1, 1, 12, 24], s: 1, pad: 'valid' }, // 1x1 dW by SIMD: several pixel blocks
  { x: [2, 3, 3, 8], w: [1, 1, 8, 4], s: 1, pad: 'same', nchw: true }, // 1x1, NCHW
  { x: [2, 5, 5, 4], w: [1, 1, 4, 6], s: 2, pad: 'same' },
  { x: [4, 16, 16, 8], w: [3, 3, 8, 12], s: 1, pad: 'same' },
  {
    x: [2, 5, 5, 2],
    w: [2, 2, 2, 3],
    s: 1,
    pad: [
      [0, 0],
      [2, 2],
      [2, 1],
      [0, 0],
    ],
  }, // pad > filter-1: col2im path for dX
  { x: [3, 11, 10, 3], w: [3, 3, 3, 4], s: 3, pad: 'valid' },
  { x: [2, 7, 9, 3], w: [3, 3, 3, 5], s: 2, pad: 'same', nchw: true },
  { x: [2, 8, 8, 4], w: [3, 3, 4, 6], s: 1, pad: 'valid', nchw: true },
  // Ci % 4 and Co % 8: dW per filter tap by the SIMD outer4x8 over each row's valid pixels
  { x: [4, 16, 16, 8], w: [3, 3, 8, 16], s: 1, pad: 'same' }, // the centre column's rows run on
  { x: [2, 9, 7, 4], w: [3, 3, 4, 8], s: 1, pad: 'valid' },
  {
    x: [2, 8, 8, 16],
    w: [5, 3, 16, 8],
    s: 1,
    pad: [
      [0, 0],
      [2, 1],
      [0, 2],
      [0, 0],
    ],
  },
  { x: [2, 6, 6, 8], w: [3, 3, 8, 8], s: 1, pad: 'same', nchw: true },
  { x: [2, 9, 9, 8], w: [3, 3, 8, 8], s: 2, pad: 'same' }, // strided: x read every 2 pixels
  { x: [2, 10, 11, 4], w: [3, 3, 4, 16], s: [2, 3], pad: 'valid' },
  // Ci % 4 ≠ 0, Co % 8: the same SIMD filter gradient on x padded by zero channels (paddedFilterSimd)
  { x: [4, 10, 10, 3], w: [3, 3, 3, 16], s: 1, pad: 'same' }, // an RGB stem (the small CNN's first layer)
  { x: [2, 9, 9, 3], w: [3, 3, 3, 8], s: 2, pad: 'same' }, // MobileNetV2's stem
  { x: [2, 7, 6, 6], w: [3, 3, 6, 8], s: 1, pad: 'valid' }, // 6 channels padded to 8
  { x: [2, 8, 8, 1], w: [5, 5, 1, 8], s: [1, 2], pad: 'same' },
];

interface DwCase {
  x: Shape4;
  w: Shape4;
  s: number;
  pad: 'same' | 'valid';
}
const DW_CASES: DwCase[] = [
  { x: [2, 7, 9, 3], w: [3, 3, 3, 1], s: 1, pad: 'same' },
  { x: [2, 7, 9, 3], w: [3, 3, 3, 2], s: 2, pad: 'same' },
  { x: [3, 8, 8, 4], w: [3, 3, 4, 1], s: 2, pad: 'valid' }, // last row/column unused: negative pads, loops
  { x: [1, 10, 11, 2], w: [5, 3, 2, 3], s: 1, pad: 'valid' },
  // MobileNetV2-like: channels a multiple of 4 (the SIMD filter gradient), batch > 1, even sizes at stride 2
  { x: [4, 8, 8, 8], w: [3, 3, 8, 1], s: 1, pad: 'same' },
  { x: [4, 8, 8, 8], w: [3, 3, 8, 1], s: 2, pad: 'same' },
  { x: [3, 9, 9, 12], w: [3, 3, 12, 1], s: 2, pad: 'valid' }, // every row used: the conv paths
  { x: [2, 6, 7, 16], w: [3, 3, 16, 1], s: 1, pad: 'valid' },
  { x: [2, 7, 7, 4], w: [3, 3, 4, 2], s: 1, pad: 'same' }, // multiplier 2: conv + sum over m
  { x: [2, 7, 6, 8], w: [3, 3, 8, 3], s: 2, pad: 'same' },
  { x: [8, 16, 16, 32], w: [3, 3, 32, 1], s: 2, pad: 'same' },
];

// ---------------------------------------------------------------- tests
describe('kernels: conv gradients, fast wasm kernels (src/worker/kernels)', function () {
  this.timeout(600000);
  let before0 = 'wasm';
  before(async () => {
    before0 = tf.getBackend() ?? 'wasm';
    unregisterMissingKernels(tf); // stock state, whatever ran before
  });
  after(async () => {
    unregisterMissingKernels(tf);
    await tf.setBackend(before0);
    await tf.ready();
  });

  it('wasm lacks Conv2DBackpropFilter and the depthwise gradients (why this module exists)', async () => {
    await withBackend('wasm', () => {
      for (const k of [
        'Conv2DBackpropFilter',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
        'UnsortedSegmentSum',
      ])
        assert.equal(tf.getKernel(k, 'wasm'), undefined, k);
      const x = tf.ones([1, 4, 4, 1]);
      const w = tf.variable(tf.ones([3, 3, 1, 1]));
      assert.throws(
        () => tf.variableGrads(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').sum(), [w]),
        /Conv2DBackpropFilter/,
      );
      tf.dispose([x, w]);
    });
  });

  it('registers the kernels for the active backend, once (idempotent, no warning)', async () => {
    const warns: unknown[] = [];
    const orig = console.warn;
    console.warn = (...a: unknown[]) => void warns.push(a);
    try {
      await withBackend('wasm', () => {
        const names = registerMissingKernels(tf, { backends: ['wasm'] });
        for (const k of [
          'Conv2DBackpropFilter',
          'Conv2DBackpropInput',
          'DepthwiseConv2dNativeBackpropFilter',
          'DepthwiseConv2dNativeBackpropInput',
          'Tile',
          'BatchMatMul',
          'Identity',
          'UnsortedSegmentSum',
        ])
          assert.ok(names.includes(k), `${k} in ${names.join(',')}`);
        assert.deepEqual(registerMissingKernels(tf, { backends: ['wasm'] }), [], 'second call registers nothing');
        // the default also registers cpu's, named 'cpu/…' while wasm is active
        assert.deepEqual(
          registerMissingKernels(tf).sort(),
          [
            'Conv2DBackpropFilter',
            'Conv2DBackpropInput',
            'DepthwiseConv2dNativeBackpropFilter',
            'DepthwiseConv2dNativeBackpropInput',
          ]
            .map((k) => `cpu/${k}`)
            .sort(),
        );
        assert.deepEqual(registerMissingKernels(tf), []);
      });
      unregisterMissingKernels(tf);
      await withBackend('cpu', () => {
        silenceCpuBanner();
        const names = registerMissingKernels(tf, { backends: ['cpu'] });
        assert.deepEqual(
          names.sort(),
          [
            'Conv2DBackpropFilter',
            'Conv2DBackpropInput',
            'DepthwiseConv2dNativeBackpropFilter',
            'DepthwiseConv2dNativeBackpropInput',
          ].sort(),
        );
        const more = registerMissingKernels(tf); // the default adds wasm's, named 'wasm/…' while cpu is active
        assert.ok(
          more.includes('wasm/Conv2DBackpropFilter') && more.every((n) => n.startsWith('wasm/')),
          more.join(','),
        );
        assert.deepEqual(registerMissingKernels(tf), []);
      });
      assert.deepEqual(warns, [], 'no "already registered" warning');
    } finally {
      console.warn = orig;
      unregisterMissingKernels(tf);
    }
    assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined, 'unregister restores the stock state');
  });

  describe('Conv2DBackpropFilter / Conv2DBackpropInput vs float64 reference and stock cpu', () => {
    interface Data {
      c: ConvCase;
      x: Float32Array;
      w: Float32Array;
      dy: Float32Array;
      refW: Float64Array;
      refX: Float64Array;
      stockW: Float32Array;
      stockX: Float32Array;
    }
    const data: Data[] = [];
    const attrsOf = (c: ConvCase, extra: object) => ({
      strides: c.s,
      pad: c.pad,
      dataFormat: c.nchw ? 'NCHW' : 'NHWC',
      dimRoundingMode: undefined,
      ...extra,
    });
    const shapeOf = (c: ConvCase, s: Shape4): Shape4 => (c.nchw ? [s[0], s[3], s[1], s[2]] : s);
    const tensors = (c: ConvCase, d: Data) => {
      const g = geometry(c.x, c.w, c.s, c.pad);
      const dyShape: Shape4 = [g.B, g.OH, g.OW, g.CO];
      return {
        x: tf.tensor(c.nchw ? nhwcToNchw(d.x, c.x) : d.x, shapeOf(c, c.x)),
        w: tf.tensor(d.w, c.w),
        dy: tf.tensor(c.nchw ? nhwcToNchw(d.dy, dyShape) : d.dy, shapeOf(c, dyShape)),
        dyShape,
      };
    };
    before(async () => {
      await withBackend('cpu', () => {
        silenceCpuBanner();
        unregisterMissingKernels(tf);
        for (const c of CONV_CASES) {
          const g = geometry(c.x, c.w, c.s, c.pad);
          const x = rnd(c.x),
            w = rnd(c.w),
            dy = rnd([g.B, g.OH, g.OW, g.CO]);
          const d: Data = {
            c,
            x: x.dataSync() as Float32Array,
            w: w.dataSync() as Float32Array,
            dy: dy.dataSync() as Float32Array,
            refW: new Float64Array(),
            refX: new Float64Array(),
            stockW: new Float32Array(),
            stockX: new Float32Array(),
          };
          d.refW = convFilterRef(d.x, d.dy, g);
          d.refX = convInputRef(d.dy, d.w, g);
          const t = tensors(c, d);
          d.stockW = run('Conv2DBackpropFilter', { x: t.x, dy: t.dy }, attrsOf(c, { filterShape: c.w }));
          const sx = run('Conv2DBackpropInput', { dy: t.dy, filter: t.w }, attrsOf(c, { inputShape: shapeOf(c, c.x) }));
          d.stockX = c.nchw ? nchwBack(sx, c.x) : sx;
          tf.dispose([x, w, dy, t.x, t.w, t.dy]);
          data.push(d);
        }
      });
    });
    const nchwBack = (v: Float32Array, [B, H, W, C]: Shape4): Float32Array => {
      const o = new Float32Array(v.length);
      for (let b = 0; b < B; b++)
        for (let h = 0; h < H; h++)
          for (let w = 0; w < W; w++)
            for (let c = 0; c < C; c++) o[((b * H + h) * W + w) * C + c] = v[((b * C + c) * H + h) * W + w];
      return o;
    };
    it('the reference agrees with the stock cpu kernels (checks the reference)', () => {
      for (const d of data) {
        assert.ok(relErr(d.stockW, d.refW) < TOL, `stock dW ${JSON.stringify(d.c)}: ${relErr(d.stockW, d.refW)}`);
        assert.ok(relErr(d.stockX, d.refX) < TOL, `stock dX ${JSON.stringify(d.c)}: ${relErr(d.stockX, d.refX)}`);
      }
    });
    for (const [backend, chunk, simd, helper] of [
      ['wasm', 0, true, false],
      ['cpu', 0, true, false],
      ['wasm', 100, true, false],
      ['wasm', 0, false, false],
      ['wasm', 0, true, true],
    ] as const) {
      const variant = helper
        ? `, every SIMD filter gradient on the helper thread while the calling thread goes on (${threads > 1 ? "threaded build: bit for bit the calling thread's; x and dy freed and their memory overwritten before dW is read" : 'none on the single-threaded build'})`
        : chunk
          ? ', patch matrices split by batch'
          : simd
            ? ''
            : ', 1x1 dW by XNNPACK MatMuls (no SIMD kernel), strided dX by conv (not col2im)';
      it(`ours on ${backend}${variant}: every case within ${TOL} of the reference, no data leak`, async () => {
        const saved = kernelSettings.im2colChunkFloats;
        if (chunk) kernelSettings.im2colChunkFloats = chunk;
        conv2dSettings.pointwiseFilterSimd = simd;
        conv2dSettings.stridedInputByCol2im = simd;
        const minFlops = simdHelperSettings.minFlops;
        if (helper) simdHelperSettings.minFlops = 0;
        let shared = 0;
        let restore: (() => void) | null = null;
        await withBackend(backend, async () => {
          silenceCpuBanner();
          registerMissingKernels(tf);
          const h = helper ? simdHelperFor(backendMemory(tf.backend())) : null;
          if (helper) {
            // the helper exists on the threaded build only (shared memory); wait until it is ready
            assert.equal(h !== null, threads > 1, 'a helper where the memory is shared');
            for (let i = 0; h !== null && !h.worthIt(1) && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
            if (h !== null) {
              assert.ok(h.worthIt(1), 'the helper is ready');
              const [taps, rows] = [h.filterGradTaps, h.pointwiseFilterRows];
              h.filterGradTaps = (...a) => (shared++, taps(...a));
              h.pointwiseFilterRows = (...a) => (shared++, rows(...a));
              restore = () => Object.assign(h, { filterGradTaps: taps, pointwiseFilterRows: rows });
            }
          }
          const report: string[] = [];
          for (const d of data) {
            const t = tensors(d.c, d);
            const before = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
            const gw = run('Conv2DBackpropFilter', { x: t.x, dy: t.dy }, attrsOf(d.c, { filterShape: d.c.w }));
            const gx0 = run(
              'Conv2DBackpropInput',
              { dy: t.dy, filter: t.w },
              attrsOf(d.c, { inputShape: shapeOf(d.c, d.c.x) }),
            );
            assert.equal(
              (tf.backend() as unknown as { numDataIds(): number }).numDataIds(),
              before,
              'no backend data left behind',
            );
            const gx = d.c.nchw ? nchwBack(gx0, d.c.x) : gx0;
            const ew = relErr(gw, d.refW),
              ex = relErr(gx, d.refX);
            report.push(
              `${JSON.stringify(d.c)} dW ${ew.toExponential(1)} dX ${ex.toExponential(1)} (stock cpu vs ours dW ${relErr(gw, d.stockW).toExponential(1)})`,
            );
            assert.ok(ew < TOL, `dW ${JSON.stringify(d.c)}: ${ew}`);
            assert.ok(ex < TOL, `dX ${JSON.stringify(d.c)}: ${ex}`);
            if (h !== null) {
              // the fence (simdHelper.ts): x and dy freed while the helper may still read them, their memory taken
              // by new tensors and overwritten; then dW read. Bit for bit the calling thread's result.
              const t2 = tensors(d.c, d);
              const wAttrs = attrsOf(d.c, { filterShape: d.c.w });
              const pending = tf
                .engine()
                .runKernel('Conv2DBackpropFilter', { x: t2.x, dy: t2.dy }, wAttrs as never) as tf.Tensor;
              tf.dispose([t2.x, t2.dy, t2.w]);
              const junk = [0, 1, 2, 3].map(() => tf.fill(shapeOf(d.c, d.c.x), 1e6 + 1));
              const onHelper = (pending.dataSync() as Float32Array).slice();
              tf.dispose([pending, ...junk]);
              simdHelperSettings.minFlops = Infinity;
              const here = run('Conv2DBackpropFilter', { x: t.x, dy: t.dy }, wAttrs);
              simdHelperSettings.minFlops = 0;
              assert.deepEqual(onHelper, here, `helper vs calling thread, bit for bit ${JSON.stringify(d.c)}`);
            }
            tf.dispose([t.x, t.w, t.dy]);
          }
          if (process.env.KERNELS_VERBOSE) console.log(report.join('\n'));
          unregisterMissingKernels(tf);
        }).finally(() => {
          kernelSettings.im2colChunkFloats = saved;
          conv2dSettings.pointwiseFilterSimd = true;
          conv2dSettings.stridedInputByCol2im = true;
          simdHelperSettings.minFlops = minFlops;
          restore?.();
        });
        // the cases with Ci % 4 and Co % 8 (or padded to them): 10 SIMD filter gradients by images, 1 by pixels (each
        // twice: the check and the fence's)
        if (helper && threads > 1) assert.ok(shared >= 22, `filter gradients on the helper: ${shared}`);
      });
    }
  });

  describe('DepthwiseConv2dNativeBackpropFilter / -Input vs float64 reference and stock cpu', () => {
    interface DwData {
      c: DwCase;
      x: Float32Array;
      w: Float32Array;
      dy: Float32Array;
      refW: Float64Array;
      refX: Float64Array;
      stockW: Float32Array;
      stockX: Float32Array;
    }
    const data: DwData[] = [];
    const attrsOf = (c: DwCase) => ({ strides: c.s, pad: c.pad, dilations: 1, dimRoundingMode: undefined });
    before(async () => {
      await withBackend('cpu', () => {
        silenceCpuBanner();
        unregisterMissingKernels(tf);
        for (const c of DW_CASES) {
          const g = geometry(c.x, c.w, c.s, c.pad, true);
          const x = rnd(c.x),
            w = rnd(c.w),
            dy = rnd([g.B, g.OH, g.OW, g.CO]);
          const d: DwData = {
            c,
            x: x.dataSync().slice() as Float32Array,
            w: w.dataSync().slice() as Float32Array,
            dy: dy.dataSync().slice() as Float32Array,
            refW: new Float64Array(),
            refX: new Float64Array(),
            stockW: run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrsOf(c), filterShape: c.w }),
            stockX: run('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { ...attrsOf(c), inputShape: c.x }),
          };
          d.refW = dwFilterRef(d.x, d.dy, g);
          d.refX = dwInputRef(d.dy, d.w, g);
          tf.dispose([x, w, dy]);
          data.push(d);
        }
      });
    });
    it('the reference agrees with the stock cpu kernels (checks the reference)', () => {
      for (const d of data) {
        assert.ok(relErr(d.stockW, d.refW) < TOL, `stock dW ${JSON.stringify(d.c)}: ${relErr(d.stockW, d.refW)}`);
        assert.ok(relErr(d.stockX, d.refX) < TOL, `stock dX ${JSON.stringify(d.c)}: ${relErr(d.stockX, d.refX)}`);
      }
    });
    for (const [backend, path] of [
      ['wasm', 'simd'],
      ['wasm', 'conv'],
      ['wasm', 'loops'],
      ['cpu', 'simd'],
    ] as const) {
      it(`ours on ${backend}${backend === 'wasm' ? `, path '${path}'` : ''}: every case within ${TOL} of the reference and of stock cpu, no data leak`, async () => {
        depthwiseSettings.path = path;
        // count the backend's depthwise conv calls: the conv paths must really be taken where they apply
        let dwConvCalls = 0;
        const dwConv = tf.getKernel('DepthwiseConv2dNative', 'wasm')!;
        tf.unregisterKernel('DepthwiseConv2dNative', 'wasm');
        tf.registerKernel({
          ...dwConv,
          kernelFunc: ((a: never) => {
            dwConvCalls++;
            return (dwConv.kernelFunc as (a: never) => unknown)(a);
          }) as never,
        });
        try {
          await withBackend(backend, () => {
            silenceCpuBanner();
            registerMissingKernels(tf);
            const report: string[] = [];
            for (const d of data) {
              const c = d.c;
              const x = tf.tensor(d.x, c.x),
                w = tf.tensor(d.w, c.w);
              const g = geometry(c.x, c.w, c.s, c.pad, true);
              const dy = tf.tensor(d.dy, [g.B, g.OH, g.OW, g.CO]);
              const before = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
              const calls0 = dwConvCalls;
              const gw = run('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrsOf(c), filterShape: c.w });
              const gx = run(
                'DepthwiseConv2dNativeBackpropInput',
                { dy, filter: w },
                { ...attrsOf(c), inputShape: c.x },
              );
              assert.equal(
                (tf.backend() as unknown as { numDataIds(): number }).numDataIds(),
                before,
                'no backend data left behind',
              );
              const ew = relErr(gw, d.refW),
                ex = relErr(gx, d.refX);
              report.push(`${JSON.stringify(c)} dW ${ew.toExponential(1)} dX ${ex.toExponential(1)}`);
              assert.ok(ew < TOL, `dW ${JSON.stringify(c)}: ${ew}`);
              assert.ok(ex < TOL, `dX ${JSON.stringify(c)}: ${ex}`);
              assert.ok(relErr(gw, d.stockW) < TOL, `dW vs stock cpu ${JSON.stringify(c)}`);
              assert.ok(relErr(gx, d.stockX) < TOL, `dX vs stock cpu ${JSON.stringify(c)}`);
              if (backend === 'wasm') {
                // dx: one conv (its pads are never negative for 'same' / 'valid'); dW: the SIMD kernel where it
                // applies (multiplier 1, channels a multiple of 4), else one conv unless input rows or columns go
                // unused (a negative pad), else loops
                const simdOk = g.CO === g.C && g.C % 4 === 0;
                const fits = g.KH + (g.OH - 1) * g.sh - g.H - g.pt >= 0 && g.KW + (g.OW - 1) * g.sw - g.W - g.pl >= 0;
                const expected = path === 'loops' ? 0 : 1 + ((path === 'conv' || !simdOk) && fits ? 1 : 0);
                assert.equal(dwConvCalls - calls0, expected, `depthwise conv calls for ${JSON.stringify(c)} (${path})`);
              }
              tf.dispose([x, w, dy]);
            }
            if (process.env.KERNELS_VERBOSE) console.log(report.join('\n'));
            unregisterMissingKernels(tf);
          });
        } finally {
          depthwiseSettings.path = 'simd';
          tf.unregisterKernel('DepthwiseConv2dNative', 'wasm');
          tf.registerKernel(dwConv);
        }
      });
    }
  });

  describe('wasm Tile, BatchMatMul, Identity, Sum, Mean (faster replacements), cpu bridge', () => {
    before(async () => {
      await withBackend('wasm', () => registerMissingKernels(tf));
    });
    after(() => unregisterMissingKernels(tf));

    it('tileInto matches a float64 reference on random shapes and reps', () => {
      let s = 12345;
      const rand = (n: number) => ((s = (s * 1103515245 + 12345) & 0x7fffffff), s % n);
      for (let trial = 0; trial < 200; trial++) {
        const rank = 1 + rand(5);
        const shape = Array.from({ length: rank }, () => 1 + rand(4));
        const reps = Array.from({ length: rank }, () => 1 + rand(4));
        const src = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i + 0.5);
        const outShape = shape.map((d, i) => d * reps[i]);
        const out = new Float32Array(outShape.reduce((a, b) => a * b, 1)).fill(NaN);
        tileInto(src, shape, reps, out);
        // reference: out[idx] = src[idx mod shape]
        const n = out.length;
        for (let flat = 0; flat < n; flat++) {
          let rem = flat,
            srcIdx = 0,
            mul = 1;
          const idx: number[] = new Array(rank);
          for (let a = rank - 1; a >= 0; a--) {
            idx[a] = rem % outShape[a];
            rem = Math.floor(rem / outShape[a]);
          }
          for (let a = rank - 1; a >= 0; a--) {
            srcIdx += (idx[a] % shape[a]) * mul;
            mul *= shape[a];
          }
          assert.equal(out[flat], src[srcIdx], `shape ${shape} reps ${reps} at ${flat}`);
        }
      }
    });

    it('Tile on wasm: float32, int32, bool, as BN uses it', () => {
      const cases: Array<[number[], number[], 'float32' | 'int32' | 'bool']> = [
        [[1, 1, 1, 16], [32, 32, 32, 1], 'float32'],
        [[2, 3], [3, 2], 'int32'],
        [[3], [4], 'bool'],
        [[2, 1, 3], [1, 5, 1], 'float32'],
        [[4], [1], 'float32'],
      ];
      for (const [shape, reps, dtype] of cases) {
        const size = shape.reduce((a, b) => a * b, 1);
        const vals = Array.from({ length: size }, (_, i) =>
          dtype === 'bool' ? i % 2 : dtype === 'int32' ? i * 3 - 2 : i * 1.5 - 2,
        );
        const x = tf.tensor(vals, shape, dtype);
        const got = Array.from(tf.tile(x, reps).dataSync());
        const out = new Float64Array(got.length);
        tileInto(Float64Array.from(vals) as unknown as Float32Array, shape, reps, out as unknown as Float32Array);
        assert.deepEqual(got, Array.from(out), `${shape} x ${reps} ${dtype}`);
        x.dispose();
      }
    });

    it('BatchMatMul on wasm: transposes, batches, broadcast batches vs float64 reference', () => {
      const cases: Array<[number[], number[]]> = [
        [
          [40, 50],
          [50, 30],
        ],
        [
          [3, 40, 50],
          [3, 50, 30],
        ],
        [
          [1, 40, 50],
          [4, 50, 30],
        ],
        [
          [4, 40, 50],
          [50, 30],
        ],
        [
          [2, 3, 20, 30],
          [2, 3, 30, 25],
        ],
        [
          [300, 64],
          [64, 20],
        ],
        [
          [32, 1000],
          [1000, 10],
        ],
        [
          [3, 1, 40, 50],
          [1, 3, 50, 30],
        ],
      ];
      for (const [as, bs] of cases)
        for (const tA of [false, true])
          for (const tB of [false, true]) {
            const aShape = tA ? [...as.slice(0, -2), as[as.length - 1], as[as.length - 2]] : as;
            const bShape = tB ? [...bs.slice(0, -2), bs[bs.length - 1], bs[bs.length - 2]] : bs;
            const a = rnd(aShape),
              b = rnd(bShape);
            const got = tf.matMul(a, b, tA, tB);
            // reference, with batch broadcasting
            const M = as[as.length - 2],
              K = as[as.length - 1],
              N = bs[bs.length - 1];
            const outer = got.shape.slice(0, -2);
            const av = a.dataSync(),
              bv = b.dataSync();
            const bcast = (shape: number[], idx: number[]) => {
              const own = shape.slice(0, -2);
              let f = 0;
              for (let i = 0; i < own.length; i++)
                f = f * own[i] + (own[i] === 1 ? 0 : idx[idx.length - own.length + i]);
              return f;
            };
            const ref = new Float64Array(got.size);
            const nb = outer.reduce((p, d) => p * d, 1);
            for (let bi = 0; bi < nb; bi++) {
              const idx: number[] = [];
              let rem = bi;
              for (let i = outer.length - 1; i >= 0; i--) {
                idx[i] = rem % outer[i];
                rem = Math.floor(rem / outer[i]);
              }
              const ao = bcast(aShape, idx) * M * K,
                bo = bcast(bShape, idx) * K * N;
              for (let i = 0; i < M; i++)
                for (let j = 0; j < N; j++) {
                  let s = 0;
                  for (let k = 0; k < K; k++)
                    s += av[ao + (tA ? k * M + i : i * K + k)] * bv[bo + (tB ? j * K + k : k * N + j)];
                  ref[bi * M * N + i * N + j] = s;
                }
            }
            const e = relErr(got.dataSync(), ref);
            assert.ok(e < TOL, `matMul ${aShape} ${bShape} tA=${tA} tB=${tB}: ${e}`);
            tf.dispose([a, b, got]);
          }
    });

    it('Identity on wasm shares the data and keeps it alive when the source is disposed', () => {
      const x = tf.tensor([1, 2, 3, 4], [2, 2]);
      const before = tf.memory().numTensors;
      const c = tf.keep(x.clone());
      x.dispose();
      assert.deepEqual(Array.from(c.dataSync()), [1, 2, 3, 4]);
      c.dispose();
      assert.equal(tf.memory().numTensors, before - 1);
      const s = tf.tensor(['a', 'b']); // strings keep the stock path
      assert.deepEqual(s.clone().arraySync(), ['a', 'b']);
      s.dispose();
    });

    it('Sum / Mean over leading axes on wasm (BN moments) vs float64 reference; other axes keep the stock path', () => {
      const shapes: number[][] = [
        [32, 8, 8, 16],
        [7, 5, 3, 11],
        [4097, 3],
        [2, 3, 5, 7, 11],
      ];
      for (const shape of shapes) {
        const x = rnd(shape);
        const xv = x.dataSync();
        const rank = shape.length;
        const axesList: number[][] = [];
        for (let k = 1; k < rank; k++) axesList.push(Array.from({ length: k }, (_, i) => i));
        axesList.push(
          [rank - 1],
          [0, rank - 1],
          Array.from({ length: rank }, (_, i) => i),
          [-rank, 1 - rank],
        );
        for (const axes of axesList)
          for (const keepDims of [false, true]) {
            for (const op of ['sum', 'mean'] as const) {
              const got = op === 'sum' ? tf.sum(x, axes, keepDims) : tf.mean(x, axes, keepDims);
              // reference
              const norm = [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))];
              const outShape = shape.map((d, i) => (norm.includes(i) ? 1 : d));
              const ref = new Float64Array(outShape.reduce((p, d) => p * d, 1));
              const refAbs = new Float64Array(ref.length); // Σ|x|: what a float32 summation error scales with
              const cnt = shape.reduce((p, d, i) => (norm.includes(i) ? p * d : p), 1);
              for (let f = 0; f < xv.length; f++) {
                let rem = f,
                  o = 0,
                  mul = 1;
                for (let d = rank - 1; d >= 0; d--) {
                  const i = rem % shape[d];
                  rem = Math.floor(rem / shape[d]);
                  if (!norm.includes(d)) o += i * mul;
                  mul *= outShape[d];
                }
                ref[o] += xv[f];
                refAbs[o] += Math.abs(xv[f]);
              }
              if (op === 'mean')
                for (let i = 0; i < ref.length; i++) {
                  ref[i] /= cnt;
                  refAbs[i] /= cnt;
                }
              assert.deepEqual(
                got.shape,
                keepDims ? outShape : shape.filter((_, i) => !norm.includes(i)),
                `${op} ${shape} ${axes} shape`,
              );
              // error relative to Σ|x| (a sum that cancels to ~0 has no relative precision to keep); the stock
              // kernel's float32 full reduction of 32768 values is off by ~1e-5 of that, ours (float64) far less
              const gv = got.dataSync();
              let e = 0;
              for (let i = 0; i < ref.length; i++) e = Math.max(e, Math.abs(gv[i] - ref[i]) / refAbs[i]);
              assert.ok(e < TOL, `${op} ${shape} axes ${axes} keepDims ${keepDims}: ${e}`);
              got.dispose();
            }
          }
        x.dispose();
      }
      // int32 keeps the stock kernel (and its dtype)
      const xi = tf.tensor(
        [
          [1, 2],
          [3, 4],
        ],
        [2, 2],
        'int32',
      );
      const si = tf.sum(xi, 0);
      assert.equal(si.dtype, 'int32');
      assert.deepEqual(Array.from(si.dataSync()), [4, 6]);
      tf.dispose([xi, si]);
      // columnSums itself
      const cs = columnSums(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 5, 2);
      assert.deepEqual(Array.from(cs), [25, 30]);
    });

    it('kernels bridged to cpu: UnsortedSegmentSum (gradient of gather / embeddings), Einsum', () => {
      const x = tf.tensor2d([
        [1, 2],
        [3, 4],
        [5, 6],
      ]);
      const seg = tf.tensor1d([1, 0, 1], 'int32');
      assert.deepEqual(tf.unsortedSegmentSum(x, seg, 2).arraySync(), [
        [3, 4],
        [6, 8],
      ]);
      const a = tf.tensor2d([
          [1, 2],
          [3, 4],
        ]),
        b = tf.tensor2d([
          [5, 6],
          [7, 8],
        ]);
      assert.deepEqual(tf.einsum('ij,jk->ik', a, b).arraySync(), [
        [19, 22],
        [43, 50],
      ]);
      // strings in and out, several outputs
      const s = tf.tensor(['a-b', 'c--d']);
      assert.deepEqual(tf.string.staticRegexReplace(s, '-', '+').arraySync(), ['a+b', 'c++d']);
      const rr = tf.engine().runKernel(
        'RaggedRange',
        {
          starts: tf.tensor1d([0, 5], 'int32'),
          limits: tf.tensor1d([3, 7], 'int32'),
          deltas: tf.tensor1d([1, 1], 'int32'),
        },
        {},
      ) as tf.Tensor[];
      assert.deepEqual(
        rr.map((t) => Array.from(t.dataSync())),
        [
          [0, 3, 5],
          [0, 1, 2, 5, 6],
        ],
      );
      tf.dispose([x, seg, a, b, s, ...rr]);
    });
  });

  describe('whole models: gradients on wasm + ours match stock cpu; models that threw on wasm train', () => {
    type Build = () => tf.LayersModel;
    const L = tf.layers;
    const models: Array<{
      name: string;
      build: Build;
      input: number[];
      classes: number;
      intInput?: number;
      /** tolerance vs stock cpu where the stock wasm kernels alone differ by more than TOL (see the model) */
      tol?: number;
    }> = [
      {
        name: 'bench CNN, small: 4 x (conv 3x3 same -> BN) -> dense',
        input: [4, 12, 12, 3],
        classes: 10,
        build: () =>
          tf.sequential({
            layers: [
              L.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, padding: 'same' }),
              L.batchNormalization(),
              L.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }),
              L.batchNormalization(),
              L.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }),
              L.batchNormalization(),
              L.conv2d({ filters: 8, kernelSize: 3, padding: 'same' }),
              L.batchNormalization(),
              L.flatten(),
              L.dense({ units: 10 }),
            ],
          }),
      },
      {
        name: 'conv/BN/relu/maxpool/strided valid conv/avgpool/conv2dTranspose',
        input: [3, 16, 16, 3],
        classes: 5,
        build: () =>
          tf.sequential({
            layers: [
              // BN before the activation: ties in max pooling (e.g. among relu zeros) are broken differently by
              // the stock cpu and wasm MaxPoolGrad, so no window may hold equal values that get a gradient
              L.conv2d({ inputShape: [16, 16, 3], filters: 6, kernelSize: 3, padding: 'same' }),
              L.batchNormalization(),
              L.reLU(),
              L.maxPooling2d({ poolSize: 2 }),
              L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'valid' }),
              L.batchNormalization(),
              L.activation({ activation: 'relu6' }),
              L.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }),
              L.averagePooling2d({ poolSize: 2 }),
              L.flatten(),
              L.dense({ units: 5 }),
            ],
          }),
      },
      {
        name: 'depthwise + separable conv with BN, global average pooling',
        input: [3, 12, 12, 4],
        classes: 4,
        build: () =>
          tf.sequential({
            layers: [
              L.depthwiseConv2d({ inputShape: [12, 12, 4], kernelSize: 3, depthMultiplier: 2, padding: 'same' }),
              L.batchNormalization(),
              L.separableConv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'elu' }),
              L.batchNormalization(),
              L.globalAveragePooling2d({}),
              L.dense({ units: 4 }),
            ],
          }),
      },
      {
        // every MobileNetV2 kernel at small size: 1x1 expand (many pixels, Co >= 4 Ci: the dWᵀ MatMul), ReLU6
        // (clipByValue: compare/and/select), depthwise 3x3 at strides 1 and 2 (channels a multiple of 4: the
        // SIMD filter gradient), 1x1 project, residual add, a 1x1 conv at 3x3 pixels (few: the dxᵀ MatMul)
        name: 'MobileNetV2 blocks: 1x1 expand -> BN -> ReLU6 -> depthwise 3x3 (s1, s2) -> BN -> ReLU6 -> 1x1 -> BN (+ add)',
        input: [8, 24, 24, 8],
        classes: 5,
        // 13 BN layers deep: wasm differs from cpu by up to ~1.2e-4 here whatever the gradient kernels (measured:
        // the depthwise loops and conv-based 1x1 gradients of before give the same), from the stock wasm
        // forward kernels' float32 rounding amplified by BN. Ours vs those loop paths is checked to 2e-5 below.
        tol: 3e-4,
        build: () => {
          type T = tf.SymbolicTensor;
          const bn = (x: T) => L.batchNormalization({ momentum: 0.999, epsilon: 1e-3 }).apply(x) as T;
          const relu6 = (x: T) => L.reLU({ maxValue: 6 }).apply(x) as T;
          const conv1 = (x: T, filters: number) => L.conv2d({ filters, kernelSize: 1, useBias: false }).apply(x) as T;
          const block = (x: T, inC: number, outC: number, stride: number): T => {
            let h = relu6(bn(conv1(x, inC * 6)));
            h = L.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false }).apply(h) as T;
            h = bn(conv1(relu6(bn(h)), outC));
            return stride === 1 && inC === outC ? (L.add().apply([x, h]) as T) : h;
          };
          const input = tf.input({ shape: [24, 24, 8] });
          let x = block(input, 8, 8, 1);
          x = block(x, 8, 16, 2);
          x = block(x, 16, 24, 2);
          x = block(x, 24, 32, 2); // 3x3 pixels
          x = relu6(bn(conv1(x, 160)));
          x = L.globalAveragePooling2d({}).apply(x) as T;
          return tf.model({ inputs: input, outputs: L.dense({ units: 5 }).apply(x) as T });
        },
      },
      {
        name: 'dense + BN (transposed matMuls), embedding (UnsortedSegmentSum)',
        input: [6, 5],
        classes: 3,
        intInput: 20,
        build: () =>
          tf.sequential({
            layers: [
              L.embedding({ inputDim: 20, outputDim: 8, inputLength: 5 }),
              L.flatten(),
              L.dense({ units: 64 }),
              L.batchNormalization(),
              L.dense({ units: 32, activation: 'tanh' }),
              L.batchNormalization(),
              L.dense({ units: 3 }),
            ],
          }),
      },
    ];

    /** gradients of softmax CE w.r.t. every trainable weight, BN in training mode */
    function grads(
      model: tf.LayersModel,
      xv: Float32Array | Int32Array,
      inShape: number[],
      yv: Float32Array,
      classes: number,
      dtype: 'float32' | 'int32',
    ) {
      const x = tf.tensor(xv, inShape, dtype);
      const y = tf.tensor2d(yv, [inShape[0], classes]);
      const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
      const { value, grads: g } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        vars,
      );
      const out = {
        loss: value.dataSync()[0],
        grads: vars.map((v) => g[v.name].dataSync().slice() as Float32Array),
        names: vars.map((v) => v.name),
      };
      tf.dispose([x, y, value, ...Object.values(g)]);
      return out;
    }

    for (const m of models) {
      it(m.name, async () => {
        const dtype = m.intInput ? 'int32' : 'float32';
        const size = m.input.reduce((a, b) => a * b, 1);
        const xv = m.intInput
          ? Int32Array.from({ length: size }, (_, i) => (i * 7) % m.intInput!)
          : Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37) * 2);
        const yv = new Float32Array(m.input[0] * m.classes);
        for (let b = 0; b < m.input[0]; b++) yv[b * m.classes + (b % m.classes)] = 1;
        // stock cpu
        const ref = await withBackend('cpu', () => {
          silenceCpuBanner();
          unregisterMissingKernels(tf);
          const model = m.build();
          // fixed weights (not the random initialisers): the comparison is the same on every run
          model.setWeights(
            model.weights.map((w, k) => {
              const positive = /gamma|variance/.test(w.name);
              const shape = w.shape as number[];
              const v = Float32Array.from(
                { length: shape.reduce((a, b) => a * b, 1) },
                (_, i) => (positive ? 1 : 0) + Math.sin(i * 0.71 + k * 1.3) * (positive ? 0.2 : 0.3),
              );
              return tf.tensor(v, shape);
            }),
          );
          const weights = model.getWeights().map((w) => ({ v: w.dataSync().slice(), s: w.shape }));
          const r = grads(model, xv, m.input, yv, m.classes, dtype);
          model.dispose();
          return { ...r, weights };
        });
        // wasm + ours, same weights
        const got = await withBackend('wasm', () => {
          registerMissingKernels(tf);
          const model = m.build();
          model.setWeights(ref.weights.map((w) => tf.tensor(w.v, w.s)));
          const before = tf.memory().numTensors;
          const r = grads(model, xv, m.input, yv, m.classes, dtype);
          const r2 = grads(model, xv, m.input, yv, m.classes, dtype);
          assert.equal(tf.memory().numTensors, before, 'no tensor leak');
          assert.deepEqual(
            r2.grads.map((g) => Array.from(g)),
            r.grads.map((g) => Array.from(g)),
            'deterministic',
          );
          if (m.tol !== undefined) {
            // the same on wasm with the plain paths (depthwise loops, 1x1 gradients as convolutions)
            depthwiseSettings.path = 'loops';
            conv2dSettings.pointwiseMatMul = false;
            try {
              const plain = grads(model, xv, m.input, yv, m.classes, dtype);
              const top = Math.max(...plain.grads.map((g) => g.reduce((a, v) => Math.max(a, Math.abs(v)), 0)));
              plain.grads.forEach((g, i) => {
                let d = 0;
                for (let k = 0; k < g.length; k++) d = Math.max(d, Math.abs(g[k] - r.grads[i][k]));
                assert.ok(d <= 2e-5 * top, `${m.name}: #${i} (${r.names[i]}) fast vs plain paths: ${d / top}`);
              });
            } finally {
              depthwiseSettings.path = 'simd';
              conv2dSettings.pointwiseMatMul = true;
            }
          }
          model.dispose();
          return r;
        });
        unregisterMissingKernels(tf);
        assert.ok(
          Math.abs(got.loss - ref.loss) <= 1e-5 * Math.max(1, Math.abs(ref.loss)),
          `loss ${got.loss} vs ${ref.loss}`,
        );
        assert.equal(got.grads.length, ref.grads.length);
        // error relative to each gradient's own scale. A bias just before a BN layer has a zero gradient in
        // exact arithmetic (BN removes the mean): both backends give float32 noise there, so those (the
        // gradients below 1e-4 of the model's largest) are checked to be that small on both sides instead.
        const maxAbs = (v: ArrayLike<number>) => {
          let m = 0;
          for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
          return m;
        };
        const scale = Math.max(...ref.grads.map(maxAbs));
        const report: string[] = [];
        got.grads.forEach((g, i) => {
          const r = ref.grads[i];
          if (maxAbs(r) < 1e-4 * scale) {
            assert.ok(
              maxAbs(g) < 1e-4 * scale,
              `${m.name}: ${ref.names[i]} should be ~0 like on cpu: ${maxAbs(g)} vs scale ${scale}`,
            );
            report.push('~0');
            return;
          }
          const e = relErr(g, r);
          report.push(e.toExponential(1));
          // a small gradient (far below the largest) carries the float32 rounding noise of the large terms it is
          // summed from (BN's backward pass cancels means): its absolute error is also accepted up to 1e-5 of
          // the model's largest gradient. A wrong kernel is off by O(1), far above either bound.
          assert.ok(
            e < (m.tol ?? TOL) || e * maxAbs(r) < 1e-5 * scale,
            `${m.name}: gradient of weight #${i} (${ref.names[i]}) differs by ${e} (its scale ${(maxAbs(r) / scale).toExponential(1)} of the largest)`,
          );
        });
        if (process.env.KERNELS_VERBOSE) console.log(m.name, report.join(' '));
      });
    }
  });

  it('fit() of a CNN with BN on wasm + ours: loss falls, no leak', async () => {
    await withBackend('wasm', async () => {
      registerMissingKernels(tf);
      const L = tf.layers;
      const model = tf.sequential({
        layers: [
          L.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
          L.batchNormalization(),
          L.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }),
          L.batchNormalization(),
          L.flatten(),
          L.dense({ units: 2, activation: 'softmax' }),
        ],
      });
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
      // class 1 = bright top half
      const xs: number[] = [],
        ys: number[] = [];
      for (let i = 0; i < 32; i++) {
        const c = i % 2;
        for (let p = 0; p < 64; p++) xs.push((p < 32 ? c : 1 - c) + Math.sin(i * 13 + p) * 0.1);
        ys.push(c ? 0 : 1, c ? 1 : 0);
      }
      const x = tf.tensor4d(xs, [32, 8, 8, 1]),
        y = tf.tensor2d(ys, [32, 2]);
      const first = (await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 })).history.loss[0] as number;
      const n0 = tf.memory().numTensors;
      const h = await model.fit(x, y, { epochs: 15, batchSize: 8, verbose: 0 });
      const last = h.history.loss[h.history.loss.length - 1] as number;
      assert.equal(tf.memory().numTensors, n0, 'numTensors flat across epochs');
      assert.ok(last < first * 0.5, `loss fell: ${first} -> ${last}`);
      tf.dispose([x, y]);
      model.dispose();
      unregisterMissingKernels(tf);
    });
  });

  it('in a worker_threads Worker, wasm with setWasmPaths (as the bundle): a CNN step trains, same loss as here', async () => {
    // the kernels as plain CJS for the worker (the worker cannot load TypeScript)
    const root = join(__dirname, '..', '..');
    const outDir = join(root, '.cache', 'test-kernels');
    mkdirSync(outDir, { recursive: true });
    const bundle = join(outDir, `registerKernels.${process.pid}.cjs`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require('esbuild') as typeof import('esbuild');
    await esbuild.build({
      entryPoints: [join(root, 'src/worker/kernels/registerKernels.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: bundle,
      external: ['@tensorflow/*'],
      logLevel: 'warning',
    });
    const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    const step = `
      const L = tf.layers;
      const model = tf.sequential({ layers: [
        L.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }), L.batchNormalization(),
        L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }), L.batchNormalization(),
        L.flatten(), L.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }) ] });
      model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
      const x = tf.randomNormal([8, 16, 16, 3], 0, 1, 'float32', 11), y = tf.randomNormal([8, 10], 0, 1, 'float32', 12);
      const losses = [];
      for (let i = 0; i < 3; i++) losses.push(await model.trainOnBatch(x, y));`;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { createRequire } = require('node:module');
      const req = createRequire(workerData.pkg);
      (async () => {
        try {
          const tf = req('@tensorflow/tfjs');
          const wasm = req('@tensorflow/tfjs-backend-wasm');
          wasm.setWasmPaths(workerData.wasmDir + '/');
          await tf.setBackend('wasm'); await tf.ready();
          const names = require(workerData.bundle).registerMissingKernels(tf);
          ${step}
          parentPort.postMessage({ backend: tf.getBackend(), names, losses });
        } catch (e) { parentPort.postMessage({ error: String(e && e.stack || e) }); }
      })();`;
    const w = new Worker(code, { eval: true, workerData: { bundle, wasmDir, pkg: join(root, 'package.json') } });
    const msg = await new Promise<{ backend?: string; names?: string[]; losses?: number[]; error?: string }>(
      (resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      },
    );
    await w.terminate();
    rmSync(bundle, { force: true });
    assert.equal(msg.error, undefined, msg.error);
    assert.equal(msg.backend, 'wasm');
    assert.ok(msg.names!.includes('Conv2DBackpropFilter'));
    // the same steps in this thread
    const here = await withBackend('wasm', async () => {
      registerMissingKernels(tf);
      const f = new Function('tf', `return (async () => { ${step}; return losses; })();`) as (
        t: typeof tf,
      ) => Promise<number[]>;
      const r = await f(tf);
      unregisterMissingKernels(tf);
      return r;
    });
    assert.ok(msg.losses![2] < msg.losses![0], `loss falls in the worker: ${msg.losses}`);
    assert.deepEqual(msg.losses, here, 'same losses in the worker and here');
  });
});
