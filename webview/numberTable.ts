/**
 * A card's table of exact numbers (one row per channel, rows reused between steps), and the same table as
 * tab-separated text for the clipboard.
 */
import type { LayerSnapshot } from '../src/shared/protocol';
import { el, setText, uid } from './dom';
import { count, exact } from './format';
import type { LayerDelta } from './layerDelta';

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

/** the value columns (after 'ch' and 'changed') as functions of the channel */
function rowValues(l: LayerSnapshot, d: LayerDelta | null): ((i: number) => string)[] {
  const v = (a: Float32Array | null | undefined) => (i: number) => (a ? exact(a[i]) : '');
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

const isChanged = (d: LayerDelta | null, i: number) => !!d && (d.marksMean[i] === 1 || d.marksVar[i] === 1);

/** The table as tab-separated text (exact numbers). */
export function tableTsv(l: LayerSnapshot, d: LayerDelta | null): string {
  const cols = rowValues(l, d);
  const lines = [TABLE_COLS.join('\t')];
  for (let i = 0; i < l.channels; i++)
    lines.push([String(i), isChanged(d, i) ? 'yes' : '', ...cols.map((f) => f(i))].join('\t'));
  return lines.join('\n') + '\n';
}

export class NumberTable {
  /** the scrolling region: caption and table */
  readonly wrap = el('div', 'table-wrap');
  readonly table: HTMLTableElement;
  private readonly caption: HTMLElement;
  private readonly theadRow = el('tr');
  private readonly tbody = el('tbody');

  constructor() {
    this.wrap.tabIndex = 0;
    this.wrap.setAttribute('role', 'region');
    // the caption is a block inside the scrolling region, not a <caption>: a <caption> is as wide as the
    // (wide, horizontally scrolling) table and got clipped mid-word; this one wraps within the visible width
    const captionId = uid('caption');
    this.caption = el('p', 'table-caption', null, { id: captionId });
    this.table = el('table', 'numbers', null, { 'aria-labelledby': captionId });
    const thead = el('thead');
    thead.append(this.theadRow);
    this.table.append(thead, this.tbody);
    this.wrap.append(this.caption, this.table);
  }

  setLayerName(name: string): void {
    this.wrap.setAttribute('aria-label', `Exact numbers of ${name}`);
  }

  fill(l: LayerSnapshot, d: LayerDelta | null, stepIndex: number, prevStepIndex: number): void {
    const call = l.lastCall;
    setText(
      this.caption,
      `Exact values (float32, written as the nearest double) at step ${stepIndex}; batch columns from the ${call ? `last call (${call.training ? 'training' : 'inference'})` : 'last call (none yet)'}; Δ since step ${prevStepIndex || '—'}.`,
    );
    if (!this.theadRow.firstChild) {
      for (const c of TABLE_COLS) this.theadRow.append(el('th', null, c, { scope: 'col' }));
    }
    const n = l.channels;
    const rows = this.tbody.rows;
    while (rows.length > n) this.tbody.deleteRow(rows.length - 1);
    const cols = rowValues(l, d);
    for (let i = 0; i < n; i++) {
      let tr = rows[i] as HTMLTableRowElement | undefined;
      if (!tr) {
        tr = el('tr');
        for (let k = 0; k < TABLE_COLS.length; k++)
          tr.append(el(k === 0 ? 'th' : 'td', null, '', k === 0 ? { scope: 'row' } : undefined));
        this.tbody.append(tr);
      }
      const changed = isChanged(d, i);
      tr.classList.toggle('changed', changed);
      const cells = tr.cells;
      setText(cells[0], String(i));
      setText(cells[1], d ? (changed ? 'yes' : '') : '');
      for (let k = 0; k < cols.length; k++) setText(cells[k + 2], cols[k](i));
    }
  }

  /** Copies `text` to the clipboard, or selects the table when that is not allowed; returns what happened. */
  async copy(text: string, rows: number): Promise<string> {
    try {
      await navigator.clipboard.writeText(text);
      return `copied ${count(rows)} rows`;
    } catch {
      // no clipboard permission: select the table so Ctrl+C copies it
      const sel = window.getSelection();
      if (sel) {
        const range = document.createRange();
        range.selectNode(this.table);
        sel.removeAllRanges();
        sel.addRange(range);
      }
      return 'selected: press Ctrl+C (Cmd+C) to copy';
    }
  }
}
