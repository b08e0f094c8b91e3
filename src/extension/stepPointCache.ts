/** The engine's own step-point finder, memoised per document version (lenses ask often). */
import * as vscode from 'vscode';
import { findStepPoints } from '../shared/stepPoints';
import type { StepPoint } from '../shared/protocol';

export const LANGUAGES = ['typescript', 'javascript'] as const;

export function isScriptDocument(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && (LANGUAGES as readonly string[]).includes(doc.languageId);
}

export interface Scan {
  points: StepPoint[];
  syntaxError: { message: string; line: number; column: number } | null;
}

const cache = new Map<string, { version: number; scan: Scan }>();

export function scanDocument(doc: vscode.TextDocument): Scan {
  const key = doc.uri.toString();
  const hit = cache.get(key);
  if (hit && hit.version === doc.version) return hit.scan;
  let scan: Scan;
  try {
    scan = findStepPoints(doc.getText(), doc.fileName);
  } catch (e) {
    // never a popup: a file the finder cannot handle simply gets no lens
    scan = { points: [], syntaxError: { message: String((e as Error).message ?? e), line: 1, column: 1 } };
  }
  cache.set(key, { version: doc.version, scan });
  return scan;
}

export function forgetDocument(uri: vscode.Uri): void {
  cache.delete(uri.toString());
}
