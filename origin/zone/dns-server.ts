/**
 * The zone's name server on UDP and TCP (same address and port). UDP: one datagram, one answer.
 * TCP (RFC 7766): two-byte length framing, several queries per connection, answered in order; a
 * connection that sends a frame no query fits in is closed, idle ones after `idleTimeoutMs`, and the
 * number of connections is capped overall and per source address.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { Logger } from '../../shared/logger.ts';
import { type Responder, sourceKey } from './responder.ts';
import { HEADER_BYTES, MAX_QUERY_BYTES } from './wire.ts';

export interface DnsServerOptions {
  host: string;
  /** 0 picks a port free for both UDP and TCP. */
  port: number;
  responder: Responder;
  logger: Logger;
  idleTimeoutMs?: number;
  maxConnections?: number;
  maxConnectionsPerSource?: number;
}

export interface DnsServerStats {
  tcpConnections: number;
  tcpRefused: number;
  sendErrors: number;
}

export class DnsServer {
  readonly stats: DnsServerStats = { tcpConnections: 0, tcpRefused: 0, sendErrors: 0 };
  readonly #o: Required<DnsServerOptions>;
  #udp: UdpSocket | null = null;
  #tcp: Server | null = null;
  readonly #sockets = new Set<Socket>();
  readonly #perSource = new Map<string, number>();
  #port = 0;

  constructor(options: DnsServerOptions) {
    this.#o = {
      idleTimeoutMs: 10_000,
      maxConnections: 1024,
      maxConnectionsPerSource: 32,
      ...options,
    };
  }

  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const tcp = await this.#listenTcp(this.#o.port);
      const port = (tcp.address() as { port: number }).port;
      try {
        this.#udp = await this.#listenUdp(port);
        this.#tcp = tcp;
        this.#port = port;
        return;
      } catch (e) {
        await new Promise((r) => tcp.close(r));
        // Port 0: TCP's free port may be taken for UDP; try another.
        if (this.#o.port !== 0 || attempt >= 20) throw e;
      }
    }
  }

  #listenTcp(port: number): Promise<Server> {
    const server = createServer({ pauseOnConnect: false }, (socket) => this.#onConnection(socket));
    server.maxConnections = this.#o.maxConnections;
    server.on('drop', () => this.stats.tcpRefused++);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.#o.host, () => {
        server.off('error', reject);
        server.on('error', (e) =>
          this.#o.logger.warn('dns: tcp server error', { error: e.message }),
        );
        resolve(server);
      });
    });
  }

  #listenUdp(port: number): Promise<UdpSocket> {
    // A bigger receive buffer absorbs bursts while the event loop is busy (the kernel caps it at net.core.rmem_max).
    const socket = createSocket({
      type: isIPv6(this.#o.host) ? 'udp6' : 'udp4',
      recvBufferSize: 4 << 20,
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, this.#o.host, () => {
        socket.off('error', reject);
        socket.on('error', (e) =>
          this.#o.logger.warn('dns: udp socket error', { error: e.message }),
        );
        socket.on('message', (msg, rinfo) => {
          const out = this.#o.responder.respond(msg, 'udp', rinfo.address);
          if (out) socket.send(out, rinfo.port, rinfo.address, (e) => e && this.stats.sendErrors++);
        });
        resolve(socket);
      });
    });
  }

  #onConnection(socket: Socket): void {
    const source = sourceKey(socket.remoteAddress ?? '');
    const count = (this.#perSource.get(source) ?? 0) + 1;
    if (count > this.#o.maxConnectionsPerSource) {
      this.stats.tcpRefused++;
      socket.destroy();
      return;
    }
    this.#perSource.set(source, count);
    this.#sockets.add(socket);
    this.stats.tcpConnections++;
    socket.setNoDelay(true);
    socket.setTimeout(this.#o.idleTimeoutMs, () => socket.destroy());
    socket.on('error', () => {});
    socket.once('close', () => {
      this.#sockets.delete(socket);
      const left = (this.#perSource.get(source) ?? 1) - 1;
      if (left <= 0) this.#perSource.delete(source);
      else this.#perSource.set(source, left);
    });
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (length < HEADER_BYTES || length > MAX_QUERY_BYTES) {
          this.#o.responder.stats.malformed++;
          socket.destroy();
          return;
        }
        if (pending.length < 2 + length) break;
        const query = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        const out = this.#o.responder.respond(query, 'tcp', socket.remoteAddress ?? '');
        if (!out) continue;
        const frame = Buffer.allocUnsafe(2 + out.length);
        frame.writeUInt16BE(out.length, 0);
        frame.set(out, 2);
        // A client that does not read its answers stops being read from.
        if (!socket.write(frame)) {
          socket.pause();
          socket.once('drain', () => socket.resume());
        }
      }
      if (pending.length > 0) pending = Buffer.from(pending); // do not pin the chunk it came in
    });
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await Promise.all([
      this.#tcp ? new Promise((r) => this.#tcp!.close(r)) : null,
      this.#udp ? new Promise<void>((r) => this.#udp!.close(() => r())) : null,
    ]);
    this.#tcp = null;
    this.#udp = null;
  }
}
