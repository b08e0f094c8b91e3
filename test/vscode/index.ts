// Mocha entry loaded INSIDE a real VS Code extension host (host A: code-server via scripts/vscode-host.mjs,
// which passes this file as extensionTestsPath). Host B (@vscode/test-cli, .vscode-test.mjs) does not use
// this file: it loads the same compiled *.test.js files itself.
//
// Which files run (see test/vscode/README.md):
//  - trusted workspace   -> every out/test/vscode/*.test.js except *.untrusted.test.js
//  - untrusted workspace -> only out/test/vscode/*.untrusted.test.js
// The mode comes from BN_VSCODE_TEST_MODE (set by the runner), else from vscode.workspace.isTrusted.
// BN_VSCODE_TEST_FILES (comma-separated substrings of file names) and BN_VSCODE_TEST_GREP narrow the run.
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';
import * as vscode from 'vscode';

/** printed by run() once mocha has finished; keep in sync with scripts/vscode-host.mjs */
export const RESULT_MARK = '[bn-tests] result:';

export function run(): Promise<void> {
  const trusted = vscode.workspace.isTrusted;
  const mode = process.env.BN_VSCODE_TEST_MODE || (trusted ? 'trusted' : 'untrusted');
  if (mode !== 'trusted' && mode !== 'untrusted')
    return Promise.reject(new Error(`BN_VSCODE_TEST_MODE=${mode}: expected trusted|untrusted`));
  if ((mode === 'trusted') !== trusted) {
    return Promise.reject(
      new Error(
        `the ${mode} suite was started in a workspace where isTrusted=${trusted}: the runner set the session up wrongly`,
      ),
    );
  }
  const untrustedFile = (f: string) => f.endsWith('.untrusted.test.js');
  const filters = (process.env.BN_VSCODE_TEST_FILES || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js') && untrustedFile(f) === (mode === 'untrusted'))
    .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
    .sort();

  const mocha = new Mocha({
    ui: 'tdd',
    color: false,
    reporter: 'spec',
    timeout: Number(process.env.BN_VSCODE_TEST_TIMEOUT_MS || 60_000),
    grep: process.env.BN_VSCODE_TEST_GREP || undefined,
  });
  for (const f of files) mocha.addFile(path.join(__dirname, f));
  console.log(`[bn-tests] ${mode} workspace, ${files.length} file(s): ${files.join(', ') || '(none)'}`);

  return new Promise((resolve, reject) => {
    if (files.length === 0)
      return reject(
        new Error(`no ${mode} test files in ${__dirname}${filters.length ? ` matching ${filters.join(',')}` : ''}`),
      );
    try {
      const runner = mocha.run((failures) => {
        // the runner (scripts/vscode-host.mjs) counts a run as passed only after this line: an extension host that
        // dies mid-run makes the workbench report exit code 0 without it
        console.log(`${RESULT_MARK} ${failures} failed of ${runner.total}`);
        if (failures > 0) reject(new Error(`${failures} test(s) failed.`));
        else resolve();
      });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
