/**
 * The engine's hand-assembled SIMD modules (kernels/simdKernelModule.ts, simdMomentsModule.ts) as the build assembled
 * them (scripts/build.mjs defines `__BN_PREBUILT_WASM__` in dist/worker.js and dist/simdHelper.js: base64 per module
 * and kind of memory, from wasmModuleBytes.ts). Why: assembling them from their JS byte lists at run time took
 * ~60-70 ms of every cold start (code that runs once, unoptimised). Where nothing was defined (the unit tests run the
 * sources) the caller assembles them.
 */
declare const __BN_PREBUILT_WASM__: Record<string, string> | undefined;

/** the prebuilt bytes of `name` ('kernels', 'moments') for a plain or shared memory, with or without FMA, or null */
export function prebuiltWasm(name: string, shared: boolean, fma: boolean): Uint8Array<ArrayBuffer> | null {
  if (typeof __BN_PREBUILT_WASM__ === 'undefined') return null;
  const b64 = __BN_PREBUILT_WASM__[wasmModuleKey(name, shared, fma)];
  return typeof b64 === 'string' ? new Uint8Array(Buffer.from(b64, 'base64')) : null;
}

/** the key of a module in the build's map */
export const wasmModuleKey = (name: string, shared: boolean, fma: boolean): string =>
  `${name}${shared ? '-shared' : ''}${fma ? '-fma' : ''}`;
