/**
 * The preview panel's page, without `vscode` so the browser tests serve exactly what the panel
 * shows. It holds the CSP and nothing else: the script and the styles are files of the built
 * webview folder, named by the caller.
 */

/**
 * The page: CSP `default-src 'none'`; scripts only by nonce, never `eval` ('unsafe-eval' is not
 * granted); `'wasm-unsafe-eval'` lets the page compile WebAssembly — only the CPU backend's SIMD
 * kernels, bytes bundled at build time (src/runtime/wasm/), which is the CPU fallback's fast
 * path on machines without a WebGPU adapter; it permits no JavaScript evaluation. Styles, fonts
 * and images only from the webview folder (vscode-elements styles its shadow roots with
 * constructable stylesheets, which CSP does not govern). The page fetches
 * nothing but the preview's own worker script. The browser tests serve the same page.
 *
 * The forward runs in a worker (`worker`, named by the page's `data-worker`). `worker-src` is the
 * webview's own source, plus `blob:` for where the browser refuses a worker script from another
 * origin (VS Code serves webview resources from an origin other than the page's): the page then
 * fetches the same script (`connect-src`, the webview's own source only) and starts it from a
 * `blob:` URL. A `blob:` worker inherits this policy, so it cannot evaluate code either.
 */
export function previewHtml(o: { nonce: string; cspSource: string; script: string; style: string; worker: string }): string {
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${o.nonce}' 'wasm-unsafe-eval'`,
    `worker-src ${o.cspSource} blob:`,
    `connect-src ${o.cspSource}`,
    `style-src ${o.cspSource}`,
    `font-src ${o.cspSource}`,
    `img-src ${o.cspSource} data:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${o.style}">
<title>Attention Preview</title>
</head>
<body data-worker="${o.worker}">
<div id="app"><p class="loading">Loading…</p></div>
<script nonce="${o.nonce}" src="${o.script}"></script>
</body>
</html>`;
}
