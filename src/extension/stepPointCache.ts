/**
 * The engine's own step-point finder, memoised per document version (lenses ask often), with the finder's guess of
 * which step points only build a model (looksLikeModelBuilding). A document's entry goes when VS Code closes the
 * document, so the cache holds only open documents.
 *
 * The finder (and the TypeScript parser inside it) is its own bundle, dist/stepPointFinder.js, required on the first
 * scan: activation does not pay for the parser (issue 11).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { StepPoint } from '../shared/protocol';
import type * as Finder from './stepPointFinder';

export const LANGUAGES = ['typescript', 'javascript'] as const;

export function isScriptDocument(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' && (LANGUAGES as readonly string[]).includes(doc.languageId);
}

export interface Scan {
  points: StepPoint[];
  /** lines of step points that look like model building from the text alone (no lens before a run tells) */
  modelBuildingGuess: number[];
  syntaxError: { message: string; line: number; column: number } | null;
}

export class StepPointCache implements vscode.Disposable {
  private readonly cache = new Map<string, { version: number; scan: Scan }>();
  private finder: typeof Finder | null = null;
  /** ms the finder's bundle took to load (once), null before */
  finderLoadMs: number | null = null;

  /** @param extensionPath the extension's folder: the finder is its dist/stepPointFinder.js */
  constructor(private readonly extensionPath: string) {}

  private find(): typeof Finder {
    if (!this.finder) {
      const t0 = performance.now();
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, on purpose (see top)
      this.finder = require(path.join(this.extensionPath, 'dist', 'stepPointFinder.js')) as typeof Finder;
      this.finderLoadMs = performance.now() - t0;
    }
    return this.finder;
  }
  private readonly sub = vscode.workspace.onDidCloseTextDocument((doc) => this.forgetDocument(doc.uri));

  /** documents with a cached scan */
  get size(): number {
    return this.cache.size;
  }

  scanDocument(doc: vscode.TextDocument): Scan {
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version) return hit.scan;
    let scan: Scan;
    try {
      scan = this.find().findStepPointsWithGuess(doc.getText(), doc.fileName);
    } catch (e) {
      // never a popup: a file the finder cannot handle simply gets no lens
      scan = {
        points: [],
        modelBuildingGuess: [],
        syntaxError: { message: String((e as Error).message ?? e), line: 1, column: 1 },
      };
    }
    this.cache.set(key, { version: doc.version, scan });
    return scan;
  }

  forgetDocument(uri: vscode.Uri): void {
    this.cache.delete(uri.toString());
  }

  dispose(): void {
    this.sub.dispose();
    this.cache.clear();
  }
}
