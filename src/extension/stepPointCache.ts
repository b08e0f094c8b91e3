/**
 * The step points of open documents, memoised per document version (lenses ask often), with the guess of which step
 * points only build a model (looksLikeModelBuilding's rule). A document's entry goes when VS Code closes the document,
 * so the cache holds only open documents.
 *
 * The finder is the editor's own (stepPointFinder.ts: a tokenizer and a small statement parser, part of this bundle):
 * the same step points as the engine's TypeScript-parser finder, in milliseconds, without loading the 10 MB TypeScript
 * compiler into the extension host (issue 11). warmUp() runs it once on a small script in the background after
 * activation, so that the first real scan runs compiled code instead of the interpreter's first pass.
 */
import * as vscode from 'vscode';
import type { StepPoint } from '../shared/protocol';
import { findStepPointsWithGuess } from '../shared/stepPointFinder/stepPointFinder';

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

/** a script with every construct the finder reads (for warmUp) */
const WARM_UP_SCRIPT = `import * as tf from '@tensorflow/tfjs';
const model = tf.sequential();
model.add(tf.layers.dense({ units: 4, inputShape: [2] }));
// @step
console.log(\`start \${model.layers.length}\`);
async function main(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const h = tf.layers.dense({ units: 2 }).apply(x) as tf.SymbolicTensor;
    await model.fit(tf.ones([2, 2]), tf.zeros([2, 4]), { epochs: 1, callbacks: { onEpochEnd: async (e, l) => { m?.predict(e); } } });
  }
  if (ok) model.predict(tf.ones([1, 2])); else { throw new Error('no') }
  const y = (model as tf.LayersModel)['evaluate'](a, b) /* c */, z = /re[/]g/.test('s');
  switch (k) { case 1: break; default: return; }
  try { await model.fitDataset(ds, {}) } catch (e: unknown) { label: while (q) continue label; } finally { done = !0 }
}
class Runner<T> extends Base implements I { private x: number = 1; static { init(); } async run(a: T): Promise<T> { return this.m.execute(a); } }
export const r = new Runner<number>().run(1);
type A = { a: number; b?: string } | Array<Map<string, number>>;
`;

export class StepPointCache implements vscode.Disposable {
  private readonly cache = new Map<string, { version: number; scan: Scan }>();
  /** ms the last scan that was not in the cache took (the finder alone), null before the first */
  lastScanMs: number | null = null;
  private warmUpTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly sub = vscode.workspace.onDidCloseTextDocument((doc) => this.forgetDocument(doc.uri));

  /** documents with a cached scan */
  get size(): number {
    return this.cache.size;
  }

  /** runs the finder a few times on a small script, soon but not now (activation does not wait for it) */
  warmUp(): void {
    this.warmUpTimer = setTimeout(() => {
      this.warmUpTimer = undefined;
      for (let i = 0; i < 4; i++) findStepPointsWithGuess(WARM_UP_SCRIPT + ' '.repeat(i));
    }, 0);
  }

  scanDocument(doc: vscode.TextDocument): Scan {
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version) return hit.scan;
    const t0 = performance.now();
    let scan: Scan;
    try {
      scan = findStepPointsWithGuess(doc.getText());
    } catch (e) {
      // never a popup: a file the finder cannot handle simply gets no lens
      scan = {
        points: [],
        modelBuildingGuess: [],
        syntaxError: { message: String((e as Error).message ?? e), line: 1, column: 1 },
      };
    }
    this.lastScanMs = performance.now() - t0;
    this.cache.set(key, { version: doc.version, scan });
    return scan;
  }

  forgetDocument(uri: vscode.Uri): void {
    this.cache.delete(uri.toString());
  }

  dispose(): void {
    if (this.warmUpTimer) clearTimeout(this.warmUpTimer);
    this.sub.dispose();
    this.cache.clear();
  }
}
