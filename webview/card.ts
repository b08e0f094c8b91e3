/**
 * One card per BatchNormalization layer. The DOM of a card is built once and updated in place at every
 * step (text only where it changed); its charts, table and timeline are drawn lazily, only while the card
 * is expanded and on screen (the panel decides, see layerList.ts), and their canvases are reused.
 * The parts: cardSummary.ts (head, explanation, warnings, change since the previous step), channelCharts.ts,
 * numberTable.ts (exact numbers), cardTimeline.ts (across steps) and, while a compare run is shown, pairTable.ts
 * (both semantics' values side by side; filled only when drawn) with the compare line in cardSummary.ts.
 * One unit of ~270 lines: the card's parts are drawn together, lazily, from one set of flags (dirty, shown, collapsed).
 */
import type { LayerSnapshot } from '../src/shared/protocol';
import { CardTimeline, type TimelineHost } from './cardTimeline';
import { ChannelCharts } from './channelCharts';
import type { ChartTheme } from './charts';
import { type CardDrift, type CardSemantics, CardSummary } from './cardSummary';
import type { CompareStatus, LayerPair } from './compareModel';
import { cardCompareLine } from './compareText';
import type { CompareInfo } from '../src/shared/protocol';
import { PairTable } from './pairTable';
import { button, el, setHidden, setText, uid } from './dom';
import { type LayerDelta, layerDelta } from './layerDelta';
import { NumberTable, tableTsv } from './numberTable';

export interface CardHost extends TimelineHost {
  theme(): ChartTheme;
  isCollapsed(key: string): boolean;
  setCollapsed(key: string, collapsed: boolean): void;
  isTable(key: string): boolean;
  setTable(key: string, on: boolean): void;
  /** something changed the layout: draw what became visible */
  layoutChanged(): void;
  /** the card built its canvases: watch their sizes */
  observeCanvases(card: LayerCard, canvases: HTMLCanvasElement[]): void;
  /** reveal a line of a file of the run in the editor */
  reveal(file: string, line: number): void;
}

/** what a card shows of the compare run */
export interface CardCompare {
  status: CompareStatus;
  info: CompareInfo | null;
  /** this layer's pair (only when status is 'paired') */
  pair: LayerPair | undefined;
}

export const NO_COMPARE: CardCompare = { status: 'off', info: null, pair: undefined };

export class LayerCard {
  readonly root = el('section', 'card');
  readonly body: HTMLElement;
  layer: LayerSnapshot | null = null;
  prev: LayerSnapshot | null = null;
  delta: LayerDelta | null = null;
  stepIndex = 0;
  prevStepIndex = 0;
  /** charts/table need drawing (the data changed or the size/theme changed) */
  dirty = true;
  timelineDirty = true;
  /** the card matched the filter (is shown) */
  shown = true;

  private summary: CardSummary;
  private tableBtn: HTMLButtonElement;
  private copyBtn: HTMLButtonElement;
  private copyNote = el('span', 'copy-note', null, { role: 'status' });
  private charts = new ChannelCharts(this);
  private table = new NumberTable();
  /** built the first time there is something to compare (most cards of most runs never need it) */
  private pairTable: PairTable | null = null;
  /** where the compare tables go in the body */
  private pairSlot = el('div', 'pair-slot');
  private sem: CardSemantics = { a: 'tfjs', b: null };
  private compare: CardCompare = NO_COMPARE;
  /** the compare table needs filling */
  private pairDirty = false;
  private timeline: CardTimeline;
  /** the canvases (charts, timeline) exist: built the first time the card is drawn */
  private built = false;

  constructor(
    readonly key: string,
    private host: CardHost,
  ) {
    const bodyId = uid('body');
    this.summary = new CardSummary(
      bodyId,
      () => this.setCollapsed(!this.host.isCollapsed(this.key)),
      (src) => this.host.reveal(src.file, src.line),
    );
    this.root.dataset.key = key;
    this.root.setAttribute('aria-labelledby', this.summary.nameId);
    this.body = el('div', 'card-body', null, { id: bodyId });

    const tools = el('div', 'card-tools');
    this.tableBtn = button('Table of exact numbers', 'table', 'secondary toggle-table');
    this.tableBtn.setAttribute('aria-pressed', 'false');
    this.tableBtn.addEventListener('click', () => {
      this.host.setTable(this.key, !this.host.isTable(this.key));
      this.applyTableMode();
      this.dirty = true;
      this.host.layoutChanged();
    });
    this.copyBtn = button('Copy as TSV', 'copy', 'secondary copy-table');
    this.copyBtn.addEventListener('click', () => void this.copy());
    tools.append(this.tableBtn, this.copyBtn, this.copyNote);

    this.timeline = new CardTimeline(
      key,
      host,
      () => this.layer,
      () => {
        this.timelineDirty = true;
        this.host.layoutChanged();
      },
    );
    const s = this.summary;
    this.body.append(
      s.meta,
      s.delta,
      s.drift,
      this.pairSlot,
      tools,
      this.charts.caption,
      this.charts.grid,
      this.table.wrap,
      this.timeline.root,
    );
    this.root.append(s.head, s.why, s.trap, s.compareLine, s.warnings, s.callout, this.body);
    this.applyCollapsed();
    this.applyTableMode();
  }

  /** Builds the chart and timeline figures (the bulk of a card's DOM) the first time the card is to be drawn. */
  private ensureBuilt(): void {
    if (this.built) return;
    this.built = true;
    this.charts.build();
    this.timeline.build();
    if (this.layer) this.refreshLabels(this.layer);
    this.host.observeCanvases(this, this.canvases());
  }

  private ensurePairTable(): PairTable {
    if (!this.pairTable) {
      this.pairTable = new PairTable();
      this.pairSlot.append(this.pairTable.root);
    }
    return this.pairTable;
  }

  private refreshLabels(l: LayerSnapshot): void {
    this.charts.refreshLabels(l);
    this.timeline.refreshLabels(l);
  }

  get collapsed(): boolean {
    return this.host.isCollapsed(this.key);
  }

  /** the toggle button of the card's head (focused when the card is opened from the overview) */
  get toggle(): HTMLButtonElement {
    return this.summary.toggleBtn;
  }

  setCollapsed(c: boolean): void {
    this.host.setCollapsed(this.key, c);
    this.applyCollapsed();
    this.host.layoutChanged();
  }

  applyCollapsed(): void {
    const c = this.host.isCollapsed(this.key);
    this.summary.setCollapsed(c);
    this.root.classList.toggle('collapsed', c);
    setHidden(this.body, c);
  }

  applyTableMode(): void {
    const on = this.host.isTable(this.key);
    this.tableBtn.setAttribute('aria-pressed', String(on));
    this.tableBtn.title = on
      ? 'Showing the table: press to show the charts again'
      : 'Show the exact numbers as a table instead of the charts';
    setHidden(this.charts.grid, on);
    setHidden(this.charts.caption, on);
    setHidden(this.table.wrap, !on);
    setHidden(this.copyBtn, !on);
  }

  /** New data for this layer (cheap: text only; drawing waits until the card is visible). */
  update(
    l: LayerSnapshot,
    prev: LayerSnapshot | null,
    stepIndex: number,
    prevStepIndex: number,
    drift: CardDrift,
    sem: CardSemantics = { a: 'tfjs', b: null },
    compare: CardCompare = NO_COMPARE,
  ): void {
    this.layer = l;
    this.sem = sem;
    this.compare = compare;
    this.pairDirty = true;
    this.prev = prev;
    this.stepIndex = stepIndex;
    this.prevStepIndex = prevStepIndex;
    this.delta = layerDelta(l, prev);
    this.summary.update(l, prev, this.delta, prevStepIndex, drift, sem);
    const pair = compare.pair;
    this.summary.updateCompare(
      compare.status === 'off' || !sem.b ? null : cardCompareLine(compare.status, pair, sem.b, stepIndex, compare.info),
      compare.status === 'paired' ? !pair?.cmp || pair.cmp.differs : null,
    );
    if (compare.status !== 'paired' || !pair?.cmp) this.pairTable?.hide();
    this.charts.setCaption(l);
    this.timeline.update(l);
    this.table.setLayerName(l.name);
    if (this.built) this.refreshLabels(l);
    this.dirty = true;
    this.timelineDirty = true;
  }

  /** the canvases whose CSS size the panel watches (ResizeObserver) */
  canvases(): HTMLCanvasElement[] {
    return [...this.charts.canvases(), ...this.timeline.canvases()];
  }

  /** a canvas got a new CSS size (from the panel's ResizeObserver: no layout read here) */
  resized(canvas: HTMLCanvasElement, w: number, h: number): void {
    if (this.charts.resized(canvas, w, h)) this.dirty = true;
    if (this.timeline.resized(canvas, w, h)) this.timelineDirty = true;
  }

  /** Draws charts or table, and the timeline, if needed (canvas sizes are cached: no layout read). */
  draw(): void {
    const l = this.layer;
    if (!l) return;
    this.ensureBuilt();
    if (this.pairDirty) {
      this.pairDirty = false;
      const p = this.compare.pair;
      if (this.compare.status === 'paired' && p?.cmp && p.other && this.sem.b)
        this.ensurePairTable().fill(l, p.other, p.cmp, this.sem.a, this.sem.b, this.stepIndex);
      else this.pairTable?.hide();
    }
    if (this.dirty) {
      this.dirty = false;
      if (this.host.isTable(this.key)) this.table.fill(l, this.delta, this.stepIndex, this.prevStepIndex);
      else if (!this.charts.draw(l, this.host.theme())) this.dirty = true;
    }
    if (this.timelineDirty) {
      this.timelineDirty = false;
      if (!this.timeline.draw(l, this.host.theme())) this.timelineDirty = true;
    }
  }

  invalidate(): void {
    this.dirty = true;
    this.timelineDirty = true;
  }

  /** The table as tab-separated text (exact numbers). */
  tsv(): string {
    return this.layer ? tableTsv(this.layer, this.delta) : '';
  }

  private async copy(): Promise<void> {
    setText(this.copyNote, await this.table.copy(this.tsv(), this.layer?.channels ?? 0));
  }
}
