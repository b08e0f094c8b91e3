/**
 * Where a run's compiled bundle lives: a private folder of its own per run, never a shared, predictable path.
 */
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * Each run's bundle lives in a private folder of its own: `mkdtemp` (a fresh, unpredictable name; mode 0700, so no
 * other local user can read or swap it), the file written exclusively with mode 0600. The worker removes the file
 * and its folder as soon as the bundle starts evaluating (removeBundle); nothing is shared between runs.
 */
const RUN_DIR_PREFIX = 'bn-inspector-run-';

export function privateBundlePath(): string {
  sweepOwnStaleRunDirs();
  return join(mkdtempSync(join(tmpdir(), RUN_DIR_PREFIX)), 'script.mjs');
}

/** Removes a bundle and, when it is in a private run folder, that folder. */
export function removeBundle(file: string): void {
  try {
    rmSync(file, { force: true });
    const dir = dirname(file);
    if (basename(dir).startsWith(RUN_DIR_PREFIX)) rmSync(dir, { recursive: true, force: true });
  } catch {
    /* gone already */
  }
}

/** Run folders of this user older than an hour (a worker killed between compiling and loading cannot clean up). */
function sweepOwnStaleRunDirs(): void {
  try {
    const now = Date.now();
    const uid = process.getuid?.();
    for (const f of readdirSync(tmpdir())) {
      if (!f.startsWith(RUN_DIR_PREFIX)) continue;
      const p = join(tmpdir(), f);
      try {
        const st = lstatSync(p);
        if (st.isDirectory() && (uid === undefined || st.uid === uid) && now - st.mtimeMs > 3600_000)
          rmSync(p, { recursive: true, force: true });
      } catch {
        /* raced with another run */
      }
    }
  } catch {
    /* no temp folder listing */
  }
}
