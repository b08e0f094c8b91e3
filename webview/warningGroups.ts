/**
 * The step's warnings, grouped: each warning code that any layer has is said once (what the engine says, why,
 * what to do: explain.ts) with the list of the layers it concerns, each name a link to its card. Rebuilt only
 * when the groups change.
 */
import type { LayerSnapshot } from '../src/shared/protocol';
import { el, icon, setHidden } from './dom';
import { warningAdvice, warningTitle } from './explain';
import { count } from './format';

export interface WarningGroup {
  code: string;
  /** the engine's message (of the first layer; `messages` > 1 when the layers' messages differ) */
  message: string;
  messages: number;
  keys: string[];
  names: string[];
}

/** The groups of a step's warnings, in order of first appearance (model order). Pure. */
export function groupWarnings(layers: LayerSnapshot[], keys: string[]): WarningGroup[] {
  const by = new Map<string, WarningGroup & { seen: Set<string> }>();
  layers.forEach((l, i) => {
    for (const w of l.warnings) {
      let g = by.get(w.code);
      if (!g)
        by.set(w.code, (g = { code: w.code, message: w.message, messages: 0, keys: [], names: [], seen: new Set() }));
      if (g.keys[g.keys.length - 1] !== keys[i]) {
        g.keys.push(keys[i]);
        g.names.push(l.name);
      }
      g.seen.add(w.message);
      g.messages = g.seen.size;
    }
  });
  return [...by.values()].map(({ seen: _seen, ...g }) => g);
}

export class WarningGroups {
  readonly root = el('section', 'warning-groups', null, { 'aria-label': 'Warnings, grouped' });
  private sig = '';

  constructor(private openCard: (key: string) => void) {}

  update(layers: LayerSnapshot[], keys: string[]): void {
    const groups = groupWarnings(layers, keys);
    const sig = JSON.stringify(groups.map((g) => [g.code, g.message, g.messages, g.keys]));
    if (sig === this.sig) return;
    this.sig = sig;
    setHidden(this.root, groups.length === 0);
    const frag = document.createDocumentFragment();
    for (const g of groups) {
      const box = el('div', `warning-group warning warning-${g.code}`);
      box.dataset.code = g.code;
      const n = g.keys.length;
      const head = el('p', 'wg-head');
      head.append(
        icon('warning'),
        el('strong', null, warningTitle(g.code)),
        el('span', null, ' '),
        el('code', 'warning-code', g.code),
        el('span', 'wg-count', ` · ${count(n)} layer${n === 1 ? '' : 's'}`),
      );
      const what = el(
        'p',
        'wg-what',
        g.messages > 1 ? `${g.message} (and ${g.messages - 1} other wordings)` : g.message,
      );
      const a = warningAdvice(g.code);
      const why = el('p', 'wg-why');
      why.append(el('strong', null, 'Why: '), el('span', null, a.why));
      const fix = el('p', 'wg-fix');
      fix.append(el('strong', null, 'What to do: '), el('span', null, a.fix));
      const list = el('p', 'wg-layers');
      list.append(el('span', 'wg-layers-label', n === 1 ? 'Layer: ' : `The ${count(n)} layers: `));
      g.keys.forEach((k, i) => {
        // name and comma kept together (a line never starts with the comma)
        const item = el('span', 'wg-item');
        const b = el('button', 'link wg-layer', g.names[i], { type: 'button' });
        b.dataset.key = k;
        b.title = `Open the card of ${g.names[i]}`;
        b.addEventListener('click', () => this.openCard(k));
        item.append(b);
        if (i < n - 1) item.append(',');
        list.append(item, ' ');
      });
      box.append(head, what);
      if (a.why) box.append(why);
      if (a.fix) box.append(fix);
      if (n > 8) {
        // a long list folds away (its names are still in the page for search and screen readers)
        const more = el('details', 'wg-details');
        more.append(el('summary', null, `The ${count(n)} layers`), list);
        box.append(more);
      } else box.append(list);
      frag.append(box);
    }
    this.root.replaceChildren(frag);
  }
}
