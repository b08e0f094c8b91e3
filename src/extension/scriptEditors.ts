/**
 * The editors of scripts: which one the user last worked in (a focused webview has no active text editor),
 * switching the current session with the active editor, and ending a script's worker when its editor closes.
 */
import * as vscode from 'vscode';
import type { Sessions } from './sessions';
import { isScriptDocument } from './stepPointCache';

export class ScriptEditors implements vscode.Disposable {
  private lastScriptEditor: vscode.TextEditor | undefined;
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly sessions: Sessions,
    private readonly output: vscode.OutputChannel,
  ) {
    this.subs = [
      vscode.window.onDidChangeActiveTextEditor((e) => this.onActiveEditor(e)),
      vscode.window.tabGroups.onDidChangeTabs((e) => this.onTabsChanged(e.closed)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.endWorkerOf(doc.uri)),
    ];
    const a = vscode.window.activeTextEditor;
    if (a && isScriptDocument(a.document)) this.lastScriptEditor = a;
  }

  /** the script editor a command without a script argument is about */
  scriptEditor(): vscode.TextEditor | undefined {
    const a = vscode.window.activeTextEditor;
    if (a && isScriptDocument(a.document)) return a;
    const visible = vscode.window.visibleTextEditors;
    const last = this.lastScriptEditor;
    if (last && visible.some((v) => v.document === last.document)) {
      return visible.find((v) => v === last) ?? visible.find((v) => v.document === last.document);
    }
    const cur = this.sessions.currentSession;
    return (
      (cur && visible.find((v) => v.document.uri.toString() === cur.uri.toString())) ||
      visible.find((v) => isScriptDocument(v.document))
    );
  }

  private onActiveEditor(e: vscode.TextEditor | undefined): void {
    if (e && isScriptDocument(e.document)) this.lastScriptEditor = e;
    if (e) {
      const s = this.sessions.sessionFor(e.document.uri);
      if (s) this.sessions.setCurrent(s);
    }
  }

  private onTabsChanged(closed: readonly vscode.Tab[]): void {
    if (!closed.length) return;
    const open = new Set<string>();
    for (const g of vscode.window.tabGroups.all)
      for (const t of g.tabs) if (t.input instanceof vscode.TabInputText) open.add(t.input.uri.toString());
    for (const t of closed) {
      if (!(t.input instanceof vscode.TabInputText)) continue;
      const u = t.input.uri;
      if (!open.has(u.toString())) this.endWorkerOf(u);
    }
  }

  /** closing the script's editor ends its worker; the session (and its snapshots) stay */
  private endWorkerOf(uri: vscode.Uri): void {
    const s = this.sessions.getSession(uri);
    if (s && s.live) {
      this.output.appendLine(`── ${s.label}: its editor closed, stopping its worker`);
      void s.stop('closed');
    }
  }

  dispose(): void {
    this.subs.forEach((d) => d.dispose());
  }
}
