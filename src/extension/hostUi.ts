/**
 * The part of `vscode.window` through which the extension shows things to the user: messages, progress
 * notifications, the panel's webview, quick picks. The extension is given `vscode.window` itself (src/extension/extension.ts);
 * taking it as a parameter lets a caller watch what is shown without the extension keeping any record of it.
 */
import type * as vscode from 'vscode';

export type HostUi = Pick<
  typeof vscode.window,
  | 'showInformationMessage'
  | 'showWarningMessage'
  | 'showErrorMessage'
  | 'withProgress'
  | 'createWebviewPanel'
  | 'registerWebviewPanelSerializer'
  | 'createQuickPick'
>;
