/**
 * Small DOM helpers. Text always goes in through textContent / attributes, never through HTML parsing:
 * nothing in the panel uses innerHTML (layer names, paths, messages are user data).
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string | null,
  text?: string | null,
  attrs?: Record<string, string>,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
  return e;
}

/** A codicon span (decorative). */
export function icon(name: string): HTMLSpanElement {
  const s = el('span', `codicon codicon-${name}`);
  s.setAttribute('aria-hidden', 'true');
  return s;
}

/** A <button type=button> with an icon and a visible label (label may be empty: then aria-label is required). */
export function button(label: string, iconName: string | null, cls: string, ariaLabel?: string): HTMLButtonElement {
  const b = el('button', cls, null, { type: 'button' });
  if (iconName) b.append(icon(iconName));
  if (label) b.append(el('span', 'label', label));
  if (ariaLabel) b.setAttribute('aria-label', ariaLabel);
  return b;
}

const lastText = new WeakMap<Node, string>();

/** Sets textContent only when it changed (remembered in JS: no DOM read, no needless layout invalidation). */
export function setText(e: Element, text: string): void {
  if (lastText.get(e) === text) return;
  lastText.set(e, text);
  e.textContent = text;
}

const lastAttr = new WeakMap<Element, Map<string, string>>();

/** Sets an attribute only when it changed (remembered in JS: no mutation, no style invalidation when equal). */
export function setAttr(e: Element, name: string, value: string): void {
  let m = lastAttr.get(e);
  if (!m) lastAttr.set(e, (m = new Map()));
  if (m.get(name) === value) return;
  m.set(name, value);
  e.setAttribute(name, value);
}

export function setHidden(e: HTMLElement, hidden: boolean): void {
  if (e.hidden !== hidden) e.hidden = hidden;
}

let idCounter = 0;
export function uid(prefix: string): string {
  return `${prefix}-${++idCounter}`;
}
