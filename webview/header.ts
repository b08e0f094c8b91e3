/**
 * The panel's sticky header: script, step, line (a link to the editor), hit, backend and tfjs version; the
 * session status; the command toolbar (enabled per session state); the semantics row (the run's semantics as a
 * button that opens the host's quick pick, Compare…, and while a compare run is shown its status and Stop
 * comparing); the error box; the step's summary line.
 * The layer filter row (layerList.ts) is placed at its bottom.
 * The command buttons are never disabled nor re-created: a command that does not apply is aria-disabled (and
 * ignored), so a button keeps the keyboard focus while the session runs (a disabled button would drop it to
 * the page body, and the next Enter or Space would do nothing).
 */
import type { CompareInfo, SessionInfo, StepSnapshot, WebviewCommand, WebviewToHost } from '../src/shared/protocol';
import { isSemantics, SEMANTICS_LABEL } from '../src/shared/semantics';
import { button, el, icon, setHidden, setText } from './dom';
import { count } from './format';

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
    case 'pickSemantics':
    case 'compare':
    case 'stopCompare':
      return true;
  }
}

const ERROR_KIND: Record<string, string> = {
  compile: 'The script did not compile',
  timeout: 'Timed out',
  oom: 'Out of memory',
  crash: 'The worker crashed',
  stopped: 'Stopped',
};

export class Header {
  readonly top = el('header', 'top');
  private scriptEl = el('span', 'script');
  private stepEl = el('span', 'step-no');
  private lineBtn = el('button', 'link line-link', null, { type: 'button' });
  private hitEl = el('span', 'hit');
  private backendEl = el('span', 'backend');
  private tfjsEl = el('span', 'tfjs');
  private statusEl = el('p', 'status', null, { role: 'status' });
  private buttons = new Map<WebviewCommand, HTMLButtonElement>();
  private errorEl = el('div', 'error-box', null, { role: 'alert' });
  private summaryEl = el('p', 'summary');
  private semRow = el('div', 'semantics-row', null, { role: 'toolbar', 'aria-label': 'Semantics and compare' });
  private semBtn = el('button', 'secondary semantics-pick', null, { type: 'button' });
  private semLabel = el('span', 'label');
  private compareBtn = button('Compare…', 'diff', 'secondary compare-start');
  private compareStatus = el('span', 'compare-status', null, { role: 'status' });
  private stopCompareBtn = button('Stop comparing', 'close', 'secondary compare-stop');
  private step: StepSnapshot | null = null;

  constructor(
    private post: (msg: WebviewToHost) => void,
    filterRow: HTMLElement,
  ) {
    const titleRow = el('div', 'title-row');
    this.lineBtn.addEventListener('click', () => {
      const s = this.step;
      if (s) this.post({ type: 'revealLine', file: s.file, line: s.line });
    });
    titleRow.append(this.scriptEl, this.stepEl, this.lineBtn, this.hitEl, this.backendEl, this.tfjsEl);
    const bar = el('div', 'commands', null, { role: 'toolbar', 'aria-label': 'Session commands' });
    for (const c of COMMANDS) {
      const b = button(c.label, c.icon, c.command === 'step' ? 'primary' : 'secondary');
      b.dataset.command = c.command;
      b.title = c.title;
      b.setAttribute('aria-disabled', 'true');
      b.addEventListener('click', () => {
        if (b.getAttribute('aria-disabled') !== 'true') this.post({ type: 'command', command: c.command });
      });
      this.buttons.set(c.command, b);
      bar.append(b);
    }
    this.semBtn.dataset.command = 'pickSemantics';
    this.semBtn.append(this.semLabel, el('span', 'chevron', ' ▾', { 'aria-hidden': 'true' }));
    this.semBtn.title = 'Choose whose BatchNormalization rules the next run follows (tfjs, Keras, tf.keras, PyTorch)';
    this.compareBtn.dataset.command = 'compare';
    this.compareBtn.title = 'Run the same script under a second semantics, in lockstep, and compare each layer';
    this.compareBtn.setAttribute('aria-label', 'Compare… with the same script under another semantics');
    this.stopCompareBtn.dataset.command = 'stopCompare';
    this.stopCompareBtn.title = 'Stop the compare run and hide the comparison';
    for (const b of [this.semBtn, this.compareBtn, this.stopCompareBtn]) {
      const command = b.dataset.command as WebviewCommand;
      b.setAttribute('aria-disabled', 'true');
      b.addEventListener('click', () => {
        if (b.getAttribute('aria-disabled') !== 'true') this.post({ type: 'command', command });
      });
      this.buttons.set(command, b);
    }
    this.compareStatus.hidden = true;
    this.stopCompareBtn.hidden = true;
    // (the status on a line of its own below the three buttons: they stay on one row in a side panel)
    this.semRow.append(this.semBtn, this.compareBtn, this.stopCompareBtn, this.compareStatus);
    this.errorEl.hidden = true;
    this.top.append(titleRow, this.statusEl, bar, this.semRow, this.errorEl, this.summaryEl, filterRow);
  }

  render(s: SessionInfo | null, step: StepSnapshot | null, compare: CompareInfo | null = null): void {
    this.step = step;
    this.renderSemantics(s, compare);
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
      const off = String(!enabled(cmd, s));
      if (b.getAttribute('aria-disabled') !== off) b.setAttribute('aria-disabled', off);
    }
    this.renderError(s);
    setHidden(this.summaryEl, !step);
    if (step) this.renderSummary(step);
  }

  private renderSemantics(s: SessionInfo | null, compare: CompareInfo | null): void {
    setHidden(this.semRow, !s);
    if (!s) return;
    const A = SEMANTICS_LABEL[isSemantics(s.semantics) ? s.semantics : 'tfjs'];
    setText(this.semLabel, `Semantics: ${A}`);
    this.semBtn.setAttribute('aria-label', `Semantics: ${A}. Choose the semantics of the next run`);
    setHidden(this.compareStatus, !compare);
    setHidden(this.stopCompareBtn, !compare);
    this.semRow.classList.toggle('comparing', !!compare);
    if (compare) {
      const B = isSemantics(compare.semantics) ? SEMANTICS_LABEL[compare.semantics] : String(compare.semantics);
      // (the host's status may begin with the semantics' own name: said once)
      const st = String(compare.status ?? '');
      const lead = [`${B}: `, `${compare.semantics}: `].find((x) => st.toLowerCase().startsWith(x.toLowerCase()));
      setText(this.compareStatus, `Comparing with ${B}: ${lead ? st.slice(lead.length) : st}`);
      this.compareStatus.dataset.state = compare.state;
      this.stopCompareBtn.setAttribute('aria-label', `Stop comparing with ${B}`);
    }
  }

  private renderError(s: SessionInfo | null): void {
    const err = s?.error ?? null;
    setHidden(this.errorEl, !err);
    if (!err) return;
    const sig = JSON.stringify([err.message, err.line, err.column, err.kind, err.file]);
    if (this.errorEl.dataset.sig === sig) return;
    this.errorEl.dataset.sig = sig;
    const kind = ERROR_KIND[err.kind ?? ''] ?? 'The script threw';
    const head = el('p', 'error-head');
    head.append(icon('error'), el('strong', null, ` ${kind}`));
    if (err.line != null) {
      const file = err.file ?? s!.script;
      const line = err.line;
      const link = el('button', 'link', `line ${line}${err.column != null ? `:${err.column}` : ''}`, {
        type: 'button',
      });
      link.setAttribute('aria-label', `Reveal line ${line} of the error in the editor`);
      link.addEventListener('click', () => this.post({ type: 'revealLine', file, line }));
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

  private renderSummary(step: StepSnapshot): void {
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
