/**
 * The map's page at the apex (`/network`) and its files (`/network/<file>`): uPlot (pinned, from
 * node_modules, never a CDN) and the page's own script and style. The files are handed in by each
 * runtime (read from disk on Node.js and Deno, bundled as text modules on Workers), since the edge
 * core reads no files. The page allows scripts, styles and fetches from its own origin only.
 */

/** The files under /network/, with their content types. */
export const NETWORK_FILES = {
  'uPlot.min.js': 'text/javascript; charset=utf-8',
  'uPlot.min.css': 'text/css; charset=utf-8',
  'map.js': 'text/javascript; charset=utf-8',
  'map.css': 'text/css; charset=utf-8',
} as const;

export type NetworkFile = keyof typeof NETWORK_FILES;
export type NetworkAssets = Record<NetworkFile, string>;

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function networkPage(zone: string): Response {
  const z = escapeHtml(zone);
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>The ${z} network</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/network/uPlot.min.css"><link rel="stylesheet" href="/network/map.css">` +
    `<script src="/network/uPlot.min.js" defer></script><script src="/network/map.js" defer></script></head>` +
    `<body><header><h1>The ${z} network</h1><p id="summary" aria-live="polite">Loading…</p></header>` +
    `<section><h2>Super nodes</h2><table id="supernodes"><thead><tr><th>Super node</th><th>Region</th><th>State</th><th>Uptime</th><th>Version</th><th>Tunnels</th></tr></thead><tbody></tbody></table></section>` +
    `<section><h2>Relayed traffic</h2><div class="plots"><figure><figcaption>Last hour</figcaption><div id="traffic-hour" class="plot"></div></figure>` +
    `<figure><figcaption>Last day</figcaption><div id="traffic-day" class="plot"></div></figure></div></section>` +
    `<section><h2>Request rate</h2><div class="plots"><figure><figcaption>Last hour</figcaption><div id="requests-hour" class="plot"></div></figure>` +
    `<figure><figcaption>Last day</figcaption><div id="requests-day" class="plot"></div></figure></div></section>` +
    `<section><h2>Listed nodes</h2><p class="note">Nodes appear here only if their owner asked (<code>pc2 node --list-on-map</code>).</p><ul id="listed"></ul></section>` +
    `<footer><a href="/network.json">network.json</a></footer></body></html>`;
  return new Response(html, {
    status: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
    },
  });
}

/** One of the map's files, or null when `file` is not one. */
export function networkFile(assets: NetworkAssets, file: string): Response | null {
  if (!Object.hasOwn(NETWORK_FILES, file)) return null;
  const name = file as NetworkFile;
  return new Response(assets[name], {
    status: 200,
    headers: {
      'content-type': NETWORK_FILES[name],
      'cache-control': 'public, max-age=300',
      'x-content-type-options': 'nosniff',
    },
  });
}
