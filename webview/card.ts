/**
 * One card per BatchNormalization layer. The DOM of a card is built once and updated in place at every
 * step (text only where it changed); its charts, table and timeline are drawn lazily, only while the card
 * is expanded and on screen (the panel decides, see app.ts), and their canvases are reused.
 */
import type { LayerSnapshot } from '../src/shared/protocol';
import { type ChartTheme, channelAt, drawChannels, drawTimeline, prepare, timelineIndexAt } from './charts';
import { el, icon, button, setText, setHidden, uid } from './dom';
import { explainLayer, layerBadges, warningExplanation, warningTitle } from './explain';
import { count, exact, shape, short } from './format';
import type { History, Series } from './history';

export interface CardHost {
  theme(): ChartTheme;
  history: History;
  /** steps thinned in all (host + panel) */
  thinned(): number;
  isCollapsed(key: string): boolean;
  setCollapsed(key: string, collapsed: boolean): void;
  isTable(key: string): boolean;
  setTable(key: string, on: boolean): void;
  channel(key: string): number;
  setChannel(key: string, ch: number): void;
  /** something changed the layout: draw what became visible */
  layoutChanged(): void;
  /** the card built its canvases: watch their sizes */
  observeCanvases(card: LayerCard, canvases: HTMLCanvasElement[]): void;
}

type ChartKind = 'mean' | 'variance' | 'gamma' | 'beta';

interface ChartSlot {
  kind: ChartKind;
  fig: HTMLElement;
  legend: HTMLElement;
  canvas: HTMLCanvasElement;
  readout: HTMLElement;
  w: number;
  h: number;
}

interface TimelineSlot {
  which: 'mean' | 'variance';
  legend: HTMLElement;
  canvas: HTMLCanvasElement;
  readout: HTMLElement;
  w: number;
  h: number;
}

/** A chart <figure>: legend, canvas, hover readout; `onHover` gets the CSS x of the pointer on the canvas. */
function chartFigure(cls: string, onHover: (x: number) => void) {
  const fig = el('figure', cls);
  const legend = el('figcaption', 'legend');
  const canvas = el('canvas', 'plot');
  canvas.setAttribute('role', 'img');
  const readout = el('div', 'readout');
  readout.setAttribute('aria-hidden', 'true');
  fig.append(legend, canvas, readout);
  canvas.addEventListener('mousemove', (e) => onHover(e.offsetX));
  canvas.addEventListener('mouseleave', () => setText(readout, ''));
  return { fig, legend, canvas, readout };
}

function prec(v: number): string {
  if (!Number.isFinite(v)) return exact(v);
  return String(+v.toPrecision(7));
}

function sameValue(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

export interface LayerDelta {
  /** channels whose moving mean or variance changed */
  changed: number;
  maxMean: number;
  maxVar: number;
  marksMean: Uint8Array;
  marksVar: Uint8Array;
  dMean: Float32Array;
  dVar: Float32Array;
}

/** Change of a layer's moving statistics since the previous step (null when the shapes differ or no previous). */
export function layerDelta(l: LayerSnapshot, prev: LayerSnapshot | null | undefined): LayerDelta | null {
  if (!prev || prev.channels !== l.channels || prev.movingMean.length !== l.movingMean.length) return null;
  const n = l.movingMean.length;
  const d: LayerDelta = {
    changed: 0,
    maxMean: 0,
    maxVar: 0,
    marksMean: new Uint8Array(n),
    marksVar: new Uint8Array(n),
    dMean: new Float32Array(n),
    dVar: new Float32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const a = l.movingMean[i];
    const pa = prev.movingMean[i];
    const b = l.movingVariance[i];
    const pb = prev.movingVariance[i];
    const cm = !sameValue(a, pa);
    const cv = !sameValue(b, pb);
    const dm = a - pa;
    const dv = b - pb;
    d.dMean[i] = cm ? dm : 0;
    d.dVar[i] = cv ? dv : 0;
    if (cm) {
      d.marksMean[i] = 1;
      const m = Math.abs(dm);
      d.maxMean = m !== m || d.maxMean !== d.maxMean ? NaN : Math.max(d.maxMean, m);
    }
    if (cv) {
      d.marksVar[i] = 1;
      const m = Math.abs(dv);
      d.maxVar = m !== m || d.maxVar !== d.maxVar ? NaN : Math.max(d.maxVar, m);
    }
    if (cm || cv) d.changed++;
  }
  return d;
}

const TABLE_COLS = [
  'ch',
  'changed',
  'moving mean',
  'batch mean',
  'moving variance',
  'batch variance',
  'gamma',
  'beta',
  'Δ moving mean',
  'Δ moving variance',
];

export class LayerCard {
  readonly root: HTMLElement;
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

  private toggleBtn: HTMLButtonElement;
  private chevron: HTMLElement;
  private nameEl: HTMLElement;
  private pathEl: HTMLElement;
  private badgesEl: HTMLElement;
  private badgeSig = '';
  private legendSig = new Map<HTMLElement, string>();
  private whyEl: HTMLElement;
  private warnEl: HTMLElement;
  private warnSig = '';
  private metaEl: HTMLElement;
  private deltaEl: HTMLElement;
  private tableBtn: HTMLButtonElement;
  private copyBtn: HTMLButtonElement;
  private copyNote: HTMLElement;
  private chartsEl: HTMLElement;
  private tlChartsEl: HTMLElement;
  /** the canvases (charts, timeline) exist: built the first time the card is drawn */
  private built = false;
  private chartsCaption: HTMLElement;
  private charts: ChartSlot[] = [];
  private tableWrap: HTMLElement;
  private tbody: HTMLTableSectionElement;
  private theadRow: HTMLTableRowElement;
  private tableCaption: HTMLElement;
  private table: HTMLTableElement;
  private timelines: TimelineSlot[] = [];
  private channelInput: HTMLInputElement;
  private timelineNote: HTMLElement;
  private series: Series | null = null;

  constructor(
    readonly key: string,
    private host: CardHost,
  ) {
    const bodyId = uid('body');
    const nameId = uid('name');
    this.root = el('section', 'card');
    this.root.dataset.key = key;
    this.root.setAttribute('aria-labelledby', nameId);

    const head = el('div', 'card-head');
    this.toggleBtn = el('button', 'card-toggle', null, {
      type: 'button',
      'aria-expanded': 'true',
      'aria-controls': bodyId,
    });
    this.chevron = icon('chevron-down');
    this.nameEl = el('span', 'layer-name', null, { id: nameId });
    this.toggleBtn.append(this.chevron, this.nameEl);
    this.toggleBtn.addEventListener('click', () => this.setCollapsed(!this.host.isCollapsed(this.key)));
    this.pathEl = el('span', 'layer-path');
    this.badgesEl = el('span', 'badges');
    head.append(this.toggleBtn, this.pathEl, this.badgesEl);

    this.whyEl = el('p', 'why');
    this.warnEl = el('ul', 'warnings');
    this.warnEl.setAttribute('aria-label', 'warnings');

    this.body = el('div', 'card-body', null, { id: bodyId });
    this.metaEl = el('p', 'meta');
    this.deltaEl = el('p', 'delta');

    const tools = el('div', 'card-tools');
    this.tableBtn = button('Table of exact numbers', 'table', 'secondary toggle-table');
    this.tableBtn.setAttribute('aria-pressed', 'false');
    this.tableBtn.addEventListener('click', () => {
      const on = !this.host.isTable(this.key);
      this.host.setTable(this.key, on);
      this.applyTableMode();
      this.dirty = true;
      this.host.layoutChanged();
    });
    this.copyBtn = button('Copy as TSV', 'copy', 'secondary copy-table');
    this.copyBtn.addEventListener('click', () => void this.copy());
    this.copyNote = el('span', 'copy-note', null, { role: 'status' });
    tools.append(this.tableBtn, this.copyBtn, this.copyNote);

    this.chartsCaption = el('p', 'charts-caption');
    this.chartsEl = el('div', 'charts');

    this.tableWrap = el('div', 'table-wrap');
    this.tableWrap.tabIndex = 0;
    this.tableWrap.setAttribute('role', 'region');
    // the caption is a block inside the scrolling region, not a <caption>: a <caption> is as wide as the
    // (wide, horizontally scrolling) table and got clipped mid-word; this one wraps within the visible width
    const captionId = uid('caption');
    this.tableCaption = el('p', 'table-caption', null, { id: captionId });
    this.table = el('table', 'numbers', null, { 'aria-labelledby': captionId });
    const thead = el('thead');
    this.theadRow = el('tr');
    thead.append(this.theadRow);
    this.tbody = el('tbody');
    this.table.append(thead, this.tbody);
    this.tableWrap.append(this.tableCaption, this.table);

    const tl = el('div', 'timeline');
    const tlHead = el('div', 'timeline-head');
    const tlTitle = el('h4', null, 'Timeline across steps');
    const chLabel = el('label', 'channel-pick');
    const chId = uid('ch');
    chLabel.htmlFor = chId;
    chLabel.append(el('span', null, 'channel '));
    this.channelInput = el('input', null, null, { type: 'number', min: '0', step: '1', id: chId });
    this.channelInput.value = String(this.host.channel(this.key));
    this.channelInput.addEventListener('change', () => this.pickChannel());
    chLabel.append(this.channelInput);
    tlHead.append(tlTitle, chLabel);
    this.tlChartsEl = el('div', 'timeline-charts');
    this.timelineNote = el('p', 'timeline-note');
    tl.append(tlHead, this.tlChartsEl, this.timelineNote);

    this.body.append(this.metaEl, this.deltaEl, tools, this.chartsCaption, this.chartsEl, this.tableWrap, tl);
    this.root.append(head, this.whyEl, this.warnEl, this.body);
    this.applyCollapsed();
    this.applyTableMode();
  }

  private makeChart(kind: ChartKind): ChartSlot {
    const parts = chartFigure(`chart chart-${kind}`, (x) => this.hoverChart(slot, x));
    const slot: ChartSlot = { kind, ...parts, w: 0, h: 0 };
    this.chartsEl.append(parts.fig);
    return slot;
  }

  /** Builds the chart and timeline figures (the bulk of a card's DOM) the first time the card is to be drawn. */
  private ensureBuilt(): boolean {
    if (this.built) return false;
    this.built = true;
    for (const kind of ['mean', 'variance', 'gamma', 'beta'] as ChartKind[]) this.charts.push(this.makeChart(kind));
    for (const which of ['mean', 'variance'] as const) this.tlChartsEl.append(this.makeTimeline(which));
    if (this.layer) {
      this.refreshLabels(this.layer);
      this.refreshTimelineNote(this.layer);
    }
    this.host.observeCanvases(this, this.canvases());
    return true;
  }

  private makeTimeline(which: 'mean' | 'variance'): HTMLElement {
    const { fig, legend, canvas, readout } = chartFigure(`chart timeline-${which}`, (x) => this.hoverTimeline(slot, x));
    const slot: TimelineSlot = { which, legend, canvas, readout, w: 0, h: 0 };
    this.timelines.push(slot);
    return fig;
  }

  private legendItem(legend: HTMLElement, cls: string, text: string, dashed: boolean): void {
    const item = el('span', 'legend-item');
    item.append(el('span', `swatch swatch-${cls}${dashed ? ' dashed' : ''}`), el('span', null, text));
    legend.append(item);
  }

  /** rebuilds a legend only when its items changed: items are [swatch class, text, dashed] */
  private setLegend(legend: HTMLElement, items: [string, string, boolean][]): void {
    const sig = items.map((i) => i.join('\u0000')).join('\u0001');
    if (this.legendSig.get(legend) === sig) return;
    this.legendSig.set(legend, sig);
    legend.replaceChildren();
    for (const [cls, text, dashed] of items) this.legendItem(legend, cls, text, dashed);
  }

  get collapsed(): boolean {
    return this.host.isCollapsed(this.key);
  }

  setCollapsed(c: boolean): void {
    this.host.setCollapsed(this.key, c);
    this.applyCollapsed();
    this.host.layoutChanged();
  }

  applyCollapsed(): void {
    const c = this.host.isCollapsed(this.key);
    this.toggleBtn.setAttribute('aria-expanded', String(!c));
    this.chevron.className = `codicon codicon-${c ? 'chevron-right' : 'chevron-down'}`;
    this.root.classList.toggle('collapsed', c);
    setHidden(this.body, c);
  }

  applyTableMode(): void {
    const on = this.host.isTable(this.key);
    this.tableBtn.setAttribute('aria-pressed', String(on));
    this.tableBtn.title = on
      ? 'Showing the table: press to show the charts again'
      : 'Show the exact numbers as a table instead of the charts';
    setHidden(this.chartsEl, on);
    setHidden(this.chartsCaption, on);
    setHidden(this.tableWrap, !on);
    setHidden(this.copyBtn, !on);
  }

  /** New data for this layer (cheap: text only; drawing waits until the card is visible). */
  update(l: LayerSnapshot, prev: LayerSnapshot | null, stepIndex: number, prevStepIndex: number): void {
    this.layer = l;
    this.prev = prev;
    this.stepIndex = stepIndex;
    this.prevStepIndex = prevStepIndex;
    this.delta = layerDelta(l, prev);
    setText(this.nameEl, l.name);
    setText(this.pathEl, l.path.length > 1 ? l.path.join(' › ') : '');
    this.pathEl.title = l.path.join(' › ');

    const badges = layerBadges(l);
    const sig = badges.map((b) => b.tone + b.text).join('|');
    if (sig !== this.badgeSig) {
      this.badgeSig = sig;
      const spans = this.badgesEl.children;
      while (spans.length > badges.length) spans[spans.length - 1].remove();
      badges.forEach((b, i) => {
        let s = spans[i] as HTMLElement | undefined;
        if (!s) this.badgesEl.append((s = el('span')));
        const cls = `badge tone-${b.tone}`;
        if (s.className !== cls) s.className = cls;
        setText(s, b.text);
        if (s.title !== b.title) s.title = b.title;
      });
    }
    setText(this.whyEl, explainLayer(l, prev));

    const wsig = l.warnings.map((w) => w.code + '\u0000' + w.message).join('\u0001');
    if (wsig !== this.warnSig) {
      this.warnSig = wsig;
      const frag = document.createDocumentFragment();
      for (const w of l.warnings) {
        const li = el('li', `warning warning-${w.code}`);
        li.dataset.code = w.code;
        const title = el('strong', null, warningTitle(w.code));
        const msg = el('span', 'warning-message', w.message);
        const code = el('code', 'warning-code', w.code);
        const ex = el('p', 'warning-explain', warningExplanation(w.code));
        li.append(icon('warning'), title, el('span', null, ' '), code, el('span', null, ': '), msg, ex);
        frag.append(li);
      }
      this.warnEl.replaceChildren(frag);
      setHidden(this.warnEl, l.warnings.length === 0);
    }

    const parts = [
      `${count(l.channels)} channel${l.channels === 1 ? '' : 's'}`,
      `axis ${l.axis}`,
      `momentum ${l.momentum}`,
      `epsilon ${l.epsilon}`,
    ];
    if (l.lastCall)
      parts.push(`last call: ${l.lastCall.training ? 'training' : 'inference'}, input ${shape(l.lastCall.inputShape)}`);
    if (l.lastTrainingCall && !(l.lastCall && l.lastCall.training))
      parts.push(`last training call: input ${shape(l.lastTrainingCall.inputShape)}`);
    if (!l.gamma) parts.push('no gamma (scale: false)');
    if (!l.beta) parts.push('no beta (center: false)');
    setText(this.metaEl, parts.join(' · '));

    const d = this.delta;
    let dt: string;
    if (d) {
      dt =
        d.changed === 0
          ? `Since step ${prevStepIndex}: no channel of the moving statistics changed.`
          : `Since step ${prevStepIndex}: ${count(d.changed)} of ${count(l.channels)} channels changed · max |Δ moving mean| ${short(d.maxMean)} · max |Δ moving variance| ${short(d.maxVar)}`;
    } else if (prev) dt = `The layer's shape changed since step ${prevStepIndex}.`;
    else
      dt = l.movingUpdated
        ? 'First step seen: the moving statistics differ from their initial values.'
        : 'First step seen: nothing to compare with yet.';
    setText(this.deltaEl, dt);
    this.deltaEl.classList.toggle('has-changes', !!d && d.changed > 0);

    const lc = l.lastCall;
    setText(
      this.chartsCaption,
      `Per channel. Solid: the moving statistics${lc ? `; dashed: the batch statistics of the last call (${lc.training ? 'training' : 'inference'}, input ${shape(lc.inputShape)})` : ' (no call yet: no batch statistics)'}${d && d.changed ? `; red ticks under the axis: channels changed since step ${prevStepIndex}` : ''}.`,
    );

    const max = String(Math.max(0, l.channels - 1));
    if (this.channelInput.max !== max) this.channelInput.max = max;
    const ch = String(Math.min(this.host.channel(this.key), Math.max(0, l.channels - 1)));
    if (this.channelInput.value !== ch && document.activeElement !== this.channelInput) this.channelInput.value = ch;
    this.channelInput.setAttribute('aria-label', `Channel shown in the timeline of ${l.name}`);
    this.tableWrap.setAttribute('aria-label', `Exact numbers of ${l.name}`);
    if (this.built) {
      this.refreshLabels(l);
      this.refreshTimelineNote(l);
    }
    this.dirty = true;
    this.timelineDirty = true;
  }

  /** "N steps kept · thinned M old steps · …" (text: set with the other text, never while drawing) */
  private refreshTimelineNote(l: LayerSnapshot): void {
    const ch = Math.min(this.host.channel(this.key), Math.max(0, l.channels - 1));
    const h = this.host.history;
    const { kept, missing } = h.coverage(this.key, ch);
    const notes = [`${count(kept)} step${kept === 1 ? '' : 's'} kept`];
    const thinned = this.host.thinned();
    if (thinned > 0) notes.push(`thinned ${count(thinned)} old step${thinned === 1 ? '' : 's'} to bound memory`);
    if (missing > 0)
      notes.push(
        `channel ${ch} has no value for ${count(missing)} older step${missing === 1 ? '' : 's'} (only the channel picked then was kept)`,
      );
    setText(this.timelineNote, notes.join(' · '));
  }

  /** Legends and accessible names of the charts (DOM text: done with the other text, never while drawing). */
  private refreshLabels(l: LayerSnapshot): void {
    const call = l.lastCall;
    const callDesc = call
      ? `last call (${call.training ? 'training' : 'inference'}, input ${shape(call.inputShape)})`
      : 'no call yet';
    const d = this.delta;
    for (const c of this.charts) {
      let label: string;
      const legend: [string, string, boolean][] = [];
      let marks: Uint8Array | null = null;
      switch (c.kind) {
        case 'mean':
          legend.push(['moving', 'moving mean', false], ['batch', 'batch mean', true]);
          marks = d?.marksMean ?? null;
          label = `Moving mean and batch mean of the ${callDesc} over ${l.channels} channels`;
          break;
        case 'variance':
          legend.push(['moving', 'moving variance', false], ['batch', 'batch variance', true]);
          marks = d?.marksVar ?? null;
          label = `Moving variance and batch variance of the ${callDesc} over ${l.channels} channels`;
          break;
        case 'gamma':
          legend.push(['gamma', l.gamma ? 'gamma (scale)' : 'gamma: none (scale: false)', false]);
          label = l.gamma ? `Gamma over ${l.channels} channels` : 'No gamma';
          break;
        default:
          legend.push(['beta', l.beta ? 'beta (offset)' : 'beta: none (center: false)', false]);
          label = l.beta ? `Beta over ${l.channels} channels` : 'No beta';
      }
      if (marks && d && d.changed > 0) {
        let n = 0;
        for (let i = 0; i < marks.length; i++) n += marks[i];
        if (n) {
          legend.push(['changed', `changed: ${count(n)}`, false]);
          label += `; ${n} channels changed since step ${this.prevStepIndex}`;
        }
      }
      this.setLegend(c.legend, legend);
      if (c.canvas.getAttribute('aria-label') !== label) c.canvas.setAttribute('aria-label', label);
    }
    const ch = Math.min(this.host.channel(this.key), Math.max(0, l.channels - 1));
    for (const tl of this.timelines) {
      this.setLegend(tl.legend, [
        ['moving', `moving ${tl.which}: mean over channels`, false],
        ['channel', `channel ${ch}`, true],
      ]);
      tl.canvas.setAttribute(
        'aria-label',
        `Timeline of the moving ${tl.which} across steps: mean over channels, and channel ${ch}`,
      );
    }
  }

  /** the canvases whose CSS size the panel watches (ResizeObserver) */
  canvases(): HTMLCanvasElement[] {
    return [...this.charts.map((c) => c.canvas), ...this.timelines.map((t) => t.canvas)];
  }

  /** a canvas got a new CSS size (from the panel's ResizeObserver: no layout read here) */
  resized(canvas: HTMLCanvasElement, w: number, h: number): void {
    for (const c of this.charts)
      if (c.canvas === canvas && (c.w !== w || c.h !== h)) {
        c.w = w;
        c.h = h;
        this.dirty = true;
      }
    for (const t of this.timelines)
      if (t.canvas === canvas && (t.w !== w || t.h !== h)) {
        t.w = w;
        t.h = h;
        this.timelineDirty = true;
      }
  }

  /** Draws charts or table, and the timeline, if needed (canvas sizes are cached: no layout read). */
  draw(): void {
    const l = this.layer;
    if (!l) return;
    this.ensureBuilt();
    if (this.dirty) {
      this.dirty = false;
      if (this.host.isTable(this.key)) this.fillTable(l);
      else this.drawCharts(l);
    }
    if (this.timelineDirty) {
      this.timelineDirty = false;
      this.drawTimelines(l);
    }
  }

  invalidate(): void {
    this.dirty = true;
    this.timelineDirty = true;
  }

  private drawCharts(l: LayerSnapshot): void {
    const t = this.host.theme();
    const call = l.lastCall;
    const d = this.delta;
    for (const c of this.charts) {
      let series: { data: Float32Array | null; color: string; dashed?: boolean }[];
      let marks: Uint8Array | null = null;
      switch (c.kind) {
        case 'mean':
          series = [
            { data: l.movingMean, color: t.moving },
            { data: call?.batchMean ?? null, color: t.batch, dashed: true },
          ];
          marks = d && d.changed ? d.marksMean : null;
          break;
        case 'variance':
          series = [
            { data: l.movingVariance, color: t.moving },
            { data: call?.batchVariance ?? null, color: t.batch, dashed: true },
          ];
          marks = d && d.changed ? d.marksVar : null;
          break;
        case 'gamma':
          series = [{ data: l.gamma, color: t.gamma }];
          break;
        default:
          series = [{ data: l.beta, color: t.beta }];
      }
      if (c.w <= 0 || c.h <= 0) {
        this.dirty = true; // not laid out yet: drawn when the ResizeObserver reports a size
        continue;
      }
      const ctx = prepare(c.canvas, c.w, c.h);
      if (ctx) drawChannels(ctx, t, c.w, c.h, l.channels, series, marks, c.kind === 'variance');
    }
  }

  private fillTable(l: LayerSnapshot): void {
    const call = l.lastCall;
    setText(
      this.tableCaption,
      `Exact values (float32, written as the nearest double) at step ${this.stepIndex}; batch columns from the ${call ? `last call (${call.training ? 'training' : 'inference'})` : 'last call (none yet)'}; Δ since step ${this.prevStepIndex || '—'}.`,
    );
    if (!this.theadRow.firstChild) {
      for (const c of TABLE_COLS) this.theadRow.append(el('th', null, c, { scope: 'col' }));
    }
    const n = l.channels;
    const rows = this.tbody.rows;
    while (rows.length > n) this.tbody.deleteRow(rows.length - 1);
    const d = this.delta;
    const cols = this.rowValues(l);
    for (let i = 0; i < n; i++) {
      let tr = rows[i] as HTMLTableRowElement | undefined;
      if (!tr) {
        tr = el('tr');
        for (let k = 0; k < TABLE_COLS.length; k++)
          tr.append(el(k === 0 ? 'th' : 'td', null, '', k === 0 ? { scope: 'row' } : undefined));
        this.tbody.append(tr);
      }
      const changed = !!d && (d.marksMean[i] === 1 || d.marksVar[i] === 1);
      tr.classList.toggle('changed', changed);
      const cells = tr.cells;
      setText(cells[0], String(i));
      setText(cells[1], d ? (changed ? 'yes' : '') : '');
      for (let k = 0; k < cols.length; k++) setText(cells[k + 2], cols[k](i));
    }
  }

  /** the value columns (after 'ch' and 'changed') as functions of the channel */
  private rowValues(l: LayerSnapshot): ((i: number) => string)[] {
    const v = (a: Float32Array | null | undefined) => (i: number) => (a ? exact(a[i]) : '');
    const d = this.delta;
    return [
      v(l.movingMean),
      v(l.lastCall?.batchMean),
      v(l.movingVariance),
      v(l.lastCall?.batchVariance),
      v(l.gamma),
      v(l.beta),
      v(d?.dMean),
      v(d?.dVar),
    ];
  }

  /** The table as tab-separated text (exact numbers). */
  tsv(): string {
    const l = this.layer;
    if (!l) return '';
    const cols = this.rowValues(l);
    const d = this.delta;
    const lines = [TABLE_COLS.join('\t')];
    for (let i = 0; i < l.channels; i++) {
      const changed = !!d && (d.marksMean[i] === 1 || d.marksVar[i] === 1);
      lines.push([String(i), changed ? 'yes' : '', ...cols.map((f) => f(i))].join('\t'));
    }
    return lines.join('\n') + '\n';
  }

  private async copy(): Promise<void> {
    const text = this.tsv();
    try {
      await navigator.clipboard.writeText(text);
      setText(this.copyNote, `copied ${count(this.layer?.channels ?? 0)} rows`);
    } catch {
      // no clipboard permission: select the table so Ctrl+C copies it
      const sel = window.getSelection();
      if (sel) {
        const range = document.createRange();
        range.selectNode(this.table);
        sel.removeAllRanges();
        sel.addRange(range);
      }
      setText(this.copyNote, 'selected: press Ctrl+C (Cmd+C) to copy');
    }
  }

  private pickChannel(): void {
    const l = this.layer;
    const max = l ? Math.max(0, l.channels - 1) : 0;
    let ch = Math.round(Number(this.channelInput.value));
    if (!Number.isFinite(ch)) ch = 0;
    ch = Math.min(max, Math.max(0, ch));
    this.channelInput.value = String(ch);
    this.host.setChannel(this.key, ch);
    if (l && this.built) {
      this.refreshLabels(l);
      this.refreshTimelineNote(l);
    }
    this.timelineDirty = true;
    this.host.layoutChanged();
  }

  private drawTimelines(l: LayerSnapshot): void {
    const t = this.host.theme();
    const ch = Math.min(this.host.channel(this.key), Math.max(0, l.channels - 1));
    const s = this.host.history.series(this.key, ch);
    this.series = s;
    for (const tl of this.timelines) {
      const mean = tl.which === 'mean' ? s.meanMM : s.meanMV;
      const chan = tl.which === 'mean' ? s.chMM : s.chMV;
      if (tl.w <= 0 || tl.h <= 0) {
        this.timelineDirty = true;
        continue;
      }
      const ctx = prepare(tl.canvas, tl.w, tl.h);
      if (ctx)
        drawTimeline(
          ctx,
          t,
          tl.w,
          tl.h,
          s.steps,
          [
            { data: mean, color: t.moving },
            { data: chan, color: t.batch, dashed: true },
          ],
          tl.which === 'variance',
        );
    }
  }

  private hoverChart(c: ChartSlot, x: number): void {
    const l = this.layer;
    if (!l) return;
    const i = channelAt(c.canvas.clientWidth, x, l.channels);
    if (i < 0) return setText(c.readout, '');
    const call = l.lastCall;
    let text = `ch ${i}: `;
    switch (c.kind) {
      case 'mean':
        text += `moving ${prec(l.movingMean[i])} · batch ${call ? prec(call.batchMean[i]) : '—'}`;
        if (this.delta?.marksMean[i]) text += ` · Δ ${prec(this.delta.dMean[i])}`;
        break;
      case 'variance':
        text += `moving ${prec(l.movingVariance[i])} · batch ${call ? prec(call.batchVariance[i]) : '—'}`;
        if (this.delta?.marksVar[i]) text += ` · Δ ${prec(this.delta.dVar[i])}`;
        break;
      case 'gamma':
        text += l.gamma ? prec(l.gamma[i]) : '—';
        break;
      default:
        text += l.beta ? prec(l.beta[i]) : '—';
    }
    setText(c.readout, text);
  }

  private hoverTimeline(tl: TimelineSlot, x: number): void {
    const s = this.series;
    if (!s) return;
    const i = timelineIndexAt(tl.canvas.clientWidth, x, s.steps);
    if (i < 0) return setText(tl.readout, '');
    const mean = tl.which === 'mean' ? s.meanMM : s.meanMV;
    const chan = tl.which === 'mean' ? s.chMM : s.chMV;
    setText(
      tl.readout,
      `step ${s.steps[i]}: mean over channels ${prec(mean[i])} · channel ${this.host.channel(this.key)} ${prec(chan[i])}`,
    );
  }
}
