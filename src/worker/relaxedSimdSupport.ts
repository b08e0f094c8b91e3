/**
 * Relaxed SIMD (WebAssembly's relaxed-simd proposal), whose fused multiply-add (f32x4.relaxed_madd) the engine's SIMD
 * products and Winograd transforms use where the runtime has it: whether this process can compile it, and compiling
 * with it. V8 ships it from 11.4 (Node 22, VS Code's Electron): nothing to do. Node 20's V8 11.3 has it behind a
 * flag: the flag is set around the probe and the module's compile only, then reset. Why not set once at the process's start: V8 checks code caches
 * against a hash of its flags, and a changed flag made both the worker bundle's cache (written by one run, read by
 * the next) and Node's own built-in modules' caches miss: measured, cold start → first snapshot ~318 against ~250 ms.
 * With the flag back to its value the hash is what it was. A module compiled meanwhile keeps its features: its
 * functions compiled later (lazily, or tiered up) are the fused ones too (checked: the same bits before and after
 * 20,000 calls).
 */
import { setFlagsFromString } from 'node:v8';

/** a module of one function, (v128, v128, v128) → f32x4.relaxed_madd: it validates where relaxed SIMD is on */
// prettier-ignore
export const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type 0: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function 0 of type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // local.get 0 1 2, relaxed_madd
]);
/** V8's flag for it (Node 20: V8 11.3), and the same flag off */
const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';
const FLAG_OFF = '--no-experimental-wasm-relaxed-simd';
/** the environment's BN_INSPECTOR_FMA=0 turns the fused multiply-add off (the products then multiply, then add) */
const fmaWanted = (env: NodeJS.ProcessEnv): boolean => env.BN_INSPECTOR_FMA !== '0';
let support: 'native' | 'flag' | 'none' | undefined;

/** runs f with relaxed SIMD on (native, or the flag set for f only) */
function withRelaxedSimd<T>(f: () => T): T {
  if (support === 'native') return f();
  setFlagsFromString(RELAXED_SIMD_FLAG);
  try {
    return f();
  } finally {
    setFlagsFromString(FLAG_OFF);
  }
}

function supportHere(): 'native' | 'flag' | 'none' {
  if (WebAssembly.validate(RELAXED_SIMD_PROBE)) return 'native';
  try {
    return withRelaxedSimd(() => WebAssembly.validate(RELAXED_SIMD_PROBE)) ? 'flag' : 'none';
  } catch {
    return 'none';
  }
}

/**
 * The engine's products use the fused multiply-add in this process: relaxed SIMD can be compiled here and
 * BN_INSPECTOR_FMA=0 does not turn it off. Decided once: every module of the process is of one kind.
 */
export function fusedMultiplyAdd(): boolean {
  support ??= fmaWanted(process.env) ? supportHere() : 'none';
  return support !== 'none';
}

/** `new WebAssembly.Module(bytes)`, with relaxed SIMD on where `relaxed` (only after fusedMultiplyAdd() said yes) */
export function compileModule(bytes: Uint8Array<ArrayBuffer>, relaxed: boolean): WebAssembly.Module | null {
  const compile = () => (WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null);
  return relaxed && fusedMultiplyAdd() ? withRelaxedSimd(compile) : compile();
}
