/**
 * A Node.js Duplex carried over one tunnel connection (one stream per connection, as Active Proxy 3.0
 * has no stream ids). Writes become DATA frames; DATA frames become readable bytes. Backpressure
 * both ways: a full socket holds the write callback, a full read buffer pauses the socket.
 *
 * Ending: `end()` sends DISCONNECT but keeps reading until the peer's DISCONNECT_ACK (half-close);
 * a peer DISCONNECT ends the readable side, and our DISCONNECT_ACK follows once we have ended
 * writing too. `destroy()` aborts (DISCONNECT, bytes still in flight dropped); `destroy(err)` sends
 * ERROR, which closes the whole connection.
 */
import { Duplex } from 'node:stream';
import type { ViewMemory } from '../../shared/slab.ts';

export type { ViewMemory };

/** What a stream needs from the connection carrying it. */
export interface StreamCarrier {
  /** Sends `chunk` as DATA frames; false when the socket buffer is full. */
  sendData(chunk: Uint8Array): boolean;
  /** Calls back once the socket buffer has drained (or the connection is gone). */
  whenDrained(callback: () => void): void;
  /** Our writing side is done: DISCONNECT, or DISCONNECT_ACK if the peer disconnected first. */
  endLocal(): void;
  /** Give up on the stream: DISCONNECT (no error) or ERROR (error) and drop what still comes. */
  abort(error: Error | null): void;
  /** The reader made room: resume reading the socket. */
  resumeReading(): void;
}

/** Who the stream is for (sent in CONNECT) and how it ends. */
export interface StreamAddress {
  remoteAddress?: string;
  remotePort?: number;
  /**
   * Default true: the readable side ending leaves the writable side open (half-close). False behaves
   * like a net.Socket without allowHalfOpen: the peer's end ends ours too (what node:http expects).
   */
  allowHalfOpen?: boolean;
  /**
   * A raw TLS stream (shared/tunnel/tls-streams.ts): the node hands it to its own TLS terminator.
   * Only for a session whose client declared it takes them. Default false.
   */
  tls?: boolean;
}

/**
 * Takes a stream's bytes directly instead of its readable side: no stream buffer per chunk. The
 * ingress reads HTTP responses this way.
 */
export interface StreamReader {
  /**
   * Bytes from the peer; false pauses the tunnel connection. With `memory`, a view into pooled memory
   * (../../shared/slab.ts): kept past the call only between its retain and release. Without, the bytes are the reader's.
   */
  data(chunk: Uint8Array, memory?: ViewMemory | null): boolean;
  /** The peer sent DISCONNECT: no more bytes will come. */
  end(): void;
  /** The stream failed (connection lost, ERROR from the peer). */
  error(error: Error): void;
}

export class TunnelStream extends Duplex {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  #carrier: StreamCarrier;
  #reader: StreamReader | null = null;
  #remoteEnded = false;
  #settled = false;
  #idleMs = 0;
  #idleTimer: NodeJS.Timeout | null = null;

  constructor(carrier: StreamCarrier, address: StreamAddress = {}) {
    super({ allowHalfOpen: address.allowHalfOpen ?? true, highWaterMark: 256 * 1024 });
    this.#carrier = carrier;
    this.remoteAddress = address.remoteAddress;
    this.remotePort = address.remotePort;
  }

  // ---- from the connection ----

  /** DATA arrived (in pooled `memory`, or the stream's to keep): false asks the connection to pause the socket. */
  deliver(data: Uint8Array, memory: ViewMemory | null = null): boolean {
    this.#touch();
    if (this.#reader) return this.#reader.data(data, memory);
    // The readable side keeps chunks for as long as its consumer likes.
    memory?.pin();
    return this.push(data);
  }

  /** The peer sent DISCONNECT: no more bytes will come. */
  remoteEnd(): void {
    if (this.#remoteEnded) return;
    this.#remoteEnded = true;
    if (this.#reader) this.#reader.end();
    else this.push(null);
  }

  /** The stream is over at the protocol level (both sides ended, or the connection died). */
  settle(error: Error | null): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#clearIdle();
    const reader = this.#reader;
    if (error && reader) {
      this.destroy();
      reader.error(error);
    } else if (error) this.destroy(error);
    else if (!this.#remoteEnded) this.remoteEnd();
  }

  get remoteEnded(): boolean {
    return this.#remoteEnded;
  }

  /** Over at the protocol level: nothing more can be sent or received. */
  get settled(): boolean {
    return this.#settled;
  }

  /**
   * Sends the peer's bytes to `reader` from now on (null: back to the readable side). A stream is
   * read one way or the other, never both.
   */
  setReader(reader: StreamReader | null): void {
    this.#reader = reader;
  }

  /** A reader that returned false from `data` is ready for more. */
  resumeReading(): void {
    this.#carrier.resumeReading();
  }

  // ---- Duplex ----

  override _read(): void {
    this.#carrier.resumeReading();
  }

  override _write(
    chunk: Uint8Array,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#touch();
    if (this.#settled || this.#remoteEnded) {
      // The peer has gone; like writing into a closed pipe whose reader left, the bytes are dropped.
      callback();
      return;
    }
    if (this.#carrier.sendData(chunk)) callback();
    else this.#carrier.whenDrained(() => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#settled) this.#carrier.endLocal();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#clearIdle();
    if (!this.#settled) {
      this.#settled = true;
      this.#carrier.abort(error);
    }
    callback(error);
  }

  // ---- the parts of net.Socket that node:http uses when this stream stands in for a socket ----

  setTimeout(ms: number, callback?: () => void): this {
    this.#idleMs = ms;
    if (callback) this.once('timeout', callback);
    this.#touch();
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  #touch(): void {
    if (this.#idleMs <= 0) return this.#clearIdle();
    this.#idleTimer?.refresh() ??
      (this.#idleTimer = setTimeout(() => this.emit('timeout'), this.#idleMs).unref());
  }

  #clearIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }
}
