/**
 * BatchNorm Inspector: the VS Code extension host side (the bundle's entry, dist/extension.js).
 * Activation: on TypeScript / JavaScript files, on its commands, and on its panel (restored after reload). Never `*`.
 * activate() returns nothing: the extension offers no API to other extensions.
 */
import * as vscode from 'vscode';
import { activateInspector, deactivateInspector } from './activation';

export function activate(context: vscode.ExtensionContext): void {
  activateInspector(context, vscode.window);
}

export function deactivate(): Promise<void> {
  return deactivateInspector();
}
