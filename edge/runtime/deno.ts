/**
 * The edge on Deno: Deno.serve with a certificate (or plain HTTP for development), WebSockets
 * accepted with Deno.upgradeWebSocket and bridged to a WebSocket opened to the first target that takes it.
 * With a certificate, private names are passed through by SNI (deno-passthrough.ts).
 *
 *   deno run --allow-net --allow-read --allow-env edge/runtime/deno.ts
 *
 * reads PC2_EDGE_* (or the JSON file named by PC2_EDGE_CONFIG_FILE) and PC2_EDGE_TLS_CERT_FILE /
 * PC2_EDGE_TLS_KEY_FILE, PC2_EDGE_HOSTNAME, PC2_EDGE_PORT.
 */
import { Edge, type NodeRoute, type Target } from '../app.ts';
import type { EdgeConfig } from '../config.ts';
import { ADAPTER_ENV_KEYS, edgeConfigFromEnv, edgeConfigFromJson } from '../env-config.ts';
import { EdgeError } from '../errors.ts';
import { withResponseHeader } from '../headers.ts';
import { startSniFront } from './deno-passthrough.ts';
import { targetHeaders, targetUrl, unavailable } from '../forward.ts';
import type { NetworkAssets } from '../network/page.ts';
import { createPooledFetch, publicLookup } from './node/fetch.ts';
import {
  boolean,
  checkOptions,
  integer,
  object,
  optional,
  passedOn,
  type Rules,
  string,
  withDefault,
} from '../../shared/options.ts';

const HSTS = 'max-age=63072000; includeSubDomains';

/** The parts of the Deno namespace used here, so the file also type-checks under Node.js's types. */
interface DenoServer {
  finished: Promise<void>;
  addr: { hostname: string; port: number };
  shutdown(): Promise<void>;
  /** With private names: what the TLS port did with its connections. */
  stats?: { passedThrough: number; terminated: number; failed: number };
}
interface DenoServeInfo {
  remoteAddr: { hostname: string; port: number };
}
declare const Deno: {
  serve(
    options: {
      hostname?: string;
      port?: number;
      cert?: string;
      key?: string;
      signal?: AbortSignal;
      onListen?: (addr: { hostname: string; port: number }) => void;
    },
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): DenoServer;
  upgradeWebSocket(
    request: Request,
    options?: { protocol?: string },
  ): { socket: WebSocket; response: Response };
  readTextFile(path: string | URL): Promise<string>;
  env: { toObject(): Record<string, string> };
};

export interface DenoEdgeOptions {
  config: EdgeConfig;
  /** Default `0.0.0.0`. */
  hostname?: string;
  /** Default 443 with a certificate, 8080 without; 0 picks a free port. */
  port?: number;
  /** PEM certificate and key; left out, the edge serves plain HTTP (development). */
  cert?: string;
  key?: string;
  /** Longest wait for a target's WebSocket to open, ms. Default 10 000. */
  webSocketOpenTimeoutMs?: number;
  /** The network map's files (readNetworkAssets); without them /network/<file> is 404. */
  assets?: NetworkAssets;
  /** With a certificate: pass private names' connections through by SNI (docs/edge.md). Default true. */
  privateNames?: boolean;
}

const DENO_EDGE_OPTIONS = {
  config: passedOn<EdgeConfig>(),
  hostname: withDefault(string, '0.0.0.0'),
  port: optional(integer(0, 65535)),
  cert: optional(string),
  key: optional(string),
  webSocketOpenTimeoutMs: withDefault(integer(1, 86_400_000), 10_000),
  assets: optional(object<NetworkAssets>()),
  privateNames: withDefault(boolean, true),
} satisfies Rules<DenoEdgeOptions>;

/** The network map's files: uPlot as installed in node_modules, and the page's own script and style. */
export async function readNetworkAssets(): Promise<NetworkAssets> {
  const read = (path: string) => Deno.readTextFile(new URL(path, import.meta.url));
  const uplot = '../../node_modules/uplot/dist/';
  const [uplotJs, uplotCss, mapJs, mapCss] = await Promise.all([
    read(`${uplot}uPlot.iife.min.js`),
    read(`${uplot}uPlot.min.css`),
    read('../network/client/map.js'),
    read('../network/client/map.css'),
  ]);
  return { 'uPlot.min.js': uplotJs, 'uPlot.min.css': uplotCss, 'map.js': mapJs, 'map.css': mapCss };
}

/**
 * A direct endpoint's name must resolve to a public address before a WebSocket is opened to it.
 * Deno's WebSocket takes no resolver, so it resolves the name again itself (docs/edge.md: the one
 * place a second lookup remains).
 */
function checkResolves(url: URL, developerMode: boolean): Promise<void> {
  return new Promise((resolve, reject) =>
    publicLookup(developerMode)(url.hostname.replace(/^\[|\]$/g, ''), { all: true }, (e) =>
      e ? reject(e) : resolve(),
    ),
  );
}

async function openWebSocket(
  target: Target,
  request: Request,
  forwarded: Headers,
  protocols: string[],
  timeoutMs: number,
  developerMode: boolean,
): Promise<WebSocket> {
  const headers = new Headers(targetHeaders(target, forwarded));
  for (const h of [
    'sec-websocket-key',
    'sec-websocket-version',
    'sec-websocket-extensions',
    'sec-websocket-protocol',
  ])
    headers.delete(h);
  const url = targetUrl(target, request.url).replace(/^http/, 'ws');
  if (target.direct) await checkResolves(new URL(url), developerMode);
  return new Promise((resolve, reject) => {
    // Deno's WebSocket takes request headers (node id, edge token, X-Forwarded-*) as a second-argument option.
    const ws = new (WebSocket as unknown as new (url: string, options: object) => WebSocket)(url, {
      protocols,
      headers,
    });
    ws.binaryType = 'arraybuffer';
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error('the target WebSocket did not open in time'));
    }, timeoutMs);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(ws);
    };
    ws.onerror = (e) => {
      clearTimeout(timer);
      reject(new Error((e as ErrorEvent).message ?? 'the target WebSocket failed'));
    };
  });
}

function pipeMessages(from: WebSocket, to: WebSocket): void {
  from.onmessage = (e) => {
    if (to.readyState === WebSocket.OPEN) to.send(e.data);
  };
  from.onclose = (e) => {
    if (to.readyState === WebSocket.OPEN || to.readyState === WebSocket.CONNECTING) {
      to.close(
        e.code >= 1000 && e.code < 5000 && e.code !== 1005 && e.code !== 1006 ? e.code : 1011,
        e.reason,
      );
    }
  };
}

function bridgeWith(timeoutMs: number, developerMode: boolean) {
  return async (request: Request, route: NodeRoute, forwarded: Headers): Promise<Response> => {
    const protocols = (request.headers.get('sec-websocket-protocol') ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const failures: string[] = [];
    for (const target of route.targets) {
      let toTarget: WebSocket;
      try {
        toTarget = await openWebSocket(
          target,
          request,
          forwarded,
          protocols,
          timeoutMs,
          developerMode,
        );
      } catch (e) {
        failures.push(`${target.label}: ${(e as Error).message}`);
        continue;
      }
      const { socket, response } = Deno.upgradeWebSocket(
        request,
        toTarget.protocol ? { protocol: toTarget.protocol } : {},
      );
      socket.binaryType = 'arraybuffer';
      pipeMessages(socket, toTarget);
      pipeMessages(toTarget, socket);
      return response;
    }
    throw unavailable(route, failures);
  };
}

const DECODED_BY_DENO = new Set(['gzip', 'x-gzip', 'br', 'deflate']);

/**
 * Deno's fetch always decodes gzip/br/deflate bodies and cannot be told not to, so targets are
 * asked for identity encoding, and a body Deno decoded anyway loses the headers that described the
 * encoded form (otherwise the client would get plain bytes labelled gzip).
 */
export function denoForwardFetch(base: typeof fetch = fetch): typeof fetch {
  return async (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.delete('accept-encoding');
    const res = await base(input, { ...init, headers });
    const encoding = res.headers.get('content-encoding')?.trim().toLowerCase();
    if (!encoding || !DECODED_BY_DENO.has(encoding)) return res;
    const out = new Headers(res.headers);
    out.delete('content-encoding');
    out.delete('content-length');
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
  };
}

/** Starts the edge with Deno.serve; `shutdown()` on the result stops it. */
export function serveEdge(
  options: DenoEdgeOptions,
  onListen?: (addr: { hostname: string; port: number }) => void,
): DenoServer {
  const o = checkOptions(
    options,
    DENO_EDGE_OPTIONS,
    'serveEdge options',
    (message) => new EdgeError('INVALID_CONFIG', message),
  );
  if ((o.cert === undefined) !== (o.key === undefined))
    throw new EdgeError('INVALID_CONFIG', 'serveEdge options: cert and key go together');
  // Direct endpoints go through undici with a resolver that hands out public addresses only (the
  // same pool as on Node.js: Deno runs it); super nodes through Deno's own fetch.
  const developerMode = o.config.developerMode === true;
  const config = {
    ...o.config,
    fetch: o.config.fetch ?? denoForwardFetch(),
    directFetch: o.config.directFetch ?? createPooledFetch({}, { developerMode }).directFetch,
  };
  const edge = new Edge(config, {
    webSocket: bridgeWith(o.webSocketOpenTimeoutMs, developerMode),
    assets: o.assets,
  });
  const secure = o.cert !== undefined;
  const front = secure && o.privateNames;
  let clientOf: Map<number, string> | undefined;
  const server = Deno.serve(
    {
      // Behind the SNI front the TLS server is on loopback only (any port).
      hostname: front ? '127.0.0.1' : o.hostname,
      port: front ? 0 : (o.port ?? (secure ? 443 : 8080)),
      ...(secure ? { cert: o.cert, key: o.key } : {}),
      onListen: front ? () => {} : (onListen ?? (() => {})),
    },
    async (request, info) => {
      const clientIp = clientOf?.get(info.remoteAddr.port) ?? info.remoteAddr.hostname;
      const res = await edge.app.fetch(request, { clientIp });
      return secure && res.status !== 101
        ? withResponseHeader(res, 'strict-transport-security', HSTS)
        : res;
    },
  );
  if (!front) return server;
  const sni = startSniFront(edge, {
    hostname: o.hostname,
    port: o.port ?? 443,
    internalPort: server.addr.port,
    helloTimeoutMs: o.webSocketOpenTimeoutMs,
    connectTimeoutMs: o.webSocketOpenTimeoutMs,
    developerMode,
  });
  clientOf = sni.clientOf;
  onListen?.(sni.addr);
  return {
    finished: server.finished,
    addr: sni.addr,
    stats: sni.stats,
    async shutdown() {
      sni.close();
      await server.shutdown();
    },
  };
}

async function main(): Promise<void> {
  const env = Deno.env.toObject();
  const file = env[ADAPTER_ENV_KEYS.configFile];
  const config = file ? edgeConfigFromJson(await Deno.readTextFile(file)) : edgeConfigFromEnv(env);
  const certFile = env[ADAPTER_ENV_KEYS.certFile];
  const keyFile = env[ADAPTER_ENV_KEYS.keyFile];
  const tls =
    certFile && keyFile
      ? { cert: await Deno.readTextFile(certFile), key: await Deno.readTextFile(keyFile) }
      : {};
  const port = env[ADAPTER_ENV_KEYS.port];
  serveEdge(
    {
      config,
      hostname: env[ADAPTER_ENV_KEYS.hostname],
      port: port ? Number(port) : undefined,
      ...tls,
      assets: await readNetworkAssets(),
    },
    (addr) =>
      console.log(
        `pc2 edge listening on ${certFile ? 'https' : 'http'}://${addr.hostname}:${addr.port}`,
      ),
  );
}

if ((import.meta as { main?: boolean }).main) await main();
