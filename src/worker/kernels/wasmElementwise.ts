/**
 * Faster tfjs-backend-wasm 4.22 kernels for the element-wise ops of the ReLU6 gradient. tfjs-layers' ReLU with
 * maxValue is relu then clipByValue, whose gradient is
 *   where(logicalAnd(greaterEqual(x, 0), lessEqual(x, 6)), dy, zerosLike(dy))
 * and the stock wasm GreaterEqual / LessEqual / LogicalAnd / Select cost ~10 ns an element (a MobileNetV2
 * step at 64x64, batch 8 spent ~140 ms in them). Here the SIMD functions of simdKernelModule.ts run on the
 * heap 16 elements at a time (XNNPACK has no comparison or select operator); the last n mod 16 elements, and
 * every case without SIMD, take branch-free JS loops (~2-6 ns an element here: a branch on random signs
 * costs as much as the stock kernel, measured 9 ns).
 * Only the shapes that gradient uses take the fast path (same shapes, or a one-element second operand); any
 * other call goes to the stock kernel, which each function receives.
 */
import type { AnyBackend, KernelFunc, TInfo } from './kernelOps';
import type { SimdKernels } from './simdKernelModule';

/** the SIMD kernels on a backend's heap, or null (no SIMD, or not the wasm backend) */
export type SimdOf = (backend: AnyBackend) => SimdKernels | null;

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** below this many elements the stock kernel is used (call overheads dominate) */
const MIN_ELEMENTS = 1024;

const sameShape = (a: number[], b: number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

export type CompareOp = 'GreaterEqual' | 'LessEqual' | 'Greater' | 'Less';

/** a op b, elementwise, for numeric a and b of one dtype, b of a's shape or of one element (rank <= a's) */
export function fastCompare(stock: KernelFunc, which: CompareOp, simdOf: SimdOf): KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const { a, b } = inputs;
    if (a.dtype !== b.dtype || (a.dtype !== 'float32' && a.dtype !== 'int32')) return stock(args);
    const n = size(a.shape);
    const scalar = size(b.shape) === 1 && b.shape.length <= a.shape.length;
    if (n < MIN_ELEMENTS || !(scalar || sameShape(a.shape, b.shape))) return stock(args);
    const out = backend.makeOutput([...a.shape], 'bool') as TInfo;
    // views after the allocation: it may grow (and move) the heap
    const av = backend.typedArrayFromHeap(a) as Float32Array | Int32Array;
    const bv = backend.typedArrayFromHeap(b) as Float32Array | Int32Array;
    const o = backend.typedArrayFromHeap(out) as Uint8Array;
    const simd = simdOf(backend);
    let i0 = 0;
    if (scalar && simd !== null && a.dtype === 'float32' && (which === 'GreaterEqual' || which === 'LessEqual')) {
      // float32 against a float32 scalar: 16 at a time in SIMD (the same IEEE comparison), the rest below
      i0 = n - (n % 16);
      (which === 'GreaterEqual' ? simd.geScalar : simd.leScalar)(o.byteOffset, av.byteOffset, i0 / 16, bv[0]);
    }
    if (scalar) {
      const s = bv[0];
      if (which === 'GreaterEqual') for (let i = i0; i < n; i++) o[i] = +(av[i] >= s);
      else if (which === 'LessEqual') for (let i = i0; i < n; i++) o[i] = +(av[i] <= s);
      else if (which === 'Greater') for (let i = 0; i < n; i++) o[i] = +(av[i] > s);
      else for (let i = 0; i < n; i++) o[i] = +(av[i] < s);
    } else {
      if (which === 'GreaterEqual') for (let i = 0; i < n; i++) o[i] = +(av[i] >= bv[i]);
      else if (which === 'LessEqual') for (let i = 0; i < n; i++) o[i] = +(av[i] <= bv[i]);
      else if (which === 'Greater') for (let i = 0; i < n; i++) o[i] = +(av[i] > bv[i]);
      else for (let i = 0; i < n; i++) o[i] = +(av[i] < bv[i]);
    }
    return out;
  };
}

/** LogicalAnd of two bool tensors of one shape */
export function fastLogicalAnd(stock: KernelFunc, simdOf: SimdOf): KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const { a, b } = inputs;
    const n = size(a.shape);
    if (a.dtype !== 'bool' || b.dtype !== 'bool' || n < MIN_ELEMENTS || !sameShape(a.shape, b.shape))
      return stock(args);
    const out = backend.makeOutput([...a.shape], 'bool') as TInfo;
    const av = backend.typedArrayFromHeap(a) as Uint8Array;
    const bv = backend.typedArrayFromHeap(b) as Uint8Array;
    const o = backend.typedArrayFromHeap(out) as Uint8Array;
    const simd = simdOf(backend);
    const i0 = simd === null ? 0 : n - (n % 16);
    if (simd !== null) simd.and8(o.byteOffset, av.byteOffset, bv.byteOffset, i0 / 16);
    for (let i = i0; i < n; i++) o[i] = av[i] & bv[i];
    return out;
  };
}

/** Select (where) with condition, t and e all of one shape, t and e float32 */
export function fastSelect(stock: KernelFunc, simdOf: SimdOf): KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const { condition, t, e } = inputs;
    const n = size(t.shape);
    if (
      condition.dtype !== 'bool' ||
      t.dtype !== 'float32' ||
      e.dtype !== 'float32' ||
      n < MIN_ELEMENTS ||
      !sameShape(condition.shape, t.shape) ||
      !sameShape(t.shape, e.shape)
    )
      return stock(args);
    const out = backend.makeOutput([...t.shape], 'float32') as TInfo;
    const cv = backend.typedArrayFromHeap(condition) as Uint8Array;
    // the float bits through int32 views, selected by masks: no branch to mispredict
    const bits = (x: TInfo): Int32Array => {
      const f = backend.typedArrayFromHeap(x) as Float32Array;
      return new Int32Array(f.buffer, f.byteOffset, n);
    };
    const tv = bits(t),
      ev = bits(e),
      o = bits(out);
    const simd = simdOf(backend);
    const i0 = simd === null ? 0 : n - (n % 16);
    if (simd !== null) simd.select(o.byteOffset, cv.byteOffset, tv.byteOffset, ev.byteOffset, i0 / 16);
    for (let i = i0; i < n; i++) {
      const c = -cv[i]; // bool bytes are 0 or 1: mask 0 or -1
      o[i] = (tv[i] & c) | (ev[i] & ~c);
    }
    return out;
  };
}
