// Host B: the same extension-host suite (out/test/vscode/*.test.js, built by `npm run build`) in a desktop
// VS Code that @vscode/test-electron downloads: `npm run test:electron`. This needs a machine that can reach
// update.code.visualstudio.com; the project's own machines and CI cannot, and use host A
// (scripts/vscode-host.mjs, code-server) instead. See test/vscode/README.md.
//
// @vscode/test-electron always passes --disable-workspace-trust, so the *.untrusted.test.js files (which
// need an untrusted workspace) run only on host A.
import { defineConfig } from '@vscode/test-cli';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// tests may write files into the workspace: give them a copy of examples/
const workspace = join(mkdtempSync(join(tmpdir(), 'bn-inspector-ws-')), 'examples');
cpSync('examples', workspace, { recursive: true });

export default defineConfig({
  label: 'extension host (trusted workspace)',
  files: 'out/test/vscode/!(*.untrusted).test.js',
  version: '1.139.1', // the Code version host A runs (code-server 4.139.1)
  workspaceFolder: workspace,
  // the test entry's folder (scripts/build.mjs): its activate() returns the tests' API; the shipped one returns nothing
  extensionDevelopmentPath: 'out/dev-extension',
  env: { BN_VSCODE_TEST_MODE: 'trusted' },
  launchArgs: ['--disable-extensions', '--skip-welcome', '--skip-release-notes'],
  mocha: { ui: 'tdd', timeout: 60_000, color: true },
});
