/**
 * The relay ingress: HTTP requests from the edge for a relayed node (header x-pc2-node-id plus an
 * edge token in x-pc2-edge-token) are carried over the node's tunnel session to its upstream,
 * with full HTTP/1.1 semantics: streaming bodies both ways, chunked and long-lived responses,
 * 100-continue, Range (passed through untouched), and WebSocket/Upgrade (101, then raw bytes).
 */
import { decodeJwt } from 'jose';
import {
  Agent,
  type ClientRequest,
  type ClientRequestArgs,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { Id } from '../../shared/id.ts';
import { MAX_CONNECTIONS_CAP } from '../../shared/tunnel/limits.ts';
import { INGRESS_HEADERS, type ErrorBody } from '../../shared/records/api.ts';
import { verifyEdgeToken } from '../../shared/records/edge-token.ts';
import { TunnelError } from '../tunnel/errors.ts';
import { type Logger, silentLogger } from '../../shared/logger.ts';
import {
  atLeast,
  checkOptions,
  instance,
  list,
  object,
  type Rules,
  withDefault,
} from '../../shared/options.ts';
import { TunnelServer } from '../tunnel/server.ts';
import type { TunnelStream } from '../tunnel/stream.ts';
import { clientAddress, downstreamResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import { isTlsChannel, spliceTlsChannel } from './tls-channel.ts';

export interface IngressOptions {
  tunnel: TunnelServer;
  /** This super node's id: edge tokens must name it as their audience. */
  superNodeId: Id;
  /** Edge keys whose tokens are accepted. */
  edgeKeys: Id[];
  /** Wall clock (ms since the epoch) for token expiry. Default Date.now. */
  clock?: { now(): number };
  logger?: Logger;
  /** How long an idle kept-alive stream to a node is kept for the next request. Default 2,000 ms; 0 = one stream per request. */
  keepAliveMs?: number;
}

export interface Ingress {
  /** For `request` (and `checkContinue`, so the node decides on 100-continue) events. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** For `upgrade` events. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes kept-alive streams. */
  close(): void;
  /** What the ingress carried: HTTP requests, upgrades (WebSocket and others) and raw TLS channels. */
  stats(): IngressStats;
}

export interface IngressStats {
  /** HTTP requests parsed and forwarded to a node. */
  requests: number;
  /** Upgrade requests relayed as raw bytes after their handshake (WebSockets). */
  upgrades: number;
  /** Raw TLS channels opened (private names): nothing of them is parsed here. */
  tlsChannels: number;
}

const INGRESS_OPTIONS = {
  tunnel: instance(TunnelServer),
  superNodeId: instance(Id),
  edgeKeys: list(instance(Id)),
  clock: withDefault(object<{ now(): number }>(), { now: () => Date.now() }),
  logger: withDefault(object<Logger>(), silentLogger),
  keepAliveMs: withDefault(atLeast(0), 2000),
} satisfies Rules<IngressOptions>;

type Verdict =
  | { ok: true; node: Id }
  | { ok: false; status: number; code: string; message: string };

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } } satisfies ErrorBody);
}

function statusFor(error: unknown): [number, string] {
  if (error instanceof TunnelError) {
    switch (error.code) {
      case 'NO_SESSION':
      case 'SESSION_CLOSED':
      case 'QUEUE_FULL':
      case 'QUEUE_TIMEOUT':
      case 'SERVER_STOPPED':
        return [503, 'NODE_UNAVAILABLE'];
      case 'NO_TLS_STREAMS':
        return [502, 'NO_TLS_STREAMS'];
      default:
        return [502, 'BAD_GATEWAY'];
    }
  }
  return [502, 'BAD_GATEWAY'];
}

export function createIngress(options: IngressOptions): Ingress {
  const o = checkOptions(
    options,
    INGRESS_OPTIONS,
    'ingress options',
    (message) => new TunnelError('INVALID_OPTIONS', message),
  );
  const { tunnel, superNodeId, edgeKeys, clock, logger, keepAliveMs } = o;
  const agents = new Map<string, TunnelAgent>();
  const counts: IngressStats = { requests: 0, upgrades: 0, tlsChannels: 0 };

  // The edge reuses a token for its short life: remember the ones already verified until they expire.
  const verified = new Map<string, { node: Id; expMs: number }>();
  // Parsed node ids (Base58 decoding per request is measurable at high request rates).
  const nodeIds = new Map<string, Id>();
  async function verifiedTokenNode(
    token: unknown,
  ): Promise<{ ok: true; node: Id } | { ok: false; message: string }> {
    const now = clock.now();
    const known = typeof token === 'string' ? verified.get(token) : undefined;
    if (known && known.expMs > now) return { ok: true, node: known.node };
    const result = await verifyEdgeToken(token, edgeKeys, superNodeId, now);
    if (!result.ok) return { ok: false, message: result.error.message };
    if (verified.size >= 10_000) verified.clear();
    verified.set(token as string, {
      node: result.value.node,
      expMs: Number(decodeJwt(token as string).exp) * 1000,
    });
    return { ok: true, node: result.value.node };
  }

  async function authorise(req: IncomingMessage): Promise<Verdict> {
    const nodeHeader = req.headers[INGRESS_HEADERS.nodeId];
    const nodeText = String(nodeHeader);
    let node = nodeIds.get(nodeText);
    if (!node) {
      try {
        node = Id.parse(nodeText);
      } catch {
        return {
          ok: false,
          status: 400,
          code: 'BAD_NODE_ID',
          message: `${INGRESS_HEADERS.nodeId} is not a node id`,
        };
      }
      if (nodeIds.size >= 10_000) nodeIds.clear();
      nodeIds.set(nodeText, node);
    }
    const tokenNode = await verifiedTokenNode(req.headers[INGRESS_HEADERS.edgeToken]);
    if (!tokenNode.ok)
      return { ok: false, status: 401, code: 'BAD_EDGE_TOKEN', message: tokenNode.message };
    if (!tokenNode.node.equals(node))
      return {
        ok: false,
        status: 401,
        code: 'BAD_EDGE_TOKEN',
        message: 'edge token is for another node',
      };
    if (!tunnel.hasSession(node))
      return {
        ok: false,
        status: 503,
        code: 'NODE_UNAVAILABLE',
        message: 'the node has no tunnel to this super node',
      };
    return { ok: true, node };
  }

  function agentFor(node: Id): TunnelAgent {
    const key = node.toString();
    let agent = agents.get(key);
    if (!agent) {
      agent = new TunnelAgent(tunnel, node, keepAliveMs);
      agents.set(key, agent);
    }
    return agent;
  }

  function forward(req: IncomingMessage, res: ServerResponse, node: Id): void {
    counts.requests++;
    const expectsContinue = /100-continue/i.test(String(req.headers.expect ?? ''));
    const requestOptions: TunnelRequestArgs = {
      method: req.method,
      path: req.url,
      headers: upstreamRequestHeaders(req),
      setHost: false,
      agent: agentFor(node),
      remoteAddress: clientAddress(req),
      remotePort: req.socket.remotePort,
    };
    const upstream: ClientRequest = request(requestOptions);
    if (expectsContinue) upstream.on('continue', () => res.writeContinue());
    upstream.on('response', (upRes) => {
      res.writeHead(
        upRes.statusCode ?? 502,
        upRes.statusMessage,
        downstreamResponseHeaders(upRes.rawHeaders),
      );
      // Long-lived responses (SSE, streaming) get their headers out before the first body byte.
      if (upRes.headers['content-length'] === undefined) res.flushHeaders();
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
      upRes.on('aborted', () => res.destroy());
    });
    upstream.on('error', (error) => {
      if (!res.headersSent) {
        const [status, code] = statusFor(error);
        sendError(res, status, code, error.message);
      } else {
        res.destroy(error);
      }
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  return {
    handleRequest(req, res) {
      authorise(req).then(
        (verdict) =>
          verdict.ok
            ? forward(req, res, verdict.node)
            : sendError(res, verdict.status, verdict.code, verdict.message),
        (error: Error) => {
          logger.error('ingress failure', { message: error.message });
          sendError(res, 500, 'INTERNAL', 'internal error');
        },
      );
    },

    handleUpgrade(req, socket, head) {
      socket.on('error', () => {});
      authorise(req).then(
        async (verdict) => {
          if (!verdict.ok) return rawError(socket, verdict.status, verdict.code, verdict.message);
          if (isTlsChannel(req)) {
            try {
              await spliceTlsChannel(tunnel, verdict.node, req, socket, head);
              counts.tlsChannels++;
            } catch (error) {
              const [status, code] = statusFor(error);
              rawError(socket, status, code, (error as Error).message);
            }
            return;
          }
          counts.upgrades++;
          let stream: Duplex;
          try {
            stream = await tunnel.openStream(verdict.node, {
              remoteAddress: clientAddress(req),
              remotePort: req.socket.remotePort,
            });
          } catch (error) {
            const [status, code] = statusFor(error);
            return rawError(socket, status, code, (error as Error).message);
          }
          // The upgrade request goes out as it came (minus x-pc2-*); from then on it is raw bytes both ways.
          const headers = upstreamRequestHeaders(req, true);
          let head1 = `${req.method} ${req.url} HTTP/1.1\r\n`;
          for (let i = 0; i < headers.length; i += 2)
            head1 += `${headers[i]}: ${headers[i + 1]}\r\n`;
          stream.write(head1 + '\r\n');
          if (head.length) stream.write(head);
          stream.on('error', () => socket.destroy());
          socket.on('close', () => stream.destroy());
          stream.on('close', () => socket.destroy());
          stream.pipe(socket);
          socket.pipe(stream);
        },
        () => rawError(socket, 500, 'INTERNAL', 'internal error'),
      );
    },

    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },

    stats: () => ({ ...counts }),
  };
}

/** node:http passes a request's options on to its agent's createConnection: these say whom a stream is for. */
interface TunnelRequestArgs extends ClientRequestArgs {
  remoteAddress?: string;
  remotePort?: number;
}

/**
 * node:http's Agent over one node's tunnel: each of its "sockets" is a stream of the node's tunnel
 * session. With `idleMs` > 0 it keeps free streams for the next request and closes one after
 * `idleMs` free (node:http's own `timeout` option would also time out requests in progress, e.g. a
 * quiet long-lived response); with 0 every request gets a stream of its own.
 */
class TunnelAgent extends Agent {
  readonly #tunnel: TunnelServer;
  readonly #node: Id;
  readonly #idleMs: number;

  constructor(tunnel: TunnelServer, node: Id, idleMs: number) {
    // As many free streams as a session can have tunnel connections: under a burst the streams opened
    // for it stay for the next one instead of being closed and opened again (a CONNECT and an upstream
    // connect each). They still close after idleMs.
    super(
      idleMs > 0
        ? { keepAlive: true, maxFreeSockets: MAX_CONNECTIONS_CAP, scheduling: 'lifo' }
        : { keepAlive: false },
    );
    this.#tunnel = tunnel;
    this.#node = node;
    this.#idleMs = idleMs;
  }

  override createConnection(
    options: TunnelRequestArgs,
    callback?: (error: Error | null, stream: Duplex) => void,
  ): undefined {
    this.#tunnel
      .openStream(this.#node, {
        remoteAddress: options.remoteAddress,
        remotePort: options.remotePort,
        allowHalfOpen: false,
      })
      .then(
        (stream) => callback?.(null, stream),
        (error: Error) => callback?.(error, undefined as never),
      );
    return undefined;
  }

  override keepSocketAlive(stream: TunnelStream): void {
    // node:http reads the boolean this returns, though its types say void.
    const keep = super.keepSocketAlive(stream) as unknown;
    stream.setTimeout(this.#idleMs);
    return keep as void;
  }

  override reuseSocket(stream: TunnelStream, req: ClientRequest): void {
    stream.setTimeout(0);
    super.reuseSocket(stream, req);
  }
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  const body = errorBody(code, message);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    [INGRESS_HEADERS.relayError]: code,
    ...(status === 503 ? { 'retry-after': '5' } : {}),
  });
  res.end(body);
}

function rawError(socket: Duplex, status: number, code: string, message: string): void {
  const body = errorBody(code, message);
  const reason =
    status === 401
      ? 'Unauthorized'
      : status === 503
        ? 'Service Unavailable'
        : status === 400
          ? 'Bad Request'
          : 'Bad Gateway';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\n${INGRESS_HEADERS.relayError}: ${code}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
