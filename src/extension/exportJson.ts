/**
 * The whole session as the contract's JSON document (docs/headless-contract.md), built by the same builder as
 * `bn-inspect --json` (src/engineHost/runDocument.ts), plus the exported file's extras `scriptPath` and
 * `thinnedSteps`.
 */
import { buildRunDocument, type ExportExtras, type RunDocument, type RunEnd } from '../engineHost/runDocument';
import type { ScriptSession } from './session';

/** how the session ended, or where it is if it has not */
export function sessionEnd(s: ScriptSession): RunEnd {
  if (s.state !== 'ended') return s.state === 'paused' ? 'paused' : 'running';
  return s.endReason ?? 'stopped';
}

export function sessionToJson(s: ScriptSession): RunDocument & ExportExtras {
  return buildRunDocument(
    {
      script: s.label,
      tfjs: s.tfjs,
      backend: s.backend ?? s.backendRequested,
      steps: s.history.entries().map((e) => e.buffer),
      output: s.output,
      error: s.error,
      end: sessionEnd(s),
    },
    { scriptPath: s.scriptPath, thinnedSteps: s.history.thinned },
  );
}
