/**
 * The status bar item of the semantics: whose BatchNormalization rules the current session follows (or, with no
 * session, what the setting says for the active script), and the compare beside it; a click chooses the semantics.
 * Also the context key bnInspector.hasCompare (the current session has a compare run, live or ended).
 */
import * as vscode from 'vscode';
import { SEMANTICS_DETAIL, SEMANTICS_LABEL } from '../shared/semantics';
import { CMD } from './commandIds';
import type { CompareRuns } from './compareRuns';
import { semanticsSetting, type Sessions } from './sessions';
import { isScriptDocument } from './stepPointCache';

export class SemanticsStatusBar implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('batchnormInspector.semantics', vscode.StatusBarAlignment.Left, 49);
  private readonly subs: vscode.Disposable[];
  private hasCompare: boolean | undefined;

  constructor(
    private readonly sessions: Sessions,
    private readonly compares: CompareRuns,
  ) {
    this.item.name = 'BatchNorm Inspector: semantics';
    this.item.command = CMD.pickSemantics;
    this.subs = [
      sessions.onDidChange(() => this.update()),
      compares.onDidChange(() => this.update()),
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('batchnormInspector.semantics')) this.update();
      }),
    ];
    this.update();
  }

  update(): void {
    const s = this.sessions.currentSession;
    const has = !!this.compares.compareOf(s);
    if (has !== this.hasCompare) {
      this.hasCompare = has;
      void vscode.commands.executeCommand('setContext', 'bnInspector.hasCompare', has);
    }
    const editor = vscode.window.activeTextEditor;
    const scriptOpen = !!editor && isScriptDocument(editor.document);
    if (!s && !scriptOpen) {
      this.item.hide();
      return;
    }
    const resource = s?.uri ?? editor?.document.uri;
    const setting = semanticsSetting(resource);
    const sem = s?.semantics ?? setting;
    const cmp = this.compares.compareOf(s);
    const vs = cmp && cmp.state !== 'ended' ? ` ↔ ${SEMANTICS_LABEL[cmp.semantics]}` : '';
    this.item.text = `$(beaker) BN: ${SEMANTICS_LABEL[sem]}${vs}`;
    const lines = [
      s
        ? `BatchNorm Inspector: ${s.label} runs under ${SEMANTICS_LABEL[sem]} rules.`
        : `BatchNorm Inspector: the next run follows ${SEMANTICS_LABEL[sem]} rules.`,
      SEMANTICS_DETAIL[sem],
    ];
    if (s && setting !== sem) lines.push(`The setting now says ${SEMANTICS_LABEL[setting]}: the next run follows it.`);
    if (cmp) lines.push(cmp.statusText(s?.lastStep?.index ?? 0));
    lines.push('Click to choose the semantics (setting batchnormInspector.semantics).');
    this.item.tooltip = lines.join('\n');
    this.item.show();
  }

  dispose(): void {
    this.subs.forEach((d) => d.dispose());
    this.item.dispose();
  }
}
