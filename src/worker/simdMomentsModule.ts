/**
 * The bytes of a WebAssembly SIMD module that reduces float32 data in the tfjs wasm backend's heap (used by
 * channelMomentsWasmHeap.ts), assembled byte by byte here (no wasm toolchain in the build). ~420 lines as one unit:
 * it is one module, whose six function bodies share its opcodes, its type section and the accumulator layout.
 */
//
// A WebAssembly module, assembled below byte by byte (wasmAssembler.ts), that imports the tfjs wasm backend's own
// memory (the Emscripten module's exported `memory`) and reduces a tensor where it lies:
//
//   (module
//     (import "env" "memory" (memory 0))           ;; (memory 0 65536 shared) for the threaded build
//     ;; moments8(p, rows, stride, acc): 8 consecutive channels of `rows` rows, `stride` bytes apart, one pass:
//     ;; float64 sums of d = x - shift and of d^2 per channel, accumulators in registers, added at the end to
//     ;; acc = [shifts (8 doubles) | sums (8) | sums of squares (8)]; moments4 the same for 4 channels
//     (func (export "moments8") (param $p i32) (param $rows i32) (param $stride i32) (param $acc i32)
//       (local v128 …) …)
//     (func (export "moments4") …)
//     ;; start(p, c, acc): every group's shifts (the row at p, 0 where not finite) and zero sums
//     (func (export "start") (param i32 i32 i32) …)
//     ;; finish(acc, c, rows, out): out = [mean (c float32) | biased variance (c float32)]
//     (func (export "finish") (param i32 i32 i32 i32) …)
//     ;; affineMoments4 / affineMoments8(p, rows, stride, acc, out, par, cBytes): moments4 / moments8, and in the
//     ;; same pass out = (x - mean) · s + offset for those channels (BatchNormalization's inference output)
//     (func (export "affineMoments4") (param i32 i32 i32 i32 i32 i32 i32) …)  (func (export "affineMoments8") …)
//   )
//
// Body: per row and pair of channels, f64x2.promote_low_f32x4 (v128.load64_zero p + 8k), minus the shift pair,
// added to the sum pair; its square added to the sum-of-squares pair.

import { F64, I32, SIMD, V128, memoryImport, name, ops, section, uleb, vec, wasmModule } from './wasmAssembler';

const op = {
  ...ops,
  load64Zero: (offset: number) => [SIMD, 0x5d, 3, ...uleb(offset)], // v128.load64_zero align=8
  f64x2Sub: [SIMD, 0xf1, 0x01],
  f64x2Mul: [SIMD, 0xf2, 0x01],
  load: (offset: number) => [SIMD, 0x00, 3, ...uleb(offset)], // v128.load align=8
  store: (offset: number) => [SIMD, 0x0b, 3, ...uleb(offset)], // v128.store align=8
  f32x4Eq: [SIMD, 0x41],
  v128And: [SIMD, 0x4e],
  i32Shl: [0x74],
  i32ShrU: [0x76],
  i32And: [0x71],
  f64Load: (offset: number) => [0x2b, 3, ...uleb(offset)],
  f32Store: [0x38, 2, 0],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f64Div: [0xa3],
  f64Eq: [0x61],
  f64Gt: [0x64],
  f64Zero: [0x44, 0, 0, 0, 0, 0, 0, 0, 0],
  f64FromI32: [0xb7], // f64.convert_i32_s
  f32Demote: [0xb6],
};

/** one lane pair's sums: d = promoted − shift (local S); local A += d; local Q += d · d (T: a scratch v128 local) */
function pairSums(promoted: number[], S: number, A: number, Q: number, T: number): number[] {
  return [
    ...promoted,
    ...op.get(S),
    ...op.f64x2Sub,
    ...op.tee(T),
    ...op.get(A),
    ...op.f64x2Add,
    ...op.set(A),
    ...op.get(T),
    ...op.get(T),
    ...op.f64x2Mul,
    ...op.get(Q),
    ...op.f64x2Add,
    ...op.set(Q),
  ];
}

/** after a column walk: its sums (locals A(k)) and sums of squares (Q(k)) added to acc's, for each lane pair k */
function addSumsToAcc(ACC: number, pairs: number, A: (k: number) => number, Q: (k: number) => number): number[] {
  const code: number[] = [];
  for (let k = 0; k < pairs; k++)
    for (const [base, acc] of [
      [64, A(k)],
      [128, Q(k)],
    ])
      code.push(
        ...op.get(ACC),
        ...op.get(ACC),
        ...op.load(base + 16 * k),
        ...op.get(acc),
        ...op.f64x2Add,
        ...op.store(base + 16 * k),
      );
  return code;
}

/**
 * moments4 / moments8(p, rows, stride, acc): ONE pass over 4 / 8 consecutive channels of `rows` rows (`stride` bytes
 * apart) of the float64 sums of d = x - shift and of d^2, accumulators in registers (one f64x2 per two channels),
 * added at the end to acc = [shifts (8 doubles) | sums (8) | sums of squares (8)] (moments4: the first 4 of each).
 * With the shift a value of the channel (its first row), mean = shift + sum / n and variance = sumSq / n - (sum / n)^2
 * lose nothing a second pass would keep at float32 precision: the shift is one of the n values, so
 * (sum / n)^2 <= n * variance, and the cancellation costs at most n float64 ulps of the variance (1e-9 relative at
 * n = 1e7). Each value is read once; a column walk of 8 channels reads 32 bytes of each row, so a block of rows the
 * caller reads from memory once stays in cache for the block's other walks. Measured against the earlier per-row walk
 * of accumulators in memory (momentsRows) and the two-pass column walks of 4 channels (sum4 + sq4), best of many,
 * busy machine: [32768, 16] 0.30 ms against 0.71 (out of cache 0.63 against 0.88), [64, 256] 16 us against 22,
 * [1024, 128] 68 us against 131, [8, 1024] 30 us against 31.
 */
function momentsColsBody(groups: 1 | 2): number[] {
  const P = 0,
    ROWS = 1,
    STRIDE = 2,
    ACC = 3;
  const pairs = 2 * groups; // f64x2 lane pairs per row
  const L = 4; // first local
  const S = (k: number) => L + k; // shift pair k
  const A = (k: number) => L + pairs + k; // sum pair k
  const Q = (k: number) => L + 2 * pairs + k; // sum of squares pair k
  const T = L + 3 * pairs; // deviation
  const code: number[] = [];
  for (let k = 0; k < pairs; k++) code.push(...op.get(ACC), ...op.load(16 * k), ...op.set(S(k)));
  code.push(...op.block, ...op.loop, ...op.get(ROWS), ...op.i32Eqz, ...op.brIf(1));
  for (let k = 0; k < pairs; k++)
    code.push(...pairSums([...op.get(P), ...op.load64Zero(8 * k), ...op.promoteLow], S(k), A(k), Q(k), T));
  code.push(...op.get(P), ...op.get(STRIDE), ...op.i32Add, ...op.set(P));
  code.push(...op.get(ROWS), ...op.i32(1), ...op.i32Sub, ...op.set(ROWS), ...op.br(0), ...op.end, ...op.end);
  code.push(...addSumsToAcc(ACC, pairs, A, Q), ...op.end);
  const body = [...vec([[...uleb(3 * pairs + 1), V128]]), ...code];
  return [...uleb(body.length), ...body];
}

/**
 * affineMoments4 / affineMoments8(x, rows, stride, acc, out, par, cBytes): moments4 / moments8 of the same rows, the
 * same operations in the same order (so the same sums, bit for bit), and in the same pass BatchNormalization's
 * inference normalisation of those 4 / 8 channels: out[r][c] = (x[r][c] - mean[c]) · s[c] + offset[c] in float32,
 * as simdKernelModule.ts's affine does it (mean at par, s at par + cBytes, offset at par + 2 cBytes; out's rows
 * `stride` bytes apart like x's). The normalisation waits on memory and the float64 sums on arithmetic: together
 * they cost about what the normalisation alone does.
 */
function affineMomentsBody(groups: 1 | 2): number[] {
  const X = 0,
    ROWS = 1,
    STRIDE = 2,
    ACC = 3,
    OUT = 4,
    PAR = 5,
    CB = 6;
  const pairs = 2 * groups;
  const L = 7; // first local
  const S = (k: number) => L + k; // shift pair k
  const A = (k: number) => L + pairs + k; // sum pair k
  const Q = (k: number) => L + 2 * pairs + k; // sum of squares pair k
  const M = (g: number) => L + 3 * pairs + g; // mean of 4 channels
  const F = (g: number) => L + 3 * pairs + groups + g; // factor s of 4 channels
  const B = (g: number) => L + 3 * pairs + 2 * groups + g; // offset of 4 channels
  const V = L + 3 * pairs + 3 * groups; // 4 values of a row
  const T = V + 1; // deviation
  const code: number[] = [];
  for (let k = 0; k < pairs; k++) code.push(...op.get(ACC), ...op.load(16 * k), ...op.set(S(k)));
  for (let g = 0; g < groups; g++)
    code.push(
      ...op.get(PAR),
      ...op.load(16 * g),
      ...op.set(M(g)),
      ...op.get(PAR),
      ...op.get(CB),
      ...op.i32Add,
      ...op.load(16 * g),
      ...op.set(F(g)),
      ...op.get(PAR),
      ...op.get(CB),
      ...op.get(CB),
      ...op.i32Add,
      ...op.i32Add,
      ...op.load(16 * g),
      ...op.set(B(g)),
    );
  const sums = (k: number, promoted: number[]) => pairSums(promoted, S(k), A(k), Q(k), T);
  code.push(...op.block, ...op.loop, ...op.get(ROWS), ...op.i32Eqz, ...op.brIf(1));
  for (let g = 0; g < groups; g++)
    code.push(
      ...op.get(X),
      ...op.load(16 * g),
      ...op.set(V),
      ...op.get(OUT),
      ...op.get(V),
      ...op.get(M(g)),
      ...op.f32x4Sub,
      ...op.get(F(g)),
      ...op.f32x4Mul,
      ...op.get(B(g)),
      ...op.f32x4Add,
      ...op.store(16 * g),
      ...sums(2 * g, [...op.get(V), ...op.promoteLow]),
      ...sums(2 * g + 1, [...op.get(V), ...op.get(V), ...op.highToLow, ...op.promoteLow]),
    );
  code.push(...op.get(X), ...op.get(STRIDE), ...op.i32Add, ...op.set(X));
  code.push(...op.get(OUT), ...op.get(STRIDE), ...op.i32Add, ...op.set(OUT));
  code.push(...op.get(ROWS), ...op.i32(1), ...op.i32Sub, ...op.set(ROWS), ...op.br(0), ...op.end, ...op.end);
  code.push(...addSumsToAcc(ACC, pairs, A, Q), ...op.end);
  const body = [...vec([[...uleb(3 * pairs + 3 * groups + 2), V128]]), ...code];
  return [...uleb(body.length), ...body];
}

/**
 * start(p, c, acc): the accumulators of c channels (a multiple of 4) before the first block of rows: per group of 8
 * channels at acc + 192 g, the shifts (the first row's values, 0 where not finite: x - x is 0 only for a finite x)
 * promoted to float64, and zero sums and sums of squares; 4 channels (one v128 of the first row) at a time.
 */
function startBody(): number[] {
  const P = 0,
    C = 1,
    ACC = 2,
    Q = 3, // 4-channel index
    BASE = 4,
    Y = 5,
    ZERO = 6; // never set: a v128 local starts as zeros
  const code = [
    ...op.block,
    ...op.loop,
    ...op.get(Q),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.get(C),
    ...op.i32GeS,
    ...op.brIf(1),
    // y = x & (x - x == 0)   (4 channels of the first row, non-finite lanes zeroed)
    ...op.get(P),
    ...op.get(Q),
    ...op.i32(4),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.load(0),
    ...op.tee(Y),
    ...op.get(Y),
    ...op.get(Y),
    ...op.f32x4Sub,
    ...op.get(ZERO),
    ...op.f32x4Eq,
    ...op.v128And,
    ...op.set(Y),
    // base = acc + 192 (q >> 1) + 32 (q & 1)
    ...op.get(ACC),
    ...op.get(Q),
    ...op.i32(1),
    ...op.i32ShrU,
    ...op.i32(192),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.get(Q),
    ...op.i32(1),
    ...op.i32And,
    ...op.i32(5),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.tee(BASE),
    ...op.get(Y),
    ...op.promoteLow,
    ...op.store(0),
    ...op.get(BASE),
    ...op.get(Y),
    ...op.get(Y),
    ...op.highToLow,
    ...op.promoteLow,
    ...op.store(16),
  ];
  for (const off of [64, 80, 128, 144]) code.push(...op.get(BASE), ...op.get(ZERO), ...op.store(off));
  code.push(...op.get(Q), ...op.i32(1), ...op.i32Add, ...op.set(Q), ...op.br(0), ...op.end, ...op.end, ...op.end);
  const body = [
    ...vec([
      [2, I32],
      [2, V128],
    ]),
    ...code,
  ];
  return [...uleb(body.length), ...body];
}

/**
 * finish(acc, c, rows, out): from the accumulators, out[j] = float32(shift + sum / rows) (the mean) and
 * out[c + j] = float32(sumSq / rows - (sum / rows)^2) (the biased variance; rounding may leave -0.000…: 0, NaN stays
 * NaN), j < c: what channelMomentsCols did in JavaScript, in the same float64 operations.
 */
function finishBody(): number[] {
  const ACC = 0,
    C = 1,
    ROWS = 2,
    OUT = 3,
    J = 4,
    O = 5,
    N = 6,
    D = 7,
    V = 8;
  const code = [
    ...op.get(ROWS),
    ...op.f64FromI32,
    ...op.set(N),
    ...op.block,
    ...op.loop,
    ...op.get(J),
    ...op.get(C),
    ...op.i32GeS,
    ...op.brIf(1),
    // o = acc + 192 (j >> 3) + 8 (j & 7)
    ...op.get(ACC),
    ...op.get(J),
    ...op.i32(3),
    ...op.i32ShrU,
    ...op.i32(192),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.get(J),
    ...op.i32(7),
    ...op.i32And,
    ...op.i32(3),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.tee(O),
    ...op.f64Load(64),
    ...op.get(N),
    ...op.f64Div,
    ...op.set(D),
    // out[j] = shift + d
    ...op.get(OUT),
    ...op.get(J),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.get(O),
    ...op.f64Load(0),
    ...op.get(D),
    ...op.f64Add,
    ...op.f32Demote,
    ...op.f32Store,
    // v = sumSq / n - d d;  out[c + j] = v > 0 ? v : v == v ? 0 : v
    ...op.get(O),
    ...op.f64Load(128),
    ...op.get(N),
    ...op.f64Div,
    ...op.get(D),
    ...op.get(D),
    ...op.f64Mul,
    ...op.f64Sub,
    ...op.set(V),
    ...op.get(OUT),
    ...op.get(C),
    ...op.get(J),
    ...op.i32Add,
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.get(V),
    ...op.f64Zero,
    ...op.get(V),
    ...op.get(V),
    ...op.get(V),
    ...op.f64Eq,
    ...op.select,
    ...op.get(V),
    ...op.f64Zero,
    ...op.f64Gt,
    ...op.select,
    ...op.f32Demote,
    ...op.f32Store,
    ...op.get(J),
    ...op.i32(1),
    ...op.i32Add,
    ...op.set(J),
    ...op.br(0),
    ...op.end,
    ...op.end,
    ...op.end,
  ];
  const body = [
    ...vec([
      [2, I32],
      [3, F64],
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
    [0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([])],
  ]);
  const imports = memoryImport(shared);
  const funcs = vec([[0], [0], [1], [0], [2], [2]]);
  const exports = vec([
    [...name('moments4'), 0, 0],
    [...name('moments8'), 0, 1],
    [...name('start'), 0, 2],
    [...name('finish'), 0, 3],
    [...name('affineMoments4'), 0, 4],
    [...name('affineMoments8'), 0, 5],
  ]);
  const code = vec([
    momentsColsBody(1),
    momentsColsBody(2),
    startBody(),
    finishBody(),
    affineMomentsBody(1),
    affineMomentsBody(2),
  ]);
  return wasmModule(section(1, types), section(2, imports), section(3, funcs), section(7, exports), section(10, code));
}
