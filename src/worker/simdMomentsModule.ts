/**
 * The bytes of a WebAssembly SIMD module that reduces float32 data in the tfjs wasm backend's heap (used by
 * channelMomentsWasmHeap.ts), assembled byte by byte here (no wasm toolchain in the build).
 */
//
// A two-function WebAssembly module, assembled below byte by byte, that imports the tfjs wasm backend's
// own memory (the Emscripten module's exported `memory`) and reduces a tensor where it lies:
//
//   (module
//     (import "env" "memory" (memory 0))           ;; (memory 0 65536 shared) for the threaded build
//     (global $g0 (export "g0") (mut f64) (f64.const 0))  ;; g1, g2, g3 alike: the four results of a call
//     ;; sum4(p, rows, stride): float64 sums of 4 consecutive float32 lanes at p, p + stride, … (`rows` rows)
//     (func (export "sum4") (param $p i32) (param $rows i32) (param $stride i32)
//       (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128) …)
//     ;; sq4(p, rows, stride, m0, m1, m2, m3): float64 sums of (x_lane - m_lane)^2 over the same values
//     (func (export "sq4") (param …) (param $m0 f64) (param $m1 f64) (param $m2 f64) (param $m3 f64) …)
//   )
//
// Body of each: two rows per iteration into two pairs of f64x2 accumulators (lanes 0-1:
// f64x2.promote_low_f32x4 (v128.load64_zero p); lanes 2-3: the same at p + 8; sq4 subtracts the mean pair
// and squares), then an odd last row, the pairs added, the four lanes stored to g0..g3.

const SIMD = 0xfd;
const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => vec([...s].map((ch) => [ch.charCodeAt(0)]));
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, d],
  brIf: (d: number) => [0x0d, d],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  gset: (i: number) => [0x24, ...uleb(i)],
  i32: (v: number) => [0x41, v], // 0 <= v < 64
  i32LtS: [0x48],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  load64Zero: (offset: number) => [SIMD, 0x5d, 3, ...uleb(offset)], // v128.load64_zero align=8
  f64x2Splat: [SIMD, 0x14],
  f64x2Extract: (l: number) => [SIMD, 0x21, l],
  f64x2Replace: (l: number) => [SIMD, 0x22, l],
  promoteLow: [SIMD, 0x5f], // f64x2.promote_low_f32x4
  f64x2Add: [SIMD, 0xf0, 0x01],
  f64x2Sub: [SIMD, 0xf1, 0x01],
  f64x2Mul: [SIMD, 0xf2, 0x01],
};
const I32 = 0x7f,
  F64 = 0x7c,
  V128 = 0x7b;

function simdBody(squares: boolean): number[] {
  const P = 0,
    ROWS = 1,
    STRIDE = 2;
  const L = squares ? 7 : 3; // first local after the parameters
  const A0 = L,
    A1 = L + 1,
    B0 = L + 2,
    B1 = L + 3,
    MA = L + 4,
    MB = L + 5,
    D = L + 6;
  // the f64x2 of two lanes at p + offset (sq4: their squared deviations from the mean pair `m`)
  const lanes = (offset: number, m: number): number[] => [
    ...op.get(P),
    ...op.load64Zero(offset),
    ...op.promoteLow,
    ...(squares ? [...op.get(m), ...op.f64x2Sub, ...op.tee(D), ...op.get(D), ...op.f64x2Mul] : []),
  ];
  const row = (a: number, b: number): number[] => [
    ...op.get(a),
    ...lanes(0, MA),
    ...op.f64x2Add,
    ...op.set(a),
    ...op.get(b),
    ...lanes(8, MB),
    ...op.f64x2Add,
    ...op.set(b),
  ];
  const next = [...op.get(P), ...op.get(STRIDE), ...op.i32Add, ...op.set(P)];
  const code: number[] = [];
  if (squares) {
    code.push(...op.get(3), ...op.f64x2Splat, ...op.get(4), ...op.f64x2Replace(1), ...op.set(MA));
    code.push(...op.get(5), ...op.f64x2Splat, ...op.get(6), ...op.f64x2Replace(1), ...op.set(MB));
  }
  code.push(...op.block, ...op.loop);
  code.push(...op.get(ROWS), ...op.i32(2), ...op.i32LtS, ...op.brIf(1));
  code.push(...row(A0, B0), ...next, ...row(A1, B1), ...next);
  code.push(...op.get(ROWS), ...op.i32(2), ...op.i32Sub, ...op.set(ROWS), ...op.br(0), ...op.end, ...op.end);
  code.push(...op.get(ROWS), ...op.if, ...row(A0, B0), ...op.end);
  code.push(...op.get(A0), ...op.get(A1), ...op.f64x2Add, ...op.set(A0));
  code.push(...op.get(B0), ...op.get(B1), ...op.f64x2Add, ...op.set(B0));
  code.push(...op.get(A0), ...op.f64x2Extract(0), ...op.gset(0), ...op.get(A0), ...op.f64x2Extract(1), ...op.gset(1));
  code.push(...op.get(B0), ...op.f64x2Extract(0), ...op.gset(2), ...op.get(B0), ...op.f64x2Extract(1), ...op.gset(3));
  code.push(...op.end);
  const body = [...vec([[...uleb(squares ? 7 : 4), V128]]), ...code];
  return [...uleb(body.length), ...body];
}

/**
 * @param shared import a shared memory (the wasm backend's threaded build), limits 0..65536 pages as emscripten's
 */
export function simdModuleBytes(shared = false): Uint8Array<ArrayBuffer> {
  const types = vec([
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32], [F64], [F64], [F64], [F64]]), ...vec([])],
  ]);
  const limits = shared ? [0x03, 0x00, ...uleb(65536)] : [0x00, 0x00];
  const imports = vec([[...name('env'), ...name('memory'), 0x02, ...limits]]);
  const funcs = vec([[0], [1]]);
  const globals = vec([0, 1, 2, 3].map(() => [F64, 1, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, ...op.end]));
  const exports = vec([
    [...name('sum4'), 0, 0],
    [...name('sq4'), 0, 1],
    ...[0, 1, 2, 3].map((i) => [...name(`g${i}`), 3, i]),
  ]);
  const code = vec([simdBody(false), simdBody(true)]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(6, globals),
    ...section(7, exports),
    ...section(10, code),
  ]);
}
