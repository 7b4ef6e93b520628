/**
 * One tunnel connection of the client: answers the challenge with AUTH (first connection) or ATTACH,
 * then carries one upstream connection at a time for the server's CONNECTs, with backpressure both
 * ways (a full side pauses the other).
 */
import { connect, Socket } from 'node:net';
import type { CryptoContext } from '../../shared/crypto/context.ts';
import {
  type AuthAckFrame,
  decodeChallenge,
  decodeFrame,
  decodeSplitData,
  encodeAttach,
  encodeAuth,
  encodeConnectAck,
  FramePool,
  encodeEmpty,
  encodeError,
  type Frame,
  FrameReader,
  MAX_DATA_BYTES,
  PROTOCOL_VERSION,
  ErrorFrameCode,
  type SplitFrame,
} from '../../shared/tunnel/index.ts';
import type { SessionKeyPair } from '../../shared/tunnel/session-key.ts';
import { AgentError } from '../errors.ts';
import type { ResolvedClientOptions, Upstream } from './options.ts';

export interface ClientConnectionHost {
  readonly options: ResolvedClientOptions;
  readonly sessionKeys: SessionKeyPair;
  /** Null until AUTH_ACK. */
  readonly sessionCtx: CryptoContext | null;
  /** DATA payload size to send (negotiated in AUTH/AUTH_ACK). */
  readonly dataChunkBytes: number;
  peerContext(): CryptoContext;
  now(): number;
  authenticated(connection: ClientConnection, ack: AuthAckFrame): void;
  attached(connection: ClientConnection): void;
  busy(connection: ClientConnection): void;
  idle(connection: ClientConnection): void;
  closed(connection: ClientConnection, error: AgentError): void;
}

/**
 * One read buffer for every upstream socket of the process (node:net `onread`): each read is sealed
 * into a frames buffer of its own before the next read can reuse it, so nothing is allocated per read.
 */
const UPSTREAM_READ_BYTES = 256 * 1024;
let upstreamReadBuffer: Buffer | null = null;

/** Frames split across socket reads are copied into one of these: every byte is written, no zero-fill. */
const allocSplitFrame = (bytes: number): Uint8Array => Buffer.allocUnsafe(bytes);

/** Reused buffers for outgoing DATA frames (one upstream read, framed); no zero-filling, every byte gets written. */
const framePool = new FramePool(UPSTREAM_READ_BYTES + 1024, 8, (bytes) =>
  Buffer.allocUnsafe(bytes),
);

type State = 'challenge' | 'handshake' | 'idle' | 'connecting' | 'streaming' | 'closed';

export class ClientConnection {
  readonly kind: 'auth' | 'attach';
  readonly socket: Socket;
  #host: ClientConnectionHost;
  #reader = new FrameReader(2, allocSplitFrame);
  #peer: CryptoContext;
  #state: State = 'challenge';
  #timer: NodeJS.Timeout | null;
  #upstream: Upstream | null = null;
  #sentEnd = false;
  #gotEnd = false;
  #graceTimer: NodeJS.Timeout | null = null;
  lastSeen: number;
  lastSent: number;
  idleSince: number;
  nextPingDelay = 0;
  /** AUTH_ACK / ATTACH_ACK received. */
  handshakeDone = false;

  constructor(host: ClientConnectionHost, socket: Socket, kind: 'auth' | 'attach') {
    this.#host = host;
    this.kind = kind;
    this.socket = socket;
    this.#peer = host.peerContext();
    this.lastSeen = this.lastSent = this.idleSince = host.now();
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () =>
      this.close(new AgentError('CONNECTION_LOST', 'tunnel connection closed')),
    );
    socket.on('drain', () => this.#upstream?.resume());
    this.#timer = setTimeout(
      () => this.close(new AgentError('CONNECTION_LOST', 'handshake timeout')),
      host.options.handshakeTimeoutMs,
    );
  }

  get state(): State {
    return this.#state;
  }

  close(error: AgentError, sendError?: { code: number; message: string }): void {
    if (this.#state === 'closed') return;
    const ctx = this.#host.sessionCtx;
    if (sendError && ctx && !this.socket.destroyed) this.socket.write(encodeError(ctx, sendError));
    this.#state = 'closed';
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#upstream?.destroy();
    this.#upstream = null;
    this.socket.end();
    setImmediate(() => this.socket.destroy());
    this.#host.closed(this, error);
  }

  /** PING if silent long enough; close if the server has been silent for 3 intervals. */
  tick(now: number): void {
    if (this.#state === 'closed' || this.#state === 'challenge' || this.#state === 'handshake')
      return;
    const interval = this.#host.options.pingIntervalMs;
    if (now - this.lastSeen > 3 * interval && !this.socket.isPaused()) {
      this.close(new AgentError('CONNECTION_LOST', 'server silent for 3 ping intervals'));
      return;
    }
    if (now - Math.max(this.lastSent, this.lastSeen) >= this.nextPingDelay) this.#ping();
  }

  #ping(): void {
    const o = this.#host.options;
    this.nextPingDelay = o.pingIntervalMs - o.random() * o.pingJitterMs;
    this.#send(encodeEmpty('PING'));
  }

  #send(frame: Uint8Array): boolean {
    this.lastSent = this.#host.now();
    return this.socket.destroyed ? true : this.socket.write(frame);
  }

  #onData(chunk: Buffer): void {
    this.lastSeen = this.#host.now();
    // Socket reads are fresh buffers: a large DATA frame split across two is decrypted in its pieces.
    const frames = this.#reader.pushKeepingSplitData(chunk);
    if (!frames.ok) return this.close(new AgentError('PROTOCOL', frames.error.message));
    for (const frame of frames.value) {
      if (this.#state === 'closed') return;
      if (!(frame instanceof Uint8Array)) this.#onSplitData(frame);
      else if (this.#state === 'challenge') this.#onChallenge(frame);
      else this.#onFrame(frame);
    }
  }

  #onSplitData(frame: SplitFrame): void {
    const ctx = this.#host.sessionCtx;
    const pieces = ctx && this.#state !== 'handshake' ? decodeSplitData(frame, ctx) : null;
    if (!pieces?.ok)
      return this.close(new AgentError('PROTOCOL', 'malformed DATA frame'), {
        code: ErrorFrameCode.PROTOCOL,
        message: 'malformed DATA frame',
      });
    for (const piece of pieces.value) {
      if (this.#state === 'closed') return;
      this.#onData2(piece);
    }
  }

  #onChallenge(frame: Uint8Array): void {
    const challenge = decodeChallenge(frame);
    if (!challenge.ok) return this.close(new AgentError('PROTOCOL', challenge.error.message));
    this.#reader.minSize = 3;
    const o = this.#host.options;
    const signature = o.deviceKey.sign(challenge.value);
    const sessionKey = this.#host.sessionKeys.publicKey;
    this.#state = 'handshake';
    this.#send(
      this.kind === 'auth'
        ? encodeAuth(this.#peer, {
            deviceId: o.deviceKey.id,
            version: PROTOCOL_VERSION,
            userId: o.userKey.id,
            sessionKey,
            nameAccess: o.nameAccess ? 1 : 0,
            signature,
            ...(o.largeFrames ? { maxDataBytes: MAX_DATA_BYTES } : {}),
            ...(o.tlsUpstream ? { tlsStreams: true } : {}),
            ...(o.largePoolConnections ? { pool: o.largePoolConnections } : {}),
          })
        : encodeAttach(this.#peer, { deviceId: o.deviceKey.id, sessionKey, signature }),
    );
  }

  #onFrame(bytes: Uint8Array): void {
    const handshaking = this.#state === 'handshake';
    // The frame's bytes are ours (read from the socket): DATA is decrypted in place.
    const decoded = decodeFrame(
      bytes,
      handshaking
        ? { peer: this.#peer }
        : { session: this.#host.sessionCtx ?? undefined, dataInPlace: true },
    );
    if (!decoded.ok) {
      // A handshake reply that does not open under the peer context comes from a server whose key is
      // not servicePeerId: retrying cannot fix that.
      if (handshaking && decoded.error.code === 'DECRYPT_FAILED') {
        return this.close(
          new AgentError(
            'AUTH_FAILED',
            'the server is not the configured service peer (its reply does not decrypt)',
          ),
        );
      }
      return this.close(new AgentError('PROTOCOL', `malformed frame: ${decoded.error.message}`));
    }
    const frame = decoded.value;
    if (frame.type === 'ERROR') return this.close(errorFrom(frame.code, frame.message));
    if (handshaking) return this.#onHandshakeReply(frame);
    this.#dispatch(frame);
  }

  #onHandshakeReply(frame: Frame): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.handshakeDone = true;
    if (this.kind === 'auth' && frame.type === 'AUTH_ACK') {
      this.#state = 'idle';
      this.#host.authenticated(this, frame);
    } else if (this.kind === 'attach' && frame.type === 'ATTACH_ACK') {
      this.#state = 'idle';
      this.#host.attached(this);
    } else {
      this.handshakeDone = false;
      return this.close(new AgentError('PROTOCOL', `unexpected ${frame.type} in the handshake`));
    }
    this.idleSince = this.#host.now();
    this.#host.idle(this);
  }

  #dispatch(frame: Frame): void {
    switch (frame.type) {
      case 'PING':
        this.#send(encodeEmpty('PING_ACK'));
        return;
      case 'PING_ACK':
        return;
      case 'CONNECT':
        return this.#onConnect(frame.tls === true);
      case 'DATA':
        return this.#onData2(frame.data);
      case 'DISCONNECT':
        return this.#onDisconnect();
      case 'DISCONNECT_ACK':
        return this.#onDisconnectAck();
      default:
        this.close(new AgentError('PROTOCOL', `unexpected ${frame.type}`), {
          code: ErrorFrameCode.PROTOCOL,
          message: `unexpected ${frame.type}`,
        });
    }
  }

  #onConnect(tls: boolean): void {
    if (this.#state !== 'idle')
      return this.close(new AgentError('PROTOCOL', 'CONNECT while busy'), {
        code: ErrorFrameCode.PROTOCOL,
        message: 'CONNECT while busy',
      });
    const upstream = this.#openUpstream(tls);
    if (!upstream) {
      this.#send(encodeConnectAck(false));
      return;
    }
    this.#state = 'connecting';
    this.#sentEnd = this.#gotEnd = false;
    this.#host.busy(this);
    this.#upstream = upstream;
    let opened = false;
    const onOpen = () => {
      opened = true;
      if (this.#upstream !== upstream || this.#state !== 'connecting') return;
      this.#state = 'streaming';
      this.#send(encodeConnectAck(true));
    };
    // A stream opened in this process is open at once; a dialed one once it connects.
    const dialed = upstream instanceof Socket ? upstream : null;
    if (dialed) dialed.once('connect', onOpen);
    else queueMicrotask(onOpen);
    upstream.on('end', () => this.#upstreamEnded(upstream));
    upstream.on('error', (e: Error) => {
      if (this.#upstream !== upstream) return;
      if (!opened) {
        this.#upstream = null;
        this.#send(encodeConnectAck(false));
        this.#becomeIdle();
      } else {
        this.close(new AgentError('CONNECTION_LOST', `upstream error: ${e.message}`), {
          code: ErrorFrameCode.UPSTREAM,
          message: e.message,
        });
      }
    });
    upstream.on('close', () => {
      // Closed without a FIN we saw (reset, destroyed): abort the stream.
      if (this.#upstream === upstream && opened) this.#upstreamEnded(upstream);
    });
    upstream.on('drain', () => this.socket.resume());
  }

  /**
   * The upstream of a CONNECT: a raw TLS stream goes to the TLS terminator only, a plain one to the
   * entry in this process or dialed, nowhere when the name is private (null: refused).
   */
  #openUpstream(tls: boolean): Upstream | null {
    const o = this.#host.options;
    if (!tls && !o.tlsOnly && o.openUpstream) {
      const upstream: Upstream = o.openUpstream((bytes) => this.#fromUpstream(upstream, bytes));
      return upstream;
    }
    const target = tls ? o.tlsUpstream : o.tlsOnly ? undefined : o.upstream;
    if (!target) return null;
    const buffer = (upstreamReadBuffer ??= Buffer.allocUnsafe(UPSTREAM_READ_BYTES));
    const upstream: Socket = connect({
      host: target.host,
      port: target.port,
      noDelay: true,
      allowHalfOpen: true,
      // Returning false pauses the socket (backpressure from the tunnel connection).
      onread: {
        buffer,
        callback: (bytes: number, buf: Uint8Array) =>
          this.#fromUpstream(upstream, buf.subarray(0, bytes)),
      },
    });
    return upstream;
  }

  /** Upstream bytes become DATA frames, all of one read in one buffer and one write; false = paused. */
  #fromUpstream(upstream: Upstream, chunk: Uint8Array): boolean {
    const ctx = this.#host.sessionCtx;
    if (
      this.#upstream !== upstream ||
      this.#state !== 'streaming' ||
      this.#sentEnd ||
      !ctx ||
      chunk.length === 0
    )
      return true;
    this.lastSent = this.#host.now();
    if (
      this.socket.destroyed ||
      framePool.writeDataFrames(this.socket, ctx, chunk, this.#host.dataChunkBytes)
    )
      return true;
    upstream.pause();
    return false;
  }

  #onData2(data: Uint8Array): void {
    if (this.#state !== 'streaming')
      return this.close(new AgentError('PROTOCOL', 'DATA outside a stream'), {
        code: ErrorFrameCode.PROTOCOL,
        message: 'DATA outside a stream',
      });
    const upstream = this.#upstream;
    if (!upstream || this.#gotEnd) return;
    if (!upstream.write(data)) this.socket.pause();
  }

  /** The upstream finished sending: our side of the stream is done. */
  #upstreamEnded(upstream: Upstream): void {
    if (this.#upstream !== upstream || this.#state !== 'streaming' || this.#sentEnd) return;
    this.#sentEnd = true;
    this.#send(encodeEmpty(this.#gotEnd ? 'DISCONNECT_ACK' : 'DISCONNECT'));
    this.#maybeDone();
  }

  #onDisconnect(): void {
    if (this.#state === 'connecting') {
      // Aborted before the upstream answered.
      this.#gotEnd = true;
      this.#sentEnd = true;
      this.#send(encodeEmpty('DISCONNECT_ACK'));
      return this.#maybeDone();
    }
    if (this.#state !== 'streaming' || this.#gotEnd) return;
    this.#gotEnd = true;
    this.socket.resume();
    if (this.#sentEnd) {
      this.#send(encodeEmpty('DISCONNECT_ACK'));
      return this.#maybeDone();
    }
    // Half-close: the upstream may still answer; cut it if it takes too long.
    this.#upstream?.end();
    this.#graceTimer = setTimeout(() => {
      this.#upstream?.destroy();
      if (this.#state === 'streaming' && !this.#sentEnd) {
        this.#sentEnd = true;
        this.#send(encodeEmpty('DISCONNECT_ACK'));
        this.#maybeDone();
      }
    }, this.#host.options.disconnectGraceMs);
  }

  #onDisconnectAck(): void {
    if (this.#state !== 'streaming' || !this.#sentEnd || this.#gotEnd) return;
    this.#gotEnd = true;
    this.#upstream?.end();
    this.#maybeDone();
  }

  #maybeDone(): void {
    if (!(this.#sentEnd && this.#gotEnd)) return;
    const upstream = this.#upstream;
    this.#upstream = null;
    if (upstream && !upstream.destroyed) upstream.end(() => upstream.destroy());
    this.#becomeIdle();
  }

  #becomeIdle(): void {
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#graceTimer = null;
    if (this.#state === 'closed') return;
    this.socket.resume();
    this.#state = 'idle';
    this.idleSince = this.#host.now();
    this.#host.idle(this);
  }
}

function errorFrom(code: number, message: string): AgentError {
  switch (code) {
    case ErrorFrameCode.AUTH_FAILED:
      return new AgentError('AUTH_FAILED', `server refused authentication: ${message}`);
    case ErrorFrameCode.FORBIDDEN:
      return new AgentError('FORBIDDEN', `server access policy refused this device: ${message}`);
    case ErrorFrameCode.VERSION:
      return new AgentError('VERSION', `server refused protocol version: ${message}`);
    case ErrorFrameCode.LIMIT:
      return new AgentError('LIMIT', `server at its limit: ${message}`);
    default:
      return new AgentError('REMOTE_ERROR', `server error ${code}: ${message}`);
  }
}
