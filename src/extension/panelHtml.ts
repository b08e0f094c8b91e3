/**
 * The inspector panel's HTML page (pure: no `vscode` import, so the browser harness under bench/ serves the
 * very same page). Strict CSP: nothing loads but the nonce'd script and the styles/fonts/images of
 * `cspSource`; no inline script, no eval, no inline style attributes.
 */
export interface PanelHtmlOptions {
  /** webview.cspSource */
  cspSource: string;
  /** a fresh random nonce (base64 or hex) for the one script tag */
  nonce: string;
  /** webview URI of dist/webview.js */
  scriptUri: string;
  /** webview URI of media/inspector.css */
  styleUri: string;
  /** webview URI of dist/codicons/codicon.css */
  codiconsUri: string;
}

function attr(s: string): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** webview.cspSource is one or more scheme/host sources: keep only tokens that are one (no keywords, quotes, semicolons). */
function cspSources(s: string): string {
  const ok = (t: string) =>
    /^[A-Za-z][A-Za-z0-9+.-]*:(\/\/[A-Za-z0-9.*\-_:%@[\]/+]*)?$/.test(t) ||
    /^[A-Za-z0-9*\-_]+(\.[A-Za-z0-9*\-_]+)+(:[0-9*]+)?$/.test(t);
  return String(s).split(/\s+/).filter(ok).join(' ');
}

export function panelHtml(o: PanelHtmlOptions): string {
  const nonce = String(o.nonce).replace(/[^A-Za-z0-9+/=_-]/g, '');
  if (!nonce) throw new Error('panelHtml: empty nonce');
  const src = cspSources(o.cspSource);
  if (!src) throw new Error(`panelHtml: no usable cspSource in ${JSON.stringify(o.cspSource)}`);
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${src}`,
    `font-src ${src}`,
    `img-src ${src} data:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(o.codiconsUri)}">
<link rel="stylesheet" href="${attr(o.styleUri)}">
<title>BatchNorm Inspector</title>
</head>
<body>
<div id="app"><p class="boot">Loading the BatchNorm Inspector…</p></div>
<script nonce="${attr(nonce)}" src="${attr(o.scriptUri)}"></script>
</body>
</html>
`;
}
