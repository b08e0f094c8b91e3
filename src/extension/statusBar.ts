/**
 * The status bar item (where the current session stands; a click opens the inspector) and the context keys the
 * menus' `when` clauses use: bnInspector.sessionState, bnInspector.hasSession, bnInspector.hasSteps.
 */
import * as vscode from 'vscode';
import type { SessionState } from '../shared/protocol';
import { LENS_TITLES } from './codeLens';
import { CMD } from './commandIds';
import type { ScriptSession } from './session';
import type { Sessions } from './sessions';
import { isScriptDocument } from './stepPointCache';

/** while a run goes on without pausing, the step count is redrawn this often at most */
const STEP_REDRAW_MS = 250;

export class StatusBar implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('batchnormInspector.status', vscode.StatusBarAlignment.Left, 50);
  private contextKeys = '';
  private stepTimer: NodeJS.Timeout | undefined;
  private stepSub: vscode.Disposable | undefined;
  private readonly subs: vscode.Disposable[];
  private disposed = false;

  constructor(private readonly sessions: Sessions) {
    this.item.name = 'BatchNorm Inspector';
    this.item.command = CMD.openInspector;
    this.subs = [
      sessions.onDidChangeCurrent((s) => this.follow(s)),
      sessions.onDidChange(() => this.refresh()),
      vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.refresh()),
    ];
    this.follow(sessions.currentSession);
    this.refresh();
  }

  /** while the current session runs without pausing, the status bar counts its steps */
  private follow(s: ScriptSession | undefined): void {
    this.stepSub?.dispose();
    this.stepSub = s?.onDidStep(() => {
      if (s.stepCount === 1) this.refresh(); // bnInspector.hasSteps
      if (this.stepTimer) return;
      this.stepTimer = setTimeout(() => {
        this.stepTimer = undefined;
        if (!this.disposed) this.update();
      }, STEP_REDRAW_MS);
    });
  }

  private refresh(): void {
    if (this.disposed) return;
    const s = this.sessions.currentSession;
    const state: SessionState = s?.state ?? 'idle';
    const keys = `${state}|${!!s}|${!!s && s.stepCount > 0}`;
    if (keys !== this.contextKeys) {
      this.contextKeys = keys;
      void vscode.commands.executeCommand('setContext', 'bnInspector.sessionState', state);
      void vscode.commands.executeCommand('setContext', 'bnInspector.hasSession', !!s);
      void vscode.commands.executeCommand('setContext', 'bnInspector.hasSteps', !!s && s.stepCount > 0);
    }
    this.update();
  }

  private update(): void {
    const s = this.sessions.currentSession;
    const editor = vscode.window.activeTextEditor;
    const item = this.item;
    if (s) {
      const icon = {
        idle: '$(circle-outline)',
        starting: '$(loading~spin)',
        running: '$(loading~spin)',
        paused: '$(debug-pause)',
        ended: s.error ? '$(error)' : '$(check)',
      }[s.state];
      item.text = `${icon} BN: ${s.statusText()}`;
      item.tooltip = `BatchNorm Inspector — ${s.label}: ${s.statusText()}\nClick to open the inspector.`;
      item.show();
    } else if (editor && isScriptDocument(editor.document)) {
      item.text = vscode.workspace.isTrusted ? '$(beaker) BN: idle' : '$(shield) BN: untrusted';
      item.tooltip = vscode.workspace.isTrusted
        ? `BatchNorm Inspector: no session. Click ${LENS_TITLES.runToHere} above a step point.`
        : 'BatchNorm Inspector runs nothing in an untrusted workspace.';
      item.show();
    } else item.hide();
  }

  dispose(): void {
    this.disposed = true;
    if (this.stepTimer) clearTimeout(this.stepTimer);
    this.stepSub?.dispose();
    this.subs.forEach((d) => d.dispose());
    this.item.dispose();
  }
}
