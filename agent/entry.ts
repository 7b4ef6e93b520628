/**
 * The node's entry: the agent's HTTP hop in front of its upstream (the local app). Every visitor
 * request passes it: relayed ones from the tunnel client as streams inside the process (`open`,
 * entry-stream.ts; labelled with the super node they came through), direct ones on `--listen`. It passes
 * requests on with the hop-by-hop rule of shared/hop-by-hop.ts, gives the app the visitor's Host
 * (or, with hostHeader 'hop', the Host as it arrived), streams bodies both ways, bridges upgrades,
 * and when the app does not answer it answers itself: 502 with `x-pc2-node-error:
 * APP_NOT_ANSWERING`, which the edge turns into its "online, but the app is not answering" page.
 * Each finished request goes to the request log (the inspector's list).
 */
import {
  Agent,
  createServer,
  type IncomingMessage,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { type Duplex, duplexPair } from 'node:stream';
import type { Pool } from 'undici';
import { isHopByHop, rawConnectionTokens } from '../shared/hop-by-hop.ts';
import { NODE_ERROR_HEADER } from '../shared/records/api.ts';
import { appDownMessage, describeAppError } from './app-health.ts';
import { checkOptions, instance, oneOf, type Rules } from '../shared/options.ts';
import { AppSockets } from './app-sockets.ts';
import { appPool, dispatchToApp } from './entry-dispatch.ts';
import { EntryStream } from './entry-stream.ts';
import { AgentError } from './errors.ts';
import { RequestLog } from './request-log.ts';

export type HostHeader = 'visitor' | 'hop';

export interface EntryOptions {
  upstream: URL;
  hostHeader: HostHeader;
  log: RequestLog;
}

const ENTRY_OPTIONS = {
  upstream: instance(URL),
  hostHeader: oneOf<HostHeader>('visitor', 'hop'),
  log: instance(RequestLog),
} satisfies Rules<EntryOptions>;

const APP_DOWN_PAGE = (detail: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>App not answering</title></head>` +
  `<body><h1>App not answering</h1><p>The node is online but its app is not answering (${detail}).</p></body></html>\n`;

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

interface Count {
  bytesIn: number;
  bytesOut: number;
  error: string | undefined;
}

export class NodeEntry {
  readonly #o: EntryOptions;
  readonly #servers: Server[] = [];
  /** Servers of open() (no listener): one per `via`, and the connections open into them. */
  readonly #inProcess = new Map<string, Server>();
  readonly #open = new Set<Duplex>();
  readonly #appSockets: AppSockets;
  readonly #agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
  readonly #upstream: { host: string; port: number };
  readonly #pool: Pool;

  constructor(options: EntryOptions) {
    this.#o = checkOptions(
      options,
      ENTRY_OPTIONS,
      'NodeEntry options',
      (message) => new AgentError('INVALID_OPTIONS', message),
    );
    this.#upstream = {
      host: this.#o.upstream.hostname.replace(/^\[|\]$/g, ''),
      port: Number(this.#o.upstream.port || 80),
    };
    this.#pool = appPool(this.#o.upstream.origin);
    this.#appSockets = new AppSockets(this.#upstream);
  }

  /**
   * Starts one listener whose requests are labelled `via`; resolves with its port. `fromVisitors`:
   * its requests come straight from visitors (a private name's TLS terminator), with no gateway that
   * set X-Forwarded-*: what they carry of it is the visitor's own claim, dropped, and the app is
   * told the one thing known, that the visitor came over TLS (X-Forwarded-Proto: https).
   */
  async listen(host: string, port: number, via: string, fromVisitors = false): Promise<number> {
    const server = this.#server(via, fromVisitors);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#servers.push(server);
    return (server.address() as AddressInfo).port;
  }

  /**
   * A stream into the entry inside this process, its requests labelled `via` (entry-stream.ts): the
   * tunnel client's streams take this instead of a loopback socket, and the app's answers come to
   * `onData` with no HTTP server or client in between.
   */
  open(via: string, onData: (bytes: Uint8Array) => boolean): EntryStream {
    return new EntryStream(
      {
        via,
        visitorHost: this.#o.hostHeader === 'visitor',
        log: this.#o.log,
        sockets: this.#appSockets,
        appOrigin: this.#o.upstream.origin,
        serve: () => this.#serve(via),
        appDownPage: APP_DOWN_PAGE,
      },
      onData,
    );
  }

  /** A connection into the node:http server for `via`, with no socket: one end of a pair. */
  #serve(via: string): Duplex {
    let server = this.#inProcess.get(via);
    if (!server) {
      server = this.#server(via, false);
      this.#inProcess.set(via, server);
    }
    const [outside, inside] = duplexPair();
    // Either end going away takes the other with it, as with the two ends of a socket.
    outside.once('close', () => inside.destroy());
    inside.once('close', () => {
      outside.destroy();
      this.#open.delete(inside);
    });
    inside.on('error', () => {});
    this.#open.add(inside);
    server.emit('connection', inside);
    return outside;
  }

  #server(via: string, fromVisitors: boolean): Server {
    const take = (req: IncomingMessage) => {
      if (fromVisitors) dropForwarded(req);
      return req;
    };
    const server = createServer({ requestTimeout: 0, headersTimeout: 60_000 }, (req, res) =>
      this.#forward(take(req), res, via),
    );
    // 100-continue is the app's to decide: it gets the Expect header and answers.
    server.on('checkContinue', (req, res) => this.#forward(take(req), res, via));
    server.on('upgrade', (req, socket, head) => this.#upgrade(take(req), socket, head, via));
    server.on('clientError', (_e, socket) => socket.destroy());
    return server;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    this.#servers.length = 0;
    for (const stream of this.#open) stream.destroy();
    this.#inProcess.clear();
    this.#appSockets.close();
    this.#agent.destroy();
    await this.#pool.destroy();
  }

  /** The request's headers for the app: hop-by-hop ones dropped, Host per the option. */
  #headers(req: IncomingMessage, keepUpgrade: boolean): string[] {
    const raw = req.rawHeaders;
    const listed = rawConnectionTokens(raw);
    const visitor =
      this.#o.hostHeader === 'visitor' ? first(req.headers['x-forwarded-host']) : undefined;
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      if (name === 'host' && visitor) continue;
      if (keepUpgrade && (name === 'connection' || name === 'upgrade')) {
        out.push(raw[i], raw[i + 1]);
        continue;
      }
      if (isHopByHop(name, listed)) continue;
      out.push(raw[i], raw[i + 1]);
    }
    if (visitor) out.push('Host', visitor);
    return out;
  }

  #record(req: IncomingMessage, via: string, started: number) {
    return {
      id: this.#o.log.nextId(),
      time: started,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      host: first(req.headers['x-forwarded-host']) ?? req.headers.host ?? '',
      via,
      client: first(req.headers['x-forwarded-for'])?.split(',')[0]?.trim() || undefined,
      userAgent: req.headers['user-agent'],
    };
  }

  #forward(req: IncomingMessage, res: ServerResponse, via: string): void {
    const started = Date.now();
    const base = this.#record(req, via, started);
    const count = { bytesIn: 0, bytesOut: 0, error: undefined as string | undefined };
    let logged = false;
    const log = () => {
      if (logged) return;
      logged = true;
      this.#o.log.add({
        ...base,
        status: res.headersSent ? res.statusCode : 0,
        durationMs: Date.now() - started,
        bytesIn: count.bytesIn,
        bytesOut: count.bytesOut,
        ...(count.error ? { error: count.error } : {}),
      });
    };
    res.once('finish', log);
    res.once('close', () => {
      if (!res.writableFinished) count.error ??= 'the visitor went away';
      log();
    });
    const headers = this.#headers(req, false);
    // 100-continue is the app's to answer: node:http's client passes it on, undici does not send it.
    if (req.headers.expect === undefined) {
      const dispatched = dispatchToApp(this.#pool, req, res, headers, {
        start: (status, statusText, raw, hasLength) => {
          res.writeHead(status, statusText, this.#responseHeaders(raw));
          // Long-lived responses (SSE, streaming) get their headers out before the first body byte.
          if (!hasLength) res.flushHeaders();
        },
        sent: (bytes) => (count.bytesOut += bytes),
        received: (bytes) => (count.bytesIn += bytes),
        end: () => {},
        fail: (e) => this.#failed(req, res, e, count),
      });
      if (dispatched) return;
    }
    this.#forwardWithNodeHttp(req, res, headers, count);
  }

  /** The app's response headers for the visitor: hop-by-hop ones and the node's own dropped. */
  #responseHeaders(raw: string[]): string[] {
    const listed = rawConnectionTokens(raw);
    const headers: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      if (!isHopByHop(name, listed) && name !== NODE_ERROR_HEADER) headers.push(raw[i], raw[i + 1]);
    }
    return headers;
  }

  /** The app broke off (the visitor's response is cut) or never answered (502 APP_NOT_ANSWERING). */
  #failed(req: IncomingMessage, res: ServerResponse, e: Error, count: Count): void {
    const detail = describeAppError(e);
    if (res.headersSent) {
      count.error = `the app broke off: ${detail}`;
      res.destroy();
      return;
    }
    if (res.destroyed) return;
    count.error = appDownMessage(this.#o.upstream.origin, detail);
    const body = APP_DOWN_PAGE(detail);
    count.bytesOut = Buffer.byteLength(body);
    res.writeHead(502, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': count.bytesOut,
      'cache-control': 'no-store',
      [NODE_ERROR_HEADER]: 'APP_NOT_ANSWERING',
    });
    res.end(body);
    req.resume();
  }

  /** Requests undici does not send (Expect: 100-continue, header values it refuses). */
  #forwardWithNodeHttp(
    req: IncomingMessage,
    res: ServerResponse,
    headers: string[],
    count: Count,
  ): void {
    const upstream = httpRequest({
      ...this.#upstream,
      method: req.method,
      path: req.url,
      headers,
      setHost: false,
      agent: this.#agent,
    });
    upstream.on('continue', () => res.writeContinue());
    upstream.on('response', (upRes) => {
      res.writeHead(
        upRes.statusCode ?? 502,
        upRes.statusMessage,
        this.#responseHeaders(upRes.rawHeaders),
      );
      if (upRes.headers['content-length'] === undefined) res.flushHeaders();
      upRes.on('data', (chunk: Buffer) => (count.bytesOut += chunk.length));
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
      upRes.on('aborted', () => res.destroy());
    });
    upstream.on('error', (e) => this.#failed(req, res, e, count));
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.on('data', (chunk: Buffer) => (count.bytesIn += chunk.length));
    req.pipe(upstream);
  }

  /** An upgrade (WebSocket) goes to the app as it came, then bytes flow both ways untouched. */
  #upgrade(req: IncomingMessage, client: Duplex, head: Buffer, via: string): void {
    const started = Date.now();
    const base = this.#record(req, via, started);
    client.on('error', () => {});
    const app = connect({ ...this.#upstream, noDelay: true });
    let opened = false;
    app.once('connect', () => {
      opened = true;
      const headers = this.#headers(req, true);
      let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
      app.write(text + '\r\n');
      if (head.length) app.write(head);
      app.pipe(client);
      client.pipe(app);
      // The status line is the app's; the inspector lists the upgrade once it ends.
      let status = 0;
      app.once('data', (chunk: Buffer) => {
        status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString('latin1', 0, 16))?.[1] ?? 0);
      });
      client.once('close', () => {
        app.destroy();
        this.#o.log.add({
          ...base,
          status,
          durationMs: Date.now() - started,
          bytesIn: 0,
          bytesOut: 0,
        });
      });
    });
    app.on('error', (e) => {
      if (opened) return client.destroy();
      const detail = describeAppError(e);
      const body = APP_DOWN_PAGE(detail);
      client.end(
        `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html; charset=utf-8\r\n${NODE_ERROR_HEADER}: APP_NOT_ANSWERING\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
      this.#o.log.add({
        ...base,
        status: 502,
        durationMs: Date.now() - started,
        bytesIn: 0,
        bytesOut: Buffer.byteLength(body),
        error: appDownMessage(this.#o.upstream.origin, detail),
      });
    });
    app.on('close', () => client.destroy());
  }
}

/** Removes a request's X-Forwarded-* headers, before anything reads them. */
function dropForwarded(req: IncomingMessage): void {
  const raw = req.rawHeaders;
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2)
    if (!raw[i].toLowerCase().startsWith('x-forwarded-')) kept.push(raw[i], raw[i + 1]);
  raw.splice(0, raw.length, ...kept);
  for (const name of Object.keys(req.headers))
    if (name.startsWith('x-forwarded-')) delete req.headers[name];
  raw.push('X-Forwarded-Proto', 'https');
  req.headers['x-forwarded-proto'] = 'https';
}
