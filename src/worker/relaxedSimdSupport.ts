/**
 * Whether this process can compile relaxed SIMD (../shared/relaxedSimd.ts), and compiling with it. V8 ships it from
 * 11.4 (Node 22, VS Code's Electron): nothing to do. Node 20's V8 11.3 has it behind a flag: the flag is set around
 * the probe and the module's compile only, then reset. Why not set once at the process's start: V8 checks code caches
 * against a hash of its flags, and a changed flag made both the worker bundle's cache (written by one run, read by
 * the next) and Node's own built-in modules' caches miss: measured, cold start → first snapshot ~318 against ~250 ms.
 * With the flag back to its value the hash is what it was. A module compiled meanwhile keeps its features: its
 * functions compiled later (lazily, or tiered up) are the fused ones too (checked: the same bits before and after
 * 20,000 calls).
 */
import { setFlagsFromString } from 'node:v8';
import { fmaWanted, RELAXED_SIMD_FLAG, RELAXED_SIMD_PROBE } from '../shared/relaxedSimd';

const FLAG_OFF = RELAXED_SIMD_FLAG.replace(/^--/, '--no-');
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
