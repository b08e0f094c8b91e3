/**
 * The part of the WebAssembly JS API the worker uses (channelMomentsWasmHeap.ts, wasmThreaded.ts). Node has it at run time, but its types
 * live only in TypeScript's DOM lib, which this runtime must not see (src/worker has no DOM).
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: BufferSource);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  class Global {
    value: number;
  }
  function validate(bytes: BufferSource): boolean;
  type BufferSource = ArrayBufferView | ArrayBuffer;
}
