/**
 * One chart <figure> of a card: a legend (rebuilt only when its items change), the plot canvas (its CSS size
 * comes from the panel's ResizeObserver, so drawing never reads layout) and a hover readout.
 */
import { el, setText } from './dom';
import { exact } from './format';

/** a legend item: [swatch class, text, dashed] */
export type LegendItem = [string, string, boolean];

export class ChartFigure {
  readonly fig: HTMLElement;
  readonly legend: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  readonly readout: HTMLElement;
  /** CSS size of the canvas as last reported by the ResizeObserver (0 until laid out) */
  w = 0;
  h = 0;
  private legendSig = '';

  /** `onHover` gets the CSS x of the pointer on the canvas and returns the readout's text */
  constructor(cls: string, onHover: (x: number) => string) {
    this.fig = el('figure', cls);
    this.legend = el('figcaption', 'legend');
    this.canvas = el('canvas', 'plot');
    this.canvas.setAttribute('role', 'img');
    this.readout = el('div', 'readout');
    this.readout.setAttribute('aria-hidden', 'true');
    this.fig.append(this.legend, this.canvas, this.readout);
    this.canvas.addEventListener('mousemove', (e) => setText(this.readout, onHover(e.offsetX)));
    this.canvas.addEventListener('mouseleave', () => setText(this.readout, ''));
  }

  /** rebuilds the legend only when its items changed */
  setLegend(items: LegendItem[]): void {
    const sig = items.map((i) => i.join('\u0000')).join('\u0001');
    if (this.legendSig === sig) return;
    this.legendSig = sig;
    this.legend.replaceChildren();
    for (const [cls, text, dashed] of items) {
      const item = el('span', 'legend-item');
      item.append(el('span', `swatch swatch-${cls}${dashed ? ' dashed' : ''}`), el('span', null, text));
      this.legend.append(item);
    }
  }

  setLabel(label: string): void {
    if (this.canvas.getAttribute('aria-label') !== label) this.canvas.setAttribute('aria-label', label);
  }

  /** a new CSS size from the ResizeObserver; true when it changed */
  resized(w: number, h: number): boolean {
    if (this.w === w && this.h === h) return false;
    this.w = w;
    this.h = h;
    return true;
  }

  /** not laid out yet: drawn when the ResizeObserver reports a size */
  get sized(): boolean {
    return this.w > 0 && this.h > 0;
  }
}

/** a value for the hover readout: 7 significant digits */
export function prec(v: number): string {
  if (!Number.isFinite(v)) return exact(v);
  return String(+v.toPrecision(7));
}
