/**
 * The overview above the cards: the baseline bar (what drift is measured from, pin / unpin), the heat strip
 * (heatStrip.ts), the grouped warnings (warningGroups.ts) and one row per layer in model order (name, channels,
 * mode badges, change in this step, drift from the baseline, the compare run's paired indicator, warnings, where it
 * was built), filtered like the cards. The rows are a keyboard grid: one tab stop; ↑ ↓ Home End PageUp PageDown move between rows, → ← between
 * a row's name and its source link, Enter or Space (or a click) opens the layer's card. Rows are built once per
 * layer and updated in place (text only where it changed).
 * One unit of ~400 lines (the row class and the grid): the keyboard grid, the rows and the baseline bar share the
 * row order, the filter's result and the one tab stop; split apart, each would need all three.
 */
import type { LayerSnapshot, SourcePosition } from '../src/shared/protocol';
import type { RowIndicator } from './compareText';
import { button, el, setAttr, setHidden, setText } from './dom';
import type { Drift } from './drift';
import { DRIFT_MEASURES, baselineName, driftShort, frozenDriftCallout } from './driftText';
import { warningTitle } from './explain';
import type { HeatData } from './heatData';
import { HeatStrip } from './heatStrip';
import { count } from './format';
import { WarningGroups } from './warningGroups';

export interface OverviewHost {
  openCard(key: string): void;
  reveal(file: string, line: number): void;
  pinBaseline(index: number | null): void;
}

/** what the overview shows of one layer */
export interface RowInput {
  key: string;
  layer: LayerSnapshot;
  /** change since the previous step (null: none, or reshaped) */
  stepChange: Drift | null;
  /** the layer existed in the previous step */
  hadPrev: boolean;
  baseDrift: Drift | null;
  baseStep: number | null;
  /** the compare run's paired indicator (null: no compare step to pair with) */
  compare?: RowIndicator | null;
}

export interface OverviewInput {
  stepIndex: number;
  prevIndex: number;
  rows: RowInput[];
  heat: HeatData;
  /** the filter keeps this layer */
  shown: (key: string) => boolean;
  pinned: number | null;
  pinMissing: boolean;
  /** one line about the compare run for this step (null: no compare run) */
  compareBanner?: string | null;
}

/** "mobilenet-v2-finetune.ts:23" */
export function sourceLabel(src: SourcePosition): string {
  return `${src.file.split(/[\\/]/).pop()}:${src.line}`;
}

export const OUTSIDE_TEXT = 'made outside your code (e.g. a loaded model)';

type RowBadge = { text: string; tone: string; title: string; mode?: boolean };

function rowBadges(l: LayerSnapshot): RowBadge[] {
  const out: RowBadge[] = [];
  const last = l.lastCall;
  // the mode of the last call first: it is what decides whether the moving statistics move; 'frozen' is a
  // neutral flag (trainable plays no part under tfjs and PyTorch, and acts only through the mode under Keras)
  if (!last) out.push({ text: 'never called', tone: 'muted', title: 'not called yet' });
  else {
    const batch = last.statsUsed === 'batch';
    out.push({
      text: batch ? 'training mode' : 'inference mode',
      tone: batch ? 'train' : 'infer',
      mode: true,
      title: `last call in ${batch ? 'training' : 'inference'} mode (training = ${last.training}; normalised with the ${last.statsUsed} statistics)`,
    });
  }
  if (!l.trainable)
    out.push({
      text: 'frozen',
      tone: 'neutral',
      title:
        'trainable: false (gamma and beta do not learn; whether the moving statistics move is decided by the mode)',
    });
  if (l.updates > 0)
    out.push({
      text: `updated ×${l.updates}`,
      tone: l.trainable ? 'updated' : 'warn',
      title: `moving statistics updated ${l.updates} time${l.updates === 1 ? '' : 's'} in this step${l.trainable ? '' : ', although the layer is frozen'}`,
    });
  else if (l.movingUpdated)
    out.push({ text: 'set directly', tone: 'warn', title: 'the moving statistics changed without a training update' });
  else out.push({ text: 'not updated', tone: 'muted', title: 'the moving statistics did not change in this step' });
  return out;
}

class OverviewRow {
  readonly root = el('div', 'ov-row', null, { role: 'row' });
  readonly nameCell = el('span', 'ov-name', null, { role: 'gridcell', tabindex: '-1' });
  private nameEl = el('strong', 'ov-layer-name');
  private chEl = el('span', 'ov-ch', null, { role: 'gridcell' });
  private badgesEl = el('span', 'ov-badges', null, { role: 'gridcell' });
  private stepEl = el('span', 'ov-step', null, { role: 'gridcell' });
  private driftEl = el('span', 'ov-drift', null, { role: 'gridcell' });
  private warnEl = el('span', 'ov-warn', null, { role: 'gridcell' });
  private cmpEl = el('span', 'ov-cmp', null, { role: 'gridcell' });
  private srcCell = el('span', 'ov-src', null, { role: 'gridcell' });
  private srcBtn = el('button', 'link ov-src-link', null, { type: 'button', tabindex: '-1' });
  private srcText = el('span', 'ov-src-none', OUTSIDE_TEXT);
  private badgeSig = '';
  source: SourcePosition | null = null;

  constructor(
    readonly key: string,
    reveal: (src: SourcePosition) => void,
  ) {
    this.root.dataset.key = key;
    this.nameCell.append(this.nameEl);
    this.srcBtn.addEventListener('click', (e) => {
      e.stopPropagation();
      if (this.source) reveal(this.source);
    });
    this.srcCell.append(this.srcText);
    this.cmpEl.hidden = true;
    this.root.append(
      this.nameCell,
      this.chEl,
      this.badgesEl,
      this.stepEl,
      this.driftEl,
      this.cmpEl,
      this.warnEl,
      this.srcCell,
    );
  }

  /** the focusable source link, when the layer has a source */
  get link(): HTMLButtonElement | null {
    return this.source ? this.srcBtn : null;
  }

  update(r: RowInput, prevIndex: number, stepIndex: number): void {
    const l = r.layer;
    setText(this.nameEl, l.name);
    // (the enclosing models are the same for most rows: said in the tooltip and the card, not on every row)
    setAttr(this.nameCell, 'title', l.path.join(' › '));
    setText(this.chEl, `${count(l.channels)} ch`);
    setAttr(this.chEl, 'title', `${count(l.channels)} channels`);
    const badges = rowBadges(l);
    const sig = JSON.stringify(badges);
    if (sig !== this.badgeSig) {
      this.badgeSig = sig;
      this.badgesEl.replaceChildren(
        ...badges.map((b) => {
          const s = el('span', `badge tone-${b.tone}${b.mode ? ' badge-mode' : ''}`, b.text);
          s.title = b.title;
          return s;
        }),
      );
    }
    let st: string;
    if (r.stepChange) st = `step: ${driftShort(r.stepChange)}`;
    else if (r.hadPrev) st = 'step: reshaped';
    else st = l.updates > 0 || l.movingUpdated ? 'step: updated (first seen)' : 'step: first seen';
    setText(this.stepEl, st);
    setAttr(
      this.stepEl,
      'title',
      r.stepChange
        ? `change ${prevIndex > 0 ? `since step ${prevIndex}` : "in this step (from before the layer's first call)"}: ${driftShort(r.stepChange)}`
        : 'no earlier step of this layer to compare with',
    );
    this.stepEl.classList.toggle('moved', !!r.stepChange && r.stepChange.changed > 0);
    let dr: string;
    if (r.baseStep == null) dr = 'drift: —';
    else if (r.baseStep === stepIndex) dr = 'drift: baseline';
    else dr = `drift: ${driftShort(r.baseDrift)}`;
    setText(this.driftEl, dr);
    const callout = frozenDriftCallout(l.trainable, r.baseDrift, r.baseStep);
    setAttr(
      this.driftEl,
      'title',
      callout ?? (r.baseStep != null ? `drift since the baseline (${baselineName(r.baseStep)})` : ''),
    );
    this.driftEl.classList.toggle('callout', !!callout);
    this.driftEl.classList.toggle('moved', !!r.baseDrift && r.baseDrift.changed > 0);
    const c = r.compare ?? null;
    setHidden(this.cmpEl, !c);
    if (c) {
      setText(this.cmpEl, c.text);
      setAttr(this.cmpEl, 'title', c.title);
      this.cmpEl.classList.toggle('differs', c.differs);
    }
    const codes = [...new Set(l.warnings.map((w) => w.code))];
    setText(this.warnEl, codes.length ? `⚠ ${codes.map((c) => warningTitle(c)).join(', ')}` : '');
    setHidden(this.warnEl, codes.length === 0);
    const had = !!this.source;
    this.source = l.source ?? null;
    // (the link is in the document only when there is a source: no empty, nameless button)
    if (had !== !!this.source) this.srcCell.replaceChildren(this.source ? this.srcBtn : this.srcText);
    if (this.source) {
      setText(this.srcBtn, `built at ${sourceLabel(this.source)}`);
      setAttr(this.srcBtn, 'title', `${this.source.file}:${this.source.line}:${this.source.column}`);
      setAttr(this.srcBtn, 'aria-label', `Reveal where ${l.name} was built: ${sourceLabel(this.source)}`);
    }
  }
}

export class Overview {
  readonly root = el('section', 'overview', null, { 'aria-labelledby': 'overview-title' });
  readonly warnings: WarningGroups;
  private strip: HeatStrip;
  private baseText = el('span', 'baseline-text');
  private compareEl = el('p', 'compare-banner', null, { role: 'status' });
  private pinBtn: HTMLButtonElement;
  private unpinBtn: HTMLButtonElement;
  /** pin any earlier step by its number (its statistics must still be kept by the timeline) */
  private pinInput = el('input', 'pin-step', null, {
    type: 'number',
    min: '1',
    step: '1',
    'aria-label': 'Pin step number as baseline',
  });
  private grid = el('div', 'ov-grid', null, { role: 'grid', 'aria-label': 'BatchNormalization layers, model order' });
  private rows = new Map<string, OverviewRow>();
  private order: string[] = [];
  private shownKeys: string[] = [];
  private activeKey = '';
  private stepIndex = 0;
  private pinned: number | null = null;

  constructor(private host: OverviewHost) {
    const title = el('h2', 'overview-title', 'Overview', { id: 'overview-title' });
    const bar = el('div', 'baseline-bar');
    this.pinBtn = button('Pin this step as baseline', 'pin', 'secondary pin-baseline');
    this.pinBtn.addEventListener('click', () => this.host.pinBaseline(this.stepIndex));
    this.unpinBtn = button('Back to the first snapshots', 'discard', 'secondary unpin-baseline');
    this.unpinBtn.addEventListener('click', () => this.host.pinBaseline(null));
    const how = el('details', 'drift-how');
    how.append(el('summary', null, 'How drift is measured'), el('p', null, `Drift: ${DRIFT_MEASURES}.`));
    const pinAny = el('label', 'pin-any');
    pinAny.append(el('span', null, 'or step'), this.pinInput);
    pinAny.title = 'Type a step number and press Enter to pin it (a step whose statistics the panel still keeps)';
    this.pinInput.addEventListener('change', () => {
      const n = Number(this.pinInput.value);
      if (Number.isInteger(n) && n >= 1 && n <= this.stepIndex) this.host.pinBaseline(n);
    });
    bar.append(this.baseText, this.pinBtn, pinAny, this.unpinBtn, how);
    this.strip = new HeatStrip({ openCard: (k) => this.host.openCard(k) });
    this.warnings = new WarningGroups((k) => this.host.openCard(k));
    this.compareEl.hidden = true;
    this.root.append(title, this.compareEl, bar, this.strip.root, this.warnings.root, this.grid);
    this.grid.addEventListener('keydown', (e) => this.onKey(e));
    this.grid.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.ov-row');
      if (row?.dataset.key && !(e.target as HTMLElement).closest('button')) this.open(row.dataset.key);
    });
  }

  /** the theme changed: the strip redraws */
  invalidate(): void {
    this.strip.invalidate();
  }

  render(o: OverviewInput): void {
    this.stepIndex = o.stepIndex;
    setHidden(this.compareEl, !o.compareBanner);
    if (o.compareBanner) setText(this.compareEl, o.compareBanner);
    this.pinned = o.pinned;
    const live = new Set(o.rows.map((r) => r.key));
    for (const [k, row] of this.rows)
      if (!live.has(k)) {
        row.root.remove();
        this.rows.delete(k);
      }
    const names = new Map<string, string>();
    for (const r of o.rows) {
      let row = this.rows.get(r.key);
      if (!row) {
        row = new OverviewRow(r.key, (src) => this.host.reveal(src.file, src.line));
        this.rows.set(r.key, row);
      }
      row.update(r, o.prevIndex, o.stepIndex);
      names.set(r.key, r.layer.name);
    }
    const keys = o.rows.map((r) => r.key);
    if (keys.length !== this.order.length || keys.some((k, i) => k !== this.order[i])) {
      const frag = document.createDocumentFragment();
      for (const k of keys) frag.append(this.rows.get(k)!.root);
      this.grid.append(frag);
      this.order = keys;
    }
    this.shownKeys = [];
    for (const k of keys) {
      const on = o.shown(k);
      setHidden(this.rows.get(k)!.root, !on);
      if (on) this.shownKeys.push(k);
    }
    this.rove();
    const many = keys.length > 1;
    setHidden(this.grid, !many);
    setHidden(this.strip.root, !many);
    if (many) this.strip.update(o.heat, this.shownKeys, names);
    this.warnings.update(
      o.rows.map((r) => r.layer),
      keys,
    );
    // the baseline bar
    const first = o.rows.reduce<number | null>(
      (m, r) => (r.baseStep == null ? m : Math.min(m ?? Infinity, r.baseStep)),
      null,
    );
    const firstText =
      first === 0
        ? "the start of the run (each layer's moving statistics before its first call: a loaded model's as loaded, a new layer's initial values)"
        : `each layer's first snapshot${first != null ? ` (step ${first})` : ''}`;
    let t: string;
    if (o.pinned != null && !o.pinMissing) t = `Drift from the baseline: step ${o.pinned} (pinned).`;
    else if (o.pinned != null)
      t = `Drift from the baseline: step ${o.pinned} is pinned but its statistics are not here (not reached yet, or no longer kept): ${firstText} is used.`;
    else t = `Drift from the baseline: ${firstText}.`;
    setText(this.baseText, t);
    // (no pin button when this step already is the baseline)
    const isBase = o.pinned != null && !o.pinMissing ? o.pinned === o.stepIndex : first === o.stepIndex;
    setHidden(this.pinBtn, isBase);
    setText(this.pinBtn.querySelector('.label')!, `Pin step ${o.stepIndex} as baseline`);
    setHidden(this.unpinBtn, o.pinned == null);
    if (this.pinInput.max !== String(o.stepIndex)) this.pinInput.max = String(o.stepIndex);
  }

  /** exactly one tab stop: the active row's name cell (the first shown row when the active one is hidden) */
  private rove(): void {
    if (!this.shownKeys.includes(this.activeKey)) this.activeKey = this.shownKeys[0] ?? '';
    for (const [k, row] of this.rows) {
      const t = k === this.activeKey ? '0' : '-1';
      if (row.nameCell.getAttribute('tabindex') !== t) row.nameCell.setAttribute('tabindex', t);
    }
  }

  private open(key: string): void {
    this.activeKey = key;
    this.rove();
    this.host.openCard(key);
  }

  private focusRow(key: string): void {
    this.activeKey = key;
    this.rove();
    this.rows.get(key)?.nameCell.focus();
  }

  private onKey(e: KeyboardEvent): void {
    const target = e.target as HTMLElement;
    const rowEl = target.closest<HTMLElement>('.ov-row');
    const key = rowEl?.dataset.key;
    if (!key) return;
    const row = this.rows.get(key)!;
    const i = this.shownKeys.indexOf(key);
    const go = (j: number) => {
      const k = this.shownKeys[Math.max(0, Math.min(this.shownKeys.length - 1, j))];
      if (k) this.focusRow(k);
    };
    const onLink = target === row.link;
    switch (e.key) {
      case 'ArrowDown':
        go(i + 1);
        break;
      case 'ArrowUp':
        go(i - 1);
        break;
      case 'Home':
        go(0);
        break;
      case 'End':
        go(this.shownKeys.length - 1);
        break;
      case 'PageDown':
        go(i + 10);
        break;
      case 'PageUp':
        go(i - 10);
        break;
      case 'ArrowRight':
        if (!onLink && row.link) row.link.focus();
        break;
      case 'ArrowLeft':
        if (onLink) row.nameCell.focus();
        break;
      case 'Enter':
      case ' ':
        if (onLink) return; // the link's own click
        this.open(key);
        break;
      default:
        return;
    }
    e.preventDefault();
  }
}
