/**
 * One tunnel connection on the server: the challenge, then AUTH or ATTACH (checked by the host), then
 * PINGs and one stream at a time (CONNECT -> CONNECT_ACK -> DATA -> DISCONNECT/DISCONNECT_ACK).
 */
import type { Socket } from 'node:net';
import type { CryptoContext } from '../../shared/crypto/context.ts';
import {
  type AttachFrame,
  type AuthFrame,
  decodeFrame,
  decodeSplitData,
  encodeChallenge,
  encodeConnect,
  FramePool,
  encodeEmpty,
  encodeError,
  type Frame,
  ipToBytes,
  newChallenge,
  ErrorFrameCode,
  type SplitFrame,
} from '../../shared/tunnel/index.ts';
import type { Id } from '../../shared/id.ts';
import { TunnelError } from './errors.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { Slab } from '../../shared/slab.ts';
import { readFrames } from './slab-reads.ts';
import { TunnelStream, type StreamAddress, type StreamCarrier } from './stream.ts';

/** The handshake verdict: the session context to use from now on, or an ERROR to send. */
export type HandshakeVerdict =
  | { ok: true; session: ConnectionSession }
  | { ok: false; code: number; message: string };

/** What a connection needs from the session it belongs to. */
export interface ConnectionSession {
  readonly ctx: CryptoContext;
  /** DATA payload size to send (negotiated per session). */
  readonly dataChunkBytes: number;
  connectionIdle(connection: ServerConnection): void;
  connectionClosed(connection: ServerConnection): void;
}

/** What a connection needs from the server. */
export interface ConnectionHost {
  readonly options: ResolvedServerOptions;
  peerContextFor(deviceId: Id): CryptoContext | null;
  authenticate(
    connection: ServerConnection,
    frame: AuthFrame,
    challenge: Uint8Array,
  ): Promise<HandshakeVerdict>;
  attach(
    connection: ServerConnection,
    frame: AttachFrame,
    challenge: Uint8Array,
  ): Promise<HandshakeVerdict>;
  countMalformed(reason: string): void;
  connectionGone(connection: ServerConnection): void;
}

/** Reused buffers for outgoing DATA frames (request bodies come in reads of at most 64 KiB); no zero-filling, every byte gets written. */
const framePool = new FramePool(64 * 1024 + 1024, 8, (bytes) => Buffer.allocUnsafe(bytes));

type State = 'challenge' | 'handshaking' | 'idle' | 'connecting' | 'streaming' | 'closed';

interface PendingConnect {
  resolve(stream: TunnelStream): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  address: StreamAddress;
}

export class ServerConnection implements StreamCarrier {
  readonly socket: Socket;
  #host: ConnectionHost;
  /** Frames may lie in the shared scratch buffer of slab reads (./slab-reads.ts): copy DATA kept from there. */
  readonly #scratchReads: boolean;
  #challenge = newChallenge();
  #state: State = 'challenge';
  #session: ConnectionSession | null = null;
  #peerCtx: CryptoContext | null = null;
  #handshakeTimer: NodeJS.Timeout | null;
  #stream: TunnelStream | null = null;
  #pending: PendingConnect | null = null;
  #sentEnd = false;
  #gotEnd = false;
  #aborted = false;
  #pausedForReader = false;
  /** The slab the frame being handled lies in (null: scratch, or a read buffer of its own). */
  #memory: Slab | null = null;
  #drainWaiters: (() => void)[] = [];
  lastSeen: number;
  lastStreamActivity = 0;

  /** `raw`: an accepted socket that has not started reading (the server's pauseOnConnect). */
  constructor(host: ConnectionHost, raw: Socket) {
    this.#host = host;
    this.lastSeen = host.options.clock.now();
    const reads = readFrames(raw, {
      frame: (bytes, memory) => this.#onRead(bytes, memory),
      splitData: (frame) => this.#onSplitData(frame),
      malformed: (message) => {
        this.#host.countMalformed(message);
        this.close(null, message);
      },
      // DATA may follow a CONNECT_ACK in the same read.
      streaming: () => this.#state === 'streaming' || this.#state === 'connecting',
      closed: () => this.#state === 'closed',
    });
    const socket = (this.socket = reads.socket);
    this.#scratchReads = reads.scratch;
    socket.setNoDelay(true);
    socket.on('drain', () => this.#flushDrainWaiters());
    socket.on('error', () => {});
    socket.on('close', () =>
      this.close(new TunnelError('CONNECTION_LOST', 'tunnel connection closed')),
    );
    this.#handshakeTimer = setTimeout(
      () =>
        this.close(new TunnelError('CONNECTION_LOST', 'handshake timeout'), 'handshake timeout'),
      host.options.handshakeTimeoutMs,
    );
    socket.write(encodeChallenge(this.#challenge));
  }

  get state(): State {
    return this.#state;
  }

  /** Paused by us because the stream's reader is full: silence then is not a dead peer. */
  get pausedForReader(): boolean {
    return this.#pausedForReader;
  }

  get hasStream(): boolean {
    return this.#stream !== null || this.#pending !== null;
  }

  /** Sends CONNECT on this idle connection; resolves with the stream once the client's upstream is open. */
  connect(address: StreamAddress): Promise<TunnelStream> {
    const session = this.#session;
    if (this.#state !== 'idle' || !session)
      return Promise.reject(new TunnelError('CONNECTION_LOST', 'connection not idle'));
    this.#state = 'connecting';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = null;
        reject(new TunnelError('UPSTREAM_REFUSED', 'no CONNECT_ACK in time'));
        this.close(null, 'CONNECT_ACK timeout');
      }, this.#host.options.connectTimeoutMs);
      this.#pending = { resolve, reject, timer, address };
      const ip = (address.remoteAddress && ipToBytes(address.remoteAddress)) || new Uint8Array(4);
      this.#write(
        encodeConnect(session.ctx, {
          address: ip,
          port: address.remotePort ?? 0,
          ...(address.tls ? { tls: true } : {}),
        }),
      );
    });
  }

  /** Closes the socket; a stream on it fails with `error`, an ERROR frame goes first when `reason` is a protocol fault. */
  close(error: Error | null, reason?: string, code: number = ErrorFrameCode.PROTOCOL): void {
    if (this.#state === 'closed') return;
    const ctx = this.#session?.ctx ?? this.#peerCtx;
    if (reason && ctx && !this.socket.destroyed) {
      try {
        this.socket.write(encodeError(ctx, { code, message: reason }));
      } catch {
        // the socket is going away anyway
      }
    }
    this.#state = 'closed';
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    const lost = error ?? new TunnelError('CONNECTION_LOST', reason ?? 'tunnel connection closed');
    if (this.#pending) {
      clearTimeout(this.#pending.timer);
      this.#pending.reject(lost);
      this.#pending = null;
    }
    if (this.#stream) {
      const stream = this.#stream;
      this.#stream = null;
      stream.settle(stream.remoteEnded && !error ? null : lost);
    }
    this.#flushDrainWaiters();
    if (reason) this.socket.end();
    setImmediate(() => this.socket.destroy());
    this.#session?.connectionClosed(this);
    this.#host.connectionGone(this);
  }

  // ---- StreamCarrier ----

  sendData(chunk: Uint8Array): boolean {
    const session = this.#session;
    if (!session || this.#state !== 'streaming') return true;
    this.lastStreamActivity = this.#host.options.clock.now();
    if (chunk.length === 0) return !this.socket.writableNeedDrain;
    // Every DATA frame of the chunk in one buffer, one write.
    return framePool.writeDataFrames(this.socket, session.ctx, chunk, session.dataChunkBytes);
  }

  whenDrained(callback: () => void): void {
    if (this.#state === 'closed' || !this.socket.writableNeedDrain) callback();
    else this.#drainWaiters.push(callback);
  }

  endLocal(): void {
    if (this.#state !== 'streaming' || this.#sentEnd) return;
    this.#sentEnd = true;
    this.#write(encodeEmpty(this.#gotEnd ? 'DISCONNECT_ACK' : 'DISCONNECT'));
    this.#maybeStreamDone();
  }

  abort(error: Error | null): void {
    if (this.#state !== 'streaming') return;
    if (error) {
      this.close(error, `stream aborted: ${error.message}`, ErrorFrameCode.INTERNAL);
      return;
    }
    this.#aborted = true;
    this.resumeReading();
    this.endLocal();
  }

  resumeReading(): void {
    if (this.#pausedForReader) {
      this.#pausedForReader = false;
      this.socket.resume();
    }
  }

  // ---- incoming ----

  #write(frame: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(frame);
  }

  #flushDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  /** A whole frame: in slab `memory`, or (null) in the scratch buffer or a read buffer of its own. */
  #onRead(bytes: Uint8Array, memory: Slab | null): void {
    this.lastSeen = this.#host.options.clock.now();
    this.#memory = memory;
    this.#onFrame(bytes);
    this.#memory = null;
  }

  #onSplitData(frame: SplitFrame): void {
    this.lastSeen = this.#host.options.clock.now();
    if (!this.#session) return this.close(null, 'DATA before the handshake finished');
    const pieces = decodeSplitData(frame, this.#session.ctx);
    if (!pieces.ok) {
      this.#host.countMalformed(pieces.error.message);
      return this.close(null, `malformed frame: ${pieces.error.message}`);
    }
    for (const piece of pieces.value) {
      if (this.#state === 'closed') return;
      this.#onStreamData(piece);
    }
  }

  #onFrame(bytes: Uint8Array): void {
    if (this.#state === 'challenge') return this.#onHandshakeFrame(bytes);
    if (this.#state === 'handshaking')
      return this.close(null, 'frame before the handshake finished');
    // The frame's bytes are ours (read from the socket): DATA is decrypted in place.
    const decoded = decodeFrame(bytes, { session: this.#session!.ctx, dataInPlace: true });
    if (!decoded.ok) {
      this.#host.countMalformed(decoded.error.message);
      return this.close(null, `malformed frame: ${decoded.error.message}`);
    }
    this.#dispatch(decoded.value);
  }

  #onHandshakeFrame(bytes: Uint8Array): void {
    const decoded = decodeFrame(bytes, {
      peerFor: (deviceId) => (this.#peerCtx = this.#host.peerContextFor(deviceId)),
    });
    if (!decoded.ok || (decoded.value.type !== 'AUTH' && decoded.value.type !== 'ATTACH')) {
      const message = decoded.ok
        ? `${decoded.value.type} before AUTH/ATTACH`
        : decoded.error.message;
      this.#host.countMalformed(message);
      const authFailure =
        !decoded.ok &&
        (decoded.error.code === 'DECRYPT_FAILED' || decoded.error.code === 'DUPLICATED_NONCE');
      return this.close(
        null,
        authFailure ? 'authentication failed' : message,
        authFailure ? ErrorFrameCode.AUTH_FAILED : ErrorFrameCode.PROTOCOL,
      );
    }
    this.#state = 'handshaking';
    const frame = decoded.value;
    const verdict =
      frame.type === 'AUTH'
        ? this.#host.authenticate(this, frame, this.#challenge)
        : this.#host.attach(this, frame, this.#challenge);
    verdict.then(
      (v) => this.#onVerdict(v),
      (e: Error) => this.close(null, `handshake failed: ${e.message}`, ErrorFrameCode.INTERNAL),
    );
  }

  #onVerdict(verdict: HandshakeVerdict): void {
    if (this.#state !== 'handshaking') return;
    if (!verdict.ok) return this.close(null, verdict.message, verdict.code);
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = null;
    this.#session = verdict.session;
    this.#state = 'idle';
    verdict.session.connectionIdle(this);
  }

  /** Writes a handshake reply (AUTH_ACK / ATTACH_ACK) prepared by the host. */
  sendHandshakeReply(frame: Uint8Array): void {
    this.#write(frame);
  }

  #dispatch(frame: Frame): void {
    switch (frame.type) {
      case 'PING':
        return this.#write(encodeEmpty('PING_ACK'));
      case 'PING_ACK':
        return;
      case 'ERROR':
        return this.close(
          new TunnelError('REMOTE_ERROR', `peer error ${frame.code}: ${frame.message}`),
        );
      case 'CONNECT_ACK':
        return this.#onConnectAck(frame.success);
      case 'DATA':
        return this.#onStreamData(frame.data);
      case 'DISCONNECT':
        return this.#onDisconnect();
      case 'DISCONNECT_ACK':
        return this.#onDisconnectAck();
      default:
        this.#host.countMalformed(`unexpected ${frame.type}`);
        return this.close(null, `unexpected ${frame.type}`);
    }
  }

  #onConnectAck(success: boolean): void {
    const pending = this.#pending;
    if (this.#state !== 'connecting' || !pending)
      return this.close(null, 'CONNECT_ACK without CONNECT');
    clearTimeout(pending.timer);
    this.#pending = null;
    if (!success) {
      this.#state = 'idle';
      pending.reject(new TunnelError('UPSTREAM_REFUSED', 'the node could not reach its upstream'));
      this.#session!.connectionIdle(this);
      return;
    }
    this.#state = 'streaming';
    this.#sentEnd = this.#gotEnd = this.#aborted = false;
    this.lastStreamActivity = this.#host.options.clock.now();
    this.#stream = new TunnelStream(this, pending.address);
    pending.resolve(this.#stream);
  }

  #onStreamData(data: Uint8Array): void {
    if (this.#state !== 'streaming') return this.close(null, 'DATA outside a stream');
    this.lastStreamActivity = this.#host.options.clock.now();
    if (this.#aborted || this.#gotEnd || !this.#stream) return;
    // Without slab memory the bytes are the stream's, unless they lie in the shared scratch buffer.
    const memory = this.#memory;
    const owned = memory || !this.#scratchReads ? data : Buffer.from(data);
    if (!this.#stream.deliver(owned, memory) && !this.#pausedForReader) {
      this.#pausedForReader = true;
      this.socket.pause();
    }
  }

  #onDisconnect(): void {
    if (this.#state !== 'streaming') return;
    this.#gotEnd = true;
    this.#stream?.remoteEnd();
    if (this.#aborted && !this.#sentEnd) this.endLocal();
    else if (this.#sentEnd) {
      // Crossed DISCONNECTs: acknowledge theirs; ours is settled by it too.
      this.#write(encodeEmpty('DISCONNECT_ACK'));
    }
    this.#maybeStreamDone();
  }

  #onDisconnectAck(): void {
    if (this.#state !== 'streaming' || !this.#sentEnd) return;
    this.#gotEnd = true;
    this.#stream?.remoteEnd();
    this.#maybeStreamDone();
  }

  #maybeStreamDone(): void {
    if (!(this.#sentEnd && this.#gotEnd) || this.#state !== 'streaming') return;
    const stream = this.#stream;
    this.#stream = null;
    this.#state = 'idle';
    this.resumeReading();
    stream?.settle(null);
    this.#session?.connectionIdle(this);
  }
}
