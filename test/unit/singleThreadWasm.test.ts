/**
 * The engine ships two wasm builds: the threaded one (the default on a multi-core machine) and tfjs's
 * single-threaded one (BN_INSPECTOR_WASM_THREADS=1, and wherever the threaded build cannot start). The rest of the
 * unit suite runs on the default; this file runs the float64 reference suites again, in a child mocha, on the
 * single-threaded build, so that both pass on every run.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { wasmThreadCount } from '../../src/worker/wasmThreaded';

const ROOT = resolve(__dirname, '..', '..');
/** the suites that check the engine's numbers against a float64 reference on the wasm backend */
const REFERENCE_SUITES = ['test/unit/bnInstrument.test.ts', 'test/unit/kernels.test.ts'];

describe('the float64 reference suites on the single-threaded wasm build too', function () {
  it('the default run uses the threaded build (2 or more XNNPACK threads) on this machine', function () {
    assert.ok(wasmThreadCount() >= 2, `this machine gives ${wasmThreadCount()} thread(s): nothing else to check`);
  });

  it('bnInstrument and kernels pass with BN_INSPECTOR_WASM_THREADS=1', function () {
    if (wasmThreadCount() < 2) this.skip(); // this very run IS the single-threaded one (the first test says so)
    this.timeout(900_000);
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'),
        '--node-option',
        'import=tsx',
        '--timeout',
        '120000',
        '--reporter',
        'dot',
        ...REFERENCE_SUITES,
      ],
      { cwd: ROOT, env: { ...process.env, BN_INSPECTOR_WASM_THREADS: '1' }, encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, `the single-threaded run failed:\n${out.slice(-6000)}`);
    assert.match(out, /\d+ passing/, 'the child ran the suites');
    assert.doesNotMatch(out, /\d+ failing/);
  });
});
