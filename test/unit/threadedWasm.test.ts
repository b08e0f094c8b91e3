/**
 * The engine ships two wasm builds: tfjs's single-threaded one (the default) and the threaded one
 * (BN_INSPECTOR_WASM_THREADS=2 or =max, src/worker/wasmThreaded.ts). The rest of the unit suite runs on the
 * default; this file runs the float64 reference suites again, in a child mocha, on the threaded build with two
 * XNNPACK threads, so that both pass on every run.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { availableCores, wasmThreadCount } from '../../src/worker/wasmThreaded';

const ROOT = resolve(__dirname, '..', '..');
/** the suites that check the engine's numbers against a float64 reference on the wasm backend */
const REFERENCE_SUITES = [
  'test/unit/activationGradients.test.ts',
  'test/unit/batchNormGradient.test.ts',
  'test/unit/bnEagerInputStats.test.ts',
  'test/unit/bnInstrument.test.ts',
  'test/unit/channelMomentsRows.test.ts',
  'test/unit/fusedMoments.test.ts',
  'test/unit/kernels.test.ts',
  'test/unit/kernelsElementwise.test.ts',
  'test/unit/kernelsMatMul.test.ts',
  'test/unit/kernelsPointwise.test.ts',
  'test/unit/snapshotReads.test.ts',
  'test/unit/tfjsFastPath.test.ts',
  'test/unit/wasmPoolSwitch.test.ts',
  'test/unit/winogradConv.test.ts',
  'test/unit/winogradFilterTransform.test.ts',
];

describe('the float64 reference suites on the threaded wasm build too', function () {
  it('the default run uses the single-threaded build', function () {
    assert.equal(wasmThreadCount({}), 1);
    assert.equal(wasmThreadCount({ BN_INSPECTOR_WASM_THREADS: '2' }), 2);
    assert.equal(wasmThreadCount({ BN_INSPECTOR_WASM_THREADS: '64' }), 8, "tfjs's ceiling");
    assert.equal(wasmThreadCount({ BN_INSPECTOR_WASM_THREADS: 'max' }), availableCores());
    assert.equal(wasmThreadCount({ BN_INSPECTOR_WASM_THREADS: 'two' }), 1, 'not a number: the default');
  });

  it('every reference suite passes with BN_INSPECTOR_WASM_THREADS=2 (2 XNNPACK threads)', function () {
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
        'spec',
        ...REFERENCE_SUITES,
      ],
      { cwd: ROOT, env: { ...process.env, BN_INSPECTOR_WASM_THREADS: '2' }, encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, `the threaded run failed:\n${out.slice(-6000)}`);
    assert.match(out, /\d+ passing/, 'the child ran the suites');
    assert.doesNotMatch(out, /\d+ failing/);
    assert.match(out, /wasm \(2 XNNPACK threads\)/, 'the child ran on the threaded build');
  });
});
