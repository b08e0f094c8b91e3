/**
 * The readable form of a step for a person in a terminal (bn-inspect without --json): one block per step,
 * one entry per BN layer (full: flags, counts, a few channels of each vector; compact: one line), then each
 * warning once with the layers it concerns (a layer's entry keeps only the warning's code).
 */
import { relative } from 'node:path';
import type { CallRecord, LayerSnapshot, Semantics, StepSnapshot, WarningCode } from '../shared/protocol';
import { SEMANTICS_LABEL } from '../shared/semantics';

/** full: a block per layer; compact: a line per layer; auto: compact above COMPACT_ABOVE layers */
export type TextLayout = 'auto' | 'full' | 'compact';

/** `auto` shows a step with more layers than this compact (a 50-layer block of 12 lines each is ~600 lines) */
export const COMPACT_ABOVE = 12;

export interface TextReportOptions {
  /** channels shown of each vector (default 4) */
  channels?: number;
  /** paths are shown relative to this folder */
  cwd?: string;
  /** default auto */
  layout?: TextLayout;
  /** the semantics the run followed: named in each step's header when given */
  semantics?: Semantics;
}

export function fmtNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-4) return v.toExponential(2);
  return Number(v.toPrecision(5)).toString();
}

export function fmtVector(v: Float32Array | null, channels = 4): string {
  if (!v) return '—';
  const shown = Array.from(v.subarray(0, channels), fmtNumber).join(', ');
  return v.length > channels ? `[${shown}, … ${v.length - channels} more]` : `[${shown}]`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function callText(c: CallRecord | null): string {
  if (!c) return 'never called';
  return `training=${c.training} (normalised with ${c.statsUsed} stats), input [${c.inputShape.join(', ')}]`;
}

function layerBlock(l: LayerSnapshot, channels: number): string[] {
  const flags = [
    l.trainable ? 'trainable' : 'trainable=false',
    `calls ${l.calls}`,
    `updates ${l.updates}`,
    l.movingUpdated ? 'moving stats CHANGED' : 'moving stats unchanged',
  ].join(' · ');
  const out = [
    `  ${l.path.join(' › ')}`,
    `    ${flags}`,
    `    axis ${l.axis} · ${l.channels} channels · momentum ${l.momentum} · epsilon ${l.epsilon}`,
  ];
  const row = (label: string, v: Float32Array | null) => out.push(`    ${pad(label, 16)}${fmtVector(v, channels)}`);
  row('movingMean', l.movingMean);
  row('movingVariance', l.movingVariance);
  row('gamma', l.gamma);
  row('beta', l.beta);
  out.push(`    last call       ${callText(l.lastCall)}`);
  if (l.lastCall) {
    row('  batchMean', l.lastCall.batchMean);
    row('  batchVariance', l.lastCall.batchVariance);
  }
  if (l.lastTrainingCall && !l.lastCall?.training) {
    out.push(`    last training   ${callText(l.lastTrainingCall)}`);
    row('  batchMean', l.lastTrainingCall.batchMean);
    row('  batchVariance', l.lastTrainingCall.batchVariance);
  }
  if (l.warnings.length) out.push(`    ⚠ ${l.warnings.map((w) => w.code).join(', ')} (explained below the layers)`);
  return out;
}

function compactRow(l: LayerSnapshot, nameWidth: number, channelsWidth: number): string {
  const last = l.lastCall ? (l.lastCall.training ? 'last call training' : 'last call inference') : 'never called';
  const cells = [
    pad(layerLabel(l), nameWidth),
    `${String(l.channels).padStart(channelsWidth)} ch`,
    l.trainable ? 'trainable' : 'frozen   ',
    `calls ${l.calls}`,
    `updates ${l.updates}`,
    l.movingUpdated ? 'moving CHANGED  ' : 'moving unchanged',
    last,
  ];
  const warn = l.warnings.length ? ` · ⚠ ${l.warnings.map((w) => w.code).join(', ')}` : '';
  return `  ${cells.join(' · ')}${warn}`;
}

function layerLabel(l: LayerSnapshot): string {
  return l.path.join(' › ');
}

/** `text` broken at spaces into lines of at most `width` characters, each starting with `indent` */
function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      out.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(indent + line);
  return out;
}

/**
 * Each warning code of the step once: the layers it concerns, then its explanation. Layers whose message is
 * word for word the same share one explanation; a code whose message differs between layers (its numbers are
 * the layer's own: channels, input shape) lists each distinct message with its layers.
 */
function warningGroups(layers: LayerSnapshot[]): string[] {
  const byCode = new Map<WarningCode, Map<string, LayerSnapshot[]>>();
  for (const l of layers)
    for (const w of l.warnings) {
      const byMessage = byCode.get(w.code) ?? new Map<string, LayerSnapshot[]>();
      byCode.set(w.code, byMessage);
      const list = byMessage.get(w.message) ?? [];
      list.push(l);
      byMessage.set(w.message, list);
    }
  // a layer by its name; by its path where two layers of the step share a name (a model and its loaded copy)
  const seen = new Map<string, number>();
  for (const l of layers) seen.set(l.name, (seen.get(l.name) ?? 0) + 1);
  const names = (ls: LayerSnapshot[]) => ls.map((l) => (seen.get(l.name) === 1 ? l.name : layerLabel(l))).join(', ');
  const out: string[] = [];
  for (const [code, byMessage] of byCode) {
    const all = [...byMessage.values()].flat();
    out.push(`  ⚠ ${code} · ${all.length} layer${all.length === 1 ? '' : 's'}`);
    if (byMessage.size === 1) {
      const [[message, ls]] = [...byMessage];
      out.push(...wrap(`layers: ${names(ls)}`, 110, '    '));
      out.push(...wrap(message, 110, '    '));
    } else
      for (const [message, ls] of byMessage) {
        out.push(...wrap(`${names(ls)}:`, 110, '    '));
        out.push(...wrap(message, 110, '      '));
      }
  }
  return out;
}

export function formatStep(step: StepSnapshot, opts: TextReportOptions = {}): string {
  const channels = opts.channels ?? 4;
  const rel = opts.cwd ? relative(opts.cwd, step.file) : '';
  const file = rel && !rel.startsWith('..') ? rel : step.file;
  const rules = opts.semantics ? ` · ${SEMANTICS_LABEL[opts.semantics]} semantics` : '';
  const head = `── step ${step.index} · ${file}:${step.line} · hit ${step.hit} · ${step.layers.length} BatchNormalization layer${step.layers.length === 1 ? '' : 's'}${rules} `;
  const lines = [head + '─'.repeat(Math.max(4, 78 - head.length))];
  if (!step.layers.length) lines.push('  (no BatchNormalization layer alive yet)');
  const layout = opts.layout ?? 'auto';
  if (layout === 'compact' || (layout === 'auto' && step.layers.length > COMPACT_ABOVE)) {
    const nameWidth = Math.max(...step.layers.map((l) => layerLabel(l).length));
    const channelsWidth = Math.max(...step.layers.map((l) => String(l.channels).length));
    for (const l of step.layers) lines.push(compactRow(l, nameWidth, channelsWidth));
  } else for (const l of step.layers) lines.push(...layerBlock(l, channels));
  lines.push(...warningGroups(step.layers));
  return lines.join('\n') + '\n';
}
