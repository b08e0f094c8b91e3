/**
 * A thrown value as the protocol's ScriptError: its message, its stack without the engine's own frames, and
 * the position of the first stack frame in one of the user's files (none for errors outside them); for an error
 * the engine made inside an async API call (userCallSite.ts), the position of the user's call.
 */
import { pathToFileURL } from 'node:url';
import type { ScriptError } from '../shared/protocol';

/** @param userFiles the script's files (absolute paths); null before the script is compiled */
export function toScriptError(
  e: unknown,
  userFiles: readonly string[] | null,
  kind: ScriptError['kind'] = 'run',
): ScriptError {
  const err = e instanceof Error ? e : null;
  const message = err ? err.message : typeof e === 'string' ? e : safeString(e);
  let stack: string;
  try {
    stack = err?.stack ? String(err.stack) : `${message}`;
  } catch {
    stack = message;
  }
  let pos = userFiles ? userFrame(stack, userFiles) : null;
  let reported = trimEngineFrames(stack);
  if (!pos && userFiles && err) {
    // an error the engine made on the user's behalf inside an async API call (userCallSite.ts): the call's site
    const sites = (err as { userCallSites?: unknown }).userCallSites;
    if (Array.isArray(sites)) {
      for (const site of sites) {
        pos = typeof site === 'string' ? userFrame(site, userFiles) : null;
        if (pos) {
          reported += `\n${pos.frame}`;
          break;
        }
      }
    }
  }
  return {
    kind,
    message,
    line: pos ? pos.line : null,
    column: pos ? pos.column : null,
    stack: reported,
    file: pos ? pos.file : null,
  };
}

/**
 * The first frame of a stack in one of the user's files (absolute paths), with its text. A frame names its file as a
 * path (`at f (/abs/dir/file.ts:7:9)`, `at C:\\Users\\First Last\\x.ts:7:9`) or as a file URL
 * (`file:///abs/dir%20x/file.ts:7:9`): each user file is looked for in both forms, so spaces, parentheses, unicode
 * and drive letters in a path cannot hide the position (a pattern for "a path" cannot tell where such a path ends).
 */
function userFrame(
  stack: string,
  userFiles: readonly string[],
): { file: string; line: number; column: number; frame: string } | null {
  const forms = userFiles.map((f) => ({ file: f, names: [f, fileUrl(f)].filter((n): n is string => !!n) }));
  for (const l of stack.split('\n').slice(1)) {
    if (!/^\s*at /.test(l)) continue;
    for (const { file, names } of forms)
      for (const name of names) {
        const i = l.lastIndexOf(`${name}:`);
        if (i < 0) continue;
        // the name starts the location: after "at " or "(", not inside a longer path
        const before = i === 0 ? ' ' : l[i - 1];
        if (before !== ' ' && before !== '(') continue;
        const m = /^:(\d+):(\d+)\)?\s*$/.exec(l.slice(i + name.length));
        if (m) return { file, line: Number(m[1]), column: Number(m[2]), frame: l };
      }
  }
  return null;
}

function fileUrl(f: string): string | null {
  try {
    return pathToFileURL(f).href;
  } catch {
    return null;
  }
}

/** Drops the engine's own frames below the script (the module loader, the worker's main). */
function trimEngineFrames(stack: string): string {
  const lines = stack.split('\n');
  let end = lines.length;
  while (
    end > 1 &&
    /^\s+at /.test(lines[end - 1]) &&
    /node:internal|[\\/]worker\.js:\d+|\bModuleJob\.run\b/.test(lines[end - 1])
  )
    end--;
  return lines.slice(0, end).join('\n');
}

function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}
