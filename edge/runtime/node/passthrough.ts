/**
 * TLS passthrough by SNI on the Node.js gateway: every connection to the TLS port is read up to the
 * end of its ClientHello (../../sni.ts), nothing answered. A connection naming a private name that is
 * online (`Edge.passthrough`) is spliced, bytes untouched, to the node's own TLS port or, through a
 * raw TLS channel of a relay's ingress, to the node's tunnel: the TLS session runs from the browser to
 * the node, and the gateway never holds a key for it. Every other connection goes, with the bytes read
 * so far put back, to the gateway's own TLS server.
 */
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { ipToBytes, isGlobalAddress } from '../../../shared/ip.ts';
import { INGRESS_HEADERS, TLS_CHANNEL_UPGRADE } from '../../../shared/records/api.ts';
import type { Edge, PassthroughRoute, Target } from '../../app.ts';
import { RELAY_ERROR_HEADER, tryNextTarget } from '../../failover.ts';
import { MAX_CLIENT_HELLO_BYTES, peekClientHello } from '../../sni.ts';

export interface PassthroughOptions {
  /** Longest wait for a client's ClientHello, ms. */
  helloTimeoutMs: number;
  /** Longest wait for a node's TLS port, or for a relay's answer to the raw TLS channel, ms. */
  connectTimeoutMs: number;
  /** The edge's developerMode: a direct node's endpoint may resolve to a loopback or private address. */
  developerMode: boolean;
  /** Told about connections that could not be passed through (every target failed). */
  onFailure?: (name: string, reasons: string[]) => void;
}

export interface PassthroughStats {
  /** Connections spliced to a node (directly or through a relay). */
  passedThrough: number;
  /** Connections handed to the gateway's own TLS server. */
  terminated: number;
  /** Connections to a private name that no target took: closed. */
  failed: number;
}

/** Bytes read while looking for the end of a ClientHello (its records' headers included). */
const MAX_PEEK_BYTES = 4 * MAX_CLIENT_HELLO_BYTES;

export interface SniRouter {
  /** Handles one accepted connection of the TLS port. Never throws. */
  accept(socket: net.Socket): void;
  readonly stats: PassthroughStats;
  /** Destroys every connection the router spliced (the gateway is closing). */
  close(): void;
}

/** Routes by SNI; `terminate` hands a connection (its bytes put back) to the gateway's TLS server. */
export function createSniRouter(
  edge: Edge,
  terminate: (socket: net.Socket) => void,
  options: PassthroughOptions,
): SniRouter {
  const stats: PassthroughStats = { passedThrough: 0, terminated: 0, failed: 0 };
  const spliced = new Set<Duplex>();

  const handOver = (socket: net.Socket, bytes: Buffer) => {
    stats.terminated++;
    if (bytes.length) socket.unshift(bytes);
    terminate(socket);
  };

  const route = async (socket: net.Socket, bytes: Buffer, serverName: string | null) => {
    const passthrough = await edge.passthrough(serverName);
    if (socket.destroyed) return;
    if (!passthrough) return handOver(socket, bytes);
    const reasons: string[] = [];
    const target = await connectTarget(passthrough, socket, options, reasons);
    if (!target || socket.destroyed) {
      target?.destroy();
      stats.failed++;
      options.onFailure?.(passthrough.name, reasons);
      return void socket.destroy();
    }
    stats.passedThrough++;
    target.write(bytes);
    splice(socket, target, spliced);
  };

  return {
    stats,
    accept(socket) {
      socket.on('error', () => socket.destroy());
      const chunks: Buffer[] = [];
      let length = 0;
      const timer = setTimeout(() => socket.destroy(), options.helloTimeoutMs);
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        const bytes = chunks.length === 1 ? chunk : Buffer.concat(chunks, length);
        const peek =
          length > MAX_PEEK_BYTES ? { kind: 'not-tls' as const } : peekClientHello(bytes);
        if (peek.kind === 'incomplete') return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.pause();
        if (peek.kind === 'not-tls') return handOver(socket, bytes);
        route(socket, bytes, peek.serverName).catch(() => socket.destroy());
      };
      socket.on('data', onData);
      socket.once('close', () => clearTimeout(timer));
    },
    close() {
      for (const s of spliced) s.destroy();
      spliced.clear();
    },
  };
}

/** Both ways, ends passed on; either side failing or closing closes both. */
function splice(client: net.Socket, target: Duplex, open: Set<Duplex>): void {
  open.add(client);
  open.add(target);
  const close = () => {
    client.destroy();
    target.destroy();
    open.delete(client);
    open.delete(target);
  };
  target.on('error', close).on('close', close);
  client.on('error', close).on('close', close);
  client.pipe(target);
  target.pipe(client);
  client.resume();
}

function connectTarget(
  route: PassthroughRoute,
  client: net.Socket,
  options: PassthroughOptions,
  reasons: string[],
): Promise<Duplex | null> {
  return route.kind === 'direct'
    ? connectDirect(route.host, route.port, options, reasons)
    : connectRelay(route.targets, client, options, reasons);
}

/**
 * The node's TLS port, at an address it is allowed to be at: public ones only, unless the gateway
 * allows private targets (the registry refuses private literal endpoints; this catches names that
 * resolve to one). The addresses are tried in the resolver's order.
 */
async function connectDirect(
  host: string,
  port: number,
  options: PassthroughOptions,
  reasons: string[],
): Promise<net.Socket | null> {
  let addresses: string[];
  try {
    addresses = ipToBytes(host)
      ? [host]
      : (await lookup(host, { all: true })).map((a) => a.address);
  } catch (e) {
    reasons.push(`${host}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return null;
  }
  for (const address of addresses) {
    if (!options.developerMode && !isGlobalAddress(ipToBytes(address)!)) {
      reasons.push(`${host}: ${address} is not a public address`);
      continue;
    }
    const socket = await new Promise<net.Socket | null>((resolve) => {
      const s = net.connect({ host: address, port, noDelay: true });
      const timer = setTimeout(
        () => s.destroy(new Error('connect timed out')),
        options.connectTimeoutMs,
      );
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reasons.push(`${address}:${port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`);
        resolve(null);
      });
    });
    if (socket) return socket;
  }
  return null;
}

/** The first relay whose ingress opens a raw TLS channel to the node (the one failover rule). */
async function connectRelay(
  targets: readonly Target[],
  client: net.Socket,
  options: PassthroughOptions,
  reasons: string[],
): Promise<Duplex | null> {
  for (let i = 0; i < targets.length; i++) {
    const result = await openChannel(targets[i], client, options);
    if (result.kind === 'open') return result.socket;
    reasons.push(`${targets[i].label}: ${result.reason}`);
    if (
      result.kind === 'refused' &&
      !tryNextTarget(result.status, result.relayError, i === targets.length - 1)
    )
      break;
  }
  return null;
}

type Channel =
  | { kind: 'open'; socket: Duplex }
  | { kind: 'refused'; status: number; relayError: string | undefined; reason: string }
  | { kind: 'failed'; reason: string };

function openChannel(
  target: Target,
  client: net.Socket,
  options: PassthroughOptions,
): Promise<Channel> {
  const url = new URL(target.url);
  const headers: Record<string, string> = {
    connection: 'Upgrade',
    upgrade: TLS_CHANNEL_UPGRADE,
    [INGRESS_HEADERS.nodeId]: target.ingress!.nodeId,
    [INGRESS_HEADERS.edgeToken]: target.ingress!.edgeToken,
  };
  if (client.remoteAddress) headers['x-forwarded-for'] = client.remoteAddress;
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = lib.request(url, { method: 'GET', path: '/', headers, agent: false });
    const timer = setTimeout(
      () => req.destroy(new Error('no answer in time')),
      options.connectTimeoutMs,
    );
    req.on('upgrade', (res, socket, head) => {
      clearTimeout(timer);
      if (head.length) socket.unshift(head);
      resolve({ kind: 'open', socket });
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      res.resume();
      const relayError = res.headers[RELAY_ERROR_HEADER] as string | undefined;
      resolve({
        kind: 'refused',
        status: res.statusCode ?? 0,
        relayError,
        reason: `HTTP ${res.statusCode}${relayError ? ` ${relayError}` : ''}`,
      });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      resolve({ kind: 'failed', reason: (e as NodeJS.ErrnoException).code ?? e.message });
    });
    req.end();
  });
}
