/**
 * Every hand-assembled SIMD module of the engine for every kind of memory, base64, keyed as prebuiltWasm.ts reads
 * them: what scripts/build.mjs runs at build time (and a unit test compares against the bundles).
 */
import { simdKernelModuleBytes } from './kernels/simdKernelModule';
import { simdModuleBytes } from './simdMomentsModule';
import { wasmModuleKey } from './prebuiltWasm';

export function allWasmModules(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const shared of [false, true]) {
    for (const fma of [false, true])
      out[wasmModuleKey('kernels', shared, fma)] = Buffer.from(simdKernelModuleBytes(shared, fma)).toString('base64');
    out[wasmModuleKey('moments', shared, false)] = Buffer.from(simdModuleBytes(shared)).toString('base64');
  }
  return out;
}
