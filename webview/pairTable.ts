/**
 * A card's compare tables: for each compared vector (moving mean, moving variance, gamma, beta) a foldable section
 * whose summary says how many channels differ and the largest |Δ|, holding a table of, per channel, the value under
 * the session's semantics, under the compare run's, and Δ (compare − session). One narrow table per vector (four
 * columns) so that it fits a side panel; a vector that differs is open, one that is the same is folded. A channel
 * whose values differ has its Δ cell marked in text ("≠"), in bold and outlined. Filled only when the card is drawn
 * (expanded and on screen); rows are reused between steps.
 */
import type { LayerSnapshot, Semantics } from '../src/shared/protocol';
import { SEMANTICS_LABEL } from '../src/shared/semantics';
import { COMPARED_VECTORS, type ComparedVector, type LayerComparison, sameValue } from '../src/shared/semanticsCompare';
import { VECTOR_LABEL } from './compareText';
import { el, setAttr, setHidden, setText } from './dom';
import { count, diffText, float32Text, short } from './format';

class VectorSection {
  readonly root: HTMLDetailsElement;
  private readonly summary = el('summary');
  private readonly wrap = el('div', 'pair-wrap');
  private readonly table = el('table', 'pair-table');
  private readonly headRow = el('tr');
  private readonly tbody = el('tbody');
  private headSig = '';
  /** whether it differed when last filled (open/closed follows a change of that, not every fill) */
  private lastDiffers: boolean | null = null;

  constructor(readonly vector: ComparedVector) {
    this.root = el('details', 'pair-vec');
    this.root.dataset.vector = vector;
    this.wrap.tabIndex = 0;
    this.wrap.setAttribute('role', 'region');
    const thead = el('thead');
    thead.append(this.headRow);
    this.table.append(thead, this.tbody);
    this.wrap.append(this.table);
    this.root.append(this.summary, this.wrap);
  }

  fill(a: LayerSnapshot, b: LayerSnapshot, cmp: LayerComparison, A: string, B: string): void {
    const k = this.vector;
    const v = cmp.vectors[k];
    const label = VECTOR_LABEL[k];
    const differs = v.differing > 0 || !v.diff;
    let t: string;
    if (!v.diff) t = `${label}: ≠ only ${a[k] ? A : B} has it`;
    else if (v.differing === 0) t = `${label}: same in every channel`;
    else
      t = `${label}: ≠ in ${count(v.differing)} of ${count(v.diff.length)} channels, max |Δ| ${short(v.maxAbs)} (channel ${v.channel})`;
    setText(this.summary, t);
    this.root.classList.toggle('differs', differs);
    if (differs !== this.lastDiffers) {
      this.lastDiffers = differs;
      this.root.open = differs;
    }
    setAttr(this.wrap, 'aria-label', `${a.name}, ${label}: ${A} and ${B} side by side`);
    const sig = `${A}|${B}`;
    if (sig !== this.headSig) {
      this.headSig = sig;
      this.headRow.replaceChildren(
        el('th', null, 'ch', { scope: 'col' }),
        el('th', null, A, { scope: 'col' }),
        el('th', null, B, { scope: 'col' }),
        el('th', null, `Δ = ${B} − ${A}`, { scope: 'col' }),
      );
    }
    const va = a[k];
    const vb = b[k];
    const n = Math.max(va?.length ?? 0, vb?.length ?? 0);
    const rows = this.tbody.rows;
    while (rows.length > n) this.tbody.deleteRow(rows.length - 1);
    for (let i = 0; i < n; i++) {
      let tr = rows[i] as HTMLTableRowElement | undefined;
      if (!tr) {
        tr = el('tr');
        tr.append(el('th', null, '', { scope: 'row' }), el('td'), el('td'), el('td'));
        this.tbody.append(tr);
      }
      const cells = tr.cells;
      setText(cells[0], String(i));
      setText(cells[1], va && i < va.length ? float32Text(va[i]) : '—');
      setText(cells[2], vb && i < vb.length ? float32Text(vb[i]) : '—');
      // (the comparison's own rule: sameValue, relative to max(1, |a|, |b|); a side without it differs)
      const d = v.diff;
      const ok = !!d && i < d.length;
      const diff = !ok || !sameValue(va![i], vb![i]);
      cells[3].classList.toggle('differs', diff);
      tr.classList.toggle('differs', diff);
      setText(cells[3], ok ? (diff ? `≠ ${diffText(d[i])}` : diffText(d[i])) : '≠ —');
    }
  }
}

export class PairTable {
  readonly root = el('div', 'pair');
  private readonly caption = el('p', 'pair-caption');
  private readonly sections = new Map<ComparedVector, VectorSection>();

  constructor() {
    this.root.append(this.caption);
    for (const k of COMPARED_VECTORS) {
      const s = new VectorSection(k);
      this.sections.set(k, s);
      this.root.append(s.root);
    }
  }

  /** nothing to compare (no compare run, or no counterpart): hidden */
  hide(): void {
    setHidden(this.root, true);
  }

  fill(a: LayerSnapshot, b: LayerSnapshot, cmp: LayerComparison, semA: Semantics, semB: Semantics, step: number): void {
    setHidden(this.root, false);
    const A = SEMANTICS_LABEL[semA];
    const B = SEMANTICS_LABEL[semB];
    setText(
      this.caption,
      `Step ${step}, ${A} and ${B} side by side: each float32 value in the fewest digits that read back as it, and Δ = ${B} − ${A} to 9 digits; ≠ marks a channel that differs.`,
    );
    for (const [k, s] of this.sections) {
      const has = !!(a[k] || b[k]);
      setHidden(s.root, !has);
      if (has) s.fill(a, b, cmp, A, B);
    }
  }
}
