/**
 * What survives hiding/showing the panel: the person's UI choices only (the host re-sends the steps), kept
 * through the webview's getState/setState, saved with a short debounce. Cards are expanded by default, or
 * collapsed by default when the model has many layers (`collapseByDefault`): the person's own choice for a card
 * (collapsed or expanded) wins either way.
 */
import { isStateFilter, type StateFilter } from './layerState';
export interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): unknown;
}

/** the persisted form (compact) */
export interface PersistedState {
  v: 1;
  filter: string;
  /** the overview's state filter */
  stateFilter: StateFilter;
  /** the pinned baseline step (null: each layer's first snapshot) */
  baseline: number | null;
  collapsed: string[];
  /** cards the person expanded (matters when cards start collapsed) */
  expanded: string[];
  tables: string[];
  channels: Record<string, number>;
  scrollY: number;
}

function loadState(raw: unknown): PersistedState {
  const s = (raw && typeof raw === 'object' ? raw : {}) as Partial<PersistedState>;
  const strs = (a: unknown) => (Array.isArray(a) ? a.filter((x): x is string => typeof x === 'string') : []);
  const channels: Record<string, number> = {};
  if (s.channels && typeof s.channels === 'object')
    for (const [k, v] of Object.entries(s.channels)) if (typeof v === 'number' && Number.isFinite(v)) channels[k] = v;
  return {
    v: 1,
    filter: typeof s.filter === 'string' ? s.filter : '',
    stateFilter: isStateFilter(s.stateFilter) ? s.stateFilter : 'all',
    baseline: typeof s.baseline === 'number' && Number.isInteger(s.baseline) && s.baseline > 0 ? s.baseline : null,
    collapsed: strs(s.collapsed),
    expanded: strs(s.expanded),
    tables: strs(s.tables),
    channels,
    scrollY: typeof s.scrollY === 'number' && Number.isFinite(s.scrollY) ? s.scrollY : 0,
  };
}

/** Adds or removes key; returns the set's members (for the persisted state). */
function setMember(set: Set<string>, key: string, on: boolean): string[] {
  if (on) set.add(key);
  else set.delete(key);
  return [...set];
}

export class PanelState {
  private ui: PersistedState;
  private collapsedSet: Set<string>;
  private expandedSet: Set<string>;
  private tableSet: Set<string>;
  /** many layers: a card the person did not expand starts collapsed */
  collapseByDefault = false;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private api: VsCodeApi) {
    this.ui = loadState(api.getState());
    this.collapsedSet = new Set(this.ui.collapsed);
    this.expandedSet = new Set(this.ui.expanded);
    this.tableSet = new Set(this.ui.tables);
  }

  get filter(): string {
    return this.ui.filter;
  }
  set filter(f: string) {
    this.ui.filter = f;
    this.save();
  }
  get scrollY(): number {
    return this.ui.scrollY;
  }
  set scrollY(y: number) {
    this.ui.scrollY = y;
    this.save();
  }
  get stateFilter(): StateFilter {
    return this.ui.stateFilter;
  }
  set stateFilter(f: StateFilter) {
    this.ui.stateFilter = f;
    this.save();
  }
  get baseline(): number | null {
    return this.ui.baseline;
  }
  set baseline(b: number | null) {
    this.ui.baseline = b;
    this.save();
  }
  isCollapsed(key: string): boolean {
    return this.collapsedSet.has(key) || (this.collapseByDefault && !this.expandedSet.has(key));
  }
  setCollapsed(key: string, c: boolean): void {
    this.ui.collapsed = setMember(this.collapsedSet, key, c);
    this.ui.expanded = setMember(this.expandedSet, key, !c);
    this.save();
  }
  isTable(key: string): boolean {
    return this.tableSet.has(key);
  }
  setTable(key: string, on: boolean): void {
    this.ui.tables = setMember(this.tableSet, key, on);
    this.save();
  }
  channel(key: string): number {
    return this.ui.channels[key] ?? 0;
  }
  setChannel(key: string, ch: number): void {
    if (ch === 0) delete this.ui.channels[key];
    else this.ui.channels[key] = ch;
    this.save();
  }

  private save(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.api.setState(this.ui);
    }, 50);
  }
}
