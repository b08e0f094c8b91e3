/**
 * The inspector panel: receives HostToWebview messages, keeps the latest two steps and a bounded timeline,
 * and renders the header and one LayerCard per BatchNormalization layer.
 *
 * Rendering: a step message is ingested at once (unpack + timeline) and a render is scheduled as a task;
 * steps that arrive faster than the panel renders are coalesced (only the latest is drawn). A render
 * updates text in place (only what changed) and redraws the canvases of the expanded cards that are on or
 * near the screen. It never reads layout: which cards are on screen comes from an IntersectionObserver,
 * canvas sizes from a ResizeObserver, and off-screen cards skip style/layout/paint (CSS content-visibility).
 * A card builds its charts the first time it is drawn; cards scrolled into view or expanded are drawn then.
 * After each render: { type: 'rendered', stepIndex, ms } (ms: from the message event to the end of the render).
 */
import type {
  HostToWebview,
  LayerSnapshot,
  SessionInfo,
  StepSnapshot,
  WebviewCommand,
  WebviewToHost,
} from '../src/shared/protocol';
import { unpackStep } from '../src/shared/snapshotCodec';
import { LayerCard, type CardHost } from './card';
import { type ChartTheme, readTheme } from './charts';
import { button, el, icon, setHidden, setText } from './dom';
import { count } from './format';
import { History, layerKeys } from './history';

export interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): unknown;
}

/** What survives hiding/showing the panel (compact: UI choices only; the host re-sends the steps). */
export interface PersistedState {
  v: 1;
  filter: string;
  collapsed: string[];
  tables: string[];
  channels: Record<string, number>;
  scrollY: number;
}

function loadState(raw: unknown): PersistedState {
  const s = (raw && typeof raw === 'object' ? raw : {}) as Partial<PersistedState>;
  const strs = (a: unknown) => (Array.isArray(a) ? a.filter((x): x is string => typeof x === 'string') : []);
  const channels: Record<string, number> = {};
  if (s.channels && typeof s.channels === 'object')
    for (const [k, v] of Object.entries(s.channels)) if (typeof v === 'number' && Number.isFinite(v)) channels[k] = v;
  return {
    v: 1,
    filter: typeof s.filter === 'string' ? s.filter : '',
    collapsed: strs(s.collapsed),
    tables: strs(s.tables),
    channels,
    scrollY: typeof s.scrollY === 'number' && Number.isFinite(s.scrollY) ? s.scrollY : 0,
  };
}

const COMMANDS: { command: WebviewCommand; label: string; icon: string; title: string }[] = [
  { command: 'step', label: 'Step', icon: 'debug-step-over', title: 'Run to the next step point' },
  { command: 'continue', label: 'Continue', icon: 'debug-continue', title: 'Run to the end, recording every step' },
  { command: 'runToCursor', label: 'Run to cursor', icon: 'debug-start', title: "Run to the editor cursor's line" },
  { command: 'restart', label: 'Restart', icon: 'debug-restart', title: 'Run the script again from the start' },
  { command: 'stop', label: 'Stop', icon: 'debug-stop', title: 'Stop the script' },
];

function enabled(cmd: WebviewCommand, s: SessionInfo | null): boolean {
  if (!s) return false;
  switch (cmd) {
    case 'step':
    case 'continue':
      return s.state === 'paused';
    case 'runToCursor':
      return s.state === 'paused' || s.state === 'ended' || s.state === 'idle';
    case 'restart':
      return s.state !== 'starting';
    case 'stop':
      return s.state === 'starting' || s.state === 'running' || s.state === 'paused';
  }
}

function toBuffer(b: unknown): ArrayBuffer | null {
  if (b instanceof ArrayBuffer || Object.prototype.toString.call(b) === '[object ArrayBuffer]') return b as ArrayBuffer;
  if (ArrayBuffer.isView(b)) return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  return null;
}

/** Adds or removes key; returns the set's members (for the persisted state). */
function setMember(set: Set<string>, key: string, on: boolean): string[] {
  if (on) set.add(key);
  else set.delete(key);
  return [...set];
}

export class App implements CardHost {
  readonly history = new History(500);
  private ui: PersistedState;
  private collapsedSet: Set<string>;
  private tableSet: Set<string>;
  private session: SessionInfo | null = null;
  private current: StepSnapshot | null = null;
  private currentKeys: string[] = [];
  private prevByKey = new Map<string, LayerSnapshot>();
  private prevIndex = 0;
  private hostThinned = 0;
  private cards = new Map<string, LayerCard>();
  private order: string[] = [];
  private visible = new Set<LayerCard>();
  private themeCache: ChartTheme | null = null;
  private renderScheduled = false;
  private pendingT0 = 0;
  private layoutScheduled = false;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private scrollRestored = false;
  private readonly renderChannel = new MessageChannel();
  private io: IntersectionObserver | null = null;
  private ro!: ResizeObserver;
  private canvasOwner = new WeakMap<HTMLCanvasElement, LayerCard>();

  // DOM
  private top!: HTMLElement;
  private scriptEl!: HTMLElement;
  private stepEl!: HTMLElement;
  private lineBtn!: HTMLButtonElement;
  private hitEl!: HTMLElement;
  private backendEl!: HTMLElement;
  private tfjsEl!: HTMLElement;
  private statusEl!: HTMLElement;
  private buttons = new Map<WebviewCommand, HTMLButtonElement>();
  private errorEl!: HTMLElement;
  private summaryEl!: HTMLElement;
  private filterRow!: HTMLElement;
  private filterInput!: HTMLInputElement;
  private countEl!: HTMLElement;
  private startEl!: HTMLElement;
  private waitingEl!: HTMLElement;
  private noMatchEl!: HTMLElement;
  private listEl!: HTMLElement;

  constructor(
    private api: VsCodeApi,
    private root: HTMLElement,
  ) {
    this.ui = loadState(api.getState());
    this.collapsedSet = new Set(this.ui.collapsed);
    this.tableSet = new Set(this.ui.tables);
    this.renderChannel.port1.onmessage = () => this.render();
  }

  start(): void {
    this.build();
    window.addEventListener('message', (ev: MessageEvent) => this.onMessage(ev.data));
    if ('IntersectionObserver' in window) {
      this.io = new IntersectionObserver((entries) => this.onIntersect(entries), { rootMargin: '300px 0px' });
    }
    // canvas sizes come from a ResizeObserver (delivered after layout, before paint): drawing never reads layout
    this.ro = new ResizeObserver((entries) => {
      const touched = new Set<LayerCard>();
      for (const e of entries) {
        const card = this.canvasOwner.get(e.target as HTMLCanvasElement);
        if (!card) continue;
        card.resized(e.target as HTMLCanvasElement, e.contentRect.width, e.contentRect.height);
        touched.add(card);
      }
      for (const c of touched) if (c.shown && !c.collapsed) c.draw();
    });
    // keyboard focus must not land under the sticky header: scroll padding follows its height
    new ResizeObserver((entries) => {
      const h = entries[entries.length - 1]?.borderBoxSize?.[0]?.blockSize ?? 0;
      document.documentElement.style.scrollPaddingTop = `${Math.ceil(h) + 8}px`;
    }).observe(this.top);
    // theme changes: VS Code swaps body classes and the --vscode-* variables on <html>
    const mo = new MutationObserver(() => {
      const next = readTheme();
      if (this.themeCache && JSON.stringify(next) === JSON.stringify(this.themeCache)) return; // (e.g. our own scroll padding)
      this.themeCache = next;
      for (const c of this.cards.values()) c.invalidate();
      this.layoutChanged();
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
          if (!this.current) return;
          this.ui.scrollY = Math.round(window.scrollY);
          this.save();
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
  theme(): ChartTheme {
    return (this.themeCache ??= readTheme());
  }
  thinned(): number {
    return this.hostThinned + this.history.thinned;
  }
  isCollapsed(key: string): boolean {
    return this.collapsedSet.has(key);
  }
  setCollapsed(key: string, c: boolean): void {
    this.ui.collapsed = setMember(this.collapsedSet, key, c);
    this.save();
  }
  isTable(key: string): boolean {
    return this.tableSet.has(key);
  }
  setTable(key: string, on: boolean): void {
    this.ui.tables = setMember(this.tableSet, key, on);
    this.save();
  }
  channel(key: string): number {
    return this.ui.channels[key] ?? 0;
  }
  setChannel(key: string, ch: number): void {
    if (ch === 0) delete this.ui.channels[key];
    else this.ui.channels[key] = ch;
    this.save();
  }
  observeCanvases(card: LayerCard, canvases: HTMLCanvasElement[]): void {
    for (const cv of canvases) {
      this.canvasOwner.set(cv, card);
      this.ro.observe(cv);
    }
  }
  layoutChanged(): void {
    if (this.layoutScheduled) return;
    this.layoutScheduled = true;
    requestAnimationFrame(() => {
      this.layoutScheduled = false;
      this.drawVisible();
    });
  }

  private save(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.api.setState(this.ui);
    }, 50);
  }

  // ------------------------------------------------------------------ messages
  onMessage(data: unknown): void {
    const t0 = performance.now();
    if (!data || typeof data !== 'object') return;
    const msg = data as HostToWebview;
    try {
      switch (msg.type) {
        case 'reset': {
          this.session = msg.session ?? null;
          this.hostThinned = Number(msg.thinned) || 0;
          this.history.clear();
          this.current = null;
          this.currentKeys = [];
          this.prevByKey.clear();
          this.prevIndex = 0;
          const steps: StepSnapshot[] = [];
          for (const b of msg.steps ?? []) {
            const buf = toBuffer(b);
            if (buf) steps.push(unpackStep(buf));
          }
          // copy full vectors only for the newest steps that fit the history's budget
          let budget = this.history.vecBudget;
          const keep = new Array<boolean>(steps.length);
          for (let i = steps.length - 1; i >= 0; i--) {
            budget -= History.vectorFloatsOf(steps[i]);
            keep[i] = budget >= 0 || i === steps.length - 1;
          }
          steps.forEach((st, i) => this.ingest(st, keep[i]));
          if (!this.session && !this.current) this.resetCards();
          this.schedule(t0);
          break;
        }
        case 'step': {
          const buf = toBuffer(msg.buffer);
          if (!buf) return;
          this.ingest(unpackStep(buf));
          this.schedule(t0);
          break;
        }
        case 'session': {
          const prev = this.session;
          this.session = msg.session ?? null;
          const s = this.session;
          // a new run announced without a reset (another script, or the same one starting again): drop the old steps
          if (
            s &&
            prev &&
            this.current &&
            (prev.script !== s.script || (s.state === 'starting' && prev.state !== 'starting'))
          ) {
            this.history.clear();
            this.hostThinned = 0;
            this.current = null;
            this.currentKeys = [];
            this.prevByKey.clear();
            this.prevIndex = 0;
          }
          if (!this.session) {
            this.history.clear();
            this.hostThinned = 0;
            this.current = null;
            this.currentKeys = [];
            this.prevByKey.clear();
            this.resetCards();
          }
          this.schedule(t0);
          break;
        }
        default:
          return;
      }
    } catch (e) {
      console.error('BatchNorm Inspector: bad message', e);
    }
  }

  private resetCards(): void {
    for (const c of this.cards.values()) {
      this.io?.unobserve(c.root);
      for (const cv of c.canvases()) this.ro.unobserve(cv);
      c.root.remove();
    }
    this.cards.clear();
    this.order = [];
    this.visible.clear();
  }

  private ingest(step: StepSnapshot, keepVectors = true): void {
    const keys = layerKeys(step);
    if (this.current && step.index <= this.current.index) {
      // a new run without a reset: start over
      this.history.clear();
      this.hostThinned = 0;
      this.current = null;
      this.currentKeys = [];
    }
    this.prevByKey.clear();
    if (this.current) {
      this.prevIndex = this.current.index;
      this.current.layers.forEach((l, i) => this.prevByKey.set(this.currentKeys[i], l));
    } else this.prevIndex = 0;
    this.current = step;
    this.currentKeys = keys;
    this.history.push(step, keys, (k) => this.channel(k), keepVectors);
  }

  private schedule(t0: number): void {
    this.pendingT0 = t0;
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    this.renderChannel.port2.postMessage(0);
  }

  // ------------------------------------------------------------------ building
  private build(): void {
    this.root.replaceChildren();
    this.top = el('header', 'top');
    const titleRow = el('div', 'title-row');
    this.scriptEl = el('span', 'script');
    this.stepEl = el('span', 'step-no');
    this.lineBtn = el('button', 'link line-link', null, { type: 'button' });
    this.lineBtn.addEventListener('click', () => {
      const s = this.current;
      if (s) this.post({ type: 'revealLine', file: s.file, line: s.line });
    });
    this.hitEl = el('span', 'hit');
    this.backendEl = el('span', 'backend');
    this.tfjsEl = el('span', 'tfjs');
    titleRow.append(this.scriptEl, this.stepEl, this.lineBtn, this.hitEl, this.backendEl, this.tfjsEl);
    this.statusEl = el('p', 'status', null, { role: 'status' });

    const bar = el('div', 'commands', null, { role: 'toolbar', 'aria-label': 'Session commands' });
    for (const c of COMMANDS) {
      const b = button(c.label, c.icon, c.command === 'step' ? 'primary' : 'secondary');
      b.dataset.command = c.command;
      b.title = c.title;
      b.disabled = true;
      b.addEventListener('click', () => this.post({ type: 'command', command: c.command }));
      this.buttons.set(c.command, b);
      bar.append(b);
    }
    this.errorEl = el('div', 'error-box', null, { role: 'alert' });
    this.errorEl.hidden = true;
    this.summaryEl = el('p', 'summary');

    this.filterRow = el('div', 'filter-row');
    const fl = el('label', 'filter');
    fl.append(icon('filter'));
    this.filterInput = el('input', null, null, {
      type: 'search',
      placeholder: 'Filter layers by name or path',
      'aria-label': 'Filter layers by name or path',
      spellcheck: 'false',
    });
    this.filterInput.value = this.ui.filter;
    this.filterInput.addEventListener('input', () => {
      this.ui.filter = this.filterInput.value;
      this.save();
      this.applyFilter();
      this.layoutChanged();
    });
    fl.append(this.filterInput);
    this.countEl = el('span', 'count', null, { 'aria-live': 'polite' });
    const collapseAll = button('', 'collapse-all', 'icon-button', 'Collapse all layers');
    collapseAll.title = 'Collapse all layers';
    collapseAll.addEventListener('click', () => this.setAllCollapsed(true));
    const expandAll = button('', 'expand-all', 'icon-button', 'Expand all layers');
    expandAll.title = 'Expand all layers';
    expandAll.addEventListener('click', () => this.setAllCollapsed(false));
    this.filterRow.append(fl, this.countEl, collapseAll, expandAll);
    this.top.append(titleRow, this.statusEl, bar, this.errorEl, this.summaryEl, this.filterRow);

    this.startEl = this.buildStart();
    this.waitingEl = el('p', 'waiting');
    this.noMatchEl = el('p', 'no-match');
    this.listEl = el('main', 'layers');
    this.listEl.setAttribute('aria-label', 'BatchNormalization layers');
    this.root.append(this.top, this.startEl, this.waitingEl, this.noMatchEl, this.listEl);
  }

  private buildStart(): HTMLElement {
    const s = el('section', 'start');
    s.setAttribute('aria-label', 'How to begin');
    const h = el('h1', null);
    h.append(icon('pulse'), el('span', null, ' BatchNorm Inspector'));
    const p = el('p', null, 'No script is running. To see what every BatchNormalization layer does, step by step:');
    const ol = el('ol');
    const li1 = el('li');
    li1.append(
      el('span', null, 'Open a TypeScript or JavaScript file that uses '),
      el('code', null, '@tensorflow/tfjs'),
      el('span', null, ', for example '),
      el('code', null, 'examples/frozen-predict.ts'),
      el('span', null, ' or another script in the '),
      el('code', null, 'examples/'),
      el('span', null, ' folder.'),
    );
    const li2 = el('li');
    li2.append(
      el('span', null, 'Click '),
      el('strong', null, '▶ Run to here'),
      el('span', null, ' above a '),
      el('code', null, 'fit'),
      el('span', null, ', '),
      el('code', null, 'predict'),
      el('span', null, ' or '),
      el('code', null, 'apply'),
      el('span', null, ' line (or a line after a '),
      el('code', null, '// @step'),
      el('span', null, ' comment).'),
    );
    const li3 = el(
      'li',
      null,
      'This panel then shows each layer after that step: the mode it ran in, which statistics it used, what changed, and why. Step, Run to cursor, Restart and Stop move through the script.',
    );
    ol.append(li1, li2, li3);
    s.append(h, p, ol);
    return s;
  }

  private setAllCollapsed(c: boolean): void {
    for (const card of this.cards.values()) {
      if (!card.shown) continue;
      if (c) this.collapsedSet.add(card.key);
      else this.collapsedSet.delete(card.key);
      card.applyCollapsed();
    }
    this.ui.collapsed = [...this.collapsedSet];
    this.save();
    this.layoutChanged();
  }

  private createCard(key: string): LayerCard {
    const card = new LayerCard(key, this);
    this.io?.observe(card.root);
    return card;
  }

  // ------------------------------------------------------------------ rendering
  private render(): void {
    this.renderScheduled = false;
    const t0 = this.pendingT0;
    const s = this.session;
    const step = this.current;
    this.renderHeader();
    setHidden(this.startEl, !!s || !!step);
    setHidden(this.waitingEl, !s || !!step);
    if (s && !step)
      setText(
        this.waitingEl,
        s.state === 'ended'
          ? 'The script ended before reaching a step point: no layer to show.'
          : 'Waiting for the first step…',
      );
    setHidden(this.filterRow, !step);
    setHidden(this.listEl, !step);
    setHidden(this.summaryEl, !step);
    if (step) {
      this.syncCards(step);
      this.applyFilter();
      if (this.visible.size === 0) {
        // nothing reported on screen yet (new cards): the first shown, expanded cards surely are; build them now
        // so that their charts are drawn in the coming frame (by the ResizeObserver)
        let n = 0;
        for (const k of this.order) {
          const c = this.cards.get(k)!;
          if (!c.shown || c.collapsed) continue;
          c.draw();
          if (++n === 2) break;
        }
      }
      this.drawVisible();
      if (!this.scrollRestored) {
        this.scrollRestored = true;
        if (this.ui.scrollY > 0) window.scrollTo(0, this.ui.scrollY);
      }
    } else {
      setHidden(this.noMatchEl, true);
    }
    const ms = performance.now() - t0;
    this.post({ type: 'rendered', stepIndex: step ? step.index : 0, ms: Math.round(ms * 1000) / 1000 });
  }

  private renderHeader(): void {
    const s = this.session;
    const step = this.current;
    setHidden(this.top, !s && !step);
    setText(this.scriptEl, s ? s.scriptLabel : step ? step.file : '');
    this.scriptEl.title = s ? s.script : '';
    setText(this.stepEl, step ? `step ${step.index}` : 'no step yet');
    setHidden(this.lineBtn, !step);
    setHidden(this.hitEl, !step);
    if (step) {
      const other = s && step.file !== s.script ? ` of ${step.file.split(/[\\/]/).pop()}` : '';
      setText(this.lineBtn, `line ${step.line}${other}`);
      this.lineBtn.setAttribute('aria-label', `Reveal line ${step.line}${other} in the editor`);
      this.lineBtn.title = `Reveal line ${step.line} in the editor`;
      setText(this.hitEl, `hit ${step.hit}`);
    }
    setText(this.backendEl, s?.backend ? `backend ${s.backend}` : '');
    setText(this.tfjsEl, s?.tfjs ? `tfjs ${s.tfjs}` : '');
    setHidden(this.backendEl, !s?.backend);
    setHidden(this.tfjsEl, !s?.tfjs);
    setText(this.statusEl, s ? s.status : step ? 'No session: showing the last step received.' : '');
    this.statusEl.dataset.state = s?.state ?? 'none';
    for (const [cmd, b] of this.buttons) {
      const on = enabled(cmd, s);
      if (b.disabled === on) b.disabled = !on;
    }
    const err = s?.error ?? null;
    setHidden(this.errorEl, !err);
    if (err) {
      const sig = JSON.stringify([err.message, err.line, err.column, err.kind, err.file]);
      if (this.errorEl.dataset.sig !== sig) {
        this.errorEl.dataset.sig = sig;
        const kind =
          err.kind === 'compile'
            ? 'The script did not compile'
            : err.kind === 'timeout'
              ? 'Timed out'
              : err.kind === 'oom'
                ? 'Out of memory'
                : err.kind === 'crash'
                  ? 'The worker crashed'
                  : err.kind === 'stopped'
                    ? 'Stopped'
                    : 'The script threw';
        const head = el('p', 'error-head');
        head.append(icon('error'), el('strong', null, ` ${kind}`));
        if (err.line != null) {
          const file = err.file ?? s!.script;
          const link = el('button', 'link', `line ${err.line}${err.column != null ? `:${err.column}` : ''}`, {
            type: 'button',
          });
          link.setAttribute('aria-label', `Reveal line ${err.line} of the error in the editor`);
          link.addEventListener('click', () => this.post({ type: 'revealLine', file, line: err.line! }));
          head.append(el('span', null, ' at '), link);
        }
        const msg = el('p', 'error-message', err.message);
        const children: HTMLElement[] = [head, msg];
        if (err.stack) {
          const det = el('details', 'error-stack');
          det.append(el('summary', null, 'Stack'), el('pre', null, err.stack));
          children.push(det);
        }
        this.errorEl.replaceChildren(...children);
      }
    }
    if (step) {
      let updated = 0;
      let warned = 0;
      for (const l of step.layers) {
        if (l.updates > 0 || l.movingUpdated) updated++;
        if (l.warnings.length) warned++;
      }
      const n = step.layers.length;
      setText(
        this.summaryEl,
        n === 0
          ? 'No BatchNormalization layer exists at this step.'
          : `${count(n)} BatchNormalization layer${n === 1 ? '' : 's'} · ${updated ? `${count(updated)} updated in this step` : 'none updated in this step'} · ${warned ? `${count(warned)} with warnings` : 'no warnings'}`,
      );
    }
  }

  private syncCards(step: StepSnapshot): void {
    const keys = this.currentKeys;
    const live = new Set(keys);
    for (const [k, c] of this.cards) {
      if (!live.has(k)) {
        this.io?.unobserve(c.root);
        for (const cv of c.canvases()) this.ro.unobserve(cv);
        this.visible.delete(c);
        c.root.remove();
        this.cards.delete(k);
      }
    }
    step.layers.forEach((l, i) => {
      const k = keys[i];
      let card = this.cards.get(k);
      if (!card) {
        card = this.createCard(k);
        this.cards.set(k, card);
      }
      card.update(l, this.prevByKey.get(k) ?? null, step.index, this.prevIndex);
    });
    const same = keys.length === this.order.length && keys.every((k, i) => k === this.order[i]);
    if (!same) {
      const frag = document.createDocumentFragment();
      for (const k of keys) frag.append(this.cards.get(k)!.root);
      this.listEl.append(frag);
      this.order = keys.slice();
    }
  }

  private applyFilter(): void {
    const q = this.ui.filter.trim().toLowerCase();
    let shown = 0;
    for (const k of this.order) {
      const c = this.cards.get(k)!;
      const l = c.layer;
      const match = !q || k.toLowerCase().includes(q) || (!!l && l.name.toLowerCase().includes(q));
      c.shown = match;
      setHidden(c.root, !match);
      if (match) shown++;
    }
    const n = this.order.length;
    setText(this.countEl, q ? `${count(shown)} of ${count(n)} layers` : `${count(n)} layer${n === 1 ? '' : 's'}`);
    const none = !!q && shown === 0 && n > 0;
    setHidden(this.noMatchEl, !none);
    if (none) setText(this.noMatchEl, `No layer matches “${this.ui.filter.trim()}”.`);
  }

  private onIntersect(entries: IntersectionObserverEntry[]): void {
    let any = false;
    for (const e of entries) {
      const card = this.cards.get((e.target as HTMLElement).dataset.key ?? '');
      if (!card) continue;
      if (e.isIntersecting) {
        this.visible.add(card);
        if (card.dirty || card.timelineDirty) any = true;
      } else this.visible.delete(card);
    }
    if (any) this.drawVisible();
  }

  /**
   * Draws the expanded, shown cards that are on (or near) the screen, as the IntersectionObserver last
   * reported them. No layout read: canvas sizes are cached from the ResizeObserver.
   */
  private drawVisible(): void {
    for (const c of this.visible) if (c.shown && !c.collapsed && (c.dirty || c.timelineDirty)) c.draw();
  }
}
