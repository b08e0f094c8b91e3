/**
 * The quick pick of the four semantics (SEMANTICS_DETAIL under each), the current one marked and selected; used by
 * Choose BatchNormalization Semantics… and Compare with Another Semantics….
 */
import * as vscode from 'vscode';
import type { Semantics } from '../shared/protocol';
import { SEMANTICS, SEMANTICS_DETAIL, SEMANTICS_LABEL } from '../shared/semantics';
import type { HostUi } from './hostUi';

export interface SemanticsItem extends vscode.QuickPickItem {
  semantics: Semantics;
}

export interface SemanticsPickOptions {
  title: string;
  placeholder: string;
  /** marked and selected first */
  current?: Semantics;
  /** a word after the current one's name, e.g. "current setting" */
  currentNote?: string;
  /** other marks, e.g. { tfjs: 'this run' } */
  notes?: Partial<Record<Semantics, string>>;
  /** left out (the compare's own semantics) */
  exclude?: Semantics;
}

/** shows the pick; resolves with the chosen semantics, or undefined when dismissed */
export function pickSemantics(ui: HostUi, o: SemanticsPickOptions): Promise<Semantics | undefined> {
  const items: SemanticsItem[] = SEMANTICS.filter((s) => s !== o.exclude).map((s) => {
    const notes = [s === o.current ? (o.currentNote ?? 'current') : '', o.notes?.[s] ?? ''].filter(Boolean);
    return {
      semantics: s,
      label: `${s === o.current ? '$(check)' : '$(blank)'} ${SEMANTICS_LABEL[s]}`,
      description: [s, ...notes].join(' · '),
      detail: SEMANTICS_DETAIL[s],
    };
  });
  const qp = ui.createQuickPick<SemanticsItem>();
  qp.title = o.title;
  qp.placeholder = o.placeholder;
  qp.items = items;
  qp.matchOnDescription = true;
  qp.matchOnDetail = false;
  const cur = items.find((i) => i.semantics === o.current);
  if (cur) qp.activeItems = [cur];
  return new Promise((resolve) => {
    let chosen: Semantics | undefined;
    qp.onDidAccept(() => {
      chosen = qp.selectedItems[0]?.semantics ?? qp.activeItems[0]?.semantics;
      qp.hide();
    });
    qp.onDidHide(() => {
      qp.dispose();
      resolve(chosen);
    });
    qp.show();
  });
}
