// Helpers for the tests that run inside a real VS Code extension host (bundled into each *.test.js).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { BnInspectorApi } from './extensionUnderTest';

export const EXTENSION_ID = 'bn-inspector.batchnorm-inspector';
export const CMD_PREFIX = 'batchnormInspector.';

export function workspaceDir(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'a workspace folder is open');
  return f.uri.fsPath;
}

export async function api(): Promise<BnInspectorApi> {
  const ext = vscode.extensions.getExtension<BnInspectorApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  const a = await ext.activate();
  assert.ok(a && typeof a.getSession === 'function', 'activate() returns the test API');
  return a;
}

export function extensionPath(): string {
  return vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** polls `fn` until it returns a truthy value, or fails after `ms` */
export async function until<T>(
  what: string,
  fn: () => T | Promise<T>,
  ms = 30_000,
  every = 50,
): Promise<NonNullable<T>> {
  const t0 = Date.now();
  let last: T | undefined;
  while (Date.now() - t0 < ms) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** the example scripts at the workspace's top level (the workspace is a copy of examples/) */
export function exampleFiles(): string[] {
  const ws = workspaceDir();
  return fs
    .readdirSync(ws)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => path.join(ws, f));
}

/** writes a fixture script into a scratch folder of the workspace; returns its absolute path */
export function writeFixture(name: string, text: string): string {
  const file = path.join(workspaceDir(), '.bn-test-fixtures', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

export async function open(file: string): Promise<{ doc: vscode.TextDocument; editor: vscode.TextEditor }> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const editor = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preview: false });
  return { doc, editor };
}

/** the lenses our provider gives, as { line (1-based), title, command } */
export async function lensesOf(
  uri: vscode.Uri,
): Promise<{ line: number; title: string; command: string; args: unknown[] }[]> {
  const lenses =
    (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
  return lenses
    .filter((l) => l.command?.command?.startsWith(CMD_PREFIX))
    .map((l) => ({
      line: l.range.start.line + 1,
      title: l.command!.title,
      command: l.command!.command,
      args: l.command!.arguments ?? [],
    }));
}

/** 1-based line of the first line of `doc` matching `re` */
export function lineOf(text: string, re: RegExp): number {
  const i = text.split('\n').findIndex((l) => re.test(l));
  assert.ok(i >= 0, `a line matches ${re}`);
  return i + 1;
}

/** replaces the whole text of a document in its editor, without saving */
export async function setText(doc: vscode.TextDocument, text: string): Promise<void> {
  const e = new vscode.WorkspaceEdit();
  e.replace(doc.uri, new vscode.Range(0, 0, doc.lineCount, 0), text);
  assert.ok(await vscode.workspace.applyEdit(e), 'edit applied');
}

export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** ends every session a test left running (so one test's worker never leaks into the next) */
export async function stopAll(a: BnInspectorApi, files: string[]): Promise<void> {
  for (const f of files) {
    const s = a.getSession(vscode.Uri.file(f));
    if (s && s.live) await s.stop();
  }
}
