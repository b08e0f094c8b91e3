/**
 * A hand-written SIMD module (simdMomentsModule.ts, kernels/simdKernelModule.ts) on the tfjs wasm backend's own
 * memory: which memory that is, and one instance per memory, compiled once per kind of memory (plain for tfjs's
 * single-threaded build, shared for the threaded one).
 *
 *   const kernelsFor = instancePerMemory('kernels', moduleBytes, { fma: true }, (e) => ({ f: e.f as F }));
 *   const memory = backendMemory(tf.backend());   // null: not the wasm backend
 *   const k = memory && kernelsFor(memory);        // null: no WebAssembly SIMD here
 */

import { prebuiltWasm } from './prebuiltWasm';
import { compileModule, fusedMultiplyAdd } from './relaxedSimdSupport';

/** the parts of tfjs-backend-wasm's BackendWasm read here (4.22, plain and threaded builds) */
interface WasmBackendLike {
  wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown; HEAPU8?: Uint8Array };
}

/**
 * The WebAssembly.Memory of a tfjs wasm backend (the one its heap views are on): exported (`asm.memory`) by the
 * single-threaded build, imported (`wasmMemory`) by the threaded one; null for another backend.
 */
export function backendMemory(backend: unknown): WebAssembly.Memory | null {
  const w = (backend as WasmBackendLike).wasm;
  const heap = w?.HEAPU8?.buffer;
  for (const m of [w?.wasmMemory, w?.asm?.memory]) if (m instanceof WebAssembly.Memory && m.buffer === heap) return m;
  return null;
}

/** what instancePerMemory returns: the instance on a memory, and the compiled module a helper thread instantiates */
export interface PerMemory<K> {
  (memory: WebAssembly.Memory): K | null;
  /**
   * the module of the kind for a plain or a shared memory, compiled here (once), or null where it does not compile:
   * another thread (kernels/simdHelper.ts) instantiates it with `on` instead of compiling it again
   */
  compiled(shared: boolean): WebAssembly.Module | null;
  /** `module` (from `compiled`, maybe in another thread) instantiated on `memory` and bound; cached per memory */
  on(module: WebAssembly.Module, memory: WebAssembly.Memory): K | null;
}

/**
 * `(memory) => K | null`: the module `name` instantiated on `memory` (its import "env" "memory"), its exports bound
 * by `bind`; cached per memory. Its bytes: the build's (prebuiltWasm.ts), else `bytesFor(shared, fma)`; `o.fma`: the
 * module has a fused multiply-add kind, used where `fusedMultiplyAdd()`. Null where the bytes do not validate (no
 * SIMD) or do not link.
 */
export function instancePerMemory<K>(
  name: string,
  bytesFor: (shared: boolean, fma: boolean) => Uint8Array<ArrayBuffer>,
  o: { fma: boolean },
  bind: (exports: Record<string, unknown>) => K,
): PerMemory<K> {
  const modules = new Map<boolean, WebAssembly.Module | null>();
  const instances = new WeakMap<WebAssembly.Memory, K | null>();
  const compiled = (shared: boolean): WebAssembly.Module | null => {
    if (!modules.has(shared)) {
      let m: WebAssembly.Module | null;
      try {
        const fma = o.fma && fusedMultiplyAdd();
        m = compileModule(prebuiltWasm(name, shared, fma) ?? bytesFor(shared, fma), fma);
      } catch {
        m = null;
      }
      modules.set(shared, m);
    }
    return modules.get(shared) ?? null;
  };
  const on = (m: WebAssembly.Module | null, memory: WebAssembly.Memory): K | null => {
    const hit = instances.get(memory);
    if (hit !== undefined) return hit;
    let k: K | null = null;
    try {
      if (m) k = bind(new WebAssembly.Instance(m, { env: { memory } }).exports);
    } catch {
      k = null;
    }
    instances.set(memory, k);
    return k;
  };
  const perMemory = (memory: WebAssembly.Memory): K | null => {
    const hit = instances.get(memory);
    if (hit !== undefined) return hit;
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    return on(compiled(shared), memory);
  };
  return Object.assign(perMemory, { compiled, on });
}
