/**
 * Relaxed SIMD for the run's process (../shared/relaxedSimd.ts): where this V8 has it only behind a flag (Node 20),
 * the flag is set here, first thing in the runner's main thread, before the worker thread starts. The engine's SIMD
 * products then use the fused multiply-add (worker/kernels/simdProducts.ts). Why not later, where the engine first
 * needs it: a flag set after start changes V8's flag hash, and the worker bundle's code cache, written by one process
 * and read by the next at its start, would then be rejected each time (seen in an earlier session).
 */
import { setFlagsFromString } from 'node:v8';
import { fmaWanted, RELAXED_SIMD_FLAG, RELAXED_SIMD_PROBE } from '../shared/relaxedSimd';

declare const WebAssembly: { validate(bytes: Uint8Array): boolean };

/** true when relaxed SIMD is on in this process afterwards; BN_INSPECTOR_FMA=0: no flag is set */
export function enableRelaxedSimd(env: NodeJS.ProcessEnv = process.env): boolean {
  if (WebAssembly.validate(RELAXED_SIMD_PROBE)) return true;
  if (!fmaWanted(env)) return false;
  setFlagsFromString(RELAXED_SIMD_FLAG);
  return WebAssembly.validate(RELAXED_SIMD_PROBE);
}
