/**
 * The Node gateway's forwarding of plain HTTP requests to a node or a registry. The Edge decides
 * everything (host, verified route, upstreams in order, headers, edge tokens); this only moves the
 * bytes with Node streams and undici, without building web Request/Response objects per request,
 * which cost several times the proxying itself on Node. Only requests without a body come here
 * (same failover rules as proxy.ts: the next upstream on a connection failure or a 502/503);
 * requests with a body, which need proxy.ts's replay copy to fail over, and everything that is not
 * a forward (landing page, error pages) go to the Hono app.
 */
import type http from 'node:http';
import { type Agent, request } from 'undici';
import type { Edge } from './app.ts';
import { EdgeError } from './errors.ts';
import { RELAY_ERROR_HEADER, tryNextUpstream } from './failover.ts';
import { isHopByHop } from './headers.ts';
import { pipeToClient } from './node-fetch.ts';
import { errorResponse } from './pages.ts';

export interface ForwardOptions {
  dispatcher: Agent;
  secure: boolean;
  /** Strict-Transport-Security value (secure only). */
  hsts: string;
  /** Serves a request with the Hono app. */
  app: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}

const VALID_HOST = /^[a-z0-9.-]+(?::\d{1,5})?$/i;

async function writeError(res: http.ServerResponse, error: EdgeError, host: string, json: boolean, options: ForwardOptions): Promise<void> {
  const page = errorResponse(error, host, json);
  const headers: Record<string, string> = {};
  page.headers.forEach((v, k) => (headers[k] = v));
  if (options.secure) headers['strict-transport-security'] = options.hsts;
  const body = await page.text();
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(page.status, headers).end(body);
}

export async function forwardHttp(edge: Edge, req: http.IncomingMessage, res: http.ServerResponse, options: ForwardOptions): Promise<void> {
  const host = req.headers.host;
  const method = req.method ?? 'GET';
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  if (hasBody || !host || !VALID_HOST.test(host)) return options.app(req, res);
  const headers = new Headers();
  let plan;
  try {
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const url = `${options.secure ? 'https' : 'http'}://${host}${req.url ?? '/'}`;
    plan = await edge.plan({ url, headers } as Request, { clientIp: req.socket.remoteAddress });
  } catch {
    // Error pages (and anything odd about the request) are the app's to render.
    return options.app(req, res);
  }
  if (plan.kind === 'landing') return options.app(req, res);
  const failures: string[] = [];
  for (let i = 0; i < plan.candidates.length; i++) {
    const candidate = plan.candidates[i];
    const last = i === plan.candidates.length - 1;
    const upstreamHeaders: string[] = [];
    candidate.headers.forEach((v, k) => upstreamHeaders.push(k, v));
    let upstream;
    try {
      upstream = await request(candidate.url, {
        method: method as 'GET',
        headers: upstreamHeaders,
        dispatcher: options.dispatcher,
      });
    } catch (e) {
      failures.push(`${candidate.label}: ${(e as Error).message}`);
      continue;
    }
    const relayError = upstream.headers[RELAY_ERROR_HEADER] as string | undefined;
    if (tryNextUpstream(upstream.statusCode, relayError, last)) {
      failures.push(`${candidate.label}: HTTP ${upstream.statusCode}${relayError ? ` ${relayError}` : ''}`);
      upstream.body.resume();
      continue;
    }
    const connection = upstream.headers.connection as string | undefined;
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(upstream.headers)) {
      if (v !== undefined && !isHopByHop(k, connection)) out[k] = v;
    }
    if (options.secure) out['strict-transport-security'] = options.hsts;
    res.writeHead(upstream.statusCode, out);
    pipeToClient(upstream.body, res);
    return;
  }
  const error = plan.kind === 'registry'
    ? new EdgeError('REGISTRY_UNAVAILABLE', `no registry answered (${failures.join('; ')})`)
    : new EdgeError('UPSTREAM_UNAVAILABLE', `every upstream of "${plan.name}" is down (${failures.join('; ')})`);
  await writeError(res, error, host, plan.kind === 'registry', options);
}
