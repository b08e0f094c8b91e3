/**
 * A card's timeline across steps: the moving mean and variance (mean over channels, and one picked channel)
 * from the panel's bounded History, the channel picker, and the note on what the history kept.
 */
import type { LayerSnapshot } from '../src/shared/protocol';
import { ChartFigure, prec } from './chartFigure';
import { type ChartTheme, drawTimeline, prepare, timelineIndexAt } from './charts';
import { el, setText, uid } from './dom';
import { count } from './format';
import type { History, Series } from './history';

/** what the timeline needs from the panel */
export interface TimelineHost {
  history: History;
  /** steps thinned in all (host + panel) */
  thinned(): number;
  channel(key: string): number;
  setChannel(key: string, ch: number): void;
}

type Which = 'mean' | 'variance';

export class CardTimeline {
  readonly root = el('div', 'timeline');
  private readonly charts = el('div', 'timeline-charts');
  private readonly note = el('p', 'timeline-note');
  private readonly channelInput: HTMLInputElement;
  private figs: { which: Which; f: ChartFigure }[] = [];
  private series: Series | null = null;

  /** `picked`: the person picked another channel (the card redraws) */
  constructor(
    private key: string,
    private host: TimelineHost,
    private layer: () => LayerSnapshot | null,
    private picked: () => void,
  ) {
    const head = el('div', 'timeline-head');
    const label = el('label', 'channel-pick');
    const chId = uid('ch');
    label.htmlFor = chId;
    label.append(el('span', null, 'channel '));
    this.channelInput = el('input', null, null, { type: 'number', min: '0', step: '1', id: chId });
    this.channelInput.value = String(host.channel(key));
    this.channelInput.addEventListener('change', () => this.pickChannel());
    label.append(this.channelInput);
    head.append(el('h4', null, 'Timeline across steps'), label);
    this.root.append(head, this.charts, this.note);
  }

  /** builds the two figures (once) */
  build(): void {
    for (const which of ['mean', 'variance'] as const) {
      const f: ChartFigure = new ChartFigure(`chart timeline-${which}`, (x) => this.hover(which, f, x));
      this.figs.push({ which, f });
      this.charts.append(f.fig);
    }
  }

  canvases(): HTMLCanvasElement[] {
    return this.figs.map((t) => t.f.canvas);
  }

  resized(canvas: HTMLCanvasElement, w: number, h: number): boolean {
    const t = this.figs.find((t) => t.f.canvas === canvas);
    return !!t && t.f.resized(w, h);
  }

  private ch(l: LayerSnapshot): number {
    return Math.min(this.host.channel(this.key), Math.max(0, l.channels - 1));
  }

  /** the channel picker's bounds and value (always) */
  update(l: LayerSnapshot): void {
    const max = String(Math.max(0, l.channels - 1));
    if (this.channelInput.max !== max) this.channelInput.max = max;
    const ch = String(this.ch(l));
    if (this.channelInput.value !== ch && document.activeElement !== this.channelInput) this.channelInput.value = ch;
    this.channelInput.setAttribute('aria-label', `Channel shown in the timeline of ${l.name}`);
  }

  /** legends, accessible names and "N steps kept · thinned M old steps · …" (once built; never while drawing) */
  refreshLabels(l: LayerSnapshot): void {
    const ch = this.ch(l);
    for (const { which, f } of this.figs) {
      f.setLegend([
        ['moving', `moving ${which}: mean over channels`, false],
        ['channel', `channel ${ch}`, true],
      ]);
      f.setLabel(`Timeline of the moving ${which} across steps: mean over channels, and channel ${ch}`);
    }
    const { kept, missing } = this.host.history.coverage(this.key, ch);
    const notes = [`${count(kept)} step${kept === 1 ? '' : 's'} kept`];
    const thinned = this.host.thinned();
    if (thinned > 0) notes.push(`thinned ${count(thinned)} old step${thinned === 1 ? '' : 's'} to bound memory`);
    if (missing > 0)
      notes.push(
        `channel ${ch} has no value for ${count(missing)} older step${missing === 1 ? '' : 's'} (only the channel picked then was kept)`,
      );
    setText(this.note, notes.join(' · '));
  }

  /** Draws both timelines; false when one is not laid out yet. */
  draw(l: LayerSnapshot, t: ChartTheme): boolean {
    const s = this.host.history.series(this.key, this.ch(l));
    this.series = s;
    let done = true;
    for (const { which, f } of this.figs) {
      if (!f.sized) {
        done = false;
        continue;
      }
      const ctx = prepare(f.canvas, f.w, f.h);
      if (ctx)
        drawTimeline(
          ctx,
          t,
          f.w,
          f.h,
          s.steps,
          [
            { data: which === 'mean' ? s.meanMM : s.meanMV, color: t.moving },
            { data: which === 'mean' ? s.chMM : s.chMV, color: t.batch, dashed: true },
          ],
          which === 'variance',
        );
    }
    return done;
  }

  private pickChannel(): void {
    const l = this.layer();
    const max = l ? Math.max(0, l.channels - 1) : 0;
    let ch = Math.round(Number(this.channelInput.value));
    if (!Number.isFinite(ch)) ch = 0;
    ch = Math.min(max, Math.max(0, ch));
    this.channelInput.value = String(ch);
    this.host.setChannel(this.key, ch);
    if (l && this.figs.length) this.refreshLabels(l);
    this.picked();
  }

  private hover(which: Which, f: ChartFigure, x: number): string {
    const s = this.series;
    if (!s) return '';
    const i = timelineIndexAt(f.canvas.clientWidth, x, s.steps);
    if (i < 0) return '';
    const mean = which === 'mean' ? s.meanMM : s.meanMV;
    const chan = which === 'mean' ? s.chMM : s.chMV;
    return `step ${s.steps[i]}: mean over channels ${prec(mean[i])} · channel ${this.host.channel(this.key)} ${prec(chan[i])}`;
  }
}
