/**
 * The Node gateway's forwarding of plain HTTP requests to a node or a registry. The Edge decides
 * where a request goes (host, verified route, upstreams in order, edge tokens); this moves the bytes
 * with undici's low-level dispatch, writing the upstream's answer straight into Node's
 * ServerResponse: no web Request/Response/Headers and no intermediate body stream per request, which
 * on Node cost several times the proxying itself. Only requests without a body come here (same
 * failover rule as proxy.ts: the next upstream on a connection failure or a 502/503); requests with
 * a body, which need proxy.ts's replay copy to fail over, and everything that is not a forward
 * (landing page, error pages) go to the Hono app.
 */
import type http from 'node:http';
import { type Agent, type Dispatcher, util } from 'undici';
import type { Edge, UpstreamRoute, UpstreamTarget } from './app.ts';
import { EdgeError } from './errors.ts';
import { RELAY_ERROR_HEADER, tryNextUpstream } from './failover.ts';
import { isHopByHop, upstreamRawHeaders } from './headers.ts';
import { INGRESS_HEADERS } from '../shared/records/api.ts';
import { errorResponse } from './pages.ts';

export interface ForwardOptions {
  dispatcher: Agent;
  secure: boolean;
  /** Strict-Transport-Security value (secure only). */
  hsts: string;
  /** Serves a request with the Hono app. */
  app: (req: http.IncomingMessage, res: http.ServerResponse) => void;
}

/** Header names a Connection value lists (keep-alive is hop-by-hop anyway). */
function connectionTokens(value: string): Set<string> | undefined {
  let listed: Set<string> | undefined;
  for (const t of value.split(',')) {
    const token = t.trim().toLowerCase();
    if (token && token !== 'keep-alive') (listed ??= new Set()).add(token);
  }
  return listed;
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

/**
 * One forwarded request, and undici's handler of its current attempt (one at a time): tries the
 * upstreams in order and streams the first real answer into `res` (backpressure: undici's parser
 * pauses while the client's socket is full; a client that goes away aborts the upstream request).
 * Methods rather than closures: nothing but this object is made per request. Headers are read from
 * the controller's raw list (the upstream's own order and repeats), not undici's parsed object.
 */
class Forwarding implements Dispatcher.DispatchHandler {
  readonly #failures: string[] = [];
  #index = -1;
  /** The current attempt's: abort, and pause/resume for backpressure. */
  #controller: Dispatcher.DispatchController | null = null;
  /** Headers went to the client: from here on a failure can only cut the response. */
  #started = false;
  #done = false;
  /** The current attempt was refused (502/503, relay error): its body is read and dropped. */
  #discard = false;
  /** The current attempt got response headers. */
  #answered = false;
  readonly #onDrain = () => this.#controller?.resume();
  readonly #onClose = () => {
    if (this.#done) return;
    this.#done = true;
    this.#controller?.abort(new Error('client went away'));
  };

  constructor(
    readonly res: http.ServerResponse,
    readonly method: string,
    readonly path: string,
    readonly headers: string[],
    readonly route: Exclude<UpstreamRoute, { kind: 'landing' }>,
    readonly host: string,
    readonly options: ForwardOptions,
  ) {
    res.once('close', this.#onClose);
  }

  next(): void {
    if (this.#done) return;
    const upstreams = this.route.upstreams;
    if (++this.#index >= upstreams.length) {
      this.#done = true;
      this.#giveUp();
      return;
    }
    this.#controller = null;
    this.#discard = false;
    this.#answered = false;
    const upstream = upstreams[this.#index];
    let headers = this.headers;
    if (upstream.ingress) {
      headers = headers.slice();
      headers.push(INGRESS_HEADERS.nodeId, upstream.ingress.nodeId, INGRESS_HEADERS.edgeToken, upstream.ingress.edgeToken);
    }
    this.options.dispatcher.dispatch({ origin: upstream.origin, path: this.path, method: this.method as 'GET', headers }, this);
  }

  #giveUp(): void {
    const failures = this.#failures.join('; ');
    const registry = this.route.kind === 'registry';
    const error = this.route.kind === 'registry'
      ? new EdgeError('REGISTRY_UNAVAILABLE', `no registry answered (${failures})`)
      : new EdgeError('UPSTREAM_UNAVAILABLE', `every upstream of "${this.route.name}" is down (${failures})`);
    writeError(this.res, error, this.host, registry, this.options).catch(() => this.res.destroy());
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#done) controller.abort(new Error('client went away'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number): void {
    this.#answered = true;
    // HTTP/1.1 (the dispatcher has allowH2 off): the raw list is the Buffer pairs off the wire.
    const raw = controller.rawHeaders as Buffer[];
    // One pass: hop-by-hop names by the fixed list now, names listed in Connection afterwards.
    const headers: string[] = [];
    let connection: string | undefined;
    let relayError: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const key = util.headerNameToString(raw[i]);
      if (key === 'connection') {
        const value = raw[i + 1].toString('latin1');
        connection = connection === undefined ? value : `${connection}, ${value}`;
      } else if (key === RELAY_ERROR_HEADER) relayError = raw[i + 1].toString('latin1');
      else if (!isHopByHop(key, undefined)) headers.push(key, raw[i + 1].toString('latin1'));
    }
    if (tryNextUpstream(status, relayError, this.#index === this.route.upstreams.length - 1)) {
      // Read the refusal to its end so the connection stays reusable, then try the next one.
      this.#discard = true;
      this.#failures.push(`${this.route.upstreams[this.#index].label}: HTTP ${status}${relayError ? ` ${relayError}` : ''}`);
      return;
    }
    const listed = connection === undefined ? undefined : connectionTokens(connection);
    const out = listed ? headers.filter((_, i, all) => !listed.has(all[i - (i % 2)])) : headers;
    if (this.options.secure) out.push('strict-transport-security', this.options.hsts);
    this.#started = true;
    this.res.writeHead(status, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#discard || this.res.write(chunk)) return;
    controller.pause();
    this.res.once('drain', this.#onDrain);
  }

  onResponseEnd(): void {
    if (this.#discard) return this.next();
    this.#done = true;
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.#done) return;
    if (this.#started) {
      // Cut mid-body: the client must see a broken response, never a short "complete" one.
      this.#done = true;
      this.res.destroy(err);
      return;
    }
    // A refusal being discarded that then fails is already counted.
    if (!this.#discard) this.#failures.push(`${this.route.upstreams[this.#index].label}: ${this.#answered ? 'response failed' : err.message}`);
    this.next();
  }
}

export async function forwardHttp(edge: Edge, req: http.IncomingMessage, res: http.ServerResponse, options: ForwardOptions): Promise<void> {
  const host = req.headers.host;
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  if (hasBody || !host || !VALID_HOST.test(host)) return options.app(req, res);
  let url: URL;
  let route: UpstreamRoute;
  try {
    url = new URL(`${options.secure ? 'https' : 'http'}://${host}${req.url ?? '/'}`);
    route = await edge.route(url);
  } catch {
    // Error pages (and anything odd about the request) are the app's to render.
    return options.app(req, res);
  }
  if (route.kind === 'landing') return options.app(req, res);
  const headers = upstreamRawHeaders(req.rawHeaders, { clientIp: req.socket.remoteAddress, host: url.host, proto: url.protocol.slice(0, -1) });
  new Forwarding(res, req.method ?? 'GET', url.pathname + url.search, headers, route, host, options).next();
}
