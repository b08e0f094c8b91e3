/**
 * Validation of what the webview posts to the host. The panel's page is ours, but its messages cross a process
 * boundary and the host acts on them (runs commands, opens files): each one is checked against WebviewToHost
 * before use, and anything else is dropped.
 */
import type { WebviewCommand, WebviewToHost } from './protocol';

const COMMANDS: ReadonlySet<string> = new Set<WebviewCommand>([
  'step',
  'runToCursor',
  'restart',
  'stop',
  'continue',
  'pickSemantics',
  'compare',
  'stopCompare',
]);
const MAX_PATH = 4096;
const MAX_LINE = 10_000_000;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isWholeNumber = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

/** The message as a WebviewToHost, or null when it is not one (unknown type, unknown command, bad file or line …). */
export function parseWebviewMessage(raw: unknown): WebviewToHost | null {
  if (!isRecord(raw)) return null;
  switch (raw.type) {
    case 'ready':
      return { type: 'ready' };
    case 'command':
      return typeof raw.command === 'string' && COMMANDS.has(raw.command)
        ? { type: 'command', command: raw.command as WebviewCommand }
        : null;
    case 'revealLine':
      return typeof raw.file === 'string' &&
        raw.file.length > 0 &&
        raw.file.length <= MAX_PATH &&
        !raw.file.includes('\0') &&
        isWholeNumber(raw.line, 1, MAX_LINE)
        ? { type: 'revealLine', file: raw.file, line: raw.line }
        : null;
    case 'rendered':
      return isWholeNumber(raw.stepIndex, 0, Number.MAX_SAFE_INTEGER) &&
        typeof raw.ms === 'number' &&
        Number.isFinite(raw.ms)
        ? { type: 'rendered', stepIndex: raw.stepIndex, ms: raw.ms }
        : null;
    default:
      return null;
  }
}
