/**
 * NODE_EXTRA_CA_CERTS, deferred past the runner's start-up (src/worker/deferredCaCerts.ts): a script run by
 * bn-inspect still trusts the file's certificates, through `fetch` and `https`, sees the variable, and passes it to
 * its children, while the run's process itself started without it. A local HTTPS server whose certificate is signed
 * by a test CA (test/unit/fixtures/tls) is trusted only through that file.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { withDeferredCaCerts } from '../../src/engineHost/processWorker';
import { DEFERRED_CA_ENV } from '../../src/shared/protocol';
import { CLI, Fixtures, ROOT, ensureBuilt } from './cliHarness';

const TLS = join(__dirname, 'fixtures', 'tls');
const CA = join(TLS, 'ca.pem');

const SCRIPT = `import https from 'node:https';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
const url = process.env.TEST_URL;
const fail = (e) => 'failed: ' + (e.cause?.code ?? e.code ?? e.message);
const get = (opts) => new Promise((res) => https.get(url, opts, (r) => { let s = ''; r.on('data', (d) => (s += d)); r.on('end', () => res(s)); }).on('error', (e) => res(fail(e))));
const result = {
  fetch: await fetch(url).then((r) => r.text(), fail),
  https: await get({}),
  httpsOwnCa: await get({ ca: tls.rootCertificates }),
  env: process.env.NODE_EXTRA_CA_CERTS ?? null,
  deferredName: process.env.${DEFERRED_CA_ENV} ?? null,
  child: execFileSync(process.execPath, ['-e', 'process.stdout.write(process.env.NODE_EXTRA_CA_CERTS ?? "none")']).toString(),
  // the environment the run's process was started with (Linux)
  processEnv: process.platform === 'linux' ? readFileSync('/proc/self/environ', 'utf8').split('\\0').filter((e) => e.startsWith('NODE_EXTRA_CA_CERTS=') || e.startsWith('${DEFERRED_CA_ENV}=')) : null,
};
console.log('RESULT ' + JSON.stringify(result));
`;

interface ScriptResult {
  fetch: string;
  https: string;
  httpsOwnCa: string;
  env: string | null;
  deferredName: string | null;
  child: string;
  processEnv: string[] | null;
}

function runScript(script: string, env: NodeJS.ProcessEnv): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(killer);
      const line = out.split('\n').find((l) => l.includes('RESULT {'));
      if (!line) return reject(new Error(`no RESULT line; stdout:\n${out}\nstderr:\n${err}`));
      resolve(JSON.parse(line.slice(line.indexOf('{'))) as ScriptResult);
    });
  });
}

describe('NODE_EXTRA_CA_CERTS deferred past the run process start-up', function () {
  this.timeout(180_000);
  let server: Server;
  let url: string;
  let fixtures: Fixtures;
  let script: string;
  const baseEnv = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, TEST_URL: url };
    delete env.NODE_EXTRA_CA_CERTS;
    delete env.NODE_OPTIONS;
    return env;
  };

  before(async () => {
    ensureBuilt();
    server = createServer(
      { key: readFileSync(join(TLS, 'server-key.pem')), cert: readFileSync(join(TLS, 'server.pem')) },
      (_req, res) => res.end('hello over tls'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://localhost:${(server.address() as AddressInfo).port}/`;
    fixtures = new Fixtures();
    script = fixtures.write('tlsProbe.mjs', SCRIPT);
  });
  after(() => {
    server?.close();
    fixtures?.cleanup();
  });

  it('renames the variable for the runner, and only where the bundled roots are the default store', () => {
    const env = withDeferredCaCerts({ PATH: '/bin', NODE_EXTRA_CA_CERTS: '/x/ca.pem' });
    assert.equal(env.NODE_EXTRA_CA_CERTS, undefined);
    assert.equal(env[DEFERRED_CA_ENV], '/x/ca.pem');
    assert.equal(env.PATH, '/bin');
    const none = { PATH: '/bin' };
    assert.deepEqual(withDeferredCaCerts(none), none);
    for (const flag of ['--use-openssl-ca', '--max-old-space-size=100 --use-system-ca']) {
      const kept = withDeferredCaCerts({ NODE_EXTRA_CA_CERTS: '/x/ca.pem', NODE_OPTIONS: flag });
      assert.equal(kept.NODE_EXTRA_CA_CERTS, '/x/ca.pem', flag);
      assert.equal(kept[DEFERRED_CA_ENV], undefined, flag);
    }
  });

  it('without the variable the test server is not trusted (the check below means something)', async () => {
    const r = await runScript(script, baseEnv());
    assert.match(
      r.fetch,
      /^failed: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/,
    );
    assert.match(r.https, /^failed: /);
    assert.equal(r.env, null);
    assert.equal(r.child, 'none');
  });

  it('with it, fetch and https trust the file; the script and its children see the variable; the process started without it', async () => {
    const r = await runScript(script, { ...baseEnv(), NODE_EXTRA_CA_CERTS: CA });
    assert.equal(r.fetch, 'hello over tls');
    assert.equal(r.https, 'hello over tls');
    // a request with its own `ca` is left alone, as Node leaves it
    assert.match(r.httpsOwnCa, /^failed: /);
    assert.equal(r.env, CA);
    assert.equal(r.deferredName, null);
    assert.equal(r.child, CA);
    if (process.platform === 'linux') assert.deepEqual(r.processEnv, [`${DEFERRED_CA_ENV}=${CA}`]);
  });

  it('a missing file costs a warning, not the run, as in Node', async () => {
    const r = await runScript(script, { ...baseEnv(), NODE_EXTRA_CA_CERTS: join(TLS, 'missing.pem') });
    assert.match(r.fetch, /^failed: /);
    assert.equal(r.env, join(TLS, 'missing.pem'));
  });
});
