/**
 * The tunnel server of a super node: Boson Active Proxy 3.0 on TCP, default port 8090. Nodes behind
 * NAT dial in, AUTH with their device key and keep a pool of tunnel connections;
 * `openStream(deviceId)` carries one external stream over one of them.
 *
 * Events: `session` (SessionInfo) when a session is authenticated, `sessionClosed` (SessionInfo,
 * reason) when it ends or is replaced.
 */
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { bytesEqual } from '../../shared/bytes.ts';
import { CryptoBox } from '../../shared/crypto/box.ts';
import { CryptoContext } from '../../shared/crypto/context.ts';
import type { Id } from '../../shared/id.ts';
import { idToX25519, verifySignature } from '../../shared/keys.ts';
import {
  type AttachFrame,
  type AuthFrame,
  authAckFitsOffer,
  DATA_CHUNK_BYTES,
  dataChunkBytesFor,
  encodeAuthAck,
  encodeEmpty,
  MAX_DATA_BYTES,
  newSessionKeyPair,
  PROTOCOL_VERSION,
  ErrorFrameCode,
  sessionContext,
} from '../../shared/tunnel/index.ts';
import { type HandshakeVerdict, ServerConnection } from './connection.ts';
import { TunnelError } from './errors.ts';
import {
  type TunnelServerOptions,
  resolveServerOptions,
  type ResolvedServerOptions,
} from './options.ts';
import { TunnelSession, type SessionInfo } from './session.ts';
import type { TunnelStream, StreamAddress } from './stream.ts';

export interface TunnelServerStats {
  sessions: number;
  connections: number;
  streams: number;
  queuedStreams: number;
  malformedFrames: number;
  authFailures: number;
  deadConnections: number;
  sessionsReplaced: number;
  streamsOpened: number;
  /** openStream calls that failed, by TunnelError code (QUEUE_FULL, QUEUE_TIMEOUT, NO_SESSION, ...). */
  streamsRefused: Record<string, number>;
  /** Bytes written to and read from tunnel connections (the wire: frames, handshakes, pings). */
  bytesToNodes: number;
  bytesFromNodes: number;
}

const PEER_BOX_CACHE = 16_384;

const fail = (code: number, message: string): HandshakeVerdict => ({ ok: false, code, message });

export class TunnelServer extends EventEmitter {
  readonly options: ResolvedServerOptions;
  #server: Server | null = null;
  #sessions = new Map<string, TunnelSession>();
  #connections = new Set<ServerConnection>();
  #sweeper: NodeJS.Timeout | null = null;
  #peerBoxes = new Map<string, CryptoBox>();
  #counters = {
    malformedFrames: 0,
    authFailures: 0,
    deadConnections: 0,
    sessionsReplaced: 0,
    streamsOpened: 0,
  };
  readonly #refused: Record<string, number> = {};
  /** Bytes of the connections that are gone; the live ones are read from their sockets. */
  #closedBytes = { toNodes: 0, fromNodes: 0 };

  constructor(options: TunnelServerOptions) {
    super();
    this.options = resolveServerOptions(options);
  }

  async start(): Promise<AddressInfo> {
    if (this.#server) throw new TunnelError('INVALID_OPTIONS', 'already started');
    // Paused: a connection takes the socket's handle over to read into slabs (./slab-reads.ts).
    const server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) =>
      this.#accept(socket),
    );
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const sweepMs = Math.max(10, Math.min(1000, Math.floor(this.options.pingIntervalMs / 4)));
    this.#sweeper = setInterval(() => this.#sweep(), sweepMs);
    this.#sweeper.unref();
    this.options.logger.info('active proxy listening', { ...this.address() });
    return this.address();
  }

  async stop(): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
    const server = this.#server;
    this.#server = null;
    for (const session of [...this.#sessions.values()])
      session.close('server stopped', new TunnelError('SERVER_STOPPED', 'server stopped'));
    for (const connection of [...this.#connections])
      connection.close(new TunnelError('SERVER_STOPPED', 'server stopped'));
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  address(): AddressInfo {
    const address = this.#server?.address();
    if (!address || typeof address === 'string')
      throw new TunnelError('NOT_STARTED', 'server not listening');
    return address;
  }

  hasSession(deviceId: Id): boolean {
    return this.#sessions.has(deviceId.toString());
  }

  sessions(): SessionInfo[] {
    return [...this.#sessions.values()].map((s) => s.info());
  }

  stats(): TunnelServerStats {
    let streams = 0;
    for (const c of this.#connections) if (c.hasStream) streams++;
    let queuedStreams = 0;
    for (const s of this.#sessions.values()) queuedStreams += s.info().queuedStreams;
    let { toNodes, fromNodes } = this.#closedBytes;
    for (const c of this.#connections) {
      toNodes += c.socket.bytesWritten;
      fromNodes += c.socket.bytesRead;
    }
    return {
      sessions: this.#sessions.size,
      connections: this.#connections.size,
      streams,
      queuedStreams,
      ...this.#counters,
      streamsRefused: { ...this.#refused },
      bytesToNodes: toNodes,
      bytesFromNodes: fromNodes,
    };
  }

  /** Ends a device's session (all its connections); returns whether there was one. */
  closeSession(deviceId: Id, reason = 'closed by the server'): boolean {
    const session = this.#sessions.get(deviceId.toString());
    session?.close(reason);
    return session !== undefined;
  }

  /**
   * A Duplex to the node's upstream, over an idle tunnel connection of its session. Waits (up to
   * streamQueueTimeoutMs) when all are busy; the client opens more connections as it sees them taken.
   * `signal` withdraws a call still waiting for a connection (it rejects with ABORTED).
   */
  openStream(
    deviceId: Id,
    address: StreamAddress = {},
    signal?: AbortSignal,
  ): Promise<TunnelStream> {
    return this.#openStream(deviceId, address, signal).catch((e: unknown) => {
      const code = e instanceof TunnelError ? e.code : 'OTHER';
      this.#refused[code] = (this.#refused[code] ?? 0) + 1;
      throw e;
    });
  }

  async #openStream(
    deviceId: Id,
    address: StreamAddress,
    signal: AbortSignal | undefined,
  ): Promise<TunnelStream> {
    for (let attempt = 0; ; attempt++) {
      const session = this.#sessions.get(deviceId.toString());
      if (!session || !this.#server)
        throw new TunnelError('NO_SESSION', `no tunnel session for ${deviceId}`);
      // A client that did not declare raw TLS streams would take the bytes for a plain request.
      if (address.tls && !session.tlsStreams)
        throw new TunnelError(
          'NO_TLS_STREAMS',
          `the tunnel client of ${deviceId} takes no TLS streams`,
        );
      const connection = await session.acquire(
        this.options.maxQueuedStreams,
        this.options.streamQueueTimeoutMs,
        signal,
      );
      try {
        const stream = await connection.connect(address);
        this.#counters.streamsOpened++;
        return stream;
      } catch (e) {
        // A connection that died under us is not the node's answer: try another one.
        if (!(e instanceof TunnelError) || e.code !== 'CONNECTION_LOST' || attempt >= 2) throw e;
      }
    }
  }

  // ---- connections ----

  #accept(socket: Socket): void {
    if (this.#connections.size >= this.options.maxSockets) {
      socket.destroy();
      return;
    }
    const connection = new ServerConnection(
      {
        options: this.options,
        peerContextFor: (id) => this.#peerContext(id),
        authenticate: (c, f, challenge) => this.#authenticate(c, f, challenge),
        attach: (c, f, challenge) => this.#attach(c, f, challenge),
        countMalformed: (reason) => {
          this.#counters.malformedFrames++;
          this.options.logger.debug('malformed frame', { reason });
        },
        connectionGone: (c) => {
          if (!this.#connections.delete(c)) return;
          this.#closedBytes.toNodes += c.socket.bytesWritten;
          this.#closedBytes.fromNodes += c.socket.bytesRead;
        },
      },
      socket,
    );
    this.#connections.add(connection);
  }

  /** Peer context for a device; the X25519 shared key is computed once per device (LRU). */
  #peerContext(deviceId: Id): CryptoContext | null {
    const key = deviceId.toString();
    let box = this.#peerBoxes.get(key);
    if (box) {
      this.#peerBoxes.delete(key);
    } else {
      try {
        box = CryptoBox.between(this.options.key.x25519SecretKey, idToX25519(deviceId));
      } catch {
        return null;
      }
      if (this.#peerBoxes.size >= PEER_BOX_CACHE)
        this.#peerBoxes.delete(this.#peerBoxes.keys().next().value!);
    }
    this.#peerBoxes.set(key, box);
    return new CryptoContext(box);
  }

  #authFailed(message: string): HandshakeVerdict {
    this.#counters.authFailures++;
    return fail(ErrorFrameCode.AUTH_FAILED, message);
  }

  async #authenticate(
    connection: ServerConnection,
    frame: AuthFrame,
    challenge: Uint8Array,
  ): Promise<HandshakeVerdict> {
    const { deviceId, userId } = frame;
    if (frame.version !== PROTOCOL_VERSION)
      return fail(ErrorFrameCode.VERSION, `protocol version ${frame.version} not supported`);
    if (!verifySignature(deviceId, challenge, frame.signature))
      return this.#authFailed('bad challenge signature');
    if (this.options.accessPolicy && !(await this.options.accessPolicy(deviceId, userId))) {
      return fail(ErrorFrameCode.FORBIDDEN, 'access denied by policy');
    }
    const key = deviceId.toString();
    const existing = this.#sessions.get(key);
    if (!existing && this.#sessions.size >= this.options.maxSessions)
      return fail(ErrorFrameCode.LIMIT, 'server full');
    const endpoint = (await this.options.endpointFor?.(deviceId, userId)) ?? {
      endpoint: '',
      namedEndpoint: '',
    };
    if (connection.state === 'closed')
      return fail(ErrorFrameCode.PROTOCOL, 'connection closed during AUTH');
    const peer = this.#peerContext(deviceId);
    const serverKeys = newSessionKeyPair();
    let ctx: CryptoContext;
    try {
      ctx = sessionContext(serverKeys, frame.sessionKey);
    } catch {
      return this.#authFailed('bad session key');
    }
    // Large frames only when the client offered them and our answer has room to say yes.
    const offerFits = authAckFitsOffer(endpoint.endpoint, endpoint.namedEndpoint);
    const largeFrames = this.options.largeFrames && frame.maxDataBytes !== undefined && offerFits;
    const dataChunkBytes = largeFrames ? dataChunkBytesFor(frame.maxDataBytes) : DATA_CHUNK_BYTES;
    const maxConnections = this.#connectionsFor(frame.pool);
    const session = new TunnelSession(
      {
        deviceId,
        userId,
        clientSessionKey: frame.sessionKey,
        ctx,
        maxConnections,
        since: this.options.clock.now(),
        dataChunkBytes,
        tlsStreams: frame.tlsStreams === true,
      },
      { sessionClosed: (s, reason) => this.#sessionClosed(s, reason) },
    );
    const replaced = this.#sessions.get(key);
    this.#sessions.set(key, session);
    if (replaced) {
      // Same device key, new AUTH: the old session is stale (the node restarted or lost its network).
      this.#counters.sessionsReplaced++;
      session.adoptWaiters(replaced);
      replaced.close('replaced by a new session');
    }
    session.addConnection(connection);
    connection.sendHandshakeReply(
      encodeAuthAck(peer!, {
        sessionKey: serverKeys.publicKey,
        maxConnections,
        nameAccess: endpoint.namedEndpoint ? 1 : 0,
        endpoint: endpoint.endpoint,
        namedEndpoint: endpoint.namedEndpoint,
        ...(largeFrames ? { maxDataBytes: MAX_DATA_BYTES } : {}),
        // The grant itself is in maxConnections; the echo (when the padding has room) says it is one.
        ...(maxConnections > this.options.maxConnections && offerFits
          ? { pool: maxConnections }
          : {}),
      }),
    );
    this.options.logger.info('session authenticated', { deviceId: key });
    this.emit('session', session.info());
    return { ok: true, session };
  }

  /**
   * Connections granted to a session: a client that asked for a large pool (pc2) gets up to
   * largePoolConnections, a stock client (no ask) maxConnections.
   */
  #connectionsFor(asked: number | undefined): number {
    const { maxConnections, largePoolConnections } = this.options;
    if (!asked || largePoolConnections <= maxConnections) return maxConnections;
    return Math.max(maxConnections, Math.min(asked, largePoolConnections));
  }

  async #attach(
    connection: ServerConnection,
    frame: AttachFrame,
    challenge: Uint8Array,
  ): Promise<HandshakeVerdict> {
    const session = this.#sessions.get(frame.deviceId.toString());
    if (!session) return fail(ErrorFrameCode.NO_SESSION, 'no session to attach to');
    if (!bytesEqual(frame.sessionKey, session.clientSessionKey))
      return this.#authFailed('session key mismatch');
    if (!verifySignature(frame.deviceId, challenge, frame.signature))
      return this.#authFailed('bad challenge signature');
    if (session.connections.size >= session.maxConnections)
      return fail(ErrorFrameCode.LIMIT, 'maxConnections reached');
    session.addConnection(connection);
    connection.sendHandshakeReply(encodeEmpty('ATTACH_ACK'));
    return { ok: true, session };
  }

  #sessionClosed(session: TunnelSession, reason: string): void {
    const key = session.deviceId.toString();
    if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    this.options.logger.info('session closed', { deviceId: key, reason });
    this.emit('sessionClosed', session.info(), reason);
  }

  /**
   * Dead connections (silent for 3 ping intervals) and idle streams. A connection we paused for its
   * stream's reader is not read, so its silence alone proves nothing; but a session none of whose
   * connections was heard from for 3 intervals is dead whatever the state of each (a frozen node
   * pings on none, and one paused connection must not keep its session, and new streams' waits, alive).
   */
  #sweep(): void {
    const now = this.options.clock.now();
    const deadAfter = 3 * this.options.pingIntervalMs;
    const idleMs = this.options.idleTimeoutMs;
    for (const session of [...this.#sessions.values()]) {
      if (now - session.lastHeard() > deadAfter) {
        this.#counters.deadConnections += session.connections.size;
        session.close(
          'no word from the node for 3 ping intervals',
          new TunnelError('CONNECTION_LOST', 'session silent for 3 ping intervals'),
        );
      }
    }
    for (const connection of this.#connections) {
      if (connection.state === 'challenge' || connection.state === 'handshaking') continue;
      if (!connection.pausedForReader && now - connection.lastSeen > deadAfter) {
        this.#counters.deadConnections++;
        connection.close(
          new TunnelError('CONNECTION_LOST', 'connection silent for 3 ping intervals'),
        );
      } else if (
        idleMs > 0 &&
        connection.state === 'streaming' &&
        now - connection.lastStreamActivity > idleMs
      ) {
        connection.close(
          new TunnelError('CONNECTION_LOST', 'stream idle timeout'),
          'stream idle timeout',
        );
      }
    }
  }
}
