/**
 * The bytes of a WebAssembly SIMD module that reduces float32 data in the tfjs wasm backend's heap (used by
 * channelMomentsWasmHeap.ts), assembled byte by byte here (no wasm toolchain in the build).
 */
//
// A three-function WebAssembly module, assembled below byte by byte (wasmAssembler.ts), that imports the tfjs wasm backend's
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
//     ;; momentsRows: every channel of each row, one pass: sums and sums of squares of the deviations from a shift,
//     ;; accumulators in memory (momentsRowsBody below)
//     (func (export "momentsRows") (param $p i32) (param $rows i32) (param $stride i32) (param $out i32)
//       (param $n4 i32) (param $c8 i32) …)
//   )
//
// Body of each: two rows per iteration into two pairs of f64x2 accumulators (lanes 0-1:
// f64x2.promote_low_f32x4 (v128.load64_zero p); lanes 2-3: the same at p + 8; sq4 subtracts the mean pair
// and squares), then an odd last row, the pairs added, the four lanes stored to g0..g3.

import { F64, I32, SIMD, V128, memoryImport, name, ops, section, uleb, vec, wasmModule } from './wasmAssembler';

const op = {
  ...ops,
  gset: (i: number) => [0x24, ...uleb(i)],
  load64Zero: (offset: number) => [SIMD, 0x5d, 3, ...uleb(offset)], // v128.load64_zero align=8
  f64x2Splat: [SIMD, 0x14],
  f64x2Extract: (l: number) => [SIMD, 0x21, l],
  f64x2Replace: (l: number) => [SIMD, 0x22, l],
  f64x2Sub: [SIMD, 0xf1, 0x01],
  f64x2Mul: [SIMD, 0xf2, 0x01],
  load: (offset: number) => [SIMD, 0x00, 3, ...uleb(offset)], // v128.load align=8
  store: (offset: number) => [SIMD, 0x0b, 3, ...uleb(offset)], // v128.store align=8
};

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
 * momentsRows(p, rows, stride, out, n4, c8): ONE pass, row by row, of the sums of d = x - shift and of d^2 per channel
 * (float64), with out = [sums (c doubles) | sums of squares (c doubles) | shifts (c doubles)], c8 = 8 * c bytes. With
 * the shift a value of the channel (its first row), mean = shift + sum / n and variance = sumSq / n - (sum / n)^2
 * lose nothing a second pass would keep at float32 precision: the shift is one of the n values, so
 * (sum / n)^2 <= n * variance, and the cancellation costs at most n float64 ulps of the variance (1e-9 relative at
 * n = 1e7). Each value is read once, from memory, instead of twice.
 */
function momentsRowsBody(): number[] {
  const P = 0,
    ROWS = 1,
    STRIDE = 2,
    OUT = 3,
    N4 = 4,
    C8 = 5;
  const Q = 6,
    O = 7,
    O2 = 8,
    S = 9,
    G = 10,
    D = 11;
  const half = (offset: number): number[] => [
    ...op.get(Q),
    ...op.load64Zero(offset / 2),
    ...op.promoteLow,
    ...op.get(S),
    ...op.load(offset),
    ...op.f64x2Sub,
    ...op.set(D),
    ...op.get(O),
    ...op.get(O),
    ...op.load(offset),
    ...op.get(D),
    ...op.f64x2Add,
    ...op.store(offset),
    ...op.get(O2),
    ...op.get(O2),
    ...op.load(offset),
    ...op.get(D),
    ...op.get(D),
    ...op.f64x2Mul,
    ...op.f64x2Add,
    ...op.store(offset),
  ];
  const add = (local: number, v: number) => [...op.get(local), ...op.i32(v), ...op.i32Add, ...op.set(local)];
  const code: number[] = [...op.block, ...op.loop];
  code.push(...op.get(ROWS), ...op.i32Eqz, ...op.brIf(1));
  code.push(...op.get(P), ...op.set(Q), ...op.get(OUT), ...op.set(O));
  code.push(...op.get(OUT), ...op.get(C8), ...op.i32Add, ...op.tee(O2), ...op.get(C8), ...op.i32Add, ...op.set(S));
  code.push(...op.get(N4), ...op.set(G));
  code.push(...op.block, ...op.loop, ...op.get(G), ...op.i32Eqz, ...op.brIf(1));
  code.push(...half(0), ...half(16), ...add(Q, 16), ...add(O, 32), ...add(O2, 32), ...add(S, 32));
  code.push(...op.get(G), ...op.i32(1), ...op.i32Sub, ...op.set(G), ...op.br(0), ...op.end, ...op.end);
  code.push(...op.get(P), ...op.get(STRIDE), ...op.i32Add, ...op.set(P));
  code.push(...op.get(ROWS), ...op.i32(1), ...op.i32Sub, ...op.set(ROWS), ...op.br(0), ...op.end, ...op.end);
  code.push(...op.end);
  const body = [
    ...vec([
      [...uleb(5), I32],
      [...uleb(1), V128],
    ]),
    ...code,
  ];
  return [...uleb(body.length), ...body];
}

/**
 * @param shared import a shared memory (the wasm backend's threaded build), limits 0..65536 pages as emscripten's
 */
export function simdModuleBytes(shared = false): Uint8Array<ArrayBuffer> {
  const types = vec([
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32], [F64], [F64], [F64], [F64]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([])],
  ]);
  const imports = memoryImport(shared);
  const funcs = vec([[0], [1], [2]]);
  const globals = vec([0, 1, 2, 3].map(() => [F64, 1, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, ...op.end]));
  const exports = vec([
    [...name('sum4'), 0, 0],
    [...name('sq4'), 0, 1],
    [...name('momentsRows'), 0, 2],
    ...[0, 1, 2, 3].map((i) => [...name(`g${i}`), 3, i]),
  ]);
  const code = vec([simdBody(false), simdBody(true), momentsRowsBody()]);
  return wasmModule(
    section(1, types),
    section(2, imports),
    section(3, funcs),
    section(6, globals),
    section(7, exports),
    section(10, code),
  );
}
