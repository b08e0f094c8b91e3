/**
 * Inspector panel entry (bundled by scripts/build.mjs as an IIFE into dist/webview.js).
 * Host -> panel: HostToWebview messages (src/shared/protocol.ts); panel -> host: WebviewToHost.
 */
import { App, type VsCodeApi } from './app';

declare const acquireVsCodeApi: undefined | (() => VsCodeApi);

function api(): VsCodeApi {
  if (typeof acquireVsCodeApi === 'function') return acquireVsCodeApi();
  // opened outside a webview: keep working, state in memory only
  let state: unknown;
  return {
    postMessage: () => undefined,
    getState: () => state,
    setState: (s: unknown) => (state = s),
  };
}

function main(): void {
  const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
  new App(api(), root).start();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main, { once: true });
else main();
