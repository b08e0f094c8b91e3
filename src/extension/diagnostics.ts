/** The Problems-view entries of runs that failed (compile errors, uncaught throws), remembered per script. */
import * as vscode from 'vscode';

export class RunDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('batchnormInspector');
  /** files that carry a diagnostic of a session, per script */
  private readonly files = new Map<string, vscode.Uri[]>();

  /** an error of the run of script `key` at `line`/`column` (1-based) of `file` */
  add(key: string, file: vscode.Uri, line: number, column: number | null, message: string, compile: boolean): void {
    const l = Math.max(0, line - 1);
    const c = Math.max(0, (column ?? 1) - 1);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === file.toString());
    const endCol = doc && l < doc.lineCount ? Math.max(c + 1, doc.lineAt(l).range.end.character) : c + 1;
    const d = new vscode.Diagnostic(new vscode.Range(l, c, l, endCol), message, vscode.DiagnosticSeverity.Error);
    d.source = 'BatchNorm Inspector';
    d.code = compile ? 'compile' : 'run';
    const prev = this.collection.get(file) ?? [];
    this.collection.set(file, [...prev, d]);
    const files = this.files.get(key) ?? [];
    files.push(file);
    this.files.set(key, files);
  }

  /** removes every diagnostic of the runs of script `key` */
  clear(key: string): void {
    for (const f of this.files.get(key) ?? []) this.collection.delete(f);
    this.files.delete(key);
  }

  dispose(): void {
    this.collection.dispose();
  }
}
