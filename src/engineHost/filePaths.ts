/**
 * File identity across the worker and its hosts. The worker names an imported file by the path its bundler resolved
 * (symbolic links followed); an editor or a command line may name the same file through a link (a workspace folder
 * opened through one). Both the engine host (pause policies) and the extension (sessions, the panel) compare files
 * with these.
 */
import { realpathSync } from 'node:fs';

/** the file's real path (links followed), or null when it is not on disk (an untitled editor) */
export function realPath(p: string): string | null {
  try {
    return realpathSync.native(p);
  } catch {
    return null;
  }
}

/** whether two paths name the same file: equal as written, or equal once links are followed (case-blind where the file system is) */
export function samePath(a: string, b: string): boolean {
  const norm = (p: string) => (process.platform === 'win32' || process.platform === 'darwin' ? p.toLowerCase() : p);
  if (norm(a) === norm(b)) return true;
  return norm(realPath(a) ?? a) === norm(realPath(b) ?? b);
}
