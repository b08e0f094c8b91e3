/**
 * The overview's heat strip: one canvas, layers (rows, model order, as filtered) × steps (columns), each cell
 * coloured by how much the layer's moving statistics changed in that step (heatData.ts). Drawn as one small
 * ImageData (one pixel per kept step or per bin of steps, one per layer) scaled up without smoothing: a redraw
 * costs O(kept steps × layers) numbers and no DOM, at most once a frame. Colours from CSS variables (which map
 * to --vscode-*). Text alternative: the canvas's label says what it shows and where the largest change is; the
 * pointer shows a cell's layer, step and value in the readout line; a click opens the layer's card.
 * One unit of ~270 lines: drawing and hit-testing share the column binning and the row height.
 */
import { el, setHidden, setText } from './dom';
import { ABSENT, type HeatData, heatLevel, UNKNOWN } from './heatData';
import { short } from './format';

export interface HeatStripHost {
  openCard(key: string): void;
}

type RGB = [number, number, number];

/** the colour of a CSS colour string, through a 1×1 canvas (any syntax the browser knows) */
function rgbOf(probe: CanvasRenderingContext2D, css: string, fallback: RGB): RGB {
  if (!css) return fallback;
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = '#000';
  probe.fillStyle = css;
  probe.fillRect(0, 0, 1, 1);
  const d = probe.getImageData(0, 0, 1, 1).data;
  return d[3] ? [d[0], d[1], d[2]] : fallback;
}

export class HeatStrip {
  readonly root = el('figure', 'heat');
  private canvas = el('canvas', 'heat-canvas', null, { role: 'img' });
  private readout = el('p', 'heat-readout');
  private body: HTMLElement;
  /** said instead of the strip while it would have a single column */
  private note = el(
    'p',
    'heat-note',
    "Change per step: a picture of every layer across steps appears from the second step on; each row below says the layer's change in this one.",
  );
  private axisFrom = el('span');
  private axisTo = el('span');
  private cssW = 0;
  private cssH = '';
  private scheduled = false;
  private data: HeatData | null = null;
  private rows: string[] = [];
  private names = new Map<string, string>();
  private rowPx = 4;
  private colsShown = 0;
  /** the first column drawn */
  private c0 = 0;
  private colMap: Int32Array = new Int32Array(0);
  private probe: CanvasRenderingContext2D | null = null;
  /** the one-pixel-per-cell image, scaled up onto the visible canvas */
  private offscreen: HTMLCanvasElement | null = null;
  /** the colours, read once per theme (getComputedStyle would recalculate style at every draw) */
  private palette: ReturnType<HeatStrip['colors']> | null = null;

  constructor(private host: HeatStripHost) {
    const cap = el('figcaption', 'heat-caption');
    cap.append(
      el('strong', null, 'Change per step'),
      el(
        'span',
        null,
        ' — one row per layer (model order), one column per step; darker = the moving statistics moved more in that step (the larger of the mean shift in σ and |ln variance ratio|, against the previous step; log scale from 0.0001 to 1 or more).',
      ),
    );
    const legend = el('span', 'heat-legend', null, { 'aria-hidden': 'true' });
    legend.append(
      el('span', 'heat-key heat-key-none'),
      el('span', null, 'no change'),
      el('span', 'heat-key heat-key-ramp'),
      el('span', null, '0.0001 → ≥1'),
      el('span', 'heat-key heat-key-unknown'),
      el('span', null, 'updated, nothing to compare'),
      el('span', 'heat-key heat-key-nan'),
      el('span', null, 'NaN'),
    );
    cap.append(legend);
    const axis = el('div', 'heat-axis', null, { 'aria-hidden': 'true' });
    axis.append(this.axisFrom, this.axisTo);
    this.readout.setAttribute('aria-hidden', 'true');
    this.body = el('div', 'heat-body');
    this.body.append(cap, this.canvas, axis, this.readout);
    this.note.hidden = true;
    this.root.append(this.body, this.note);
    new ResizeObserver((entries) => {
      const w = entries[entries.length - 1].contentRect.width;
      if (w !== this.cssW) {
        this.cssW = w;
        this.schedule();
      }
    }).observe(this.canvas);
    this.canvas.addEventListener('pointermove', (e) => this.hover(e.offsetX, e.offsetY));
    this.canvas.addEventListener('pointerleave', () => setText(this.readout, ''));
    this.canvas.addEventListener('click', (e) => {
      const hit = this.at(e.offsetX, e.offsetY);
      if (hit) this.host.openCard(hit.key);
    });
  }

  /** New data or rows (the keys shown, model order; `names` by key): redrawn in the next frame. */
  update(data: HeatData, rows: string[], names: Map<string, string>): void {
    this.data = data;
    this.rows = rows;
    this.names = names;
    this.rowPx = Math.max(2, Math.min(8, Math.floor(160 / Math.max(1, rows.length))));
    const h = `${Math.max(1, rows.length) * this.rowPx}px`;
    if (this.cssH !== h) this.canvas.style.height = this.cssH = h;
    this.schedule();
  }

  /** the theme changed */
  invalidate(): void {
    this.palette = null;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  private colors() {
    const cs = getComputedStyle(document.body);
    const v = (n: string) => cs.getPropertyValue(n).trim();
    this.probe ??= document.createElement('canvas').getContext('2d', { willReadFrequently: true });
    const p = this.probe!;
    return {
      heat: rgbOf(p, v('--bn-heat'), [209, 134, 22]),
      unknown: rgbOf(p, v('--bn-heat-unknown'), [128, 128, 128]),
      nan: rgbOf(p, v('--bn-heat-nan'), [229, 20, 0]),
      cell: rgbOf(p, v('--bn-heat-cell'), [128, 128, 128]),
    };
  }

  private draw(): void {
    const data = this.data;
    if (!data || !this.root.isConnected) return;
    const nRows = this.rows.length;
    // the strip starts at the first step that has one of the rows (not at steps before any of them existed)
    let since = Infinity;
    for (const k of this.rows) since = Math.min(since, data.firstStep(k));
    let c0 = 0;
    while (c0 < data.cols.length - 1 && data.cols[c0].to < since) c0++;
    this.c0 = c0;
    const nCols = data.cols.length - c0;
    // one column says nothing across steps (and is all "nothing to compare" on a first step): a sentence instead
    // (decided before the size check: a hidden canvas has no width, and is shown again from here)
    const single = nCols <= 1;
    setHidden(this.body, single);
    setHidden(this.note, !single);
    if (single || !this.cssW) return;
    const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    const W = Math.max(1, Math.round(this.cssW * dpr));
    const H = Math.max(1, Math.round(nRows * this.rowPx * dpr));
    if (this.canvas.width !== W) this.canvas.width = W;
    if (this.canvas.height !== H) this.canvas.height = H;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.clearRect(0, 0, W, H);
    setText(this.axisFrom, nCols ? `step ${data.cols[c0].from}` : '');
    setText(this.axisTo, nCols ? `step ${data.cols[data.cols.length - 1].to}` : '');
    if (!nCols || !nRows) {
      this.canvas.setAttribute('aria-label', 'Change per step: no step yet.');
      return;
    }
    const c = (this.palette ??= this.colors());
    // one image column per kept step, or per bin of steps when there are more steps than pixels
    const cols = Math.min(nCols, W);
    this.colsShown = cols;
    this.colMap = new Int32Array(cols + 1);
    for (let j = 0; j <= cols; j++) this.colMap[j] = c0 + Math.floor((j * nCols) / cols);
    const img = new ImageData(cols, nRows);
    const px = img.data;
    const rowIdx = this.rows.map((k) => data.rowOf(k));
    let best = -1;
    let bestKey = '';
    let bestCol = 0;
    for (let r = 0; r < nRows; r++) {
      const ri = rowIdx[r];
      for (let j = 0; j < cols; j++) {
        let v: number = ABSENT;
        for (let k = this.colMap[j]; k < this.colMap[j + 1]; k++) {
          const x = data.value(k, ri);
          if (x !== x) v = NaN;
          else if (v === v && (x > v || (x === UNKNOWN && v === ABSENT))) v = x;
        }
        const o = (r * cols + j) * 4;
        let rgb: RGB;
        let a: number;
        if (v !== v) {
          rgb = c.nan;
          a = 255;
        } else if (v === ABSENT) continue;
        else if (v === UNKNOWN) {
          rgb = c.unknown;
          a = 140;
        } else if (v > 0) {
          rgb = c.heat;
          a = Math.round(255 * (0.22 + 0.78 * heatLevel(v)));
          if (v > best) {
            best = v;
            bestKey = this.rows[r];
            bestCol = j;
          }
        } else {
          rgb = c.cell;
          a = 28;
        }
        px[o] = rgb[0];
        px[o + 1] = rgb[1];
        px[o + 2] = rgb[2];
        px[o + 3] = a;
      }
    }
    const off = (this.offscreen ??= document.createElement('canvas'));
    if (off.width !== cols) off.width = cols;
    if (off.height !== nRows) off.height = nRows;
    off.getContext('2d')!.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, 0, 0, W, H);
    const first = data.cols[c0].from;
    const last = data.cols[data.cols.length - 1].to;
    let label = `Change per step of the moving statistics: ${nRows} layers × steps ${first} to ${last}.`;
    if (best > 0) {
      const col = data.cols[this.colMap[bestCol]];
      label += ` The largest change, ${short(best)}, is in ${this.names.get(bestKey) ?? bestKey} at step ${col.from}${col.to !== col.from ? `–${col.to}` : ''}.`;
    } else label += ' No layer changed in a step with an earlier step to compare with.';
    this.canvas.setAttribute('aria-label', label);
  }

  /** the cell under a pointer position (CSS px in the canvas) */
  private at(x: number, y: number): { key: string; from: number; to: number; value: number } | null {
    const data = this.data;
    if (!data || !this.cssW || !this.colsShown || !this.rows.length) return null;
    const r = Math.floor(y / this.rowPx);
    const j = Math.floor((x / this.cssW) * this.colsShown);
    if (r < 0 || r >= this.rows.length || j < 0 || j >= this.colsShown) return null;
    const key = this.rows[r];
    const ri = data.rowOf(key);
    let value = ABSENT;
    const a = this.colMap[j];
    const b = Math.max(a + 1, this.colMap[j + 1]);
    for (let k = a; k < b && k < data.cols.length; k++) {
      const v = data.value(k, ri);
      if (v !== v) value = NaN;
      else if (value === value && v > value) value = v;
    }
    return { key, from: data.cols[a].from, to: data.cols[Math.min(b, data.cols.length) - 1].to, value };
  }

  private hover(x: number, y: number): void {
    const h = this.at(x, y);
    if (!h) return setText(this.readout, '');
    const steps = h.from === h.to ? `step ${h.from}` : `steps ${h.from}–${h.to}`;
    const v =
      h.value !== h.value
        ? 'NaN'
        : h.value === ABSENT
          ? 'not built yet'
          : h.value === UNKNOWN
            ? 'updated (no earlier step to compare with)'
            : h.value === 0
              ? 'no change'
              : `change ${short(h.value)}`;
    setText(this.readout, `${this.names.get(h.key) ?? h.key} · ${steps} · ${v} (click: open its card)`);
  }
}
