/** The few small HTML pages the edge itself serves; everything else comes from the nodes. */
import type { ErrorBody } from '../shared/records/api.ts';
import { type EdgeError, statusOf } from './errors.ts';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${escapeHtml(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}</style>` +
    `</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
  );
}

const HTML = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };

export function landingPage(zone: string): Response {
  return new Response(
    page(
      `PC2 on ${zone}`,
      `<p>Every PC2 personal cloud gets a name here, <code>&lt;name&gt;.${escapeHtml(zone)}</code>.</p>` +
        `<p>The registry API is at <code>/api/v1/</code>.</p>`,
    ),
    { status: 200, headers: HTML },
  );
}

function explain(error: EdgeError, host: string): [string, string] {
  const h = `<code>${escapeHtml(host)}</code>`;
  switch (error.code) {
    case 'UNKNOWN_NAME':
      return ['Name not found', `<p>No PC2 node is registered as ${h}.</p>`];
    case 'NODE_OFFLINE':
    case 'UPSTREAM_UNAVAILABLE':
      return ['Node offline', `<p>The PC2 node at ${h} is offline right now. Try again later.</p>`];
    case 'APP_NOT_ANSWERING':
      return [
        'App not answering',
        `<p>The node at ${h} is online but its app is not answering. Try again later.</p>`,
      ];
    case 'UNVERIFIED_ROUTE':
      return [
        'Route not verified',
        `<p>The route published for ${h} did not verify, so it is not used.</p>`,
      ];
    case 'REGISTRY_UNAVAILABLE':
      return ['Registry unavailable', `<p>No registry could be reached to look up ${h}.</p>`];
    case 'PRIVATE_NAME':
      return [
        'Private name',
        `<p>${h} serves its own TLS: this gateway does not decrypt its traffic. Connect to it again (a new connection is passed through to the node).</p>`,
      ];
    case 'MALFORMED_HOST':
      return ['Bad host', `<p>${h} is not a name this gateway serves.</p>`];
    case 'NOT_FOUND':
      return ['Not found', '<p>Nothing here.</p>'];
    case 'BODY_TOO_LARGE':
      return ['Request too large', '<p>The request body is larger than this gateway accepts.</p>'];
    default:
      return ['Gateway error', '<p>The gateway could not handle this request.</p>'];
  }
}

/** The one place an EdgeError becomes a response: an HTML page, or JSON for API clients. */
export function errorResponse(error: EdgeError, host: string, json: boolean): Response {
  const status = statusOf(error.code);
  if (json) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    return new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    });
  }
  const [title, text] = explain(error, host);
  const headers = new Headers(HTML);
  headers.set('x-pc2-error', error.code);
  if (status === 503) headers.set('retry-after', '30');
  return new Response(page(title, text), { status, headers });
}
