/**
 * Which step points of a file only build a model, so that their lenses can go: before any run, the shared finder's
 * guess from the text (looksLikeModelBuilding: `tf.layers.x(…).apply(h)`); after a run reached them, what the engine
 * said (its `modelBuilding` event: every layer call got symbolic tensors, not a step), unless the same line also
 * gave a real step. Kept per file and per text that ran: an edit of the file forgets it, as StepPointCache does.
 */
import * as fs from 'fs';
import * as vscode from 'vscode';
import { realPath, samePath } from './engine';
import type { ScriptSession } from './session';
import type { Sessions } from './sessions';

/** what the runs of one text of one file told */
interface FileKnowledge {
  /** the file's key in ModelBuildingLines.byFile */
  key: string;
  /** the text that ran */
  text: string;
  /** the document version that text is (null: read from disk, not yet matched with an open document) */
  version: number | null;
  /** lines the engine reported as model building */
  built: Set<number>;
  /** lines that gave a real step */
  stepped: Set<number>;
}

/** the key of a file: its real path (the worker names files by their real path) */
function fileKey(p: string): string {
  return realPath(p) ?? p;
}

export class ModelBuildingLines implements vscode.Disposable {
  private readonly byFile = new Map<string, FileKnowledge>();
  /** per session, the knowledge each of its files adds to */
  private readonly bySession = new WeakMap<ScriptSession, Map<string, FileKnowledge>>();
  private readonly _onDidChange = new vscode.EventEmitter<void>();
  /** a line became known as model building, or a known one gave a real step (coalesced) */
  readonly onDidChange = this._onDidChange.event;
  private readonly subs: vscode.Disposable[];
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(sessions: Sessions) {
    this.subs = [sessions.onDidStartSession((s) => this.watch(s))];
  }

  private watch(s: ScriptSession): void {
    s.onDidBuildModel(({ file, line }) => this.record(s, file, line, 'built'));
    s.onDidStep(({ step }) => this.record(s, step.file, step.line, 'stepped'));
  }

  /** the text of `file` that session `s` runs, and its document version when known */
  private ranText(s: ScriptSession, file: string): { text: string; version: number | null } | null {
    if (samePath(file, s.scriptPath)) return { text: s.sourceText, version: s.docVersion };
    // an imported file runs from disk
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && samePath(d.uri.fsPath, file));
    if (doc && !doc.isDirty) return { text: doc.getText(), version: doc.version };
    try {
      return { text: fs.readFileSync(file, 'utf8'), version: null };
    } catch {
      return null;
    }
  }

  /** the knowledge a run of `s` adds to for `file`: the existing one if it is about the text that runs, else a new one */
  private knowledgeFor(s: ScriptSession, file: string): FileKnowledge | null {
    const key = fileKey(file);
    const k = this.byFile.get(key);
    // the same text as the one the older runs told about (an imported file runs from disk: taken as unchanged)
    if (k && !(samePath(file, s.scriptPath) && k.text !== s.sourceText)) return k;
    const ran = this.ranText(s, file);
    if (!ran) return null;
    const fresh: FileKnowledge = { key, ...ran, built: new Set(), stepped: new Set() };
    this.byFile.set(key, fresh);
    return fresh;
  }

  private record(s: ScriptSession, file: string, line: number, what: 'built' | 'stepped'): void {
    // every step comes here: resolve each file once per session, not once per step
    let mine = this.bySession.get(s);
    if (!mine) this.bySession.set(s, (mine = new Map()));
    let k = mine.get(file);
    if (!k || this.byFile.get(k.key) !== k) {
      k = this.knowledgeFor(s, file) ?? undefined;
      if (!k) return;
      mine.set(file, k);
    }
    const set = what === 'built' ? k.built : k.stepped;
    if (set.has(line)) return;
    set.add(line);
    this.changed();
  }

  private changed(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this._onDidChange.fire();
    }, 20);
  }

  /** what the runs told about this document's current text, or null (never ran, or edited since) */
  private knowledge(doc: vscode.TextDocument): FileKnowledge | null {
    const key = fileKey(doc.uri.fsPath);
    const k = this.byFile.get(key);
    if (!k) return null;
    if (k.version === doc.version) return k;
    if (doc.getText() === k.text) {
      k.version = doc.version;
      return k;
    }
    this.byFile.delete(key);
    return null;
  }

  /**
   * The step-point lines of `doc` whose lenses go: guessed (`guess`, from the text) or reported as model building,
   * and never a real step in a run of this text.
   */
  hiddenLines(doc: vscode.TextDocument, guess: readonly number[]): Set<number> {
    const k = this.knowledge(doc);
    const hidden = new Set<number>(guess);
    if (k) for (const l of k.built) hidden.add(l);
    if (k) for (const l of k.stepped) hidden.delete(l);
    return hidden;
  }

  /** lines of `doc` a run reported as model building (for tests and messages) */
  reportedLines(doc: vscode.TextDocument): number[] {
    return [...(this.knowledge(doc)?.built ?? [])].sort((a, b) => a - b);
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    this.subs.forEach((d) => d.dispose());
    this._onDidChange.dispose();
    this.byFile.clear();
  }
}
