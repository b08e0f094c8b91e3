/** Messages to the user (information, warning, error), with their actions: "Show output", "Manage Workspace Trust". */
import * as vscode from 'vscode';
import type { HostUi } from './hostUi';

export type MessageKind = 'info' | 'warning' | 'error';

export class UserMessages {
  constructor(
    private readonly ui: HostUi,
    private readonly output: vscode.OutputChannel,
  ) {}

  notify(kind: MessageKind, text: string, action?: string): void {
    const items = action ? [action] : [];
    const shown =
      kind === 'error'
        ? this.ui.showErrorMessage(text, ...items)
        : kind === 'warning'
          ? this.ui.showWarningMessage(text, ...items)
          : this.ui.showInformationMessage(text, ...items);
    void Promise.resolve(shown).then((picked) => {
      if (picked === 'Show output') this.output.show(true);
      else if (picked === 'Manage Workspace Trust') void vscode.commands.executeCommand('workbench.trust.manage');
    });
  }
}
