/**
 * The engine's SIMD modules as the build assembles them (scripts/build.mjs → src/worker/prebuiltWasm.ts): the bundles
 * that instantiate them (dist/worker.js, dist/simdHelper.js) carry exactly the bytes the sources assemble now, for both
 * kinds of memory and, for the kernels, with and without relaxed SIMD's fused multiply-add; those bytes validate and
 * instantiate (the FMA ones compiled as the engine does: src/worker/relaxedSimdSupport.ts); without the build's map (the sources, as these
 * tests run them) the modules are assembled on the spot.
 */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { allWasmModules } from '../../src/worker/wasmModuleBytes';
import { prebuiltWasm } from '../../src/worker/prebuiltWasm';
import { compileModule, fusedMultiplyAdd } from '../../src/worker/relaxedSimdSupport';
import { ensureBuilt } from './cliHarness';

const DIST = join(resolve(__dirname, '..', '..'), 'dist');

describe('prebuilt SIMD modules (the build assembles them once)', function () {
  this.timeout(120000);
  const modules = allWasmModules();

  it('six modules (kernels with and without FMA, moments; plain and shared memory), each valid WebAssembly that instantiates', () => {
    assert.deepEqual(Object.keys(modules).sort(), [
      'kernels',
      'kernels-fma',
      'kernels-shared',
      'kernels-shared-fma',
      'moments',
      'moments-shared',
    ]);
    assert.ok(fusedMultiplyAdd(), 'relaxed SIMD compiles here');
    for (const [key, b64] of Object.entries(modules)) {
      const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
      const module = compileModule(bytes, key.endsWith('-fma'));
      assert.ok(module, `${key} validates`);
      const shared = key.includes('-shared');
      const memory = new WebAssembly.Memory(shared ? { initial: 1, maximum: 65536, shared: true } : { initial: 1 });
      const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
      assert.ok(Object.keys(exports).length >= 6, `${key}: ${Object.keys(exports).length} exports`);
    }
  });

  it('dist/worker.js and dist/simdHelper.js carry exactly the bytes the sources assemble now', () => {
    ensureBuilt();
    for (const bundle of ['worker.js', 'simdHelper.js']) {
      const text = readFileSync(join(DIST, bundle), 'utf8');
      for (const [key, b64] of Object.entries(modules))
        assert.ok(text.includes(`"${b64}"`), `${bundle}: the ${key} module is missing or stale`);
    }
  });

  it('without the build (the sources): nothing prebuilt, the caller assembles', () => {
    assert.equal(prebuiltWasm('kernels', false, false), null);
  });
});
