/** The whole session as the contract's JSON document (schema bn-inspector/v1). */
import { SCHEMA } from '../shared/protocol';
import { stepToJson } from '../shared/snapshotCodec';
import type { ScriptSession } from './session';

export function sessionToJson(s: ScriptSession) {
  const e = s.error;
  return {
    schema: SCHEMA,
    script: s.label,
    tfjs: s.tfjs,
    backend: s.backend ?? s.backendRequested,
    steps: s.allSteps().map(stepToJson),
    output: s.output,
    error: e && {
      message: e.message,
      line: e.line,
      column: e.column,
      stack: e.stack,
      ...(e.file !== undefined ? { file: e.file } : {}),
      ...(e.kind !== undefined ? { kind: e.kind } : {}),
    },
    // additions to the contract (additive): what the extension knows beyond the CLI
    scriptPath: s.scriptPath,
    state: s.state,
    endReason: s.endReason,
    /** steps dropped from the bounded in-memory history (0 = every step is here) */
    thinnedSteps: s.history.thinned,
  };
}
