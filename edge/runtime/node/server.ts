/**
 * The edge on Node.js: the Hono app on @hono/node-server behind HTTPS (TLS 1.3 only, h2 and
 * http/1.1 by ALPN, wildcard certificate reloaded from disk without a restart, HSTS), a port-80
 * server that redirects to https, and raw WebSocket upgrade piping. Connections to private names are
 * passed through by SNI before any TLS (passthrough.ts). `tls` left out serves plain HTTP instead, for
 * local development. Requests without a body (HTTP/1.1 and HTTP/2) take the fast path (fast-path.ts)
 * straight through Node.js streams.
 */
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { createEdge, type Edge, type EdgeBindings } from '../../app.ts';
import type { EdgeConfig } from '../../config.ts';
import {
  boolean,
  checkOptions,
  fn,
  integer,
  nested,
  nonEmptyString,
  object,
  optional,
  passedOn,
  type Rules,
  string,
  withDefault,
} from '../../../shared/options.ts';
import { EdgeError } from '../../errors.ts';
import { createPooledFetch, type PoolOptions, pipeToClient, pipeableBody } from './fetch.ts';
import {
  type CertificateWatcher,
  readCertificate,
  TLS_MIN_VERSION,
  watchCertificate,
} from './tls.ts';
import { withResponseHeader } from '../../headers.ts';
import { hostCount, serveFastPath } from './fast-path.ts';
import { viewMemory } from './slab-connect.ts';
import { createSniRouter, type PassthroughStats, type SniRouter } from './passthrough.ts';
import { NAME_PATTERN, nameFromHost } from '../../../shared/records/names.ts';
import { handleUpgrade } from './upgrade.ts';
import { readNetworkAssets } from './assets.ts';
import type { GatewayObserver } from './metrics.ts';
import { metricsRequest, type MetricsEndpoint } from './metrics-endpoint.ts';
import { certificateNotAfter } from './tls.ts';

export interface GatewayOptions {
  config: EdgeConfig;
  /** Address to listen on. Default `0.0.0.0`. */
  hostname?: string;
  /** HTTPS port (with `tls`). Default 443; 0 picks a free one. */
  httpsPort?: number;
  /** With `tls`: the port-80 redirect server's port (null: none). Without: the plain HTTP port. Default 80. */
  httpPort?: number | null;
  /** Wildcard certificate and key files (PEM). Left out: plain HTTP, for development. */
  tls?: { certFile: string; keyFile: string; reloadIntervalMs?: number };
  /** Strict-Transport-Security max-age, s. Default 63 072 000 (2 years). */
  hstsMaxAgeS?: number;
  /** Options of the connection pool to the targets (ignored when `config.fetch` is given). */
  pool?: PoolOptions;
  /**
   * Longest wait for a target's WebSocket handshake, and with private names for a client's
   * ClientHello and a node's TLS port or a relay's raw TLS channel, ms. Default 10 000.
   */
  upgradeTimeoutMs?: number;
  /**
   * Longest a client may take to send a request's headers (HTTP/1.1), ms; then 408 and the connection
   * closes (slow clients holding connections). Default 60 000, node:http's.
   */
  headersTimeoutMs?: number;
  /** With `tls`: offer HTTP/2 by ALPN next to HTTP/1.1. Default true. */
  http2?: boolean;
  /**
   * With `tls`: pass connections to private names (route records with `tls: "node"`) through by
   * SNI, undecrypted (docs/zone.md, "Private names"). Default true.
   */
  privateNames?: boolean;
  /** Told about certificate reloads that failed (kept serving the old pair). Default console.error. */
  onError?: (error: Error) => void;
  /** Told after each certificate reload that was applied. Default: nothing. */
  onCertificateReload?: () => void;
  /** Request and TLS handshake observations for the metrics (metrics.ts). Default: none, nothing counted. */
  observer?: GatewayObserver;
  /** Serves the Prometheus text at GET /metrics on the apex, behind a bearer token. Default: not served. */
  metricsEndpoint?: MetricsEndpoint;
}

export interface Gateway {
  ports: { https?: number; http?: number };
  edge: Edge;
  /** Number of certificate reloads applied since start. */
  readonly certificateReloads: number;
  /** When the certificate served now expires, ms (null: plain HTTP). */
  readonly certificateNotAfter: number | null;
  /** With `tls` and private names: what the TLS port did with its connections. */
  readonly passthrough: PassthroughStats | null;
  close(): Promise<void>;
}

const port = integer(0, 65535);

/** The rules of the options that can cross to a cluster worker process (cluster.ts adds its own). */
export const WORKER_GATEWAY_OPTIONS = {
  hostname: withDefault(string, '0.0.0.0'),
  httpsPort: withDefault(port, 443),
  httpPort: withDefault<number | null>((v, name) => (v === null ? null : port(v, name)), 80),
  tls: optional(
    nested({
      certFile: nonEmptyString,
      keyFile: nonEmptyString,
      reloadIntervalMs: withDefault(integer(1, 86_400_000), 5_000),
    }),
  ),
  hstsMaxAgeS: withDefault(integer(0, 1_000_000_000), 63_072_000),
  pool: passedOn<PoolOptions | undefined>(),
  upgradeTimeoutMs: withDefault(integer(1, 86_400_000), 10_000),
  // At most node:http's requestTimeout (5 min), which it must not exceed.
  headersTimeoutMs: withDefault(integer(1, 300_000), 60_000),
  http2: withDefault(boolean, true),
  privateNames: withDefault(boolean, true),
};

const GATEWAY_OPTIONS = {
  ...WORKER_GATEWAY_OPTIONS,
  config: passedOn<EdgeConfig>(),
  onError: withDefault(fn<(error: Error) => void>(), (e: Error) =>
    console.error(`pc2 edge: ${e.message}`),
  ),
  onCertificateReload: withDefault(fn<() => void>(), () => {}),
  observer: optional(object<GatewayObserver>()),
  metricsEndpoint: optional(
    nested({ token: nonEmptyString, render: fn<MetricsEndpoint['render']>() }),
  ),
} satisfies Rules<GatewayOptions>;

function listen(server: net.Server, port: number, hostname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops listening and ends every connection the server has. A server that never listened (the TLS
 * server behind the SNI front) is closed too: that stops node:http's slow-request checks.
 */
function closeServer(server: net.Server, sockets: Set<net.Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
}

/** Slow clients are cut after `headersTimeoutMs`, checked a few times within it (at most every 30 s). */
function limitSlowClients(server: net.Server, headersTimeoutMs: number): void {
  const s = server as net.Server & { headersTimeout: number; connectionsCheckingInterval: number };
  s.headersTimeout = headersTimeoutMs;
  s.connectionsCheckingInterval = Math.min(30_000, Math.max(100, Math.floor(headersTimeoutMs / 4)));
}

/** The raw sockets a server was given (listened or handed over), for closing. */
function tracked(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

/**
 * Port 80: every name of the zone (and the apex) is sent to https. Anything else is refused, so the
 * redirect never points a browser at a host the request named (`Host: evil.example`).
 */
function redirectServer(httpsPort: number, zone: string): http.Server {
  return http.createServer((req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const name = nameFromHost(host, zone);
    if (
      hostCount(req.rawHeaders) !== 1 ||
      !/^[a-z0-9.-]+$/.test(host) ||
      name === null ||
      (name !== '' && !NAME_PATTERN.test(name))
    ) {
      res
        .writeHead(400, { 'content-type': 'text/plain', connection: 'close' })
        .end(`not a name of ${zone}\n`);
      return;
    }
    const port = httpsPort === 443 ? '' : `:${httpsPort}`;
    res
      .writeHead(308, {
        location: `https://${host}${port}${req.url ?? '/'}`,
        'content-length': '0',
      })
      .end();
  });
}

/**
 * Writes a target's response whose body is still the target's Node.js stream: piping it saves the
 * web-stream pump per chunk (the app decided everything else: status, headers, which target).
 */
function pipeResponse(res: Response, body: Readable, outgoing: http.ServerResponse): void {
  const headers: Record<string, string | string[]> = {};
  res.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = res.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  outgoing.writeHead(res.status, res.statusText || undefined, headers);
  pipeToClient(body, outgoing);
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const o = checkOptions(
    options,
    GATEWAY_OPTIONS,
    'gateway options',
    (message) => new EdgeError('INVALID_CONFIG', message),
  );
  const pool = o.config.fetch
    ? null
    : createPooledFetch(o.pool, { developerMode: o.config.developerMode === true });
  const edge = createEdge(
    {
      ...o.config,
      fetch: o.config.fetch ?? pool!.fetch,
      directFetch: o.config.directFetch ?? pool?.directFetch,
    },
    { abortWithClient: false, assets: readNetworkAssets() },
  );
  const observer = o.observer;
  const hostname = o.hostname;
  const hsts = `max-age=${o.hstsMaxAgeS}; includeSubDomains`;
  const secure = o.tls !== undefined;
  const appListener = getRequestListener(async (request, env) => {
    const bindings: EdgeBindings = { clientIp: env.incoming.socket.remoteAddress };
    let res = await edge.app.fetch(request, bindings);
    // HTTP/2's compatibility response is counted the same way (its close and status alike).
    if (observer && bindings.routeKind)
      observer.routed(env.outgoing as http.ServerResponse, bindings.routeKind);
    if (secure) res = withResponseHeader(res, 'strict-transport-security', hsts);
    const body = pipeableBody(res.body);
    if (body && env.outgoing instanceof http.ServerResponse) {
      pipeResponse(res, body, env.outgoing);
      return RESPONSE_ALREADY_SENT;
    }
    return res;
  });
  // Forwarding goes straight through Node.js streams when the gateway owns the connection pool.
  const forwardListener: http.RequestListener = pool
    ? (req, res) =>
        void serveFastPath(edge, req, res, {
          dispatcher: pool.relayDispatcher,
          directDispatcher: pool.directDispatcher,
          viewMemory,
          secure,
          hsts,
          app: appListener,
          stats: edge.stats,
          routed: observer?.routed,
        }).catch(() => {
          // Never let one bad exchange reach the process: answer if still possible, else drop it.
          if (res.headersSent) res.destroy();
          else
            res
              .writeHead(502, { 'content-type': 'text/plain', 'x-pc2-error': 'INTERNAL' })
              .end('gateway error\n');
        })
    : appListener;
  const metricsEndpoint = o.metricsEndpoint;
  const zone = edge.config.zone;
  // Without metrics the listener is the forwarding one as it was: nothing is added per request.
  const listener: http.RequestListener =
    observer || metricsEndpoint
      ? (req, res) => {
          if (
            metricsEndpoint &&
            req.url === '/metrics' &&
            metricsRequest(req, res, zone, metricsEndpoint)
          )
            return;
          observer?.request(req, res);
          forwardListener(req, res);
        }
      : forwardListener;
  const servers: [net.Server, Set<net.Socket>][] = [];
  const serve = (server: net.Server) => {
    servers.push([server, tracked(server)]);
    return server;
  };
  const closeAll = () => Promise.all(servers.map(([s, sockets]) => closeServer(s, sockets)));
  let router: SniRouter | undefined;
  const ports: Gateway['ports'] = {};
  let watcher: CertificateWatcher | undefined;
  let notAfter: number | null = null;
  const upgradeOptions = {
    handshakeTimeoutMs: o.upgradeTimeoutMs,
    rejectUnauthorized: true,
    developerMode: edge.config.developerMode,
  };
  const onUpgrade = (
    req: http.IncomingMessage,
    socket: import('node:stream').Duplex,
    head: Buffer,
  ) => void handleUpgrade(edge, req, socket, head, upgradeOptions);
  try {
    if (o.tls) {
      const tls = o.tls;
      const pair = await readCertificate(tls);
      notAfter = certificateNotAfter(pair);
      const context = { ...pair, minVersion: TLS_MIN_VERSION };
      // HTTP/1.1 connections on the h2 server are node:http's; HTTP/2 requests come through the
      // compatibility API, which the fast path and the app take alike.
      const main = o.http2
        ? http2.createSecureServer({ ...context, allowHTTP1: true }, (req, res) =>
            listener(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse),
          )
        : https.createServer(context, listener);
      main.on('upgrade', onUpgrade);
      if (observer) {
        main.on('secureConnection', (socket: import('node:tls').TLSSocket) =>
          observer.handshake(socket.getProtocol(), socket.alpnProtocol),
        );
        main.on('tlsClientError', (error: NodeJS.ErrnoException) =>
          observer.handshakeFailed(error.code),
        );
      }
      limitSlowClients(main, o.headersTimeoutMs);
      serve(main);
      if (o.privateNames) {
        // The TLS port is a plain TCP server that reads each ClientHello first (passthrough.ts).
        router = createSniRouter(edge, (socket) => main.emit('connection', socket), {
          helloTimeoutMs: o.upgradeTimeoutMs,
          connectTimeoutMs: o.upgradeTimeoutMs,
          developerMode: edge.config.developerMode,
        });
        const front = serve(net.createServer({ noDelay: true }, (s) => router!.accept(s)));
        ports.https = await listen(front, o.httpsPort, hostname);
        // node:http starts checking slow requests (headersTimeout, requestTimeout) when its server
        // emits 'listening'; this one never listens itself: the front hands it its connections.
        main.emit('listening');
      } else {
        ports.https = await listen(main, o.httpsPort, hostname);
      }
      watcher = await watchCertificate(
        tls,
        tls.reloadIntervalMs,
        (ctx) => {
          main.setSecureContext(ctx);
          notAfter = certificateNotAfter(ctx);
          o.onCertificateReload();
        },
        o.onError,
      );
      if (o.httpPort !== null) {
        const redirect = serve(redirectServer(ports.https, edge.config.zone));
        ports.http = await listen(redirect, o.httpPort, hostname);
      }
    } else {
      const plain = serve(http.createServer(listener));
      limitSlowClients(plain, o.headersTimeoutMs);
      plain.on('upgrade', onUpgrade);
      ports.http = await listen(plain, o.httpPort ?? 80, hostname);
    }
  } catch (e) {
    watcher?.stop();
    await closeAll();
    await pool?.close();
    throw e;
  }
  return {
    ports,
    edge,
    get certificateReloads() {
      return watcher?.reloads ?? 0;
    },
    get certificateNotAfter() {
      return notAfter;
    },
    get passthrough() {
      return router ? { ...router.stats } : null;
    },
    async close() {
      watcher?.stop();
      router?.close();
      await closeAll();
      await pool?.close();
    },
  };
}
