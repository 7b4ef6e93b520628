/**
 * The edge on Node.js: the Hono app on @hono/node-server behind HTTPS (TLS 1.3 only, wildcard
 * certificate reloaded from disk without a restart, HSTS), a port-80 server that redirects to https,
 * and raw WebSocket upgrade piping. `tls` left out serves plain HTTP instead, for local development.
 * Requests without a body take the fast path (fast-path.ts) straight through Node.js streams.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { getRequestListener } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { createEdge, type Edge } from '../../app.ts';
import type { EdgeConfig } from '../../config.ts';
import {
  checkOptions,
  fn,
  integer,
  nested,
  nonEmptyString,
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
import { NAME_PATTERN, nameFromHost } from '../../../shared/records/names.ts';
import { handleUpgrade } from './upgrade.ts';

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
  /** Longest wait for a target's WebSocket handshake, ms. Default 10 000. */
  upgradeTimeoutMs?: number;
  /** Told about certificate reloads that failed (kept serving the old pair). Default console.error. */
  onError?: (error: Error) => void;
  /** Told after each certificate reload that was applied. Default: nothing. */
  onCertificateReload?: () => void;
}

export interface Gateway {
  ports: { https?: number; http?: number };
  edge: Edge;
  /** Number of certificate reloads applied since start. */
  readonly certificateReloads: number;
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
};

const GATEWAY_OPTIONS = {
  ...WORKER_GATEWAY_OPTIONS,
  config: passedOn<EdgeConfig>(),
  onError: withDefault(fn<(error: Error) => void>(), (e: Error) =>
    console.error(`pc2 edge: ${e.message}`),
  ),
  onCertificateReload: withDefault(fn<() => void>(), () => {}),
} satisfies Rules<GatewayOptions>;

function listen(server: http.Server, port: number, hostname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
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
    { abortWithClient: false },
  );
  const hostname = o.hostname;
  const hsts = `max-age=${o.hstsMaxAgeS}; includeSubDomains`;
  const secure = o.tls !== undefined;
  const appListener = getRequestListener(async (request, env) => {
    let res = await edge.app.fetch(request, { clientIp: env.incoming.socket.remoteAddress });
    if (secure) res = withResponseHeader(res, 'strict-transport-security', hsts);
    const body = pipeableBody(res.body);
    if (body && env.outgoing instanceof http.ServerResponse) {
      pipeResponse(res, body, env.outgoing);
      return RESPONSE_ALREADY_SENT;
    }
    return res;
  });
  // Forwarding goes straight through Node.js streams when the gateway owns the connection pool.
  const listener: http.RequestListener = pool
    ? (req, res) =>
        void serveFastPath(edge, req, res, {
          dispatcher: pool.dispatcher,
          directDispatcher: pool.directDispatcher,
          secure,
          hsts,
          app: appListener,
        }).catch(() => {
          // Never let one bad exchange reach the process: answer if still possible, else drop it.
          if (res.headersSent) res.destroy();
          else
            res
              .writeHead(502, { 'content-type': 'text/plain', 'x-pc2-error': 'INTERNAL' })
              .end('gateway error\n');
        })
    : appListener;
  const servers: http.Server[] = [];
  const ports: Gateway['ports'] = {};
  let watcher: CertificateWatcher | undefined;
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
      const main = https.createServer(
        { ...(await readCertificate(tls)), minVersion: TLS_MIN_VERSION },
        listener,
      );
      main.on('upgrade', onUpgrade);
      servers.push(main);
      ports.https = await listen(main, o.httpsPort, hostname);
      watcher = await watchCertificate(
        tls,
        tls.reloadIntervalMs,
        (ctx) => {
          main.setSecureContext(ctx);
          o.onCertificateReload();
        },
        o.onError,
      );
      if (o.httpPort !== null) {
        const redirect = redirectServer(ports.https, edge.config.zone);
        servers.push(redirect);
        ports.http = await listen(redirect, o.httpPort, hostname);
      }
    } else {
      const plain = http.createServer(listener);
      plain.on('upgrade', onUpgrade);
      servers.push(plain);
      ports.http = await listen(plain, o.httpPort ?? 80, hostname);
    }
  } catch (e) {
    watcher?.stop();
    await Promise.all(servers.map(closeServer));
    await pool?.close();
    throw e;
  }
  return {
    ports,
    edge,
    get certificateReloads() {
      return watcher?.reloads ?? 0;
    },
    async close() {
      watcher?.stop();
      await Promise.all(servers.map(closeServer));
      await pool?.close();
    },
  };
}
