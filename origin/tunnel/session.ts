/**
 * A device's Active Proxy session on the server: its session context, its tunnel connections, and
 * the openStream calls waiting for one of them to be idle.
 */
import type { CryptoContext } from '../../shared/crypto/context.ts';
import type { Id } from '../../shared/id.ts';
import type { ConnectionSession, ServerConnection } from './connection.ts';
import { TunnelError } from './errors.ts';
import type { StreamAddress } from './stream.ts';

interface Waiter {
  resolve(connection: ServerConnection): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const aborted = () => new TunnelError('ABORTED', 'the wait for a tunnel connection was withdrawn');

export interface SessionInfo {
  deviceId: Id;
  userId: Id;
  connections: number;
  idleConnections: number;
  queuedStreams: number;
  maxConnections: number;
  /** DATA payload size the server sends on this session (32,724, or more when large frames were agreed). */
  dataChunkBytes: number;
  /** The client takes raw TLS streams (shared/tunnel/tls-streams.ts). */
  tlsStreams: boolean;
  /** clock time the session was authenticated. */
  since: number;
}

export interface SessionHost {
  sessionClosed(session: TunnelSession, reason: string): void;
}

export class TunnelSession implements ConnectionSession {
  readonly deviceId: Id;
  readonly userId: Id;
  readonly clientSessionKey: Uint8Array;
  readonly ctx: CryptoContext;
  readonly maxConnections: number;
  readonly since: number;
  /** DATA payload size sent to this client: 32,724 unless it offered large frames (shared/tunnel/frame-offer.ts). */
  readonly dataChunkBytes: number;
  /** The client declared in AUTH that it takes raw TLS streams (shared/tunnel/tls-streams.ts). */
  readonly tlsStreams: boolean;
  readonly connections = new Set<ServerConnection>();
  #idle: ServerConnection[] = [];
  #waiters: Waiter[] = [];
  #host: SessionHost;
  #closed = false;

  constructor(
    init: {
      deviceId: Id;
      userId: Id;
      clientSessionKey: Uint8Array;
      ctx: CryptoContext;
      maxConnections: number;
      since: number;
      dataChunkBytes: number;
      tlsStreams?: boolean;
    },
    host: SessionHost,
  ) {
    this.deviceId = init.deviceId;
    this.userId = init.userId;
    this.clientSessionKey = init.clientSessionKey;
    this.ctx = init.ctx;
    this.maxConnections = init.maxConnections;
    this.since = init.since;
    this.dataChunkBytes = init.dataChunkBytes;
    this.tlsStreams = init.tlsStreams === true;
    this.#host = host;
  }

  get closed(): boolean {
    return this.#closed;
  }

  info(): SessionInfo {
    return {
      deviceId: this.deviceId,
      userId: this.userId,
      connections: this.connections.size,
      idleConnections: this.#idle.length,
      queuedStreams: this.#waiters.length,
      maxConnections: this.maxConnections,
      dataChunkBytes: this.dataChunkBytes,
      tlsStreams: this.tlsStreams,
      since: this.since,
    };
  }

  /**
   * An idle connection, now or when one frees up (the client grows its pool when all are busy).
   * `signal` withdraws the wait (ABORTED) while it is still queued.
   */
  acquire(queueLimit: number, timeoutMs: number, signal?: AbortSignal): Promise<ServerConnection> {
    if (this.#closed) return Promise.reject(new TunnelError('SESSION_CLOSED', 'session closed'));
    const idle = this.#idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.#waiters.length >= queueLimit)
      return Promise.reject(
        new TunnelError('QUEUE_FULL', 'too many streams waiting for this node'),
      );
    if (signal?.aborted) return Promise.reject(aborted());
    return new Promise((resolve, reject) => {
      const leave = (error: TunnelError) => {
        const at = this.#waiters.indexOf(waiter);
        if (at < 0) return;
        this.#waiters.splice(at, 1);
        clearTimeout(waiter.timer);
        reject(error);
      };
      const onAbort = () => leave(aborted());
      const waiter: Waiter = {
        resolve: (connection) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(connection);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        timer: setTimeout(
          () => leave(new TunnelError('QUEUE_TIMEOUT', 'no tunnel connection became free in time')),
          timeoutMs,
        ),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Moves the queued openStream calls of a replaced session over to this one. */
  adoptWaiters(from: TunnelSession): void {
    const waiters = from.#waiters;
    from.#waiters = [];
    this.#waiters.push(...waiters);
  }

  /** When any of the session's connections last received something (its AUTH time at least). */
  lastHeard(): number {
    let last = this.since;
    for (const c of this.connections) if (c.lastSeen > last) last = c.lastSeen;
    return last;
  }

  addConnection(connection: ServerConnection): void {
    this.connections.add(connection);
  }

  connectionIdle(connection: ServerConnection): void {
    if (this.#closed || connection.state !== 'idle') return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(connection);
    } else if (!this.#idle.includes(connection)) {
      this.#idle.push(connection);
    }
  }

  connectionClosed(connection: ServerConnection): void {
    this.connections.delete(connection);
    const at = this.#idle.indexOf(connection);
    if (at >= 0) this.#idle.splice(at, 1);
    if (this.connections.size === 0) this.close('last connection closed');
  }

  /** Ends the session: every connection closes, waiters fail. */
  close(reason: string, error: Error = new TunnelError('SESSION_CLOSED', reason)): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#waiters = [];
    this.#idle = [];
    for (const connection of [...this.connections]) connection.close(error);
    this.connections.clear();
    this.#host.sessionClosed(this, reason);
  }
}

export type { StreamAddress };
