/**
 * TLS passthrough by SNI on Deno (see node/passthrough.ts for the Node.js runtime and docs/edge.md):
 * the TLS port is a TCP listener that reads each ClientHello (../sni.ts); a private name's connection
 * is spliced untouched to the node's TLS port or a relay's raw TLS channel, and every other one is
 * piped to the gateway's own Deno.serve, which listens on loopback only. Deno cannot hand an accepted
 * connection to Deno.serve, so that is one more loopback hop for terminated connections; the client's
 * address travels beside it (`clientOf`, keyed by the hop's local port) for X-Forwarded-For.
 */
import { ipToBytes, isGlobalAddress } from '../../shared/ip.ts';
import { INGRESS_HEADERS, TLS_CHANNEL_UPGRADE } from '../../shared/records/api.ts';
import type { Edge, PassthroughRoute, Target } from '../app.ts';
import { RELAY_ERROR_HEADER, tryNextTarget } from '../failover.ts';
import { MAX_CLIENT_HELLO_BYTES, peekClientHello } from '../sni.ts';

interface Addr {
  hostname: string;
  port: number;
}
export interface DenoConn {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}
interface DenoListener extends AsyncIterable<DenoConn> {
  readonly addr: Addr;
  close(): void;
}
declare const Deno: {
  listen(options: { hostname: string; port: number }): DenoListener;
  connect(options: { hostname: string; port: number }): Promise<DenoConn>;
  connectTls(options: { hostname: string; port: number }): Promise<DenoConn>;
  resolveDns(query: string, type: 'A' | 'AAAA'): Promise<string[]>;
};

export interface SniFrontOptions {
  hostname: string;
  port: number;
  /** The gateway's own TLS server (Deno.serve on loopback). */
  internalPort: number;
  helloTimeoutMs: number;
  connectTimeoutMs: number;
  /** The edge's developerMode: a direct node's endpoint may resolve to a loopback or private address. */
  developerMode: boolean;
}

export interface SniFront {
  addr: Addr;
  /** The client's address of a connection to the internal server, by that connection's local port. */
  clientOf: Map<number, string>;
  stats: { passedThrough: number; terminated: number; failed: number };
  close(): void;
}

const MAX_PEEK_BYTES = 4 * MAX_CLIENT_HELLO_BYTES;

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new Error('timed out'));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function startSniFront(edge: Edge, o: SniFrontOptions): SniFront {
  const listener = Deno.listen({ hostname: o.hostname, port: o.port });
  const open = new Set<DenoConn>();
  const clientOf = new Map<number, string>();
  const stats = { passedThrough: 0, terminated: 0, failed: 0 };

  const handle = async (conn: DenoConn) => {
    const hello = await withTimeout(readHello(conn), o.helloTimeoutMs, () => conn.close());
    if (!hello) return conn.close();
    const route =
      hello.peek.kind === 'hello' ? await edge.passthrough(hello.peek.serverName) : null;
    let target: DenoConn | null;
    if (!route) {
      target = await Deno.connect({ hostname: '127.0.0.1', port: o.internalPort });
      clientOf.set(target.localAddr.port, conn.remoteAddr.hostname);
      stats.terminated++;
    } else {
      target = await connectTarget(route, conn, o).catch(() => null);
      if (!target) {
        stats.failed++;
        return conn.close();
      }
      stats.passedThrough++;
    }
    const port = target.localAddr.port;
    open.add(target);
    try {
      await target.write(hello.bytes);
      await splice(conn, target);
    } finally {
      open.delete(target);
      clientOf.delete(port);
    }
  };

  (async () => {
    for await (const conn of listener) {
      open.add(conn);
      handle(conn)
        .catch(() => {})
        .finally(() => {
          open.delete(conn);
          try {
            conn.close();
          } catch {
            // already closed
          }
        });
    }
  })().catch(() => {});

  return {
    addr: listener.addr,
    clientOf,
    stats,
    close() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
      open.clear();
    },
  };
}

async function readHello(conn: DenoConn) {
  let bytes = new Uint8Array(0);
  const chunk = new Uint8Array(16 * 1024);
  for (;;) {
    const n = await conn.read(chunk);
    if (n === null) return null;
    const next = new Uint8Array(bytes.length + n);
    next.set(bytes);
    next.set(chunk.subarray(0, n), bytes.length);
    bytes = next;
    const peek =
      bytes.length > MAX_PEEK_BYTES ? ({ kind: 'not-tls' } as const) : peekClientHello(bytes);
    if (peek.kind !== 'incomplete') return { bytes, peek };
  }
}

/** Both ways until both ends are done; either failing closes both. */
async function splice(a: DenoConn, b: DenoConn): Promise<void> {
  const close = () => {
    for (const c of [a, b])
      try {
        c.close();
      } catch {
        // already closed
      }
  };
  await Promise.all([a.readable.pipeTo(b.writable), b.readable.pipeTo(a.writable)]).catch(close);
}

function connectTarget(
  route: PassthroughRoute,
  client: DenoConn,
  o: SniFrontOptions,
): Promise<DenoConn | null> {
  return route.kind === 'direct'
    ? connectDirect(route.host, route.port, o)
    : connectRelay(route.targets, client, o);
}

/** The node's TLS port, at a public address unless private targets are allowed (node/passthrough.ts). */
async function connectDirect(
  host: string,
  port: number,
  o: SniFrontOptions,
): Promise<DenoConn | null> {
  const addresses = ipToBytes(host)
    ? [host]
    : (
        await Promise.all(
          (['A', 'AAAA'] as const).map((t) => Deno.resolveDns(host, t).catch(() => [] as string[])),
        )
      ).flat();
  for (const address of addresses) {
    if (!o.developerMode && !isGlobalAddress(ipToBytes(address)!)) continue;
    const conn = await withTimeout(
      Deno.connect({ hostname: address, port }),
      o.connectTimeoutMs,
      () => {},
    ).catch(() => null);
    if (conn) return conn;
  }
  return null;
}

async function connectRelay(
  targets: readonly Target[],
  client: DenoConn,
  o: SniFrontOptions,
): Promise<DenoConn | null> {
  for (let i = 0; i < targets.length; i++) {
    const answer = await withTimeout(
      openChannel(targets[i], client),
      o.connectTimeoutMs,
      () => {},
    ).catch(() => null);
    if (answer?.kind === 'open') return answer.conn;
    if (
      answer?.kind === 'refused' &&
      !tryNextTarget(answer.status, answer.relayError, i === targets.length - 1)
    )
      break;
  }
  return null;
}

async function openChannel(
  target: Target,
  client: DenoConn,
): Promise<
  { kind: 'open'; conn: DenoConn } | { kind: 'refused'; status: number; relayError?: string }
> {
  const url = new URL(target.url);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const conn =
    url.protocol === 'https:'
      ? await Deno.connectTls({ hostname, port })
      : await Deno.connect({ hostname, port });
  const lines = [
    'GET / HTTP/1.1',
    `Host: ${url.host}`,
    'Connection: Upgrade',
    `Upgrade: ${TLS_CHANNEL_UPGRADE}`,
    `${INGRESS_HEADERS.nodeId}: ${target.ingress!.nodeId}`,
    `${INGRESS_HEADERS.edgeToken}: ${target.ingress!.edgeToken}`,
    `X-Forwarded-For: ${client.remoteAddr.hostname}`,
  ];
  await conn.write(new TextEncoder().encode(lines.join('\r\n') + '\r\n\r\n'));
  // The ingress's own answer (101 or its error), never the node's bytes: those come only after ours.
  let head = '';
  const chunk = new Uint8Array(4096);
  while (!head.includes('\r\n\r\n')) {
    const n = await conn.read(chunk);
    if (n === null || head.length > 16 * 1024) {
      conn.close();
      throw new Error('the ingress closed without an answer');
    }
    head += new TextDecoder('latin1').decode(chunk.subarray(0, n));
  }
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  if (status === 101) return { kind: 'open', conn };
  conn.close();
  const relayError = new RegExp(`^${RELAY_ERROR_HEADER}:\\s*(.+?)\\r?$`, 'im').exec(head)?.[1];
  return { kind: 'refused', status, relayError };
}
