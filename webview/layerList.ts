/**
 * The overview: the list of layer cards in model order (built once per layer, updated in place), the filter
 * row (filter box, count, collapse/expand all), and which cards get drawn. It never reads layout: which cards
 * are on (or near) the screen comes from an IntersectionObserver, canvas sizes from a ResizeObserver, and
 * off-screen cards skip style/layout/paint (CSS content-visibility).
 */
import type { LayerSnapshot, StepSnapshot } from '../src/shared/protocol';
import { type CardHost, LayerCard } from './card';
import { button, el, icon, setHidden, setText } from './dom';
import { count } from './format';
import type { PanelState } from './panelState';

export class LayerList {
  readonly filterRow = el('div', 'filter-row');
  readonly listEl = el('main', 'layers');
  readonly noMatchEl = el('p', 'no-match');
  private filterInput: HTMLInputElement;
  private countEl = el('span', 'count', null, { 'aria-live': 'polite' });
  private cards = new Map<string, LayerCard>();
  private order: string[] = [];
  private visible = new Set<LayerCard>();
  private io: IntersectionObserver | null = null;
  private ro: ResizeObserver;
  private canvasOwner = new WeakMap<HTMLCanvasElement, LayerCard>();
  private layoutScheduled = false;

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
      this.applyFilter();
      this.layoutChanged();
    });
    fl.append(this.filterInput);
    const collapseAll = button('', 'collapse-all', 'icon-button', 'Collapse all layers');
    collapseAll.title = 'Collapse all layers';
    collapseAll.addEventListener('click', () => this.setAllCollapsed(true));
    const expandAll = button('', 'expand-all', 'icon-button', 'Expand all layers');
    expandAll.title = 'Expand all layers';
    expandAll.addEventListener('click', () => this.setAllCollapsed(false));
    this.filterRow.append(fl, this.countEl, collapseAll, expandAll);

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
  render(step: StepSnapshot, keys: string[], prevByKey: Map<string, LayerSnapshot>, prevIndex: number): void {
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
      card.update(l, prevByKey.get(k) ?? null, step.index, prevIndex);
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
    const q = this.state.filter.trim().toLowerCase();
    let shown = 0;
    for (const k of this.order) {
      const c = this.cards.get(k)!;
      const l = c.layer;
      const match = !q || k.toLowerCase().includes(q) || (!!l && l.name.toLowerCase().includes(q));
      c.shown = match;
      setHidden(c.root, !match);
      if (match) shown++;
    }
    const n = this.order.length;
    setText(this.countEl, q ? `${count(shown)} of ${count(n)} layers` : `${count(n)} layer${n === 1 ? '' : 's'}`);
    const none = !!q && shown === 0 && n > 0;
    setHidden(this.noMatchEl, !none);
    if (none) setText(this.noMatchEl, `No layer matches “${this.state.filter.trim()}”.`);
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
