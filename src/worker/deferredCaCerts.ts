/**
 * NODE_EXTRA_CA_CERTS without its start-up cost. Node 20 reads that file and builds its whole root certificate
 * store while the process starts, before any JavaScript runs, whether or not the process ever opens a TLS
 * connection: measured here 80-110 ms of CPU (100-300 ms of wall time on busy cores) for every process that has the
 * variable, against ~40 ms for the rest of Node's start. A run's process rarely needs it, and its start is the
 * user's wait (a bn-inspect run starts two Node processes).
 *
 * So src/engineHost/processWorker.ts starts the runner with the variable renamed (DEFERRED_CA_ENV, its
 * withDeferredCaCerts), and here, in
 * the worker thread, before the script runs:
 * - the variable gets its own name back in this thread's environment (the script and the processes it starts see
 *   what the user set; the runner's own environment is a separate copy);
 * - `tls.createSecureContext`, which every TLS client and server goes through (`https`, `fetch`, `tls.connect`), is
 *   wrapped: a context made without its own `ca` gets the store Node would have built at start-up, its bundled
 *   root certificates plus the file's (read once, on the first such context). A context given a `ca` is left
 *   alone, as Node leaves it (the extra certificates only extend the default store). If the file cannot be read,
 *   a warning says so and the bundled roots stay, as Node does.
 * Where NODE_OPTIONS asks for the system's or OpenSSL's store (`--use-openssl-ca`, `--use-system-ca`) the variable is
 * not deferred: that store is not `tls.rootCertificates`.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { DEFERRED_CA_ENV } from '../shared/protocol';

type CreateSecureContext = typeof tls.createSecureContext;

/**
 * In the worker: gives NODE_EXTRA_CA_CERTS back to the environment and makes TLS contexts trust its certificates.
 * Does nothing (returns false) where the variable was not deferred.
 */
export function installDeferredCaCerts(env: NodeJS.ProcessEnv = process.env): boolean {
  const file = env[DEFERRED_CA_ENV];
  delete env[DEFERRED_CA_ENV];
  if (!file) return false;
  env.NODE_EXTRA_CA_CERTS = file;
  const original: CreateSecureContext = tls.createSecureContext;
  let store: string[] | null = null;
  const defaultStore = (): string[] => {
    if (store) return store;
    store = [...tls.rootCertificates];
    try {
      store.push(readFileSync(file, 'utf8'));
    } catch (e) {
      process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(e as Error).message}`);
    }
    return store;
  };
  const wrapped: CreateSecureContext = (options) =>
    original(options?.ca === undefined ? { ...options, ca: defaultStore() } : options);
  tls.createSecureContext = wrapped;
  return true;
}
