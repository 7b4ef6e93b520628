/**
 * The Node.js runtime's fast path for forwarding requests without a body, HTTP/1.1 and HTTP/2 (the
 * node:http2 compatibility API's request and response). `Edge.route` decides
 * where a request goes (host, verified route record, targets in order, edge tokens) exactly as for
 * the app; this moves the bytes with undici's low-level dispatch, writing the target's answer
 * straight into Node.js's ServerResponse: no web Request/Response/Headers and no intermediate body
 * stream per request, which on Node.js cost several times the forwarding itself. Same rules as
 * ../../forward.ts: headers (../../headers.ts), failover (../../failover.ts), the give-up error.
 * Requests with a body, which need forward.ts's replay copy to fail over, and everything that is not
 * a forward (landing page, error pages) go to the Hono app.
 */
import type http from 'node:http';
import { type Agent, type Dispatcher, util } from 'undici';
import { connectionTokens } from '../../../shared/hop-by-hop.ts';
import { INGRESS_HEADERS } from '../../../shared/records/api.ts';
import type { Edge, EdgeRoute, ForwardRoute } from '../../app.ts';
import type { EdgeError } from '../../errors.ts';
import {
  NODE_ERROR_HEADER,
  nodeError,
  RELAY_ERROR_HEADER,
  responseBoundMs,
  tryNextTarget,
} from '../../failover.ts';
import { unavailable } from '../../forward.ts';
import { dropsResponseHeader, forwardedRawHeaders } from '../../headers.ts';
import { errorResponse } from '../../pages.ts';
import { type EdgeStats, type ForwardKind, forwardKind, type RouteKind } from '../../stats.ts';
import type { ViewMemory } from '../../../shared/slab.ts';

export interface FastPathOptions {
  /** Pool for super nodes. */
  dispatcher: Agent;
  /** Pool for direct nodes' endpoints: public addresses only (fetch.ts). */
  directDispatcher: Agent;
  secure: boolean;
  /** Strict-Transport-Security value (secure only). */
  hsts: string;
  /** Serves a request with the Hono app. */
  app: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** The edge's counters of failed targets, failovers and give-ups. */
  stats: EdgeStats;
  /** Told the route kind of each request forwarded here (metrics on). */
  routed?: (res: http.ServerResponse, kind: RouteKind) => void;
  /**
   * The pooled memory a body chunk lies in, if any (slab-connect.ts): the chunk is then held until
   * the client's socket took it.
   */
  viewMemory?: (chunk: Uint8Array) => ViewMemory | undefined;
}

const VALID_HOST = /^[a-z0-9.-]+(?::\d{1,5})?$/i;

async function writeError(
  res: http.ServerResponse,
  error: EdgeError,
  host: string,
  json: boolean,
  options: FastPathOptions,
): Promise<void> {
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
 * targets in order and streams the first real answer into `res` (backpressure: undici's parser
 * pauses while the client's socket is full; a client that goes away aborts the target request).
 * Methods rather than closures: nothing but this object is made per request. Headers are read from
 * the controller's raw list (the target's own order and repeats), not undici's parsed object.
 */
class Forwarding implements Dispatcher.DispatchHandler {
  readonly #failures: string[] = [];
  readonly #kind: ForwardKind;
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
  /** The node said its app is not answering: the edge's page follows once that answer is read. */
  #appDown: EdgeError | null = null;
  readonly #onDrain = () => this.#controller?.resume();
  readonly #onClose = () => {
    if (this.#done) return;
    this.#done = true;
    this.#controller?.abort(new Error('client went away'));
  };

  constructor(
    readonly edge: Edge,
    readonly res: http.ServerResponse,
    readonly method: string,
    readonly path: string,
    readonly headers: string[],
    readonly route: ForwardRoute,
    readonly host: string,
    readonly options: FastPathOptions,
    readonly forget: (name: string) => void,
  ) {
    res.once('close', this.#onClose);
    this.#kind = forwardKind(route);
  }

  next(): void {
    if (this.#done) return;
    const targets = this.route.targets;
    if (++this.#index >= targets.length) {
      this.#done = true;
      this.options.stats.unavailable[this.#kind]++;
      this.#giveUp();
      return;
    }
    if (this.#index > 0) this.options.stats.failovers[this.#kind]++;
    this.#controller = null;
    this.#discard = false;
    this.#answered = false;
    const target = targets[this.#index];
    let headers = this.headers;
    if (target.ingress) {
      headers = headers.slice();
      headers.push(
        INGRESS_HEADERS.nodeId,
        target.ingress.nodeId,
        INGRESS_HEADERS.edgeToken,
        target.ingress.edgeToken,
      );
    }
    // 0 (not idempotent, or no bound): the pool's own bound, as sending it elsewhere is not safe.
    const headersTimeout = responseBoundMs(this.method, this.edge.config.responseTimeoutMs);
    (target.direct ? this.options.directDispatcher : this.options.dispatcher).dispatch(
      {
        origin: target.url,
        path: this.path,
        method: this.method as 'GET',
        headers,
        ...(headersTimeout ? { headersTimeout } : {}),
      },
      this,
    );
  }

  #writeAppDown(): void {
    writeError(this.res, this.#appDown!, this.host, false, this.options).catch(() =>
      this.res.destroy(),
    );
  }

  #giveUp(): void {
    // Every target failed: the cached route is stale (the node moved, or went), ask again next time.
    if (this.route.kind === 'node') this.forget(this.route.name);
    const error = unavailable(this.route, this.#failures);
    writeError(this.res, error, this.host, this.route.kind === 'registry', this.options).catch(() =>
      this.res.destroy(),
    );
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#done) controller.abort(new Error('client went away'));
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number): void {
    this.#answered = true;
    this.edge.health.answered(this.route.targets[this.#index].url);
    // HTTP/1.1 (the dispatcher has allowH2 off): the raw list is the Buffer pairs off the wire.
    const raw = controller.rawHeaders as Buffer[];
    // One pass: hop-by-hop names by the fixed list now, names listed in Connection afterwards.
    const headers: string[] = [];
    let connection: string | undefined;
    let relayError: string | undefined;
    let nodeErrorCode: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const key = util.headerNameToString(raw[i]);
      if (key === 'connection') {
        const value = raw[i + 1].toString('latin1');
        connection = connection === undefined ? value : `${connection}, ${value}`;
      } else if (key === RELAY_ERROR_HEADER) relayError = raw[i + 1].toString('latin1');
      else if (key === NODE_ERROR_HEADER) nodeErrorCode = raw[i + 1].toString('latin1');
      else if (!dropsResponseHeader(key, undefined))
        headers.push(key, raw[i + 1].toString('latin1'));
    }
    const appDown = this.route.kind === 'node' && nodeError(status, nodeErrorCode, this.route.name);
    if (appDown) {
      // The edge's own page instead of the node's answer, whose body is read and dropped.
      this.#discard = true;
      this.#done = true;
      this.#appDown = appDown;
      return;
    }
    if (tryNextTarget(status, relayError, this.#index === this.route.targets.length - 1)) {
      // Read the refusal to its end so the connection stays reusable, then try the next one.
      this.#discard = true;
      this.options.stats.targetFailures[this.#kind]++;
      this.#failures.push(
        `${this.route.targets[this.#index].label}: HTTP ${status}${relayError ? ` ${relayError}` : ''}`,
      );
      return;
    }
    const listed = connectionTokens(connection);
    const out = listed ? headers.filter((_, i, all) => !listed.has(all[i - (i % 2)])) : headers;
    if (this.options.secure) out.push('strict-transport-security', this.options.hsts);
    this.#started = true;
    this.res.writeHead(status, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#discard) return;
    const memory = this.options.viewMemory?.(chunk);
    memory?.retain();
    if (this.res.write(chunk, memory?.release)) return;
    controller.pause();
    this.res.once('drain', this.#onDrain);
  }

  onResponseEnd(): void {
    if (this.#appDown) return this.#writeAppDown();
    if (this.#discard) return this.next();
    this.#done = true;
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.#appDown && !this.res.headersSent) return this.#writeAppDown();
    if (this.#done) return;
    if (this.#started) {
      // Cut mid-body: the client must see a broken response, never a short "complete" one.
      this.#done = true;
      this.res.destroy(err);
      return;
    }
    // A refusal being discarded that then fails is already counted.
    const target = this.route.targets[this.#index];
    if (!this.#answered) this.edge.health.failed(target.url);
    if (!this.#discard) {
      this.options.stats.targetFailures[this.#kind]++;
      this.#failures.push(
        `${target.label}: ${this.#answered ? 'response failed' : timedOut(err) ? `no response headers within ${this.edge.config.responseTimeoutMs} ms` : err.message}`,
      );
    }
    this.next();
  }
}

const timedOut = (err: Error) => (err as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT';

/** Whether the raw header list holds more than one Host (RFC 9112 3.2: answered 400 by the app). */
export function hostCount(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') n++;
  return n;
}

export async function serveFastPath(
  edge: Edge,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  options: FastPathOptions,
): Promise<void> {
  // HTTP/2 (the compatibility API's request): the host is the :authority, and a request without a
  // body ends with its headers, whatever its length fields say.
  const h2 = req.httpVersionMajor >= 2;
  const host = h2 ? (req.headers[':authority'] as string | undefined) : req.headers.host;
  const hasBody = h2
    ? !(req as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders
    : req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  if (hasBody || !host || !VALID_HOST.test(host) || (!h2 && hostCount(req.rawHeaders) !== 1))
    return options.app(req, res);
  let url: URL;
  let route: EdgeRoute;
  try {
    url = new URL(`${options.secure ? 'https' : 'http'}://${host}${req.url ?? '/'}`);
    route = await edge.route(url);
  } catch {
    // Error pages (and anything odd about the request) are the app's to render.
    return options.app(req, res);
  }
  if (route.kind === 'landing' || route.kind === 'map') return options.app(req, res);
  options.routed?.(res, forwardKind(route));
  const headers = forwardedRawHeaders(req.rawHeaders, {
    clientIp: req.socket.remoteAddress,
    host: url.host,
    proto: url.protocol.slice(0, -1),
  });
  new Forwarding(
    edge,
    res,
    req.method ?? 'GET',
    url.pathname + url.search,
    headers,
    route,
    host,
    options,
    (name) => edge.resolver.forget(name),
  ).next();
}
