/**
 * The node side of Active Proxy 3.0: dials OUT to a super node, AUTHs with the device key, and keeps
 * a pool of tunnel connections that grows with demand up to maxConnections (a spare for every two busy
 * connections; extra idle ones trimmed after idleTrimMs). Lost sessions are re-established with a new session key, after a few
 * fast retries and then exponential backoff with full jitter, forever by default. AUTH refusals
 * (signature, policy, version) are fatal: state `failed`, event `failed`.
 *
 * Events: `state` (ClientState), `connecting`, `authenticated` (AuthInfo), `reconnecting`
 * ({attempt, delayMs, reason}), `failed` (AgentError), `stopped`.
 */
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import { CryptoBox } from '../../shared/crypto/box.ts';
import { CryptoContext } from '../../shared/crypto/context.ts';
import { idToX25519 } from '../../shared/keys.ts';
import {
  type AuthAckFrame,
  DATA_CHUNK_BYTES,
  dataChunkBytesFor,
  MAX_CONNECTIONS_CAP,
  newSessionKeyPair,
  type SessionKeyPair,
  sessionContext,
} from '../../shared/tunnel/index.ts';
import { backoffDelay } from './backoff.ts';
import { ClientConnection, type ClientConnectionHost } from './connection.ts';
import { AgentError } from '../errors.ts';
import {
  type TunnelClientOptions,
  resolveClientOptions,
  type ResolvedClientOptions,
} from './options.ts';

export type ClientState =
  | 'idle'
  | 'connecting'
  | 'authenticated'
  | 'reconnecting'
  | 'failed'
  | 'stopped';

/** Handshakes of new connections in flight at once while the pool grows. */
const MAX_ATTACHING = 64;
/**
 * Longest pause in growing the pool after failed ATTACHes: the session itself is up (its own
 * reconnects back off for longer), so a refill never waits the full reconnect backoff.
 */
const MAX_ATTACH_RETRY_MS = 1000;

export interface AuthInfo {
  endpoint: string;
  namedEndpoint: string;
  maxConnections: number;
  /** DATA payload size this client sends: 32,724, or more when the server accepted large frames. */
  dataChunkBytes: number;
}

export class TunnelClient extends EventEmitter {
  readonly options: ResolvedClientOptions;
  #state: ClientState = 'idle';
  #sessionKeys: SessionKeyPair = newSessionKeyPair();
  #sessionCtx: CryptoContext | null = null;
  #dataChunkBytes = DATA_CHUNK_BYTES;
  #auth: AuthInfo | null = null;
  #connections = new Set<ClientConnection>();
  #idle = new Set<ClientConnection>();
  #attaching = 0;
  #failures = 0;
  #attachFailures = 0;
  #attachRetryAt = 0;
  /** Pool size at which the server last refused an ATTACH as over its limit (Infinity: none). */
  #limitSeenAt = Number.POSITIVE_INFINITY;
  #retryTimer: NodeJS.Timeout | null = null;
  #ticker: NodeJS.Timeout | null = null;
  #lastError: AgentError | null = null;
  #peerBox: CryptoBox | null = null;
  /** Bytes of the connections that are gone; the live ones are read from their sockets. */
  #closedBytes = { sent: 0, received: 0 };

  constructor(options: TunnelClientOptions) {
    super();
    this.options = resolveClientOptions(options);
  }

  get state(): ClientState {
    return this.#state;
  }

  /** What the server announced in AUTH_ACK (null before the first session). */
  get authInfo(): AuthInfo | null {
    return this.#auth;
  }

  get lastError(): AgentError | null {
    return this.#lastError;
  }

  stats(): { connections: number; idle: number; busy: number } {
    const connections = [...this.#connections].filter(
      (c) => c.state !== 'challenge' && c.state !== 'handshake',
    ).length;
    return { connections, idle: this.#idle.size, busy: connections - this.#idle.size };
  }

  /** Bytes written to and read from the super node on every connection so far (the wire, framing included). */
  bytes(): { sent: number; received: number } {
    let { sent, received } = this.#closedBytes;
    for (const c of this.#connections) {
      sent += c.socket.bytesWritten;
      received += c.socket.bytesRead;
    }
    return { sent, received };
  }

  start(): void {
    if (this.#state !== 'idle')
      throw new AgentError('INVALID_OPTIONS', `cannot start from state ${this.#state}`);
    const tickMs = Math.max(10, Math.min(1000, Math.floor(this.options.pingIntervalMs / 4)));
    this.#ticker = setInterval(() => this.#tick(), tickMs);
    this.#ticker.unref();
    this.#authenticate();
  }

  /** Closes every connection and stops reconnecting. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#setState('stopped');
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#ticker) clearInterval(this.#ticker);
    const closing = [...this.#connections].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.socket.destroyed) return resolve();
          c.socket.once('close', () => resolve());
          c.close(new AgentError('STOPPED', 'client stopped'));
        }),
    );
    await Promise.all(closing);
    this.emit('stopped');
  }

  #setState(state: ClientState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }

  #host(): ClientConnectionHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const client = this;
    return {
      options: this.options,
      get sessionKeys() {
        return client.#sessionKeys;
      },
      get sessionCtx() {
        return client.#sessionCtx;
      },
      get dataChunkBytes() {
        return client.#dataChunkBytes;
      },
      peerContext: () =>
        new CryptoContext(
          (this.#peerBox ??= CryptoBox.between(
            this.options.deviceKey.x25519SecretKey,
            idToX25519(this.options.servicePeerId),
          )),
        ),
      now: () => performance.now(),
      authenticated: (c, ack) => this.#onAuthenticated(c, ack),
      attached: () => {
        this.#attaching--;
        this.#attachFailures = 0;
      },
      busy: (c) => {
        this.#idle.delete(c);
        this.#ensureSpare();
      },
      idle: (c) => {
        this.#idle.add(c);
      },
      closed: (c, error) => this.#onClosed(c, error),
    };
  }

  #open(kind: 'auth' | 'attach'): ClientConnection {
    const o = this.options;
    const socket = o.createSocket
      ? o.createSocket(o.serverHost, o.serverPort)
      : connect({ host: o.serverHost, port: o.serverPort, noDelay: true });
    const connection = new ClientConnection(this.#host(), socket, kind);
    this.#connections.add(connection);
    return connection;
  }

  #authenticate(): void {
    if (this.#state === 'stopped' || this.#state === 'failed') return;
    this.#sessionKeys = newSessionKeyPair();
    this.#sessionCtx = null;
    this.#setState('connecting');
    this.emit('connecting');
    this.#open('auth');
  }

  #onAuthenticated(connection: ClientConnection, ack: AuthAckFrame): void {
    try {
      this.#sessionCtx = sessionContext(this.#sessionKeys, ack.sessionKey);
    } catch {
      connection.close(new AgentError('PROTOCOL', 'bad server session key'));
      return;
    }
    this.#failures = 0;
    this.#lastError = null;
    this.#limitSeenAt = Number.POSITIVE_INFINITY;
    // A stock server says nothing about frame sizes: stay with the reference size.
    this.#dataChunkBytes = this.options.largeFrames
      ? dataChunkBytesFor(ack.maxDataBytes)
      : DATA_CHUNK_BYTES;
    this.#auth = {
      endpoint: ack.endpoint,
      namedEndpoint: ack.namedEndpoint,
      // Past the stock cap only when we asked for a large pool, and never past what we asked for.
      maxConnections: Math.max(
        1,
        Math.min(
          ack.maxConnections,
          Math.max(MAX_CONNECTIONS_CAP, this.options.largePoolConnections),
        ),
      ),
      dataChunkBytes: this.#dataChunkBytes,
    };
    this.#setState('authenticated');
    this.options.logger.info('active proxy session up', { endpoint: ack.endpoint });
    this.emit('authenticated', this.#auth);
  }

  /**
   * Grows the pool to demand, up to maxConnections: an idle connection is kept ready (so the server's
   * next CONNECT does not wait for a handshake), and while connections are busy, one spare (idle or
   * being attached) for every two busy ones, so a burst grows the pool by half each handshake round
   * trip rather than a few connections at a time. At most MAX_ATTACHING handshakes run at once.
   */
  #ensureSpare(): void {
    if (this.#state !== 'authenticated' || !this.#auth) return;
    if (performance.now() < this.#attachRetryAt) return;
    const limit = Math.min(this.#auth.maxConnections, this.#limitSeenAt);
    const busy = this.#connections.size - this.#idle.size - this.#attaching;
    const spares = Math.max(1, Math.ceil(busy / 2));
    while (
      this.#idle.size + this.#attaching < spares &&
      this.#attaching < MAX_ATTACHING &&
      this.#connections.size < limit
    ) {
      this.#attaching++;
      this.#open('attach');
    }
  }

  #onClosed(connection: ClientConnection, error: AgentError): void {
    if (this.#connections.delete(connection)) {
      this.#closedBytes.sent += connection.socket.bytesWritten;
      this.#closedBytes.received += connection.socket.bytesRead;
    }
    this.#idle.delete(connection);
    if (connection.kind === 'attach' && !connection.handshakeDone) {
      this.#attaching--;
      if (error.code === 'LIMIT') {
        // The server still counts connections we already closed: grow again once one of ours goes.
        this.#limitSeenAt = this.#connections.size;
      } else {
        this.#attachFailures++;
        this.#attachRetryAt =
          performance.now() +
          Math.min(
            MAX_ATTACH_RETRY_MS,
            backoffDelay(this.#attachFailures, this.options.backoff, this.options.random),
          );
      }
    } else if (connection.handshakeDone) {
      this.#limitSeenAt = Number.POSITIVE_INFINITY;
    }
    if (this.#state === 'stopped' || this.#state === 'failed') return;
    if (connection.kind === 'auth' && !connection.handshakeDone) {
      this.#lastError = error;
      if (error.fatal) {
        this.#setState('failed');
        this.options.logger.warn('active proxy authentication refused', {
          code: error.code,
          message: error.message,
        });
        this.emit('failed', error);
        return;
      }
      return this.#scheduleReconnect(error.message);
    }
    if (this.#connections.size === 0) {
      this.#sessionCtx = null;
      return this.#scheduleReconnect(error.message);
    }
    this.#ensureSpare();
  }

  #scheduleReconnect(reason: string): void {
    this.#failures++;
    if (this.#failures > this.options.backoff.maxAttempts) {
      const error = new AgentError(
        'CONNECTION_LOST',
        `gave up after ${this.#failures - 1} attempts: ${reason}`,
      );
      this.#setState('failed');
      this.emit('failed', error);
      return;
    }
    const delayMs = backoffDelay(this.#failures, this.options.backoff, this.options.random);
    this.#setState('reconnecting');
    this.emit('reconnecting', { attempt: this.#failures, delayMs, reason });
    this.#retryTimer = setTimeout(() => this.#authenticate(), delayMs);
  }

  #tick(): void {
    const now = performance.now();
    for (const c of this.#connections) c.tick(now);
    // Trim idle connections beyond one spare.
    if (this.#idle.size > 1) {
      for (const c of this.#idle) {
        if (this.#idle.size <= 1) break;
        if (now - c.idleSince > this.options.idleTrimMs)
          c.close(new AgentError('STOPPED', 'idle connection trimmed'));
      }
    }
    this.#ensureSpare();
  }
}
