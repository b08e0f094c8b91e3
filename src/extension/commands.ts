/**
 * What the commands do (Run to here / to cursor, Run Script, Step, Continue, Restart, Stop, Export), and their
 * registration. A run command resolves once the run has paused or ended, with a RunOutcome.
 *
 * One unit of ~280 lines: every command goes through the same trust check, the same session lookup and the same
 * "start, then settle" path, which a split would repeat in each file.
 */
import * as vscode from 'vscode';
import type { PausePolicy, SessionState, StepPoint } from '../shared/protocol';
import { CMD } from './commandIds';
import type { CompareRuns } from './compareRuns';
import { sessionToJson } from './exportJson';
import type { UserMessages } from './messages';
import type { ModelBuildingLines } from './modelBuildingLines';
import type { ScriptEditors } from './scriptEditors';
import type { ScriptSession } from './session';
import { samePath } from './engine';
import type { Sessions } from './sessions';
import type { StepPointCache } from './stepPointCache';

/** What a run command resolves with (tests and callers that await it). */
export interface RunOutcome {
  ran: boolean;
  /** why nothing ran, when ran is false */
  reason?: 'untrusted' | 'noDocument' | 'noStepPoint' | 'busy';
  /** the run restarted from the top because the text changed since the session started */
  restarted?: boolean;
  /** the line asked for only built a model (not a step): the run paused at the next step or ended */
  modelBuilding?: boolean;
  state?: SessionState;
  session?: ScriptSession;
}

export interface RunCommandsDeps {
  sessions: Sessions;
  editors: ScriptEditors;
  messages: UserMessages;
  output: vscode.OutputChannel;
  stepPoints: StepPointCache;
  modelBuilding: ModelBuildingLines;
  compares: CompareRuns;
}

export class RunCommands {
  constructor(private readonly deps: RunCommandsDeps) {}

  private get sessions(): Sessions {
    return this.deps.sessions;
  }

  /** true in a trusted workspace; else tells the user why nothing runs */
  checkTrust(): boolean {
    if (vscode.workspace.isTrusted) return true;
    this.deps.messages.notify(
      'warning',
      'BatchNorm Inspector runs your script, so it needs a trusted workspace: nothing was run.',
      'Manage Workspace Trust',
    );
    return false;
  }

  private async documentFor(arg: unknown): Promise<vscode.TextDocument | undefined> {
    const uri = uriOf(arg);
    if (uri) return vscode.workspace.openTextDocument(uri);
    const e = this.deps.editors.scriptEditor();
    if (e) return e.document;
    const cur = this.sessions.currentSession;
    if (cur) return vscode.workspace.openTextDocument(cur.uri);
    return undefined;
  }

  private targetSession(arg: unknown): ScriptSession | undefined {
    const uri = uriOf(arg);
    return uri ? this.sessions.sessionFor(uri) : this.sessions.currentSession;
  }

  /** the entry script's text is what the session started from */
  private unchanged(s: ScriptSession): boolean {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === s.uri.toString());
    if (!doc) return true;
    return doc.version === s.docVersion || doc.getText() === s.sourceText;
  }

  /** the script changed since `s` started: run it again from the top, to `pause` */
  private async restartChanged(s: ScriptSession, pause: PausePolicy): Promise<RunOutcome> {
    const entry = await vscode.workspace.openTextDocument(s.uri);
    this.deps.messages.notify('info', `${s.label} changed since this run started: running it again from the top.`);
    return this.startAndSettle(entry, pause, 'restart (text changed)', true);
  }

  private async startAndSettle(
    doc: vscode.TextDocument,
    pause: PausePolicy,
    why: string,
    restarted = false,
  ): Promise<RunOutcome> {
    const s = this.sessions.start(doc, pause, why);
    await s.settled();
    return outcome(s, restarted);
  }

  private async resumeAndSettle(s: ScriptSession, pause: PausePolicy): Promise<RunOutcome> {
    this.sessions.resume(s, pause);
    await s.settled();
    return outcome(s);
  }

  /** Run to here: pause at the step point at `line` (1-based) of `uri` */
  async runToLine(uriArg?: unknown, lineArg?: unknown): Promise<RunOutcome> {
    if (!this.checkTrust()) return { ran: false, reason: 'untrusted' };
    const doc = await this.documentFor(uriArg);
    if (!doc) return { ran: false, reason: 'noDocument' };
    const line =
      typeof lineArg === 'number' ? lineArg : (vscode.window.activeTextEditor?.selection.active.line ?? 0) + 1;
    const pause: PausePolicy = { kind: 'line', file: doc.uri.fsPath, line };
    const own = this.sessions.getSession(doc.uri);
    // a paused session of this script (or of a script that imports this file) goes on to the line
    const s = own ?? this.sessions.sessionFor(doc.uri);
    if (s && s.state === 'paused') {
      if (!this.unchanged(s)) return this.tellIfModelBuilding(await this.restartChanged(s, pause), doc, line);
      this.sessions.resume(s, pause);
      this.sessions.setCurrent(s);
      await s.settled();
      return this.tellIfModelBuilding(outcome(s), doc, line);
    }
    const changed = !!own && !this.unchanged(own);
    if (own && own.busy) this.deps.messages.notify('info', `Running ${own.label} again from the top, to line ${line}.`);
    else if (own && changed)
      this.deps.messages.notify(
        'info',
        `${own.label} changed since the last run started: running it again from the top.`,
      );
    return this.tellIfModelBuilding(await this.startAndSettle(doc, pause, `run to line ${line}`, changed), doc, line);
  }

  /**
   * The line asked for only built a model (the engine said so): it is not a step, and the engine paused at the next
   * real step instead (or the run ended). Say so, once per run to that line.
   */
  private tellIfModelBuilding(r: RunOutcome, doc: vscode.TextDocument, line: number): RunOutcome {
    const s = r.session;
    if (!s || !s.builtModelAt(doc.uri.fsPath, line)) return r;
    const at = s.pausedStep;
    if (at && at.line === line && samePath(at.file, doc.uri.fsPath)) return r; // it also gave a real step
    const what = samePath(doc.uri.fsPath, s.scriptPath)
      ? `Line ${line}`
      : `Line ${line} of ${vscode.workspace.asRelativePath(doc.uri, false)}`;
    const where = at
      ? `the run paused at the next step instead, ${samePath(at.file, doc.uri.fsPath) ? 'line ' : `${vscode.workspace.asRelativePath(at.file, false)}:`}${at.line}`
      : `the run went on: ${s.endText()}`;
    this.deps.messages.notify(
      'info',
      `${what} only built the model (its layer calls got symbolic tensors: no layer ran, nothing to inspect), so it is not a step; ${where}.`,
    );
    return { ...r, modelBuilding: true };
  }

  async runToCursor(): Promise<RunOutcome> {
    if (!this.checkTrust()) return { ran: false, reason: 'untrusted' };
    const e = this.deps.editors.scriptEditor();
    if (!e) {
      this.deps.messages.notify('info', 'Run to Cursor needs a TypeScript or JavaScript editor.');
      return { ran: false, reason: 'noDocument' };
    }
    const cursor = e.selection.active.line + 1;
    const { points, syntaxError, modelBuildingGuess } = this.deps.stepPoints.scanDocument(e.document);
    // the first step point at or after the cursor that is a step (not model building, as the lenses show)
    const hidden = this.deps.modelBuilding.hiddenLines(e.document, modelBuildingGuess);
    const p: StepPoint | undefined = points.find((q) => q.line >= cursor && !hidden.has(q.line));
    if (!p) {
      this.deps.messages.notify(
        'info',
        syntaxError
          ? `The script does not parse (line ${syntaxError.line}: ${syntaxError.message}).`
          : `No step point at or after line ${cursor}.`,
      );
      return { ran: false, reason: 'noStepPoint' };
    }
    return this.runToLine(e.document.uri, p.line);
  }

  async runScript(uriArg?: unknown): Promise<RunOutcome> {
    if (!this.checkTrust()) return { ran: false, reason: 'untrusted' };
    const doc = await this.documentFor(uriArg);
    if (!doc) return { ran: false, reason: 'noDocument' };
    return this.startAndSettle(doc, { kind: 'none' }, 'run script');
  }

  async step(uriArg?: unknown): Promise<RunOutcome> {
    if (!this.checkTrust()) return { ran: false, reason: 'untrusted' };
    const s = this.targetSession(uriArg);
    if (s && s.state === 'paused') {
      if (!this.unchanged(s)) return this.restartChanged(s, { kind: 'next' });
      return this.resumeAndSettle(s, { kind: 'next' });
    }
    if (s && s.busy) return { ran: false, reason: 'busy', state: s.state, session: s };
    // no session (or it ended): start and pause at the first step point reached
    const doc = await this.documentFor(s ? s.uri : uriArg);
    if (!doc) return { ran: false, reason: 'noDocument' };
    return this.startAndSettle(doc, { kind: 'next' }, 'step');
  }

  async continue(uriArg?: unknown): Promise<RunOutcome> {
    if (!this.checkTrust()) return { ran: false, reason: 'untrusted' };
    const s = this.targetSession(uriArg);
    if (!s || s.state !== 'paused') return { ran: false, reason: 'busy', state: s?.state, session: s };
    return this.resumeAndSettle(s, { kind: 'none' });
  }

  async restart(uriArg?: unknown): Promise<RunOutcome> {
    if (!this.checkTrust()) return { ran: false, reason: 'untrusted' };
    const s = this.targetSession(uriArg);
    const doc = await this.documentFor(s ? s.uri : uriArg);
    if (!doc) return { ran: false, reason: 'noDocument' };
    return this.startAndSettle(doc, s?.initialPause ?? { kind: 'next' }, 'restart');
  }

  /** ends the session's worker, and its compare run's (which may still be catching up after the session ended) */
  async stop(uriArg?: unknown): Promise<RunOutcome> {
    const s = this.targetSession(uriArg);
    if (s) await this.deps.compares.stopRun(s);
    if (!s || !s.live) return { ran: false, state: s?.state, session: s };
    await s.stop('stop');
    return outcome(s);
  }

  /** writes the whole session as the contract's JSON; `target` skips the save dialog */
  async exportSnapshots(target?: unknown, scriptArg?: unknown): Promise<vscode.Uri | undefined> {
    const s = scriptArg !== undefined ? this.targetSession(scriptArg) : this.sessions.currentSession;
    if (!s || s.stepCount === 0) {
      this.deps.messages.notify('info', 'No snapshots to export yet: run a script to a step point first.');
      return undefined;
    }
    let uri = uriOf(target);
    if (!uri) {
      const base = s.uri.fsPath.replace(/\.[^./\\]+$/, '');
      uri = await vscode.window.showSaveDialog({
        title: 'Export BatchNorm Inspector snapshots',
        defaultUri: vscode.Uri.file(`${base}.bn-inspector.json`),
        filters: { JSON: ['json'] },
        saveLabel: 'Export',
      });
      if (!uri) return undefined;
    }
    const json = JSON.stringify(sessionToJson(s), null, 1);
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(json + '\n'));
    this.deps.output.appendLine(
      `── exported ${s.stepCount - s.history.thinned} step(s) of ${s.label} to ${uri.fsPath}`,
    );
    return uri;
  }
}

/** registers every command; a run opens the panel beside the editor (without taking the focus) */
export function registerCommands(
  context: vscode.ExtensionContext,
  c: RunCommands,
  panel: { show(preserveFocus?: boolean): void },
): void {
  const reg = (id: string, fn: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  const withPanel = <T>(run: () => T): T => {
    if (vscode.workspace.isTrusted) panel.show(true);
    return run();
  };
  reg(CMD.openInspector, () => panel.show(true));
  reg(CMD.runScript, (uri) => withPanel(() => c.runScript(uri)));
  reg(CMD.runToCursor, () => withPanel(() => c.runToCursor()));
  reg(CMD.runToLine, (uri, line) => withPanel(() => c.runToLine(uri, line)));
  reg(CMD.step, (uri) => withPanel(() => c.step(uri)));
  reg(CMD.continue, (uri) => c.continue(uri));
  reg(CMD.restart, (uri) => withPanel(() => c.restart(uri)));
  reg(CMD.stop, (uri) => c.stop(uri));
  reg(CMD.exportSnapshots, (target, script) => c.exportSnapshots(target, script));
  reg(CMD.trustWorkspace, () => vscode.commands.executeCommand('workbench.trust.manage'));
}

function outcome(s: ScriptSession, restarted = false): RunOutcome {
  return { ran: true, restarted, state: s.state, session: s };
}

/** a command's script argument: a Uri, a URI string or a file path */
export function uriOf(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return arg.includes('://') ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  return undefined;
}
