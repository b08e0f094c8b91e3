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

export function run(): Promise<void> {
  const trusted = vscode.workspace.isTrusted;
  const mode = process.env.BN_VSCODE_TEST_MODE || (trusted ? 'trusted' : 'untrusted');
  if (mode !== 'trusted' && mode !== 'untrusted') return Promise.reject(new Error(`BN_VSCODE_TEST_MODE=${mode}: expected trusted|untrusted`));
  if ((mode === 'trusted') !== trusted) {
    return Promise.reject(new Error(`the ${mode} suite was started in a workspace where isTrusted=${trusted}: the runner set the session up wrongly`));
  }
  const untrustedFile = (f: string) => f.endsWith('.untrusted.test.js');
  const filters = (process.env.BN_VSCODE_TEST_FILES || '').split(',').map((s) => s.trim()).filter(Boolean);
  const files = fs.readdirSync(__dirname)
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
    if (files.length === 0) return reject(new Error(`no ${mode} test files in ${__dirname}${filters.length ? ` matching ${filters.join(',')}` : ''}`));
    try {
      mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed.`)) : resolve()));
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
