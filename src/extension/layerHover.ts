/**
 * The hover on a `tf.layers.batchNormalization(` (or `layers.batchNormalization(`) call while a session that runs
 * this file is paused: the state, at the paused step, of every layer that call built (each layer's `source` is the
 * line that constructed it). Only those layers' vectors are decoded from the step's kept buffer; the text is
 * layerHoverText.ts's, plain markdown without command links (isTrusted false) or HTML.
 */
import * as vscode from 'vscode';
import type { LayerSnapshot, VectorRef } from '../shared/protocol';
import { unpackStep } from '../shared/snapshotCodec';
import { samePath } from './engine';
import { layerHoverMarkdown } from './layerHoverText';
import type { ScriptSession } from './session';
import type { Sessions } from './sessions';
import { isScriptDocument } from './stepPointCache';

const CALLEE = 'batchNormalization';
/** how far back from the callee `layers.` may start (`tf.layers\n    .batchNormalization(`) */
const LOOK_BACK = 200;

/** the `batchNormalization` of a `layers.batchNormalization(` call under `pos`: its range and the call's lines */
export function batchNormCallAt(
  doc: vscode.TextDocument,
  pos: vscode.Position,
): { range: vscode.Range; lines: number[] } | null {
  const range = doc.getWordRangeAtPosition(pos, /[A-Za-z_$][\w$]*/);
  if (!range || doc.getText(range) !== CALLEE) return null;
  const start = doc.offsetAt(range.start);
  const text = doc.getText();
  const before = text.slice(Math.max(0, start - LOOK_BACK), start);
  const ns = /\blayers\s*\??\.\s*$/.exec(before);
  if (!ns || !/^\s*\(/.test(text.slice(doc.offsetAt(range.end), doc.offsetAt(range.end) + LOOK_BACK))) return null;
  // a layer's source is the line of the call: the callee's line, or the line of `layers` when split over lines
  const nsLine = doc.positionAt(start - before.length + ns.index).line + 1;
  const lines = [...new Set([nsLine, range.start.line + 1])];
  return { range, lines };
}

export class LayerHover implements vscode.HoverProvider {
  constructor(private readonly sessions: Sessions) {}

  /** the paused session that runs `file` (as its script or an import); the current session first */
  private pausedSessionOf(file: string): ScriptSession | undefined {
    const runs = (s: ScriptSession) =>
      s.state === 'paused' &&
      !!s.lastStep &&
      (samePath(s.scriptPath, file) || Object.keys(s.stepPoints).some((f) => samePath(f, file)));
    const cur = this.sessions.currentSession;
    if (cur && runs(cur)) return cur;
    return this.sessions.allSessions().find(runs);
  }

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    if (!isScriptDocument(doc)) return undefined;
    const call = batchNormCallAt(doc, pos);
    if (!call) return undefined;
    const file = doc.uri.fsPath;
    const s = this.pausedSessionOf(file);
    const header = s?.lastStep;
    if (!s || !header) return undefined;
    // samePath may follow links on disk: once per distinct file name of the step
    const sameFile = new Map<string, boolean>();
    const isHere = (f: string) => {
      let v = sameFile.get(f);
      if (v === undefined) sameFile.set(f, (v = samePath(f, file)));
      return v;
    };
    const built: LayerSnapshot<VectorRef>[] = header.layers.filter(
      (l) => !!l.source && call.lines.includes(l.source.line) && isHere(l.source.file),
    );
    const buffer = s.lastStepBuffer();
    // decode only these layers' vectors
    const layers = buffer && built.length ? unpackStep(buffer, { ...header, layers: built }).layers : [];
    const md = new vscode.MarkdownString(layerHoverMarkdown(layers, header));
    md.isTrusted = false;
    md.supportHtml = false;
    return new vscode.Hover(md, call.range);
  }
}
