/**
 * The readable form of a step for a person in a terminal (bn-inspect without --json):
 * one block per step, one row per BN layer (flags, counts), then a few channels of each vector.
 */
import { relative } from 'node:path';
import type { CallRecord, LayerSnapshot, StepSnapshot } from '../shared/protocol';

export interface TextReportOptions {
  /** channels shown of each vector (default 4) */
  channels?: number;
  /** paths are shown relative to this folder */
  cwd?: string;
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
  for (const w of l.warnings) out.push(`    ⚠ ${w.code}: ${w.message}`);
  return out;
}

export function formatStep(step: StepSnapshot, opts: TextReportOptions = {}): string {
  const channels = opts.channels ?? 4;
  const rel = opts.cwd ? relative(opts.cwd, step.file) : '';
  const file = rel && !rel.startsWith('..') ? rel : step.file;
  const head = `── step ${step.index} · ${file}:${step.line} · hit ${step.hit} · ${step.layers.length} BatchNormalization layer${step.layers.length === 1 ? '' : 's'} `;
  const lines = [head + '─'.repeat(Math.max(4, 78 - head.length))];
  if (!step.layers.length) lines.push('  (no BatchNormalization layer alive yet)');
  for (const l of step.layers) lines.push(...layerBlock(l, channels));
  return lines.join('\n') + '\n';
}
