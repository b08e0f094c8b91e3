/** A progress notification, with Cancel, for a run that has not paused or ended after half a second. */
import * as vscode from 'vscode';
import type { HostUi } from './hostUi';
import type { ScriptSession } from './session';

const PROGRESS_DELAY_MS = 500;

export class RunProgress implements vscode.Disposable {
  private disposed = false;

  constructor(private readonly ui: HostUi) {}

  /** call when `s` starts or resumes running: the notification comes if this run is still going in half a second */
  watch(s: ScriptSession): void {
    const token = s.runToken;
    const timer = setTimeout(() => {
      if (!s.busy || s.runToken !== token || this.disposed) return;
      void this.ui.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `BatchNorm Inspector: ${s.label}`, cancellable: true },
        (progress, cancel) =>
          new Promise<void>((resolve) => {
            let done = false;
            const finish = () => {
              if (done) return;
              done = true;
              subs.forEach((d) => d.dispose());
              resolve();
            };
            const update = () => {
              if (!s.busy || s.runToken !== token) finish();
              else progress.report({ message: s.statusText() });
            };
            const subs = [
              cancel.onCancellationRequested(() => {
                void s.stop('cancel');
                finish();
              }),
              s.onDidChangeState(update),
              s.onDidStep(update),
            ];
            update();
          }),
      );
    }, PROGRESS_DELAY_MS);
    const d = s.onDidChangeState(() => {
      if (!s.busy || s.runToken !== token) {
        clearTimeout(timer);
        d.dispose();
      }
    });
  }

  dispose(): void {
    this.disposed = true;
  }
}
