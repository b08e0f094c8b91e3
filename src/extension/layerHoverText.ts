/**
 * The text of the editor's hover on a `tf.layers.batchNormalization(` call: the state, at the paused step, of the
 * layers that call built (one layer: its state in full; several, built by a helper: a count and one line each).
 * Markdown built here only; every piece of user text (layer and model names) is escaped, so it is shown as text and
 * never read as markdown, a link or HTML. No VS Code import: unit tests run it on real engine snapshots.
 */
import type { LayerSnapshot, StepSnapshot } from '../shared/protocol';

/** with more layers than this on one line, the hover lists the first ones, then "…" */
export const HOVER_LIST_MAX = 10;
/** channels shown of a vector before its range */
const CHANNELS_SHOWN = 4;

/** backslash before every ASCII punctuation character (CommonMark shows each as itself); line breaks become spaces */
export function escapeMarkdown(text: string): string {
  return text.replace(/[!-/:-@[-`{-~]/g, '\\$&').replace(/[\r\n]+/g, ' ');
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** "range [-0.5, 0.9]", with the count of values that are not finite, if any */
export function vectorRange(v: Float32Array): string {
  let lo = Infinity;
  let hi = -Infinity;
  let bad = 0;
  for (const x of v) {
    if (!Number.isFinite(x)) bad++;
    else {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
  }
  if (v.length === 0) return 'empty';
  if (bad === v.length) return 'no finite value';
  return `range [${formatNumber(lo)}, ${formatNumber(hi)}]${bad ? ` · ${bad} not finite` : ''}`;
}

/** "[0.01, -0.2, 0.3, 0.04, …] range [-0.5, 0.9]": the first channels, then the range */
export function vectorSummary(v: Float32Array): string {
  const head = Array.from(v.subarray(0, CHANNELS_SHOWN), formatNumber).join(', ');
  return `[${head}${v.length > CHANNELS_SHOWN ? ', …' : ''}] ${vectorRange(v)}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function lastCallText(l: LayerSnapshot): string {
  const c = l.lastCall;
  if (!c) return 'not called yet';
  return c.training
    ? 'training (normalised with the batch statistics)'
    : 'inference (normalised with the moving statistics)';
}

function updatesText(l: LayerSnapshot): string {
  const moved = l.movingUpdated ? 'moving statistics changed' : 'moving statistics unchanged';
  return `${plural(l.calls, 'call')}, ${plural(l.updates, 'moving-average update')} (${moved})`;
}

function warningsText(l: LayerSnapshot): string {
  return l.warnings.length ? l.warnings.map((w) => escapeMarkdown(w.code)).join(', ') : 'none';
}

/** where the step is: "step 3 · paused at line 81 · hit 1" */
function stepText(step: Pick<StepSnapshot, 'index' | 'line' | 'hit'>): string {
  return `step ${step.index} · paused at line ${step.line} · hit ${step.hit}`;
}

function oneLayer(l: LayerSnapshot): string[] {
  return [
    // the path only when the layer sits inside a model (a bare layer's path is its name)
    `**${escapeMarkdown(l.name)}**${l.path.length > 1 ? ` · in ${escapeMarkdown(l.path.join(' › '))}` : ''}`,
    '',
    `- trainable: **${l.trainable}** · ${plural(l.channels, 'channel')} · momentum ${formatNumber(l.momentum)} · epsilon ${formatNumber(l.epsilon)}`,
    `- moving mean: ${escapeMarkdown(vectorSummary(l.movingMean))}`,
    `- moving variance: ${escapeMarkdown(vectorSummary(l.movingVariance))}`,
    `- in the last step: ${updatesText(l)}`,
    `- last call: ${lastCallText(l)}${l.lastCall ? `, input ${escapeMarkdown(`[${l.lastCall.inputShape.join(', ')}]`)}` : ''}`,
    `- warnings: ${warningsText(l)}`,
  ];
}

function layerRow(l: LayerSnapshot): string {
  const mode = l.lastCall ? (l.lastCall.training ? 'training' : 'inference') : 'not called';
  return [
    `**${escapeMarkdown(l.name)}**`,
    plural(l.channels, 'channel'),
    `trainable ${l.trainable}`,
    plural(l.updates, 'update'),
    `last call ${mode}`,
    `moving mean ${escapeMarkdown(vectorRange(l.movingMean))}`,
    `warnings ${warningsText(l)}`,
  ].join(' · ');
}

/**
 * The hover's markdown for the layers built on one line (`layers`, already decoded) at `step`. With no layer: a
 * line that says none of this step's layers was built there.
 */
export function layerHoverMarkdown(
  layers: readonly LayerSnapshot[],
  step: Pick<StepSnapshot, 'index' | 'line' | 'hit'>,
  max = HOVER_LIST_MAX,
): string {
  const title = `**BatchNorm Inspector** · ${stepText(step)}`;
  if (layers.length === 0)
    return [
      title,
      '',
      'No BatchNormalization layer of this step was built on this line (the line has not run yet in this session, or its layers were made elsewhere).',
    ].join('\n');
  if (layers.length === 1) return [title, '', ...oneLayer(layers[0])].join('\n');
  const n = layers.length;
  const count = (f: (l: LayerSnapshot) => boolean) => layers.filter(f).length;
  const out = [
    title,
    '',
    `**${n} layers built on this line** (each call of the code around it makes one): ${count((l) => l.movingUpdated)} updated in the last step · ${count((l) => !l.trainable)} with trainable false · ${count((l) => l.warnings.length > 0)} with warnings`,
    '',
    ...layers.slice(0, max).map((l) => `- ${layerRow(l)}`),
  ];
  if (n > max) out.push(`- … and ${n - max} more`);
  return out.join('\n');
}
