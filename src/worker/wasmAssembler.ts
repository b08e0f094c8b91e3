/**
 * The small WebAssembly assembler the engine's hand-written SIMD modules are built with (simdMomentsModule.ts,
 * kernels/simdKernelModule.ts; no wasm toolchain in the build): LEB128 numbers, vectors, names, sections, the
 * import of the tfjs wasm backend's memory, the module header, and the opcodes both modules use. Each module adds
 * its own opcodes (loads and stores with the alignment it needs) to `ops`.
 */
export const SIMD = 0xfd;
export const I32 = 0x7f,
  F32 = 0x7d,
  F64 = 0x7c,
  V128 = 0x7b;

/** unsigned LEB128 */
export const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
/** signed LEB128 (i32.const immediates) */
export const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const name = (s: string): number[] => vec([...s].map((ch) => [ch.charCodeAt(0)]));
export const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];

/** the import section's one entry: "env" "memory", shared (the threaded build, 0..65536 pages as emscripten's) or not */
export const memoryImport = (shared: boolean): number[] =>
  vec([[...name('env'), ...name('memory'), 0x02, ...(shared ? [0x03, 0x00, ...uleb(65536)] : [0x00, 0x00])]]);

/** the module: header, then the sections given, in order */
export const wasmModule = (...sections: number[][]): Uint8Array<ArrayBuffer> =>
  new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...sections.flat()]);

/** the opcodes both modules use */
export const ops = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, d],
  brIf: (d: number) => [0x0d, d],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32Eqz: [0x45],
  i32LtS: [0x48],
  i32GeS: [0x4e],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  promoteLow: [SIMD, 0x5f], // f64x2.promote_low_f32x4
  f64x2Add: [SIMD, 0xf0, 0x01],
  f32x4Add: [SIMD, 0xe4, 0x01],
  f32x4Sub: [SIMD, 0xe5, 0x01],
  f32x4Mul: [SIMD, 0xe6, 0x01],
  // i8x16.shuffle: lanes 2, 3 of the first operand to lanes 0, 1 (then f64x2.promote_low_f32x4 promotes them)
  highToLow: [SIMD, 0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7],
  i32Mul: [0x6c],
  i32DivU: [0x6e],
  i32GtS: [0x4a],
  select: [0x1b],
};
