/**
 * The inspector panel: receives HostToWebview messages and renders the header (header.ts), the start screen
 * (startScreen.ts) or the overview (overview.ts: baseline, heat strip, grouped warnings, one row per layer) and
 * the layer list (layerList.ts: one LayerCard per BatchNormalization layer), from what the StepModel
 * (stepModel.ts) keeps: the latest two steps, a bounded timeline, the baseline and the heat strip's changes.
 * UI choices persist through PanelState (panelState.ts). The compare run (the same script under a second
 * semantics, in lockstep) is kept by CompareModel (compareModel.ts): each card and row then shows its pair.
 * One unit of ~260 lines: it is the one place where the messages meet the parts, in the order they must be drawn.
 *
 * Rendering: a step message is ingested at once (unpack + timeline) and a render is scheduled as a task;
 * steps that arrive faster than the panel renders are coalesced (only the latest is drawn). A render
 * updates text in place (only what changed) and redraws the canvases of the expanded cards that are on or
 * near the screen. A card builds its charts the first time it is drawn; cards scrolled into view or
 * expanded are drawn then. After each render: { type: 'rendered', stepIndex, ms } (ms: from the message
 * event to the end of the render).
 */
import type { HostToWebview, WebviewToHost } from '../src/shared/protocol';
import type { CardHost, LayerCard } from './card';
import type { CardDrift } from './cardSummary';
import { type ChartTheme, readTheme } from './charts';
import { el, setHidden, setText } from './dom';
import { driftOf } from './drift';
import { Header } from './header';
import { LayerList } from './layerList';
import { Overview, type OverviewHost } from './overview';
import { PanelState, type VsCodeApi } from './panelState';
import { buildStartScreen } from './startScreen';
import { CompareModel } from './compareModel';
import { isSemantics } from '../src/shared/semantics';
import { compareBanner, rowIndicator } from './compareText';
import { StepModel } from './stepModel';

export type { VsCodeApi } from './panelState';

export class App implements CardHost, OverviewHost {
  private state: PanelState;
  private model: StepModel;
  private compare = new CompareModel();
  private list: LayerList;
  private header: Header;
  private overview: Overview;
  private themeCache: ChartTheme | null = null;
  private renderScheduled = false;
  private pendingT0 = 0;
  private scrollRestored = false;
  private readonly renderChannel = new MessageChannel();
  private startEl = buildStartScreen();
  private waitingEl = el('p', 'waiting');

  constructor(
    private api: VsCodeApi,
    private root: HTMLElement,
  ) {
    this.state = new PanelState(api);
    this.model = new StepModel((k) => this.state.channel(k), this.state.baseline);
    this.list = new LayerList(this.state, this);
    this.overview = new Overview(this);
    this.list.onFilter = () => this.schedule(performance.now());
    this.header = new Header((m) => this.post(m), this.list.filterRow);
    this.renderChannel.port1.onmessage = () => this.render();
  }

  start(): void {
    this.root.replaceChildren(
      this.header.top,
      this.startEl,
      this.waitingEl,
      this.overview.root,
      this.list.noMatchEl,
      this.list.listEl,
    );
    window.addEventListener('message', (ev: MessageEvent) => this.onMessage(ev.data));
    // keyboard focus must not land under the sticky header: scroll padding follows its height
    new ResizeObserver((entries) => {
      const h = entries[entries.length - 1]?.borderBoxSize?.[0]?.blockSize ?? 0;
      document.documentElement.style.scrollPaddingTop = `${Math.ceil(h) + 8}px`;
    }).observe(this.header.top);
    // theme changes: VS Code swaps body classes and the --vscode-* variables on <html>
    const mo = new MutationObserver(() => {
      const next = readTheme();
      if (this.themeCache && JSON.stringify(next) === JSON.stringify(this.themeCache)) return; // (e.g. our own scroll padding)
      this.themeCache = next;
      this.list.invalidateAll();
      this.overview.invalidate();
    });
    mo.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
    let scrollTimer: ReturnType<typeof setTimeout> | null = null;
    window.addEventListener(
      'scroll',
      () => {
        if (scrollTimer) return;
        scrollTimer = setTimeout(() => {
          scrollTimer = null;
          if (this.model.current) this.state.scrollY = Math.round(window.scrollY);
        }, 250);
      },
      { passive: true },
    );
    this.pendingT0 = performance.now();
    this.render(); // start screen
    this.post({ type: 'ready' });
  }

  private post(msg: WebviewToHost): void {
    this.api.postMessage(msg);
  }

  // ------------------------------------------------------------------ CardHost
  get history() {
    return this.model.history;
  }
  theme(): ChartTheme {
    return (this.themeCache ??= readTheme());
  }
  thinned(): number {
    return this.model.thinned();
  }
  isCollapsed(key: string): boolean {
    return this.state.isCollapsed(key);
  }
  setCollapsed(key: string, c: boolean): void {
    this.state.setCollapsed(key, c);
  }
  isTable(key: string): boolean {
    return this.state.isTable(key);
  }
  setTable(key: string, on: boolean): void {
    this.state.setTable(key, on);
  }
  channel(key: string): number {
    return this.state.channel(key);
  }
  setChannel(key: string, ch: number): void {
    this.state.setChannel(key, ch);
  }
  observeCanvases(card: LayerCard, canvases: HTMLCanvasElement[]): void {
    this.list.observeCanvases(card, canvases);
  }
  layoutChanged(): void {
    this.list.layoutChanged();
  }
  reveal(file: string, line: number): void {
    this.post({ type: 'revealLine', file, line });
  }

  // ------------------------------------------------------------------ OverviewHost
  openCard(key: string): void {
    this.list.openCard(key);
  }
  pinBaseline(index: number | null): void {
    this.state.baseline = index;
    this.model.pinBaseline(index);
    this.schedule(performance.now());
  }

  // ------------------------------------------------------------------ messages
  onMessage(data: unknown): void {
    const t0 = performance.now();
    if (!data || typeof data !== 'object') return;
    const msg = data as HostToWebview;
    const m = this.model;
    try {
      switch (msg.type) {
        case 'reset':
          m.reset(msg);
          if (!m.session && !m.current) this.list.clear();
          break;
        case 'step':
          if (!m.step(msg)) return;
          break;
        case 'session':
          m.setSession(msg);
          if (!m.session) {
            this.list.clear();
            this.compare.clear();
          }
          break;
        case 'compare':
          this.compare.set(msg);
          break;
        case 'compareStep':
          if (!this.compare.step(msg)) return;
          break;
        default:
          return;
      }
      this.schedule(t0);
    } catch (e) {
      console.error('BatchNorm Inspector: bad message', e);
    }
  }

  private schedule(t0: number): void {
    this.pendingT0 = t0;
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    this.renderChannel.port2.postMessage(0);
  }

  // ------------------------------------------------------------------ rendering
  private render(): void {
    this.renderScheduled = false;
    const t0 = this.pendingT0;
    const { session: s, current: step } = this.model;
    this.header.render(s, step, this.compare.info);
    setHidden(this.startEl, !!s || !!step);
    setHidden(this.waitingEl, !s || !!step);
    if (s && !step)
      setText(
        this.waitingEl,
        s.state === 'ended'
          ? 'The script ended before reaching a step point: no layer to show.'
          : 'Waiting for the first step…',
      );
    setHidden(this.list.filterRow, !step);
    setHidden(this.list.listEl, !step);
    setHidden(this.overview.root, !step);
    if (step) {
      const m = this.model;
      const keys = m.currentKeys;
      const drifts: CardDrift[] = step.layers.map((l, i) => {
        const b = m.baseline.of(keys[i]);
        return { drift: b ? driftOf(l, b, l.epsilon) : null, baseStep: b ? b.step : null };
      });
      const cmp = this.compare.forStep(step, keys, s && isSemantics(s.semantics) ? s.semantics : 'tfjs');
      this.list.render(step, keys, m.prevByKey, m.prevIndex, drifts, cmp);
      const semB = cmp.semB;
      this.overview.render({
        stepIndex: step.index,
        prevIndex: m.prevIndex,
        rows: step.layers.map((l, i) => ({
          key: keys[i],
          layer: l,
          stepChange: m.stepChange[i] ?? null,
          hadPrev: m.prevByKey.has(keys[i]),
          baseDrift: drifts[i].drift,
          baseStep: drifts[i].baseStep,
          compare: cmp.status === 'paired' && semB ? rowIndicator(cmp.pairs.get(keys[i]), semB) : null,
        })),
        compareBanner:
          cmp.status !== 'off' && semB
            ? compareBanner(cmp.status, semB, step.index, cmp.info, cmp.differing, step.layers.length)
            : null,
        heat: m.heat,
        shown: (k) => this.list.matches(k),
        pinned: m.baseline.pinned,
        pinMissing: m.baseline.pinMissing,
      });
      if (!this.scrollRestored) {
        this.scrollRestored = true;
        if (this.state.scrollY > 0) window.scrollTo(0, this.state.scrollY);
      }
    } else {
      setHidden(this.list.noMatchEl, true);
    }
    const ms = performance.now() - t0;
    this.post({ type: 'rendered', stepIndex: step ? step.index : 0, ms: Math.round(ms * 1000) / 1000 });
  }
}
