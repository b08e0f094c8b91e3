/**
 * The semantics commands: Choose BatchNormalization Semantics… (the setting, and the session under the new rules),
 * Compare with Another Semantics… and Stop Compare; the panel's header posts the same commands.
 *
 * What choosing a semantics does (what a user who picks it while looking at a run expects to see: that run under
 * the new rules, not the old run under a new label):
 * - the setting batchnormInspector.semantics is updated (in the folder's settings when the folder already sets it,
 *   else in the workspace's when a folder or workspace is open, else in the user's);
 * - a paused session of the script is run again from the top under the new rules and brought back to the step
 *   index it was paused at; a running one is run again to where it was first asked to pause;
 * - an ended session is left as it is (its snapshots stay; running a whole script unasked may take long): a
 *   message offers to run it again.
 * Nothing runs in an untrusted workspace (the setting still changes).
 */
import * as vscode from 'vscode';
import type { Semantics } from '../shared/protocol';
import { isSemantics, SEMANTICS, SEMANTICS_LABEL } from '../shared/semantics';
import { CMD } from './commandIds';
import type { RunCommands } from './commands';
import { uriOf } from './commands';
import type { CompareRun } from './compareRun';
import type { CompareRuns } from './compareRuns';
import type { HostUi } from './hostUi';
import type { UserMessages } from './messages';
import type { ScriptEditors } from './scriptEditors';
import type { ScriptSession } from './session';
import { semanticsSetting, type Sessions } from './sessions';
import { pickSemantics } from './semanticsQuickPick';

export interface PickOutcome {
  /** the semantics chosen (undefined: the pick was dismissed or the argument was bad) */
  semantics?: Semantics;
  /** where the setting was written */
  target?: 'global' | 'workspace' | 'workspaceFolder';
  /** what happened to the script's session */
  session?: 'restarted' | 'offered' | 'unchanged' | 'none';
  /** the session after the pick (the new one when restarted) */
  current?: ScriptSession;
}

export interface CompareOutcome {
  ran: boolean;
  reason?: 'untrusted' | 'noSession' | 'dismissed' | 'badArgument';
  session?: ScriptSession;
  run?: CompareRun;
}

export interface SemanticsCommandsDeps {
  sessions: Sessions;
  compares: CompareRuns;
  runs: RunCommands;
  editors: ScriptEditors;
  messages: UserMessages;
  ui: HostUi;
}

const SETTING = 'semantics';

export class SemanticsCommands {
  constructor(private readonly deps: SemanticsCommandsDeps) {}

  private targetSession(arg: unknown): ScriptSession | undefined {
    const uri = uriOf(arg);
    return uri ? this.deps.sessions.sessionFor(uri) : this.deps.sessions.currentSession;
  }

  private badArgument(arg: unknown): void {
    this.deps.messages.notify(
      'error',
      `Unknown BatchNormalization semantics ${JSON.stringify(arg)}: expected one of ${SEMANTICS.join(', ')}.`,
    );
  }

  /** Choose BatchNormalization Semantics…: `semArg` skips the quick pick */
  async pickSemantics(uriArg?: unknown, semArg?: unknown): Promise<PickOutcome> {
    const s = this.targetSession(uriArg);
    const resource = s?.uri ?? uriOf(uriArg) ?? this.deps.editors.scriptEditor()?.document.uri;
    const setting = semanticsSetting(resource);
    let chosen: Semantics | undefined;
    if (semArg !== undefined) {
      if (!isSemantics(semArg)) {
        this.badArgument(semArg);
        return {};
      }
      chosen = semArg;
    } else {
      chosen = await pickSemantics(this.deps.ui, {
        title: 'BatchNormalization semantics',
        placeholder: 'Whose BatchNormalization rules the script runs under (setting batchnormInspector.semantics)',
        current: setting,
        currentNote: 'setting',
        notes: s && s.semantics !== setting ? { [s.semantics]: 'this run' } : undefined,
      });
      if (!chosen) return {};
    }
    const target = await updateSetting(resource, chosen);
    if (!s) return { semantics: chosen, target, session: 'none' };
    if (s.semantics === chosen) return { semantics: chosen, target, session: 'unchanged', current: s };
    const rules = `${SEMANTICS_LABEL[chosen]} rules`;
    if (!s.live) {
      void Promise.resolve(
        this.deps.ui.showInformationMessage(
          `The next run of ${s.label} follows ${rules}; the run shown followed ${SEMANTICS_LABEL[s.semantics]}'s.`,
          'Run Again',
        ),
      ).then((a) => {
        if (a === 'Run Again') void vscode.commands.executeCommand(CMD.restart, s.uri);
      });
      return { semantics: chosen, target, session: 'offered', current: s };
    }
    if (!this.deps.runs.checkTrust()) return { semantics: chosen, target, session: 'unchanged', current: s };
    const current = await this.restartUnder(s, chosen);
    return { semantics: chosen, target, session: 'restarted', current };
  }

  /** runs the script of `s` again under `semantics`, back to the step `s` is paused at (or to its first pause) */
  private async restartUnder(s: ScriptSession, semantics: Semantics): Promise<ScriptSession> {
    const { sessions, messages } = this.deps;
    const doc = await vscode.workspace.openTextDocument(s.uri);
    const k = s.state === 'paused' ? (s.lastStep?.index ?? 0) : 0;
    const rules = `${SEMANTICS_LABEL[semantics]} rules`;
    messages.notify(
      'info',
      k
        ? `Running ${s.label} again from the top under ${rules}, back to step ${k}.`
        : `Running ${s.label} again from the top under ${rules}.`,
    );
    const n = sessions.start(doc, k ? { kind: 'next' } : s.initialPause, `restart under ${semantics} rules`, semantics);
    await n.settled();
    while (n.state === 'paused' && (n.lastStep?.index ?? 0) < k && sessions.getSession(n.uri) === n) {
      sessions.resume(n, { kind: 'next' });
      await n.settled();
    }
    return n;
  }

  /** Compare with Another Semantics…: `semArg` skips the quick pick; resolves once the compare run reached the session's step */
  async compare(uriArg?: unknown, semArg?: unknown): Promise<CompareOutcome> {
    if (!this.deps.runs.checkTrust()) return { ran: false, reason: 'untrusted' };
    const s = this.targetSession(uriArg);
    if (!s) {
      this.deps.messages.notify(
        'info',
        'Compare follows a run of a script: run it to a step first (▶ Run until this statement finishes, or Step), then compare.',
      );
      return { ran: false, reason: 'noSession' };
    }
    let sem: Semantics | undefined;
    if (semArg !== undefined) {
      if (!isSemantics(semArg) || semArg === s.semantics) {
        if (isSemantics(semArg))
          this.deps.messages.notify(
            'error',
            `${s.label} already runs under ${SEMANTICS_LABEL[semArg]} rules: pick another.`,
          );
        else this.badArgument(semArg);
        return { ran: false, reason: 'badArgument', session: s };
      }
      sem = semArg;
    } else {
      sem = await pickSemantics(this.deps.ui, {
        title: `Compare ${s.label} (${SEMANTICS_LABEL[s.semantics]} rules) with…`,
        placeholder: 'The same script under these rules runs beside the session, step by step',
        exclude: s.semantics,
        current: this.deps.compares.compareOf(s)?.semantics,
        currentNote: 'compared now',
      });
      if (!sem) return { ran: false, reason: 'dismissed', session: s };
    }
    const run = this.deps.compares.start(s, sem);
    await run.settled();
    return { ran: true, session: s, run };
  }

  /** Stop Compare: ends the compare run beside the script's session; its view goes */
  stopCompare(uriArg?: unknown): boolean {
    const s = this.targetSession(uriArg);
    return !!s && this.deps.compares.stopCompare(s);
  }
}

/** writes the setting where it takes effect for `resource`; says where */
async function updateSetting(
  resource: vscode.Uri | undefined,
  value: Semantics,
): Promise<'global' | 'workspace' | 'workspaceFolder'> {
  const c = vscode.workspace.getConfiguration('batchnormInspector', resource);
  const i = c.inspect<string>(SETTING);
  if (resource && i?.workspaceFolderValue !== undefined && vscode.workspace.getWorkspaceFolder(resource)) {
    if (i.workspaceFolderValue !== value) await c.update(SETTING, value, vscode.ConfigurationTarget.WorkspaceFolder);
    return 'workspaceFolder';
  }
  if (vscode.workspace.workspaceFolders?.length || vscode.workspace.workspaceFile) {
    if (i?.workspaceValue !== value) await c.update(SETTING, value, vscode.ConfigurationTarget.Workspace);
    return 'workspace';
  }
  if (i?.globalValue !== value) await c.update(SETTING, value, vscode.ConfigurationTarget.Global);
  return 'global';
}

/** registers the three commands; Compare opens the panel beside the editor (without taking the focus) */
export function registerSemanticsCommands(
  context: vscode.ExtensionContext,
  c: SemanticsCommands,
  panel: { show(preserveFocus?: boolean): void },
): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(CMD.pickSemantics, (uri: unknown, sem: unknown) => c.pickSemantics(uri, sem)),
    vscode.commands.registerCommand(CMD.compare, (uri: unknown, sem: unknown) => {
      if (vscode.workspace.isTrusted) panel.show(true);
      return c.compare(uri, sem);
    }),
    vscode.commands.registerCommand(CMD.stopCompare, (uri: unknown) => c.stopCompare(uri)),
  );
}
