/**
 * A card's per-channel charts (moving vs batch mean, moving vs batch variance, gamma, beta) and their caption.
 * The figures are built the first time the card is drawn; labels are DOM text, set with the card's other text.
 */
import type { LayerSnapshot } from '../src/shared/protocol';
import { ChartFigure, type LegendItem, prec } from './chartFigure';
import { type ChannelSeries, type ChartTheme, channelAt, drawChannels, prepare } from './charts';
import { el, setText } from './dom';
import { count, shape } from './format';
import type { LayerDelta } from './layerDelta';

type ChartKind = 'mean' | 'variance' | 'gamma' | 'beta';
const KINDS: ChartKind[] = ['mean', 'variance', 'gamma', 'beta'];

/** what the charts show: the card's current layer and its change since the previous step */
export interface ChannelData {
  layer: LayerSnapshot | null;
  delta: LayerDelta | null;
  prevStepIndex: number;
}

export class ChannelCharts {
  readonly caption = el('p', 'charts-caption');
  readonly grid = el('div', 'charts');
  private figs: { kind: ChartKind; f: ChartFigure }[] = [];

  constructor(private data: ChannelData) {}

  /** builds the four figures (once) */
  build(): void {
    for (const kind of KINDS) {
      const f: ChartFigure = new ChartFigure(`chart chart-${kind}`, (x) => this.hover(kind, f, x));
      this.figs.push({ kind, f });
      this.grid.append(f.fig);
    }
  }

  canvases(): HTMLCanvasElement[] {
    return this.figs.map((c) => c.f.canvas);
  }

  /** true when `canvas` is one of these charts and its size changed */
  resized(canvas: HTMLCanvasElement, w: number, h: number): boolean {
    const c = this.figs.find((c) => c.f.canvas === canvas);
    return !!c && c.f.resized(w, h);
  }

  /** the caption (always) */
  setCaption(l: LayerSnapshot): void {
    const lc = l.lastCall;
    const d = this.data.delta;
    setText(
      this.caption,
      `Per channel. Solid: the moving statistics${lc ? `; dashed: the batch statistics of the last call (${lc.training ? 'training' : 'inference'}, input ${shape(lc.inputShape)})` : ' (no call yet: no batch statistics)'}${d && d.changed ? `; red ticks under the axis: channels changed since step ${this.data.prevStepIndex}` : ''}.`,
    );
  }

  /** legends and accessible names (once built) */
  refreshLabels(l: LayerSnapshot): void {
    const call = l.lastCall;
    const callDesc = call
      ? `last call (${call.training ? 'training' : 'inference'}, input ${shape(call.inputShape)})`
      : 'no call yet';
    const d = this.data.delta;
    for (const { kind, f } of this.figs) {
      let label: string;
      const legend: LegendItem[] = [];
      let marks: Uint8Array | null = null;
      switch (kind) {
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
          label += `; ${n} channels changed since step ${this.data.prevStepIndex}`;
        }
      }
      f.setLegend(legend);
      f.setLabel(label);
    }
  }

  /** Draws the charts at their cached sizes; false when one is not laid out yet (draw again when it is). */
  draw(l: LayerSnapshot, t: ChartTheme): boolean {
    const call = l.lastCall;
    const d = this.data.delta;
    let done = true;
    for (const { kind, f } of this.figs) {
      let series: ChannelSeries[];
      let marks: Uint8Array | null = null;
      switch (kind) {
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
      if (!f.sized) {
        done = false;
        continue;
      }
      const ctx = prepare(f.canvas, f.w, f.h);
      if (ctx) drawChannels(ctx, t, f.w, f.h, l.channels, series, marks, kind === 'variance');
    }
    return done;
  }

  /** the readout under the pointer: the values of the channel at CSS x */
  private hover(kind: ChartKind, f: ChartFigure, x: number): string {
    const l = this.data.layer;
    if (!l) return '';
    const i = channelAt(f.canvas.clientWidth, x, l.channels);
    if (i < 0) return '';
    const call = l.lastCall;
    const d = this.data.delta;
    let text = `ch ${i}: `;
    switch (kind) {
      case 'mean':
        text += `moving ${prec(l.movingMean[i])} · batch ${call ? prec(call.batchMean[i]) : '—'}`;
        if (d?.marksMean[i]) text += ` · Δ ${prec(d.dMean[i])}`;
        break;
      case 'variance':
        text += `moving ${prec(l.movingVariance[i])} · batch ${call ? prec(call.batchVariance[i]) : '—'}`;
        if (d?.marksVar[i]) text += ` · Δ ${prec(d.dVar[i])}`;
        break;
      case 'gamma':
        text += l.gamma ? prec(l.gamma[i]) : '—';
        break;
      default:
        text += l.beta ? prec(l.beta[i]) : '—';
    }
    return text;
  }
}
