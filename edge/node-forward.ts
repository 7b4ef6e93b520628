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
import { type Agent, util } from 'undici';
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

/** undici's (synchronous, allocation-light) handler interface, as its own dispatchers call it. */
interface RawHandler {
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: string[] | null): void;
  onError(err: Error): void;
}

/**
 * One forwarded request: tries the upstreams in order and streams the first real answer into `res`
 * (backpressure: undici's parser pauses while the client's socket is full; a client that goes away
 * aborts the upstream request).
 */
class Forwarding {
  readonly failures: string[] = [];
  #index = -1;
  #abort: ((err?: Error) => void) | null = null;
  /** Headers went to the client: from here on a failure can only cut the response. */
  #started = false;
  #done = false;
  #resume: (() => void) | null = null;
  readonly #onDrain = () => this.#resume?.();
  readonly #onClose = () => {
    if (this.#done) return;
    this.#done = true;
    this.#abort?.(new Error('client went away'));
  };

  constructor(
    readonly res: http.ServerResponse,
    readonly method: string,
    readonly path: string,
    readonly headers: string[],
    readonly upstreams: readonly UpstreamTarget[],
    readonly options: ForwardOptions,
    readonly giveUp: (failures: string[]) => void,
  ) {
    res.once('close', this.#onClose);
  }

  next(): void {
    if (this.#done) return;
    if (++this.#index >= this.upstreams.length) {
      this.#done = true;
      this.giveUp(this.failures);
      return;
    }
    const upstream = this.upstreams[this.#index];
    let headers = this.headers;
    if (upstream.ingress) {
      headers = headers.slice();
      headers.push(INGRESS_HEADERS.nodeId, upstream.ingress.nodeId, INGRESS_HEADERS.edgeToken, upstream.ingress.edgeToken);
    }
    this.options.dispatcher.dispatch({ origin: upstream.origin, path: this.path, method: this.method as 'GET', headers }, this.#attempt(upstream));
  }

  #attempt(upstream: UpstreamTarget): RawHandler {
    const last = this.#index === this.upstreams.length - 1;
    let discard = false;
    let answered = false;
    return {
      onConnect: (abort) => {
        this.#abort = abort;
        if (this.#done) abort(new Error('client went away'));
      },
      onHeaders: (status, raw, resume) => {
        answered = true;
        const out: string[] = [];
        let connection: string | undefined;
        let relayError: string | undefined;
        for (let i = 0; i < raw.length; i += 2) {
          const key = util.headerNameToString(raw[i]);
          const value = raw[i + 1].toString('latin1');
          if (key === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`;
          else if (key === RELAY_ERROR_HEADER) relayError = value;
          out.push(key, value);
        }
        if (tryNextUpstream(status, relayError, last)) {
          // Read the refusal to its end so the connection stays reusable, then try the next one.
          discard = true;
          this.failures.push(`${upstream.label}: HTTP ${status}${relayError ? ` ${relayError}` : ''}`);
          return true;
        }
        const headers: string[] = [];
        for (let i = 0; i < out.length; i += 2) {
          if (!isHopByHop(out[i], connection)) headers.push(out[i], out[i + 1]);
        }
        if (this.options.secure) headers.push('strict-transport-security', this.options.hsts);
        this.#started = true;
        this.#resume = resume;
        this.res.writeHead(status, headers);
        return true;
      },
      onData: (chunk) => {
        if (discard) return true;
        if (this.res.write(chunk)) return true;
        this.res.once('drain', this.#onDrain);
        return false;
      },
      onComplete: () => {
        if (discard) return this.next();
        this.#done = true;
        this.res.end();
      },
      onError: (err) => {
        if (this.#done) return;
        if (this.#started) {
          // Cut mid-body: the client must see a broken response, never a short "complete" one.
          this.#done = true;
          this.res.destroy(err);
          return;
        }
        // A refusal being discarded that then fails is already counted.
        if (!discard) this.failures.push(`${upstream.label}: ${answered ? 'response failed' : err.message}`);
        this.next();
      },
    };
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
  const plan = route;
  const giveUp = (failures: string[]) => {
    const error = plan.kind === 'registry'
      ? new EdgeError('REGISTRY_UNAVAILABLE', `no registry answered (${failures.join('; ')})`)
      : new EdgeError('UPSTREAM_UNAVAILABLE', `every upstream of "${plan.name}" is down (${failures.join('; ')})`);
    writeError(res, error, host, plan.kind === 'registry', options).catch(() => res.destroy());
  };
  new Forwarding(res, req.method ?? 'GET', url.pathname + url.search, headers, route.upstreams, options, giveUp).next();
}
