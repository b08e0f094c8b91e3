/**
 * Function bodies of the engine's SIMD module (simdKernelModule.ts) that copy tensors' rows into the layouts the
 * Winograd convolutions read (winogradLoops.ts, winogradFilterGrad.ts, filterGradSimd.ts): x's channels padded to a
 * multiple of 4, and a tile row's input rows with the padding's zeros (a band). In wasm rather than JS: called a few
 * times a step with long loops, as JS they ran unoptimised in a process's second training step.
 */
import { add, addTo, at, countDown, fn, op } from './simdOps';
import { I32 } from '../wasmAssembler';

/**
 * padChannels(dst, src, pixels, ciBytes, c4Bytes): each of `pixels` pixels of ciBytes / 4 float32 channels copied to
 * c4Bytes / 4 channels, the added ones +0 (a convolution's x with Ci % 4 ≠ 0 padded for the SIMD filter gradient:
 * filterGradSimd.ts). Scalar: a few channels a pixel; as a JS loop it ran unoptimised in a process's second step.
 */
export function padChannelsBody(): number[] {
  const DST = 0,
    SRC = 1,
    N = 2,
    CB = 3,
    C4B = 4;
  const OFF = 5;
  const f32Load = [0x2a, 2, 0],
    f32Store = [0x38, 2, 0];
  const upTo = (end: number, body: number[]): number[] => [
    ...op.block,
    ...op.loop,
    ...op.get(OFF),
    ...op.get(end),
    ...op.i32GeS,
    ...op.brIf(1),
    ...body,
    ...addTo(OFF, 4),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
  return fn(
    [[1, I32]],
    countDown(N, [
      ...op.i32(0),
      ...op.set(OFF),
      ...upTo(CB, [...at(DST, OFF), ...at(SRC, OFF), ...f32Load, ...f32Store]),
      ...upTo(C4B, [...at(DST, OFF), ...op.f32(0), ...f32Store]),
      ...add(SRC, CB, SRC),
      ...add(DST, C4B, DST),
    ]),
  );
}

/**
 * band(dst, src, ih0, rows, H, rowBytes, plBytes, bandRowBytes): `rows` rows of a band from input row ih0 (negative:
 * above the image) of one image at src (rows of rowBytes, H of them): each band row bandRowBytes, the image row's
 * bytes (at most bandRowBytes - plBytes of them) from plBytes on, zeros before, after and for rows outside the image
 * (winogradLoops.ts, fillBand). Bulk memory.copy / memory.fill.
 */
export function bandBody(): number[] {
  const DST = 0,
    SRC = 1,
    IH = 2,
    ROWS = 3,
    H = 4,
    RB = 5,
    PL = 6,
    BR = 7;
  const N = 8,
    TAIL = 9;
  const fill = [0xfc, 0x0b, 0x00], // memory.fill (d, value, n)
    copyMem = [0xfc, 0x0a, 0x00, 0x00]; // memory.copy (d, s, n)
  const i32LtU = [0x49];
  return fn(
    [[2, I32]],
    [
      // N = min(RB, BR - PL): the image bytes a band row holds; TAIL = BR - PL - N
      ...op.get(BR),
      ...op.get(PL),
      ...op.i32Sub,
      ...op.set(N),
      ...op.get(RB),
      ...op.get(N),
      ...op.get(RB),
      ...op.get(N),
      ...i32LtU,
      ...op.select,
      ...op.set(N),
      ...op.get(BR),
      ...op.get(PL),
      ...op.i32Sub,
      ...op.get(N),
      ...op.i32Sub,
      ...op.set(TAIL),
      // SRC = the image row ih0 (its address; not read when outside)
      ...op.get(SRC),
      ...op.get(IH),
      ...op.get(RB),
      ...op.i32Mul,
      ...op.i32Add,
      ...op.set(SRC),
      ...countDown(ROWS, [
        // inside: 0 <= IH < H (unsigned compare)
        ...op.get(IH),
        ...op.get(H),
        ...i32LtU,
        ...op.if,
        ...[...op.get(DST), ...op.i32(0), ...op.get(PL), ...fill],
        ...[...op.get(DST), ...op.get(PL), ...op.i32Add, ...op.get(SRC), ...op.get(N), ...copyMem],
        ...[
          ...op.get(DST),
          ...op.get(PL),
          ...op.i32Add,
          ...op.get(N),
          ...op.i32Add,
          ...op.i32(0),
          ...op.get(TAIL),
          ...fill,
        ],
        0x05, // else
        ...[...op.get(DST), ...op.i32(0), ...op.get(BR), ...fill],
        ...op.end,
        ...add(DST, BR, DST),
        ...add(SRC, RB, SRC),
        ...addTo(IH, 1),
      ]),
    ],
  );
}
