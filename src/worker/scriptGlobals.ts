/**
 * What the worker adds to `globalThis` for the user's compiled script (compileScript.ts and instrumentSource.ts
 * emit the references): the step hooks, the bundle-loaded hook, the tfjs namespaces the script imports, and a
 * `require` resolving from the script's folder.
 */
export interface ScriptGlobals {
  /** a step point was reached: `__bnStep(fileIndex, pointIndex)` */
  __bnStep?: (file: number, point: number) => void;
  /** a step point on `return expr` / `throw expr`: steps, then passes the value through */
  __bnStepValue?: (file: number, point: number, value: unknown) => unknown;
  /** the bundle's banner calls this when the module starts evaluating */
  __bnBundleLoaded?: () => void;
  /** the namespace the script gets for @tensorflow/tfjs (and -core, -layers, -node) */
  __bnTfjs?: Record<string, unknown>;
  /** the namespace the script gets for @tensorflow/tfjs-backend-wasm */
  __bnTfjsWasm?: Record<string, unknown>;
  /** CommonJS `require` inside the bundle (and in the user's ESM) */
  require?: NodeJS.Require;
}

export const scriptGlobals = globalThis as typeof globalThis & ScriptGlobals;
