/**
 * A chart of a card, drawn by uPlot (imported, bundled into dist/webview.js; its stylesheet is media/uplot.css,
 * a copy of uplot/dist/uPlot.min.css that media/inspector.css imports, so the strict CSP needs no inline style:
 * uPlot sizes its elements through CSSOM properties, which the CSP allows).
 * Two kinds: per channel (x = channel index, a layer's vectors; changed channels marked under the plot) and
 * across steps (x = step index, not evenly spaced after thinning). Colours come from the ChartTheme at each
 * draw. The y axis is ours (axisRange: float noise around a constant draws flat); uPlot draws the lines (min/max
 * per pixel column when there are more points than pixels), dots when there is room and the axes.
 * A chart is drawn synchronously (uPlot's batch) at the size the panel's ResizeObserver reported: no layout
 * read while drawing.
 */
import uPlot from 'uplot';
import { type Range, rangeOf } from './axisRange';
import type { ChartTheme } from './chartTheme';
import { short } from './format';

export interface PlotSeries {
  data: ArrayLike<number> | null;
  color: string;
  dashed?: boolean;
}

/** uPlot data: typed arrays as they are; non-finite values as null (a gap, the pen lifted); no data: all gaps */
function yValues(d: ArrayLike<number> | null, n: number): (number | null)[] | Float32Array | Float64Array {
  if (d && (d instanceof Float32Array || d instanceof Float64Array) && d.length === n) {
    let finite = true;
    for (let i = 0; i < n && finite; i++) finite = Number.isFinite(d[i]);
    if (finite) return d;
  }
  const out = new Array<number | null>(n);
  for (let i = 0; i < n; i++) {
    const v = d && i < d.length ? d[i] : NaN;
    out[i] = Number.isFinite(v) ? v : null;
  }
  return out;
}

const xsCache = new Map<number, Float64Array>();
/** 0 … n-1 (shared between the charts of layers with as many channels) */
function channelXs(n: number): Float64Array {
  let xs = xsCache.get(n);
  if (!xs) {
    xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = i;
    if (xsCache.size > 64) xsCache.clear();
    xsCache.set(n, xs);
  }
  return xs;
}

/** height (CSS px) of the band under a channel plot where changed channels are marked */
const MARK_BAND = 5;
/** integer steps for the x ticks (channels, steps) */
const INT_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 1e5, 1e6];

/**
 * One chart: a uPlot instance in `box` (a block whose CSS size the panel observes), created at the first draw,
 * then updated in place. `kind` 'channels': x = channel; 'steps': x = step index.
 */
export class Plot {
  readonly box: HTMLElement;
  private u: uPlot | null = null;
  private t: ChartTheme | null = null;
  private series: PlotSeries[] = [];
  private yRange: Range = { lo: 0, hi: 1 };
  private xRange: Range = { lo: 0, hi: 1 };
  /** the first and last x of the data */
  private dataX: Range = { lo: 0, hi: 0 };
  private n = 0;
  private marks: Uint8Array | null = null;
  private empty = '';

  /** `onHover(i)`: the pointer is at point i of the data (-1: left the plot) */
  constructor(
    box: HTMLElement,
    private kind: 'channels' | 'steps',
    private nSeries: number,
    private onHover: (i: number) => void,
  ) {
    this.box = box;
  }

  /** the canvas uPlot draws on (null before the first draw) */
  get canvas(): HTMLCanvasElement | null {
    return this.u ? this.u.ctx.canvas : null;
  }

  destroy(): void {
    this.u?.destroy();
    this.u = null;
  }

  /**
   * Draws `series` (the first on top) over x = `xs` (channels: null, 0 … n-1) at CSS size w × h.
   * `marks[i]` != 0 marks channel i under the plot; `nonNegative` (variances): see axisRange.
   */
  draw(
    t: ChartTheme,
    w: number,
    h: number,
    n: number,
    xs: ArrayLike<number> | null,
    series: PlotSeries[],
    marks: Uint8Array | null,
    nonNegative: boolean,
  ): void {
    this.t = t;
    this.series = series;
    this.n = n;
    this.marks = marks;
    const r = n > 0 ? rangeOf(series, nonNegative) : null;
    this.empty = n === 0 ? (this.kind === 'channels' ? 'no channels' : 'no steps yet') : r ? '' : 'no finite values';
    this.yRange = r ?? { lo: 0, hi: 1 };
    const x = xs ? (xs instanceof Float64Array ? xs : Float64Array.from(xs)) : channelXs(n);
    const first = n ? x[0] : 0;
    const last = n ? x[n - 1] : 0;
    this.dataX = { lo: first, hi: last };
    if (this.kind === 'channels') this.xRange = { lo: -0.5, hi: Math.max(0.5, n - 0.5) };
    else {
      const pad = last > first ? (last - first) * 0.03 : 1;
      this.xRange = { lo: first - pad, hi: last + pad };
    }
    // uPlot's series k+1 is ours nSeries-1-k: the first (the moving statistics) is drawn last, on top
    const ys: ReturnType<typeof yValues>[] = [];
    for (let k = this.nSeries - 1; k >= 0; k--) ys.push(yValues(this.empty ? null : (series[k]?.data ?? null), n));
    const data = [x, ...ys] as uPlot.AlignedData;
    if (!this.u) {
      this.u = new uPlot(this.options(w, h), data, this.box);
      this.u.ctx.canvas.classList.add('plot');
      this.u.ctx.canvas.setAttribute('aria-hidden', 'true');
      const u = this.u;
      // the point nearest the pointer (offsetX is in the plot area's CSS pixels, as posToIdx wants)
      u.over.addEventListener('mousemove', (e) => this.onHover(this.n ? u.posToIdx(e.offsetX) : -1));
      u.over.addEventListener('mouseleave', () => this.onHover(-1));
    }
    const u = this.u;
    u.batch(() => {
      if (u.width !== Math.round(w) || u.height !== Math.round(h))
        u.setSize({ width: Math.round(w), height: Math.round(h) });
      u.setData(data);
    });
  }

  private options(w: number, h: number): uPlot.Options {
    const t = () => this.t!;
    const channels = this.kind === 'channels';
    const axis = (): uPlot.Axis => ({
      stroke: () => t().muted,
      font: t().font,
      grid: { stroke: () => t().grid, width: 1 },
      ticks: { stroke: () => t().grid, width: 1, size: 3 },
    });
    const series: uPlot.Series[] = [{}];
    // the first series (the moving statistics) on top: uPlot draws in order, so it goes last
    for (let k = this.nSeries - 1; k >= 0; k--) {
      const s = () => this.series[k];
      series.push({
        stroke: () => s()?.color ?? 'transparent',
        width: t().highContrast ? 2 : 1.5,
        dash: k > 0 ? [4, 3] : undefined,
        spanGaps: false,
        points: {
          show: (u) => (channels ? u.bbox.width / devicePixelRatio / Math.max(1, this.n) >= 6 : this.n <= 60),
          size: 5,
          width: 1.5,
          stroke: () => s()?.color ?? 'transparent',
          // the batch statistics (dashed) get hollow dots: told apart without colour
          fill: () => (k > 0 ? t().bg : (s()?.color ?? 'transparent')),
        },
      });
    }
    return {
      width: Math.round(w),
      height: Math.round(h),
      legend: { show: false },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      // no uPlot cursor: it would track the plot's position (a layout read) at every setData; the readout
      // comes from our own pointer listener (below)
      cursor: { show: false },
      padding: [6, 14, 0, 0],
      scales: {
        x: { time: false, range: () => [this.xRange.lo, this.xRange.hi] },
        y: { range: () => [this.yRange.lo, this.yRange.hi] },
      },
      axes: [
        {
          ...axis(),
          size: 16 + (channels ? MARK_BAND + 2 : 0),
          gap: channels ? MARK_BAND + 3 : 2,
          ticks: { show: !channels, stroke: () => t().grid, width: 1, size: 3 },
          grid: { show: false },
          incrs: INT_INCRS,
          space: 36,
          // ticks only where there is data (no "step 0" beside a single step 1)
          filter: (_u, splits) => splits.map((v) => (v >= this.dataX.lo && v <= this.dataX.hi ? v : null)),
          values: (_u, splits) => splits.map((v) => (v == null ? '' : channels ? `ch ${v}` : `step ${v}`)),
        },
        { ...axis(), size: 46, gap: 3, space: 18, values: (_u, splits) => splits.map((v) => short(v)) },
      ],
      series,
      hooks: {
        draw: [(u) => this.decorate(u)],
      },
    };
  }

  /** after uPlot drew: the dashed zero line, the changed-channel marks, or the reason there is nothing to draw */
  private decorate(u: uPlot): void {
    const t = this.t!;
    const ctx = u.ctx;
    const dpr = devicePixelRatio || 1;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    if (this.empty) {
      ctx.fillStyle = t.muted;
      ctx.font = t.font.replace(/^(\d+)px/, (_m, px) => `${Number(px) * dpr}px`);
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(this.empty, left + width / 2, top + height / 2);
      ctx.restore();
      return;
    }
    const r = this.yRange;
    if (r.lo < 0 && r.hi > 0) {
      const y = Math.round(u.valToPos(0, 'y', true)) + 0.5;
      ctx.strokeStyle = t.muted;
      ctx.lineWidth = 1;
      ctx.setLineDash([2 * dpr, 3 * dpr]);
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + width, y);
      ctx.stroke();
    }
    const marks = this.marks;
    if (marks) {
      ctx.fillStyle = t.changed;
      const yb = top + height + dpr;
      const bh = (MARK_BAND - 1) * dpr;
      const n = this.n;
      const step = width / n;
      if (step >= 1) {
        const mw = Math.max(2 * dpr, Math.min(step - dpr, 8 * dpr));
        for (let i = 0; i < n; i++) if (marks[i]) ctx.fillRect(u.valToPos(i, 'x', true) - mw / 2, yb, mw, bh);
      } else {
        let lastC = -1;
        for (let i = 0; i < n; i++) {
          if (!marks[i]) continue;
          const c = Math.floor(u.valToPos(i, 'x', true));
          if (c === lastC) continue;
          lastC = c;
          ctx.fillRect(c, yb, 1, bh);
        }
      }
    }
    ctx.restore();
  }
}
