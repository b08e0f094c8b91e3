/**
 * What the overview filters and counts by (pure, no DOM; tested in Node): a layer's state in a step (updated,
 * frozen, frozen but updated, with warnings, differs from the compare run) and the name filter (name or key,
 * case-insensitive).
 */
import type { LayerSnapshot } from '../src/shared/protocol';

export type StateFilter = 'all' | 'updated' | 'frozen' | 'frozen-updated' | 'warnings' | 'differs';

export const STATE_FILTERS: { value: StateFilter; label: string }[] = [
  { value: 'all', label: 'All layers' },
  { value: 'updated', label: 'Updated in this step' },
  { value: 'frozen', label: 'Frozen (trainable: false)' },
  { value: 'frozen-updated', label: 'Frozen but updated' },
  { value: 'warnings', label: 'With warnings' },
  // (offered only while a compare run is shown; its label names the other semantics: differsLabel)
  { value: 'differs', label: 'Differs from the compare run' },
];

/** the label of the 'differs' filter, e.g. "Differs from Keras" */
export function differsLabel(other: string): string {
  return `Differs from ${other}`;
}

export function isStateFilter(s: unknown): s is StateFilter {
  return typeof s === 'string' && STATE_FILTERS.some((f) => f.value === s);
}

/** the moving statistics changed in this step (a training-mode update, or set directly) */
export function isUpdated(l: LayerSnapshot): boolean {
  return l.updates > 0 || l.movingUpdated;
}

export function isFrozen(l: LayerSnapshot): boolean {
  return !l.trainable;
}

/**
 * `differs`: the layer differs from its counterpart in the compare run (null: no compare run, or its step is not
 * there: the 'differs' filter then keeps every layer)
 */
export function matchesState(l: LayerSnapshot, f: StateFilter, differs: boolean | null = null): boolean {
  switch (f) {
    case 'all':
      return true;
    case 'updated':
      return isUpdated(l);
    case 'frozen':
      return isFrozen(l);
    case 'frozen-updated':
      return isFrozen(l) && isUpdated(l);
    case 'warnings':
      return l.warnings.length > 0;
    case 'differs':
      return differs ?? true;
  }
}

/** the name filter: `q` (trimmed, any case) is part of the layer's key (its path joined by '/') or its name */
export function matchesName(key: string, l: LayerSnapshot | null, q: string): boolean {
  const s = q.trim().toLowerCase();
  return !s || key.toLowerCase().includes(s) || (!!l && l.name.toLowerCase().includes(s));
}

/** how many layers of `layers` each state filter keeps */
export function stateCounts(
  layers: LayerSnapshot[],
  differs: (i: number) => boolean | null = () => null,
): Record<StateFilter, number> {
  const c: Record<StateFilter, number> = {
    all: 0,
    updated: 0,
    frozen: 0,
    'frozen-updated': 0,
    warnings: 0,
    differs: 0,
  };
  layers.forEach((l, i) => {
    const d = differs(i);
    for (const f of STATE_FILTERS) if (matchesState(l, f.value, d)) c[f.value]++;
  });
  return c;
}
