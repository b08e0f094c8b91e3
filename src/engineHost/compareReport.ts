/**
 * The readable form of `bn-inspect compare` (without --json), made from the compare document's step objects
 * (compareDocument.ts): per step a header, then per layer one line when both semantics give the same values, and
 * for a layer that differs why, then the largest difference of each vector with its channel and both values there.
 * Above COMPACT_ABOVE layers (or with --compact) a differing layer is one line and each reason is written once,
 * after the layers, with the layers it concerns; the layers with the same values are counted in one line.
 */
import { relative } from 'node:path';
import type { Semantics } from '../shared/protocol';
import { SEMANTICS_LABEL } from '../shared/semantics';
import { COMPARED_VECTORS, type ComparedVector } from '../shared/semanticsCompare';
import type { CompareRunJson, CompareSummaryJson, LayerPairJson, StepPairJson } from './compareDocument';
import type { JsonNumber } from './runDocument';
import { COMPACT_ABOVE, fmtNumber, type TextLayout } from './textReport';

export interface CompareReportOptions {
  semantics: readonly [Semantics, Semantics];
  /** paths are shown relative to this folder */
  cwd?: string;
  /** default auto */
  layout?: TextLayout;
}

const WIDTH = 110;

function num(v: JsonNumber | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return typeof v === 'number' ? fmtNumber(v) : v === 'NaN' ? 'NaN' : v === 'Infinity' ? 'Inf' : '-Inf';
}

function fileText(file: string, cwd: string | undefined): string {
  const rel = cwd ? relative(cwd, file) : '';
  return rel && !rel.startsWith('..') ? rel : file;
}

function wrap(text: string, indent: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > WIDTH) {
      out.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(indent + line);
  return out;
}

const label = (l: LayerPairJson) => l.path.join(' › ');

/** "movingMean 0.512 at ch 2 (tfjs 1.23 → Keras 0.718), 5 of 5 channels" for one vector that differs */
function vectorLine(l: LayerPairJson, k: ComparedVector, names: readonly [string, string]): string | null {
  const d = l.difference;
  if (!d || d.differing[k] === 0) return null;
  const ch = d.channel[k];
  if (ch === null) return `${k.padEnd(15)}only one side has it`;
  const va = l.a?.[k]?.[ch];
  const vb = l.b?.[k]?.[ch];
  return (
    `${k.padEnd(15)}max |${names[1]} − ${names[0]}| ${num(d.maxAbs[k])} at channel ${ch} ` +
    `(${names[0]} ${num(va)} → ${names[1]} ${num(vb)}) · ${d.differing[k]} of ${l.channels} channel${l.channels === 1 ? '' : 's'} differ`
  );
}

/** "movingMean 0.512@2 · movingVariance 0.1@0" for a compact line */
function compactDiffs(l: LayerPairJson, names: readonly [string, string]): string {
  const d = l.difference;
  if (!d) return `only in the ${l.a ? names[0] : names[1]} run`;
  const parts = COMPARED_VECTORS.filter((k) => d.differing[k] > 0).map((k) =>
    d.channel[k] === null ? `${k} one-sided` : `${k} Δ${num(d.maxAbs[k])}@${d.channel[k]}`,
  );
  return parts.join(' · ');
}

function stepHeader(s: StepPairJson, o: CompareReportOptions, names: readonly [string, string]): string[] {
  const n = s.layers.length;
  const differing = s.layers.filter((l) => l.differs).length;
  const verdict = n === 0 ? 'no layers' : differing === 0 ? 'all the same' : `${differing} of ${n} differ`;
  const head =
    `── step ${s.index} · ${fileText(s.file, o.cwd)}:${s.line} · hit ${s.hit} · ${n} BatchNormalization ` +
    `layer${n === 1 ? '' : 's'} · ${names[0]} vs ${names[1]}: ${verdict} `;
  const lines = [head + '─'.repeat(Math.max(4, 78 - head.length))];
  if (s.reachedBy !== 'both') {
    const [has, other] = s.reachedBy === 'a' ? names : [names[1], names[0]];
    lines.push(`  only the ${has} run reached this step (the ${other} run had ended)`);
  } else if (!s.samePoint && s.pointB)
    lines.push(
      `  ⚠ not the same step point: the ${names[1]} run's step ${s.index} is ` +
        `${fileText(s.pointB.file, o.cwd)}:${s.pointB.line} hit ${s.pointB.hit} (the values below compare different moments)`,
    );
  return lines;
}

export function formatStepPair(s: StepPairJson, o: CompareReportOptions): string {
  const names = [SEMANTICS_LABEL[o.semantics[0]], SEMANTICS_LABEL[o.semantics[1]]] as const;
  const lines = stepHeader(s, o, names);
  if (!s.layers.length) lines.push('  (no BatchNormalization layer alive yet)');
  const layout = o.layout ?? 'auto';
  if (layout === 'compact' || (layout === 'auto' && s.layers.length > COMPACT_ABOVE)) {
    const same = s.layers.filter((l) => !l.differs);
    const differ = s.layers.filter((l) => l.differs);
    if (same.length)
      lines.push(`  = ${same.length} layer${same.length === 1 ? '' : 's'} with the same values under both`);
    const reasons = new Map<string, LayerPairJson[]>();
    for (const l of differ) reasons.set(l.why, [...(reasons.get(l.why) ?? []), l]);
    const number = new Map([...reasons.keys()].map((w, i) => [w, i + 1] as const));
    const width = Math.max(0, ...differ.map((l) => label(l).length));
    for (const l of differ)
      lines.push(`  ≠ ${label(l).padEnd(width)} · ${compactDiffs(l, names)} · why [${number.get(l.why)}]`);
    for (const [why, ls] of reasons) {
      lines.push(`  [${number.get(why)}] ${ls.length} layer${ls.length === 1 ? '' : 's'}:`);
      lines.push(...wrap(why, '    '));
    }
  } else
    for (const l of s.layers) {
      if (!l.differs) {
        lines.push(`  = ${label(l)} · same values`);
        continue;
      }
      lines.push(`  ≠ ${label(l)} · ${l.channels} channel${l.channels === 1 ? '' : 's'}`);
      lines.push(...wrap(l.why, '    '));
      for (const k of COMPARED_VECTORS) {
        const v = vectorLine(l, k, names);
        if (v) lines.push(`    ${v}`);
      }
    }
  return lines.join('\n') + '\n';
}

const ENDED: Record<string, string> = {
  done: 'ran to its end',
  to: 'stopped at --to',
  maxSteps: 'stopped at --max-steps',
  error: 'failed',
  timeout: 'timed out',
  crashed: 'crashed',
  oom: 'ran out of memory',
};

/** The closing lines: how each run ended, where the two first differ, which layers differ. */
export function formatCompareSummary(
  runs: readonly [CompareRunJson, CompareRunJson],
  summary: CompareSummaryJson,
  info: { tfjs: string | null; backend: string },
): string {
  const names = runs.map((r) => SEMANTICS_LABEL[r.semantics]);
  const run = (r: CompareRunJson, i: number) =>
    `${names[i]}: ${ENDED[r.end] ?? r.end}, ${r.steps} step${r.steps === 1 ? '' : 's'}` +
    (r.error?.line != null ? ` (error at line ${r.error.line})` : '');
  const lines = [`${runs.map(run).join(' · ')} · tfjs ${info.tfjs ?? '?'} · backend ${info.backend}`];
  const f = summary.firstDifference;
  if (!f && summary.stepsDiffering === 0)
    lines.push(`no difference: every layer has the same values under ${names[0]} and ${names[1]} at every step`);
  else if (f) {
    lines.push(`first difference: step ${f.step}, ${f.path.join(' › ')}`);
    const ls = summary.layersDiffering;
    if (ls.length) {
      const count = new Map<string, number>();
      for (const l of ls) count.set(l.name, (count.get(l.name) ?? 0) + 1);
      const shown = ls
        .slice(0, 8)
        .map(
          (l) =>
            `${count.get(l.name) === 1 ? l.name : l.path.join(' › ')} ` +
            `(from step ${l.firstStep}, ${l.steps} step${l.steps === 1 ? '' : 's'})`,
        );
      if (ls.length > 8) shown.push(`… ${ls.length - 8} more`);
      lines.push(
        ...wrap(
          `${ls.length} layer${ls.length === 1 ? '' : 's'} differ${ls.length === 1 ? 's' : ''}: ${shown.join(', ')}`,
          '',
        ),
      );
    }
  }
  if (summary.onlyA || summary.onlyB) {
    const [n, who] = summary.onlyA ? [summary.onlyA, names[0]] : [summary.onlyB, names[1]];
    lines.push(`${n} step${n === 1 ? '' : 's'} only the ${who} run reached`);
  }
  if (summary.firstPointMismatch !== null)
    lines.push(`⚠ the runs took different step points from step ${summary.firstPointMismatch} on`);
  return lines.join('\n') + '\n';
}
