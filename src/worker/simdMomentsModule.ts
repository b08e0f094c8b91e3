/**
 * The bytes of a WebAssembly SIMD module that reduces float32 data in the tfjs wasm backend's heap (used by
 * channelMomentsWasmHeap.ts), assembled byte by byte here (no wasm toolchain in the build).
 */
//
// A two-function WebAssembly module, assembled below byte by byte (wasmAssembler.ts), that imports the tfjs wasm
// backend's own memory (the Emscripten module's exported `memory`) and reduces a tensor where it lies:
//
//   (module
//     (import "env" "memory" (memory 0))           ;; (memory 0 65536 shared) for the threaded build
//     ;; moments8(p, rows, stride, acc): 8 consecutive channels of `rows` rows, `stride` bytes apart, one pass:
//     ;; float64 sums of d = x - shift and of d^2 per channel, accumulators in registers, added at the end to
//     ;; acc = [shifts (8 doubles) | sums (8) | sums of squares (8)]; moments4 the same for 4 channels
//     (func (export "moments8") (param $p i32) (param $rows i32) (param $stride i32) (param $acc i32)
//       (local v128 …) …)
//     (func (export "moments4") …)
//   )
//
// Body: per row and pair of channels, f64x2.promote_low_f32x4 (v128.load64_zero p + 8k), minus the shift pair,
// added to the sum pair; its square added to the sum-of-squares pair.

import { I32, SIMD, V128, memoryImport, name, ops, section, uleb, vec, wasmModule } from './wasmAssembler';

const op = {
  ...ops,
  load64Zero: (offset: number) => [SIMD, 0x5d, 3, ...uleb(offset)], // v128.load64_zero align=8
  f64x2Sub: [SIMD, 0xf1, 0x01],
  f64x2Mul: [SIMD, 0xf2, 0x01],
  load: (offset: number) => [SIMD, 0x00, 3, ...uleb(offset)], // v128.load align=8
  store: (offset: number) => [SIMD, 0x0b, 3, ...uleb(offset)], // v128.store align=8
};

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
    code.push(
      ...op.get(P),
      ...op.load64Zero(8 * k),
      ...op.promoteLow,
      ...op.get(S(k)),
      ...op.f64x2Sub,
      ...op.tee(T),
      ...op.get(A(k)),
      ...op.f64x2Add,
      ...op.set(A(k)),
      ...op.get(T),
      ...op.get(T),
      ...op.f64x2Mul,
      ...op.get(Q(k)),
      ...op.f64x2Add,
      ...op.set(Q(k)),
    );
  code.push(...op.get(P), ...op.get(STRIDE), ...op.i32Add, ...op.set(P));
  code.push(...op.get(ROWS), ...op.i32(1), ...op.i32Sub, ...op.set(ROWS), ...op.br(0), ...op.end, ...op.end);
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
  code.push(...op.end);
  const body = [...vec([[...uleb(3 * pairs + 1), V128]]), ...code];
  return [...uleb(body.length), ...body];
}

/**
 * @param shared import a shared memory (the wasm backend's threaded build), limits 0..65536 pages as emscripten's
 */
export function simdModuleBytes(shared = false): Uint8Array<ArrayBuffer> {
  const types = vec([[0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([])]]);
  const imports = memoryImport(shared);
  const funcs = vec([[0], [0]]);
  const exports = vec([
    [...name('moments4'), 0, 0],
    [...name('moments8'), 0, 1],
  ]);
  const code = vec([momentsColsBody(1), momentsColsBody(2)]);
  return wasmModule(section(1, types), section(2, imports), section(3, funcs), section(7, exports), section(10, code));
}
