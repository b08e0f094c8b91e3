/**
 * Add, Sub, Multiply, Relu, Square and ClipByValue (ReLU6's forward) on the wasm backend without XNNPACK's thread pool. The stock kernels
 * (XNNPACK operators) split every large element-wise op over the pool of the threaded build; on a machine whose
 * cores are busy the pool's other thread is often not running, and the calling thread waits for it: measured
 * here, a MobileNetV2 step's Multiply calls went from ~55 ms (single-threaded build) to 200-440 ms (threaded,
 * 2 threads, load average ~4). These ops are memory-bound, so a second thread gains little even when it runs:
 * the SIMD functions of simdKernelModule.ts do them on the calling thread, 4 lanes at a time (the same IEEE
 * operation per element as XNNPACK's, so the same results). Shapes served: equal shapes, a per-channel vector
 * ([C] or [1, …, 1, C], C a multiple of 4) against a tensor whose last dimension is C, a one-element operand;
 * anything else, other dtypes and small tensors go to the stock kernel.
 */
import type { KernelFunc, TInfo } from './kernelOps';
import type { BinRows } from './simdKernelModule';
import type { SimdOf } from './wasmElementwise';

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const sameShape = (a: number[], b: number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** below this many elements the stock kernel is used (the threaded build's pool is paid by small calls too) */
const MIN_ELEMENTS = 64;

export type BinaryOp = 'add' | 'sub' | 'mul';
const JS_OPS: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
};

/** `t` is [C] or [1, …, 1, C] for the last dimension C of `full`, and no larger in rank */
function channelVectorOf(t: TInfo, full: TInfo): boolean {
  const C = full.shape[full.shape.length - 1];
  return (
    t.shape.length >= 1 &&
    t.shape.length <= full.shape.length &&
    t.shape[t.shape.length - 1] === C &&
    size(t.shape) === C
  );
}

export function fastBinary(stock: KernelFunc, which: BinaryOp, simdOf: SimdOf): KernelFunc {
  const js = JS_OPS[which];
  return (args) => {
    const { inputs, backend } = args;
    const { a, b } = inputs;
    const simd = simdOf(backend);
    if (simd === null || a.dtype !== 'float32' || b.dtype !== 'float32') return stock(args);
    const na = size(a.shape),
      nb = size(b.shape);
    const f: BinRows = simd[which];
    type Plan = { full: TInfo; aFull: boolean; C: number };
    let plan: Plan | null = null;
    if (sameShape(a.shape, b.shape)) plan = { full: a, aFull: true, C: 0 };
    else if (nb === 1 && b.shape.length <= a.shape.length) plan = { full: a, aFull: true, C: 1 };
    else if (na === 1 && a.shape.length <= b.shape.length) plan = { full: b, aFull: false, C: 1 };
    else if (a.shape.length > 0 && channelVectorOf(b, a) && nb % 4 === 0) plan = { full: a, aFull: true, C: nb };
    else if (b.shape.length > 0 && channelVectorOf(a, b) && na % 4 === 0) plan = { full: b, aFull: false, C: na };
    if (plan === null) return stock(args);
    const n = size(plan.full.shape);
    if (n < MIN_ELEMENTS) return stock(args);
    const out = backend.makeOutput([...plan.full.shape], 'float32') as TInfo;
    // a one-element operand: splatted to 4 lanes in a temporary (then used as a 4-channel vector)
    const splat = plan.C === 1 ? (backend.makeOutput([4], 'float32') as TInfo) : null;
    try {
      // views after the allocations: malloc may grow (and move) the heap
      const view = (t: TInfo): Float32Array => backend.typedArrayFromHeap(t) as Float32Array;
      const av = view(a),
        bv = view(b),
        ov = view(out);
      if (plan.C === 0) {
        const n4 = n - (n % 4);
        f(ov.byteOffset, av.byteOffset, bv.byteOffset, 1, 4 * n4, 0, 0);
        for (let i = n4; i < n; i++) ov[i] = js(av[i], bv[i]);
      } else if (plan.C === 1) {
        const sv = view(splat!);
        sv.fill(plan.aFull ? bv[0] : av[0]);
        const fv = plan.aFull ? av : bv;
        const rows = Math.floor(n / 4);
        if (plan.aFull) f(ov.byteOffset, av.byteOffset, sv.byteOffset, rows, 16, 16, 0);
        else f(ov.byteOffset, sv.byteOffset, bv.byteOffset, rows, 16, 0, 16);
        const s = sv[0];
        for (let i = 4 * rows; i < n; i++) ov[i] = plan.aFull ? js(fv[i], s) : js(s, fv[i]);
      } else {
        const cb = 4 * plan.C;
        const rows = n / plan.C;
        if (plan.aFull) f(ov.byteOffset, av.byteOffset, bv.byteOffset, rows, cb, cb, 0);
        else f(ov.byteOffset, av.byteOffset, bv.byteOffset, rows, cb, 0, cb);
      }
      return out;
    } finally {
      if (splat) backend.disposeData(splat.dataId);
    }
  };
}

export function fastUnary(stock: KernelFunc, which: 'relu' | 'square', simdOf: SimdOf): KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const x = inputs.x;
    const simd = simdOf(backend);
    const n = size(x.shape);
    if (simd === null || x.dtype !== 'float32' || n < MIN_ELEMENTS) return stock(args);
    const out = backend.makeOutput([...x.shape], 'float32') as TInfo;
    const xv = backend.typedArrayFromHeap(x) as Float32Array;
    const ov = backend.typedArrayFromHeap(out) as Float32Array;
    const n4 = Math.floor(n / 4);
    simd[which](ov.byteOffset, xv.byteOffset, n4, 0);
    for (let i = 4 * n4; i < n; i++) {
      const v = xv[i];
      ov[i] = which === 'square' ? v * v : v < 0 ? 0 : v;
    }
    return out;
  };
}

/** ClipByValue (float32): min(max(x, lo), hi) */
export function fastClip(stock: KernelFunc, simdOf: SimdOf): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs = {} } = args;
    const x = inputs.x;
    const simd = simdOf(backend);
    const n = size(x.shape);
    const lo: number = attrs.clipValueMin,
      hi: number = attrs.clipValueMax;
    if (simd === null || x.dtype !== 'float32' || n < MIN_ELEMENTS || !(lo <= hi)) return stock(args);
    const out = backend.makeOutput([...x.shape], 'float32') as TInfo;
    const xv = backend.typedArrayFromHeap(x) as Float32Array;
    const ov = backend.typedArrayFromHeap(out) as Float32Array;
    const n4 = Math.floor(n / 4);
    simd.clip(ov.byteOffset, xv.byteOffset, n4, lo, hi);
    const flo = Math.fround(lo),
      fhi = Math.fround(hi);
    for (let i = 4 * n4; i < n; i++) {
      const v = xv[i];
      ov[i] = v !== v ? v : Math.min(Math.max(v, flo), fhi);
    }
    return out;
  };
}
