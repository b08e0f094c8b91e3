/**
 * Code lenses on the step points the engine finds (findStepPoints, the same finder the worker uses):
 * `▶ Run until this statement finishes` on every one, except those that only build a model (ModelBuildingLines:
 * guessed from the text before a run, reported by the engine after); on the line a session is paused at, where the
 * run stands, `⏭ Step` and `■ Stop`. In an untrusted workspace, a lens that says why nothing runs.
 */
import * as vscode from 'vscode';
import { CMD } from './commandIds';
import type { ModelBuildingLines } from './modelBuildingLines';
import type { Sessions } from './sessions';
import { isScriptDocument, type StepPointCache } from './stepPointCache';

export const LENS_TITLES = {
  /** the run pauses *after* the statement: the title says so (a debugger's "Run to here" stops before the line) */
  runToHere: '▶ Run until this statement finishes',
  step: '$(debug-step-over) Step',
  stop: '■ Stop',
  trust: '$(shield) BatchNorm Inspector: trust this workspace to run scripts',
} as const;

/** one answer of provideCodeLenses: the document version, ms it took (wall; CPU of this thread), when it returned */
export interface LensTiming {
  uri: string;
  version: number;
  ms: number;
  /** null where Node has no process.threadCpuUsage (before 23.9) */
  cpuMs: number | null;
  /** performance.now() at its end */
  at: number;
}

/** CPU time of this thread in ms (Node >= 23.9), else null */
function threadCpuMs(): number | null {
  const p = process as { threadCpuUsage?: () => { user: number; system: number } };
  if (typeof p.threadCpuUsage !== 'function') return null;
  const u = p.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

export class StepPointLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly _onDidChange = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this._onDidChange.event;
  private readonly subs: vscode.Disposable[];
  private lastKey = '';
  /** the last answers (at most 32, oldest first), for the cost test (test/vscode/activationCost.test.ts) */
  readonly provided: LensTiming[] = [];

  constructor(
    private readonly sessions: Sessions,
    private readonly stepPoints: StepPointCache,
    private readonly modelBuilding: ModelBuildingLines,
  ) {
    this.subs = [
      // state changes only (paused / running / ended, current session): not every step of a run
      sessions.onDidChange(() => {
        const key = this.stateKey();
        if (key !== this.lastKey) {
          this.lastKey = key;
          this._onDidChange.fire();
        }
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this._onDidChange.fire()),
      modelBuilding.onDidChange(() => this._onDidChange.fire()),
    ];
  }

  private stateKey(): string {
    return this.sessions
      .allSessions()
      .map((s) => `${s.id}:${s.state}:${s.state === 'paused' ? s.lastStep?.index : ''}`)
      .join('|');
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const t0 = performance.now();
    const cpu0 = threadCpuMs();
    const lenses = this.lensesOf(doc);
    const at = performance.now();
    const cpu1 = threadCpuMs();
    const cpuMs = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
    this.provided.push({ uri: doc.uri.toString(), version: doc.version, ms: at - t0, cpuMs, at });
    if (this.provided.length > 32) this.provided.shift();
    return lenses;
  }

  private lensesOf(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!isScriptDocument(doc)) return [];
    const uri = doc.uri;
    const scan = this.stepPoints.scanDocument(doc);
    if (scan.syntaxError || scan.points.length === 0) return [];
    const hidden = this.modelBuilding.hiddenLines(doc, scan.modelBuildingGuess);
    const paused = this.sessions.sessionPausedIn(uri.fsPath);
    const pausedStep = paused?.lastStep ?? null;
    // model building is not stepping: those statements get no lens (the paused line always keeps its own)
    const points = scan.points.filter((p) => !hidden.has(p.line) || pausedStep?.line === p.line);
    if (points.length === 0) return [];
    const lenses: vscode.CodeLens[] = [];
    const at = (line: number) => new vscode.Range(line - 1, 0, line - 1, 0);

    if (!vscode.workspace.isTrusted) {
      for (const p of points)
        lenses.push(
          new vscode.CodeLens(at(p.line), {
            title: LENS_TITLES.trust,
            tooltip:
              'Running a script runs its code: BatchNorm Inspector runs nothing until this workspace is trusted.',
            command: CMD.trustWorkspace,
          }),
        );
      return lenses;
    }

    const own = this.sessions.getSession(uri);
    const edited =
      !!paused &&
      paused.uri.toString() === uri.toString() &&
      doc.version !== paused.docVersion &&
      doc.getText() !== paused.sourceText;
    for (const p of points) {
      const range = at(p.line);
      if (pausedStep && pausedStep.line === p.line) {
        const where = `paused here · step ${pausedStep.index} · hit ${pausedStep.hit}`;
        lenses.push(
          new vscode.CodeLens(range, {
            title: edited ? `${where} · edited: the next run restarts` : where,
            tooltip: 'Open the inspector on this step',
            command: CMD.openInspector,
          }),
          new vscode.CodeLens(range, {
            title: LENS_TITLES.step,
            tooltip: 'Run to the next step point',
            command: CMD.step,
            arguments: [paused!.uri],
          }),
          new vscode.CodeLens(range, {
            title: LENS_TITLES.runToHere,
            tooltip: `Run until this statement has run once more, then pause (line ${p.line})`,
            command: CMD.runToLine,
            arguments: [uri, p.line],
          }),
          new vscode.CodeLens(range, {
            title: LENS_TITLES.stop,
            tooltip: 'End the run (the snapshots stay)',
            command: CMD.stop,
            arguments: [paused!.uri],
          }),
        );
        continue;
      }
      lenses.push(
        new vscode.CodeLens(range, {
          title: LENS_TITLES.runToHere,
          tooltip: `Run the script (current text, unsaved edits included); it pauses right after the statement of line ${p.line}`,
          command: CMD.runToLine,
          arguments: [uri, p.line],
        }),
      );
    }
    // a run in progress: say so on the first step point, with a way to stop it
    if (own && own.busy && !pausedStep && points.length) {
      const range = at(points[0].line);
      lenses.unshift(
        new vscode.CodeLens(range, {
          title: `$(loading~spin) running`,
          tooltip: 'The script is running',
          command: CMD.openInspector,
        }),
        new vscode.CodeLens(range, {
          title: LENS_TITLES.stop,
          tooltip: 'End the run (the snapshots stay)',
          command: CMD.stop,
          arguments: [own.uri],
        }),
      );
    }
    return lenses;
  }

  dispose(): void {
    this.subs.forEach((d) => d.dispose());
    this._onDidChange.dispose();
  }
}
