/**
 * The relay ingress: HTTP requests from the edge for a relayed node (header x-pc2-node-id plus an
 * edge token in x-pc2-edge-token) are carried over the node's tunnel session to its upstream,
 * with full HTTP/1.1 semantics: streaming bodies both ways, chunked and long-lived responses,
 * 100-continue, Range (passed through untouched), and WebSocket/Upgrade (101, then raw bytes).
 * Each node's streams and the requests waiting for one: ./node-streams.ts; one exchange: ./exchange.ts.
 */
import { decodeJwt } from 'jose';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Id } from '../../shared/id.ts';
import { INGRESS_HEADERS, type ErrorBody } from '../../shared/records/api.ts';
import { verifyEdgeToken } from '../../shared/records/edge-token.ts';
import { TunnelError } from '../tunnel/errors.ts';
import { type Logger, silentLogger } from '../../shared/logger.ts';
import {
  atLeast,
  checkOptions,
  instance,
  integer,
  list,
  object,
  type Rules,
  withDefault,
} from '../../shared/options.ts';
import { TunnelServer } from '../tunnel/server.ts';
import type { TunnelStream } from '../tunnel/stream.ts';
import { Exchange } from './exchange.ts';
import { clientAddress, upstreamRequestHeaders } from './headers.ts';
import { NodeStreams, type StreamCounters } from './node-streams.ts';
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
  /**
   * How long a request waits for a tunnel stream of its node (while the node grows its pool, or
   * until a stream comes free at the pool's limit) before it is refused with 503 NODE_BUSY and
   * Retry-After. Default 30,000 ms.
   */
  streamWaitMs?: number;
  /** Requests that may wait for a stream of one node at once; more are refused with 503 NODE_BUSY. Default 4,096. */
  maxWaitingRequests?: number;
}

/** What the ingress carried, and how its requests got their tunnel streams. */
export interface IngressStats extends StreamCounters {
  /** HTTP requests forwarded to a node (after the edge token checked out). */
  requests: number;
  /** Upgrade requests relayed as raw bytes after their handshake (WebSockets). */
  upgrades: number;
  /** Raw TLS channels opened (private names): nothing of them is parsed here. */
  tlsChannels: number;
}

export interface Ingress {
  /** For `request` (and `checkContinue`, so the node decides on 100-continue) events. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** For `upgrade` events. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  stats(): IngressStats;
  /** Closes kept-alive streams. */
  close(): void;
}

const INGRESS_OPTIONS = {
  tunnel: instance(TunnelServer),
  superNodeId: instance(Id),
  edgeKeys: list(instance(Id)),
  clock: withDefault(object<{ now(): number }>(), { now: () => Date.now() }),
  logger: withDefault(object<Logger>(), silentLogger),
  keepAliveMs: withDefault(atLeast(0), 2000),
  streamWaitMs: withDefault(integer(1, 86_400_000), 30_000),
  maxWaitingRequests: withDefault(integer(0, 1_000_000), 4096),
} satisfies Rules<IngressOptions>;

type Verdict =
  | { ok: true; node: Id }
  | { ok: false; status: number; code: string; message: string };

function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } } satisfies ErrorBody);
}

/** The one mapping of relay failures to HTTP: [status, code, Retry-After seconds]. */
function statusFor(error: unknown): [number, string, number?] {
  if (error instanceof TunnelError) {
    switch (error.code) {
      case 'BUSY':
      case 'QUEUE_FULL':
      case 'QUEUE_TIMEOUT':
        return [503, 'NODE_BUSY', 1];
      case 'NO_SESSION':
      case 'SESSION_CLOSED':
      case 'SERVER_STOPPED':
        return [503, 'NODE_UNAVAILABLE', 5];
      case 'NO_TLS_STREAMS':
        return [502, 'NO_TLS_STREAMS'];
      default:
        return [502, 'BAD_GATEWAY'];
    }
  }
  return [502, 'BAD_GATEWAY'];
}

/** The request as the node gets it: request line, headers (x-pc2-* out, X-Forwarded-* in), framing. */
function requestHead(req: IncomingMessage, keepUpgrade: boolean): string {
  const headers = upstreamRequestHeaders(req, keepUpgrade);
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  // The edge's chunked body arrives decoded; it goes on chunked again.
  if (!keepUpgrade && req.headers['transfer-encoding'] !== undefined)
    head += 'Transfer-Encoding: chunked\r\n';
  return `${head}\r\n`;
}

export function createIngress(options: IngressOptions): Ingress {
  const o = checkOptions(
    options,
    INGRESS_OPTIONS,
    'ingress options',
    (message) => new TunnelError('INVALID_OPTIONS', message),
  );
  const { tunnel, superNodeId, edgeKeys, clock, logger } = o;
  const pools = new Map<string, NodeStreams>();
  const counters: IngressStats = {
    requests: 0,
    upgrades: 0,
    tlsChannels: 0,
    opened: 0,
    reused: 0,
    waited: 0,
    busy: 0,
  };

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

  function poolFor(node: Id): NodeStreams {
    const key = node.toString();
    let pool = pools.get(key);
    if (!pool) {
      pool = new NodeStreams({
        tunnel,
        node,
        keepAliveMs: o.keepAliveMs,
        waitMs: o.streamWaitMs,
        maxWaiting: o.maxWaitingRequests,
        counters,
        empty: (p) => {
          if (pools.get(key) === p) pools.delete(key);
        },
      });
      pools.set(key, pool);
    }
    return pool;
  }

  const relayFailed = (res: ServerResponse, error: Error) => {
    const [status, code, retryAfter] = statusFor(error);
    if (code === 'NODE_BUSY') logger.warn('relayed request refused', { message: error.message });
    sendError(res, status, code, error.message, retryAfter);
  };

  function forward(req: IncomingMessage, res: ServerResponse, node: Id): void {
    counters.requests++;
    const address = { remoteAddress: clientAddress(req), remotePort: req.socket.remotePort };
    new Exchange(req, res, poolFor(node), address, requestHead(req, false), relayFailed).start();
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, node: Id): void {
    counters.upgrades++;
    const pool = poolFor(node);
    const address = { remoteAddress: clientAddress(req), remotePort: req.socket.remotePort };
    pool.acquire(address, {
      take(error, stream?: TunnelStream) {
        if (error || !stream) {
          const [status, code] = statusFor(error);
          return rawError(socket, status, code, error?.message ?? 'no stream');
        }
        if (socket.destroyed) return pool.release(stream, true);
        // From the upgrade on, the stream is the node's and the browser's: raw bytes both ways.
        pool.detach();
        stream.setReader(null);
        stream.write(requestHead(req, true), 'latin1');
        if (head.length) stream.write(head);
        stream.on('error', () => socket.destroy());
        socket.on('close', () => stream.destroy());
        stream.on('close', () => socket.destroy());
        stream.pipe(socket);
        socket.pipe(stream);
      },
    });
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
        (verdict) => {
          if (!verdict.ok) return rawError(socket, verdict.status, verdict.code, verdict.message);
          if (!isTlsChannel(req)) return upgrade(req, socket, head, verdict.node);
          spliceTlsChannel(tunnel, verdict.node, req, socket, head).then(
            () => void counters.tlsChannels++,
            (error: Error) => {
              const [status, code] = statusFor(error);
              rawError(socket, status, code, error.message);
            },
          );
        },
        () => rawError(socket, 500, 'INTERNAL', 'internal error'),
      );
    },

    stats: () => ({ ...counters }),

    close() {
      for (const pool of pools.values()) pool.close();
      pools.clear();
    },
  };
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  retryAfter?: number,
): void {
  if (res.headersSent) return void res.destroy();
  if (res.destroyed) return;
  const body = errorBody(code, message);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    [INGRESS_HEADERS.relayError]: code,
    ...(status === 503 ? { 'retry-after': String(retryAfter ?? 5) } : {}),
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
