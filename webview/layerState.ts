/**
 * What the overview filters and counts by (pure, no DOM; tested in Node): a layer's state in a step (updated,
 * frozen, frozen but updated, with warnings) and the name filter (name or key, case-insensitive).
 */
import type { LayerSnapshot } from '../src/shared/protocol';

export type StateFilter = 'all' | 'updated' | 'frozen' | 'frozen-updated' | 'warnings';

export const STATE_FILTERS: { value: StateFilter; label: string }[] = [
  { value: 'all', label: 'All layers' },
  { value: 'updated', label: 'Updated in this step' },
  { value: 'frozen', label: 'Frozen (trainable: false)' },
  { value: 'frozen-updated', label: 'Frozen but updated' },
  { value: 'warnings', label: 'With warnings' },
];

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

export function matchesState(l: LayerSnapshot, f: StateFilter): boolean {
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
  }
}

/** the name filter: `q` (trimmed, any case) is part of the layer's key (its path joined by '/') or its name */
export function matchesName(key: string, l: LayerSnapshot | null, q: string): boolean {
  const s = q.trim().toLowerCase();
  return !s || key.toLowerCase().includes(s) || (!!l && l.name.toLowerCase().includes(s));
}

/** how many layers of `layers` each state filter keeps */
export function stateCounts(layers: LayerSnapshot[]): Record<StateFilter, number> {
  const c: Record<StateFilter, number> = { all: 0, updated: 0, frozen: 0, 'frozen-updated': 0, warnings: 0 };
  for (const l of layers) for (const f of STATE_FILTERS) if (matchesState(l, f.value)) c[f.value]++;
  return c;
}
