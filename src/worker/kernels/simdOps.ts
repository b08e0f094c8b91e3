/**
 * The instruction vocabulary of the engine's hand-assembled SIMD module (simdKernelModule.ts): the opcodes its
 * function bodies use beyond the assembler's (../wasmAssembler.ts), and the loop and local helpers they share.
 * The bodies are in simdReductions.ts, simdProducts.ts and simdElementwise.ts.
 */
import { SIMD, ops, uleb, vec } from '../wasmAssembler';

export const op = {
  ...ops,
  load: [SIMD, 0x00, 2, 0], // v128.load align=4 offset=0
  loadAt: (offset: number) => [SIMD, 0x00, 0, ...uleb(offset)], // v128.load align=1
  storeAt: (offset: number) => [SIMD, 0x0b, 0, ...uleb(offset)], // v128.store align=1
  load64ZeroAt: (offset: number) => [SIMD, 0x5d, 0, ...uleb(offset)], // v128.load64_zero align=1
  store64Lane0At: (offset: number) => [SIMD, 0x5b, 0, ...uleb(offset), 0], // v128.store64_lane align=1 lane 0
  f32x4Splat: [SIMD, 0x13],
  // relaxed SIMD: a · b + c, fused (one rounding) where the machine has FMA (../relaxedSimdSupport.ts)
  f32x4RelaxedMadd: [SIMD, 0x85, 0x02],
  i8x16Splat: [SIMD, 0x0f],
  f32x4Ge: [SIMD, 0x46],
  f32x4Le: [SIMD, 0x45],
  f32x4Gt: [SIMD, 0x44],
  f32x4Ne: [SIMD, 0x42],
  i16x8NarrowS: [SIMD, 0x85, 0x01], // i16x8.narrow_i32x4_s
  i8x16NarrowS: [SIMD, 0x65], // i8x16.narrow_i16x8_s
  and: [SIMD, 0x4e],
  i8x16Ne: [SIMD, 0x24],
  i16x8ExtLowS: [SIMD, 0x87, 0x01], // i16x8.extend_low_i8x16_s
  i16x8ExtHighS: [SIMD, 0x88, 0x01],
  i32x4ExtLowS: [SIMD, 0xa7, 0x01], // i32x4.extend_low_i16x8_s
  i32x4ExtHighS: [SIMD, 0xa8, 0x01],
  bitselect: [SIMD, 0x52],
  load32SplatAt: (offset: number) => [SIMD, 0x09, 0, ...uleb(offset)], // v128.load32_splat align=1
  f32: (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  store: [SIMD, 0x0b, 2, 0], // v128.store align=4 offset=0
  zero: [SIMD, 0x0c, ...new Array<number>(16).fill(0)], // v128.const 0
  f32x4Max: [SIMD, 0xe9, 0x01], // NaN-propagating
  f32x4Min: [SIMD, 0xe8, 0x01],
  // pseudo-min/max: one x86 instruction each (b < a ? b : a / a < b ? b : a), where f32x4.min/max take ~8 to order
  // -0 below +0 and make NaN win from either side
  f32x4PMin: [SIMD, 0xea, 0x01],
  f32x4PMax: [SIMD, 0xeb, 0x01],
};

/** wraps a body: locals (count, type) pairs, then code */
export function fn(locals: Array<[number, number]>, code: number[]): number[] {
  const body = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code, ...op.end];
  return [...uleb(body.length), ...body];
}

/** `loop while counter != 0 { body; counter -= 1 }` (the counter is a local) */
export function countDown(counter: number, body: number[]): number[] {
  return [
    ...op.block,
    ...op.loop,
    ...op.get(counter),
    ...op.i32Eqz,
    ...op.brIf(1),
    ...body,
    ...op.get(counter),
    ...op.i32(1),
    ...op.i32Sub,
    ...op.set(counter),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}
export const addTo = (local: number, n: number): number[] => [
  ...op.get(local),
  ...op.i32(n),
  ...op.i32Add,
  ...op.set(local),
];
/** local `to` += local `by` (i32) */
export const addTo2 = (to: number, by: number): number[] => [...op.get(to), ...op.get(by), ...op.i32Add, ...op.set(to)];
/** local `to` = local `x` + local `y` (i32) */
export const add = (x: number, y: number, to: number): number[] => [
  ...op.get(x),
  ...op.get(y),
  ...op.i32Add,
  ...op.set(to),
];
/** local `to` = local `from` */
export const copy = (from: number, to: number): number[] => [...op.get(from), ...op.set(to)];
/** locals s2, s3, s4 = 2, 3 and 4 times local s (i32: the byte strides of rows 2 to 4 of a 4-row block) */
export const strideMultiples = (s: number, s2: number, s3: number, s4: number): number[] => [
  ...add(s, s, s2),
  ...add(s2, s, s3),
  ...add(s2, s2, s4),
];
/** pushes local `base` + local `off` (i32: an address) */
export const addr = (base: number, off: number): number[] => [...op.get(base), ...op.get(off), ...op.i32Add];
/** for local C = 0, 16, 32, … while C < local CB: `body` (a walk over a row's bytes, four float32 lanes a step) */
export const byteColumns = (C: number, CB: number, body: number[]): number[] => [
  ...op.i32(0),
  ...op.set(C),
  ...op.block,
  ...op.loop,
  ...op.get(C),
  ...op.get(CB),
  ...op.i32GeS,
  ...op.brIf(1),
  ...body,
  ...addTo(C, 16),
  ...op.br(0),
  ...op.end,
  ...op.end,
];

/** v128.const of four float32 lanes c */
export const splat = (c: number): number[] => [SIMD, 0x0c, ...[0, 1, 2, 3].flatMap(() => [...op.f32(c).slice(1)])];

/** pushes local `base` (+ local `off` unless null) */
export const at = (base: number, off: number | null): number[] => (off === null ? op.get(base) : addr(base, off));
/** local `to` = local `x` · k (i32) */
export const times = (x: number, k: number, to: number): number[] => [
  ...op.get(x),
  ...op.i32(k),
  ...op.i32Mul,
  ...op.set(to),
];
/** locals of(1..count-1) = k · local `step` (of(0) unused: offset 0) */
export const multiples = (step: number, count: number, of: (k: number) => number): number[] => {
  const c: number[] = [...copy(step, of(1))];
  for (let k = 2; k < count; k++) c.push(...add(of(k - 1), step, of(k)));
  return c;
};
