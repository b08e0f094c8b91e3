/**
 * The list of layer cards in model order (built once per layer, updated in place), the filter row (name
 * filter box, state filter, count, collapse/expand all; the overview's rows follow the same filter), opening a
 * card (from the overview), and which cards get drawn. It never reads layout: which cards are on (or near) the
 * screen comes from an IntersectionObserver, canvas sizes from a ResizeObserver, and off-screen cards skip
 * style/layout/paint (CSS content-visibility).
 * One unit of ~330 lines: the filter (with the compare run's "differs"), opening a card and drawing what is visible
 * all act on the same set of cards.
 */
import type { LayerSnapshot, StepSnapshot } from '../src/shared/protocol';
import { type CardHost, LayerCard } from './card';
import type { CardDrift, CardSemantics } from './cardSummary';
import type { ShownCompare } from './compareModel';
import { SEMANTICS_LABEL } from '../src/shared/semantics';
import { button, el, icon, setHidden, setText } from './dom';
import { count } from './format';
import {
  differsLabel,
  isStateFilter,
  type StateFilter,
  matchesName,
  matchesState,
  STATE_FILTERS,
  stateCounts,
} from './layerState';
import type { PanelState } from './panelState';

/** with more layers than this, cards start collapsed (the overview is the way in) */
export const COLLAPSE_ABOVE = 8;

export class LayerList {
  readonly filterRow = el('div', 'filter-row');
  readonly listEl = el('main', 'layers');
  readonly noMatchEl = el('p', 'no-match');
  private filterInput: HTMLInputElement;
  private stateSelect: HTMLSelectElement;
  /** the filter changed: the overview follows */
  onFilter: () => void = () => undefined;
  private countEl = el('span', 'count', null, { 'aria-live': 'polite' });
  private cards = new Map<string, LayerCard>();
  private order: string[] = [];
  private visible = new Set<LayerCard>();
  private io: IntersectionObserver | null = null;
  private ro: ResizeObserver;
  private canvasOwner = new WeakMap<HTMLCanvasElement, LayerCard>();
  private layoutScheduled = false;
  private compare: ShownCompare | null = null;
  private options = new Map<StateFilter, HTMLOptionElement>();

  constructor(
    private state: PanelState,
    private cardHost: CardHost,
  ) {
    this.listEl.setAttribute('aria-label', 'BatchNormalization layers');
    const fl = el('label', 'filter');
    fl.append(icon('filter'));
    this.filterInput = el('input', null, null, {
      type: 'search',
      placeholder: 'Filter layers by name or path',
      'aria-label': 'Filter layers by name or path',
      spellcheck: 'false',
    });
    this.filterInput.value = state.filter;
    this.filterInput.addEventListener('input', () => {
      this.state.filter = this.filterInput.value;
      this.filterChanged();
    });
    fl.append(this.filterInput);
    this.stateSelect = el('select', 'state-filter', null, { 'aria-label': 'Show layers' });
    for (const f of STATE_FILTERS) {
      const o = el('option', null, f.label, { value: f.value });
      this.options.set(f.value, o);
      // (the 'differs' option is in the list only while a compare run is shown)
      if (f.value !== 'differs') this.stateSelect.append(o);
    }
    this.stateSelect.value = state.stateFilter;
    this.stateSelect.addEventListener('change', () => {
      const v = this.stateSelect.value;
      if (isStateFilter(v)) this.state.stateFilter = v;
      this.filterChanged();
    });
    const collapseAll = button('', 'collapse-all', 'icon-button', 'Collapse all layers');
    collapseAll.title = 'Collapse all layers';
    collapseAll.addEventListener('click', () => this.setAllCollapsed(true));
    const expandAll = button('', 'expand-all', 'icon-button', 'Expand all layers');
    expandAll.title = 'Expand all layers';
    expandAll.addEventListener('click', () => this.setAllCollapsed(false));
    this.filterRow.append(fl, this.stateSelect, this.countEl, collapseAll, expandAll);

    if ('IntersectionObserver' in window) {
      this.io = new IntersectionObserver((entries) => this.onIntersect(entries), { rootMargin: '300px 0px' });
    }
    // canvas sizes come from a ResizeObserver (delivered after layout, before paint): drawing never reads layout
    this.ro = new ResizeObserver((entries) => {
      const touched = new Set<LayerCard>();
      for (const e of entries) {
        const card = this.canvasOwner.get(e.target as HTMLCanvasElement);
        if (!card) continue;
        card.resized(e.target as HTMLCanvasElement, e.contentRect.width, e.contentRect.height);
        touched.add(card);
      }
      for (const c of touched) if (c.shown && !c.collapsed) c.draw();
    });
  }

  private filterChanged(): void {
    this.applyFilter();
    this.layoutChanged();
    this.onFilter();
  }

  /** the layer differs from its counterpart in the compare run (null: no compare step to tell) */
  differs(key: string): boolean | null {
    const c = this.compare;
    if (!c || c.status !== 'paired') return null;
    const p = c.pairs.get(key);
    return !p || !p.cmp || p.cmp.differs;
  }

  /** the filters keep this layer */
  matches(key: string): boolean {
    const l = this.cards.get(key)?.layer ?? null;
    return matchesName(key, l, this.state.filter) && (!l || matchesState(l, this.state.stateFilter, this.differs(key)));
  }

  /** the state filter's label (the 'differs' one names the compare run's semantics) */
  private filterLabel(f: (typeof STATE_FILTERS)[number]): string {
    return f.value === 'differs' && this.compare?.semB ? differsLabel(SEMANTICS_LABEL[this.compare.semB]) : f.label;
  }

  /**
   * Opens a card from the overview: clears the filters if they hide it, expands it, scrolls it to the top and
   * focuses its toggle.
   */
  openCard(key: string): void {
    const card = this.cards.get(key);
    if (!card) return;
    if (!card.shown) {
      this.state.filter = '';
      this.filterInput.value = '';
      this.state.stateFilter = 'all';
      this.stateSelect.value = 'all';
      this.filterChanged();
    }
    if (card.collapsed) card.setCollapsed(false);
    card.root.classList.remove('flash');
    void card.root.offsetWidth; // (restart the highlight animation)
    card.root.classList.add('flash');
    card.root.scrollIntoView({ block: 'start' });
    card.toggle.focus({ preventScroll: true });
    // cards above it may change size once laid out (content-visibility): scroll again after the layout settles
    requestAnimationFrame(() => requestAnimationFrame(() => card.root.scrollIntoView({ block: 'start' })));
    this.layoutChanged();
  }

  /** the card built its canvases: watch their sizes */
  observeCanvases(card: LayerCard, canvases: HTMLCanvasElement[]): void {
    for (const cv of canvases) {
      this.canvasOwner.set(cv, card);
      this.ro.observe(cv);
    }
  }

  /** something changed the layout: draw what became visible (in the next frame) */
  layoutChanged(): void {
    if (this.layoutScheduled) return;
    this.layoutScheduled = true;
    requestAnimationFrame(() => {
      this.layoutScheduled = false;
      this.drawVisible();
    });
  }

  /** the theme changed: every card redraws when next drawn */
  invalidateAll(): void {
    for (const c of this.cards.values()) c.invalidate();
    this.layoutChanged();
  }

  private drop(c: LayerCard): void {
    this.io?.unobserve(c.root);
    for (const cv of c.canvases()) this.ro.unobserve(cv);
    this.visible.delete(c);
    c.root.remove();
  }

  /** no step: no cards */
  clear(): void {
    for (const c of this.cards.values()) this.drop(c);
    this.cards.clear();
    this.order = [];
    this.visible.clear();
  }

  /** One card per layer of `step`, in model order, updated with its layer and the previous step's. */
  render(
    step: StepSnapshot,
    keys: string[],
    prevByKey: Map<string, LayerSnapshot>,
    prevIndex: number,
    drifts: CardDrift[],
    compare: ShownCompare | null = null,
  ): void {
    this.compare = compare;
    if (this.state.stateFilter === 'differs' && (!compare || compare.status === 'off')) {
      // no compare run any more: the filter that needs one goes back to all layers
      this.state.stateFilter = 'all';
      this.stateSelect.value = 'all';
    }
    const sem: CardSemantics = { a: compare?.semA ?? 'tfjs', b: compare?.semB ?? null };
    this.state.collapseByDefault = keys.length > COLLAPSE_ABOVE;
    const live = new Set(keys);
    for (const [k, c] of this.cards) {
      if (!live.has(k)) {
        this.drop(c);
        this.cards.delete(k);
      }
    }
    step.layers.forEach((l, i) => {
      const k = keys[i];
      let card = this.cards.get(k);
      if (!card) {
        card = new LayerCard(k, this.cardHost);
        this.io?.observe(card.root);
        this.cards.set(k, card);
      }
      card.update(l, prevByKey.get(k) ?? null, step.index, prevIndex, drifts[i], sem, {
        status: compare?.status ?? 'off',
        info: compare?.info ?? null,
        pair: compare?.pairs.get(k),
      });
      if (card.root.classList.contains('collapsed') !== card.collapsed) card.applyCollapsed();
    });
    const same = keys.length === this.order.length && keys.every((k, i) => k === this.order[i]);
    if (!same) {
      const frag = document.createDocumentFragment();
      for (const k of keys) frag.append(this.cards.get(k)!.root);
      this.listEl.append(frag);
      this.order = keys.slice();
    }
    this.applyFilter();
    if (this.visible.size === 0) {
      // nothing reported on screen yet (new cards): the first shown, expanded cards surely are; build them now
      // so that their charts are drawn in the coming frame (by the ResizeObserver)
      let n = 0;
      for (const k of this.order) {
        const c = this.cards.get(k)!;
        if (!c.shown || c.collapsed) continue;
        c.draw();
        if (++n === 2) break;
      }
    }
    this.drawVisible();
  }

  private setAllCollapsed(c: boolean): void {
    for (const card of this.cards.values()) {
      if (!card.shown) continue;
      this.state.setCollapsed(card.key, c);
      card.applyCollapsed();
    }
    this.layoutChanged();
  }

  private applyFilter(): void {
    const q = this.state.filter.trim();
    const filtering = !!q || this.state.stateFilter !== 'all';
    let shown = 0;
    for (const k of this.order) {
      const c = this.cards.get(k)!;
      const match = this.matches(k);
      c.shown = match;
      setHidden(c.root, !match);
      if (match) shown++;
    }
    const n = this.order.length;
    const keyed = this.order.filter((k) => !!this.cards.get(k)!.layer);
    const counts = stateCounts(
      keyed.map((k) => this.cards.get(k)!.layer!),
      (i) => this.differs(keyed[i]),
    );
    const comparing = !!this.compare && this.compare.status !== 'off';
    for (const f of STATE_FILTERS) {
      const o = this.options.get(f.value)!;
      if (f.value === 'differs') {
        // offered only while a compare run is shown
        if (comparing !== o.isConnected) {
          if (comparing) this.stateSelect.append(o);
          else o.remove();
        }
        if (!comparing) continue;
        const paired = this.compare?.status === 'paired';
        setText(o, `${this.filterLabel(f)} (${paired ? count(counts[f.value]) : 'no step to compare yet'})`);
      } else setText(o, `${f.label} (${count(counts[f.value])})`);
    }
    setText(
      this.countEl,
      filtering ? `${count(shown)} of ${count(n)} layers` : `${count(n)} layer${n === 1 ? '' : 's'}`,
    );
    const none = filtering && shown === 0 && n > 0;
    setHidden(this.noMatchEl, !none);
    if (none) {
      const f = STATE_FILTERS.find((x) => x.value === this.state.stateFilter);
      const fl = f ? this.filterLabel(f) : '';
      const label = fl.charAt(0).toLowerCase() + fl.slice(1);
      setText(
        this.noMatchEl,
        q
          ? `No layer matches “${q}”${this.state.stateFilter !== 'all' ? ` among the layers shown (${label})` : ''}.`
          : `No layer here: ${label}.`,
      );
    }
  }

  private onIntersect(entries: IntersectionObserverEntry[]): void {
    let any = false;
    for (const e of entries) {
      const card = this.cards.get((e.target as HTMLElement).dataset.key ?? '');
      if (!card) continue;
      if (e.isIntersecting) {
        this.visible.add(card);
        if (card.dirty || card.timelineDirty) any = true;
      } else this.visible.delete(card);
    }
    if (any) this.drawVisible();
  }

  /**
   * Draws the expanded, shown cards that are on (or near) the screen, as the IntersectionObserver last
   * reported them. No layout read: canvas sizes are cached from the ResizeObserver.
   */
  drawVisible(): void {
    for (const c of this.visible) if (c.shown && !c.collapsed && (c.dirty || c.timelineDirty)) c.draw();
  }
}
