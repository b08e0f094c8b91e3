/**
 * Relaxed SIMD (WebAssembly's relaxed-simd proposal): the engine's products use its fused multiply-add
 * (f32x4.relaxed_madd) where the runtime has it. V8 ships it from 11.4 (Chrome 114, Node 22, the Electron of VS Code);
 * Node 20's V8 11.3 has it behind a flag, which the host gives the runner's process at its start
 * (engineHost/processWorker.ts), so that the whole process (its code caches included) runs with one set of flags.
 * Here only the bytes and the flag's name: each side validates with its own runtime.
 */

/** a module of one function, (v128, v128, v128) → f32x4.relaxed_madd: it validates where relaxed SIMD is on */
export const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // magic, version
  0x01,
  0x08,
  0x01,
  0x60,
  0x03,
  0x7b,
  0x7b,
  0x7b,
  0x01,
  0x7b, // type: (v128 v128 v128) -> v128
  0x03,
  0x02,
  0x01,
  0x00, // function 0 of type 0
  0x0a,
  0x0d,
  0x01,
  0x0b,
  0x00,
  0x20,
  0x00,
  0x20,
  0x01,
  0x20,
  0x02,
  0xfd,
  0x85,
  0x02,
  0x0b, // local.get 0 1 2, relaxed_madd
]);

/** V8's flag for it (Node 20: V8 11.3) */
export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

/** the environment's BN_INSPECTOR_FMA=0 turns the fused multiply-add off (the products then multiply, then add) */
export const fmaWanted = (env: Record<string, string | undefined>): boolean => env.BN_INSPECTOR_FMA !== '0';
