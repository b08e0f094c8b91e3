/**
 * The text of a card: the head (collapse toggle, layer name, path, where it was built, badges), the sentence
 * that explains the layer, a one-line mention of each warning (the explanation is said once, in the overview's
 * grouped warnings), the frozen-but-drifted callout, the meta line, the change since the previous step and the
 * drift from the baseline. Updated in place at every step, only where the text changed.
 */
import type { LayerSnapshot, Semantics, SourcePosition } from '../src/shared/protocol';
import { momentumText, trainableMeanings, trainableTrap } from './compareText';
import { el, icon, setAttr, setHidden, setText, uid } from './dom';
import type { Drift } from './drift';
import { driftSentence, frozenDriftCallout } from './driftText';
import { explainLayer, layerBadges, warningTitle } from './explain';
import { count, shape, short } from './format';
import type { LayerDelta } from './layerDelta';
import { OUTSIDE_TEXT, sourceLabel } from './overview';

/** whose rules the card's layer followed, and the compare run's (null: none) */
export interface CardSemantics {
  a: Semantics;
  b: Semantics | null;
}

/** the layer's drift from the baseline, for the card */
export interface CardDrift {
  drift: Drift | null;
  /** the baseline's step (null: none yet) */
  baseStep: number | null;
}

export class CardSummary {
  readonly head = el('div', 'card-head');
  readonly toggleBtn: HTMLButtonElement;
  readonly why = el('p', 'why');
  readonly warnings = el('ul', 'warnings');
  readonly meta = el('p', 'meta');
  readonly delta = el('p', 'delta');
  readonly drift = el('p', 'drift');
  readonly callout = el('p', 'drift-callout', null, { role: 'note' });
  /** the trap: trainable is not why an inference-mode layer's statistics stay put (visible text) */
  readonly trap = el('div', 'trap', null, { role: 'note' });
  private readonly trapText = el('p', 'trap-text');
  private readonly trapList = el('ul', 'trap-meanings');
  /** what the compare run says of this layer (its why sentence), or why there is nothing yet */
  readonly compareLine = el('p', 'compare-line');
  private readonly srcBtn = el('button', 'link card-src', null, { type: 'button' });
  private readonly srcNone = el('span', 'card-src-none', OUTSIDE_TEXT);
  private source: SourcePosition | null = null;
  private readonly srcSlot = el('span', 'card-src-slot');
  /** the id of the layer name (the card's accessible name) */
  readonly nameId = uid('name');
  private readonly chevron = icon('chevron-down');
  private readonly nameEl: HTMLElement;
  private readonly pathEl = el('span', 'layer-path');
  private readonly badgesEl = el('span', 'badges');
  private badgeSig = '';
  private warnSig = '';

  constructor(bodyId: string, onToggle: () => void, onReveal: (src: SourcePosition) => void) {
    this.toggleBtn = el('button', 'card-toggle', null, {
      type: 'button',
      'aria-expanded': 'true',
      'aria-controls': bodyId,
    });
    this.nameEl = el('span', 'layer-name', null, { id: this.nameId });
    this.toggleBtn.append(this.chevron, this.nameEl);
    this.toggleBtn.addEventListener('click', onToggle);
    this.srcBtn.addEventListener('click', () => {
      if (this.source) onReveal(this.source);
    });
    this.srcSlot.append(this.srcNone);
    this.head.append(this.toggleBtn, this.pathEl, this.srcSlot, this.badgesEl);
    setAttr(this.warnings, 'aria-label', 'warnings');
    this.callout.hidden = true;
    this.trap.hidden = true;
    this.compareLine.hidden = true;
  }

  setCollapsed(c: boolean): void {
    this.toggleBtn.setAttribute('aria-expanded', String(!c));
    this.chevron.className = `codicon codicon-${c ? 'chevron-right' : 'chevron-down'}`;
  }

  update(
    l: LayerSnapshot,
    prev: LayerSnapshot | null,
    d: LayerDelta | null,
    prevStepIndex: number,
    dr: CardDrift,
    sem: CardSemantics = { a: 'tfjs', b: null },
  ): void {
    setText(this.nameEl, l.name);
    setText(this.pathEl, l.path.length > 1 ? l.path.join(' › ') : '');
    setAttr(this.pathEl, 'title', l.path.join(' › '));
    const had = !!this.source;
    this.source = l.source ?? null;
    // (the link is in the document only when there is a source: no empty, nameless button)
    if (had !== !!this.source) this.srcSlot.replaceChildren(this.source ? this.srcBtn : this.srcNone);
    if (this.source) {
      setText(this.srcBtn, `built at ${sourceLabel(this.source)}`);
      setAttr(this.srcBtn, 'title', `${this.source.file}:${this.source.line}:${this.source.column}`);
      setAttr(this.srcBtn, 'aria-label', `Reveal where ${l.name} was built: ${sourceLabel(this.source)}`);
    }
    const callout = frozenDriftCallout(l.trainable, dr.drift, dr.baseStep);
    setHidden(this.callout, !callout);
    if (callout) setText(this.callout, callout);
    setText(this.drift, driftSentence(dr.drift, dr.baseStep, l.channels));
    this.drift.classList.toggle('has-changes', !!dr.drift && dr.drift.changed > 0);
    this.updateBadges(l, sem.a);
    setText(this.why, explainLayer(l, prev, sem.a));
    this.updateTrap(l, sem);
    this.updateWarnings(l);

    const parts = [
      `${count(l.channels)} channel${l.channels === 1 ? '' : 's'}`,
      `axis ${l.axis}`,
      momentumText(l.momentum, sem.a === 'pytorch' || sem.b === 'pytorch'),
      `epsilon ${l.epsilon}`,
    ];
    if (l.lastCall)
      parts.push(
        `last call: ${l.lastCall.statsUsed === 'batch' ? 'training' : 'inference'} mode, training = ${l.lastCall.training}, input ${shape(l.lastCall.inputShape)}`,
      );
    if (l.lastTrainingCall && !(l.lastCall && l.lastCall.training))
      parts.push(`last training call: input ${shape(l.lastTrainingCall.inputShape)}`);
    if (!l.gamma) parts.push('no gamma (scale: false)');
    if (!l.beta) parts.push('no beta (center: false)');
    setText(this.meta, parts.join(' · '));

    let dt: string;
    if (d) {
      dt =
        d.changed === 0
          ? `Since step ${prevStepIndex}: no channel of the moving statistics changed.`
          : `Since step ${prevStepIndex}: ${count(d.changed)} of ${count(l.channels)} channels changed · max |Δ moving mean| ${short(d.maxMean)} · max |Δ moving variance| ${short(d.maxVar)}`;
    } else if (prev) dt = `The layer's shape changed since step ${prevStepIndex}.`;
    else
      dt = l.movingUpdated
        ? 'First step seen: the moving statistics differ from their initial values.'
        : 'First step seen: nothing to compare with yet.';
    setText(this.delta, dt);
    this.delta.classList.toggle('has-changes', !!d && d.changed > 0);
  }

  /** the compare line: the compare run's why sentence (`differs`: the values differ), or null to hide it */
  updateCompare(text: string | null, differs: boolean | null): void {
    setHidden(this.compareLine, text === null);
    if (text === null) return;
    setText(this.compareLine, `${differs === true ? '≠ ' : differs === false ? '= ' : ''}${text}`);
    this.compareLine.classList.toggle('differs', differs === true);
  }

  private updateTrap(l: LayerSnapshot, sem: CardSemantics): void {
    const t = trainableTrap(l, sem.a);
    setHidden(this.trap, t === null);
    if (t === null) return;
    if (!this.trap.firstChild) {
      // (built the first time it applies)
      setAttr(this.trapList, 'aria-label', 'what trainable = false means in each framework');
      this.trap.append(this.trapText, el('p', 'trap-lead', 'What trainable = false means:'), this.trapList);
    }
    setText(this.trapText, t);
    const meanings = trainableMeanings(sem.b ? [sem.a, sem.b] : [sem.a]);
    const sig = meanings.join('\n');
    if (this.trapList.dataset.sig === sig) return;
    this.trapList.dataset.sig = sig;
    this.trapList.replaceChildren(...meanings.map((m) => el('li', null, m)));
  }

  private updateBadges(l: LayerSnapshot, sem: Semantics): void {
    const badges = layerBadges(l, sem);
    const sig = badges.map((b) => b.tone + b.text + b.title).join('|');
    if (sig === this.badgeSig) return;
    this.badgeSig = sig;
    const spans = this.badgesEl.children;
    while (spans.length > badges.length) spans[spans.length - 1].remove();
    badges.forEach((b, i) => {
      let s = spans[i] as HTMLElement | undefined;
      if (!s) this.badgesEl.append((s = el('span')));
      const cls = `badge tone-${b.tone}${b.prominent ? ' badge-mode' : ''}`;
      if (s.className !== cls) s.className = cls;
      setText(s, b.text);
      if (s.title !== b.title) s.title = b.title;
    });
  }

  private updateWarnings(l: LayerSnapshot): void {
    const wsig = l.warnings.map((w) => w.code + '\u0000' + w.message).join('\u0001');
    if (wsig === this.warnSig) return;
    this.warnSig = wsig;
    const frag = document.createDocumentFragment();
    for (const w of l.warnings) {
      const li = el('li', `warning warning-${w.code}`);
      li.dataset.code = w.code;
      const title = el('strong', null, warningTitle(w.code));
      // one line: the engine's message (often a paragraph) and the explanation are said once, in the overview's
      // grouped warnings; the message stays in the tooltip
      li.title = w.message;
      const code = el('code', 'warning-code', w.code);
      const see = el('span', 'warning-see', ' — explained once, in the overview above');
      li.append(icon('warning'), title, el('span', null, ' '), code, see);
      frag.append(li);
    }
    this.warnings.replaceChildren(frag);
    setHidden(this.warnings, l.warnings.length === 0);
  }
}
