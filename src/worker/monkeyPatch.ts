/**
 * Replacing a method or an export of tfjs in place, with the undo. Used by the BatchNormalization instrument
 * (bnCapture.ts, layerPaths.ts); a patch that does not take returns null and is simply not made.
 */

/** Puts back what a patch replaced. */
export type Restore = () => void;

/** Replace `obj[name]` (own or inherited function) by `make(orig)`; returns the undo, or null if impossible. */
export function patchMethod(
  obj: object,
  name: string,
  make: (orig: (...a: unknown[]) => unknown) => (...a: unknown[]) => unknown,
): Restore | null {
  const rec = obj as Record<string, unknown>;
  const own = Object.getOwnPropertyDescriptor(obj, name);
  if (own && !('value' in own)) return null; // accessor: leave it
  const orig = own ? own.value : rec[name];
  if (typeof orig !== 'function') return null;
  const wrapped = make(orig as (...a: unknown[]) => unknown);
  try {
    Object.defineProperty(obj, name, {
      value: wrapped,
      writable: true,
      configurable: true,
      enumerable: own ? own.enumerable : false,
    });
  } catch {
    try {
      rec[name] = wrapped;
    } catch {
      return null;
    }
  }
  if (rec[name] !== wrapped) return null;
  return () => {
    if (own) Object.defineProperty(obj, name, own);
    else delete rec[name];
  };
}

/** Assign an export (plain writable data property) and check it took. */
export function patchExport(obj: Record<string, unknown>, name: string, value: unknown): Restore | null {
  const before = obj[name];
  try {
    obj[name] = value;
  } catch {
    return null;
  }
  if (obj[name] !== value) return null;
  return () => {
    try {
      obj[name] = before;
    } catch {
      /* ignore */
    }
  };
}

/**
 * A module's CommonJS exports object through our own `require`, where the module system has one (CJS: tsx,
 * esbuild bundles); null elsewhere (ES modules). `load` must hold the literal `require('…')`, so that the
 * bundler sees it and bundles the same module instance tfjs uses.
 */
export function tryRequire(load: () => unknown): Record<string, unknown> | null {
  try {
    const m = load();
    return typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
