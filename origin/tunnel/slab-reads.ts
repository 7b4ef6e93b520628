/**
 * Tunnel connections read into pooled slabs (node:net's `onread`) instead of a fresh buffer per read.
 *
 * Node.js reads a socket into a new 64 KiB buffer each time. At relay rates that is 16,384 buffers per
 * GiB whose memory V8 counts as external: every 64 MiB or so of them starts a full mark-compact of
 * the whole heap ("external memory pressure"), which cost the super node about 1 CPU-s per GiB on
 * V8's helper threads alone (docs/benchmarks.md). Here a connection reads into the free end of a
 * 256 KiB slab, and the next read continues right behind the last one, so a frame split across reads
 * lies whole in one place (decrypted in one call, no piecewise decryption) and one read may take
 * several frames at once. A slab goes back to the pool when no connection reads into it any more and
 * every view of it that was kept has been released (`retain` before keeping a view past the call
 * that delivered it, `release` once done, e.g. as the callback of the socket write that sends it on).
 * A view that goes somewhere nobody can tell when it is done with (a stream's readable side) pins
 * its slab, which is then left to the garbage collector as every read buffer was before.
 *
 * Idle connections (no stream) hold no slab: they read into one shared scratch buffer whose frames
 * are handled during the read's callback (a frame still incomplete at its end moves to a slab first).
 *
 * node:net's server has no `onread` option: an accepted socket's handle is taken over by a socket
 * made with one (`adoptWithSlabReads`); where that is not possible the caller keeps the plain socket.
 */
import { Socket } from 'node:net';
import type { ViewMemory } from './stream.ts';

export const SLAB_BYTES = 256 * 1024;
/** Room a slab needs for the next read: a whole frame (at most 65,535 bytes), so a frame begun in it ends in it. */
const MIN_ROOM = 65_536;
/** Free slabs kept for reuse (4 MiB). */
const MAX_FREE = 16;

const free: Slab[] = [];
/** Slabs made, and taken again from the pool, since start. */
const counts = { made: 0, reused: 0 };

export class Slab implements ViewMemory {
  readonly bytes: Buffer;
  #refs = 0;
  /** Some connection still reads into it. */
  #reading = true;
  #pinned = false;

  constructor() {
    this.bytes = Buffer.allocUnsafeSlow(SLAB_BYTES);
    counts.made++;
  }

  static take(): Slab {
    const slab = free.pop();
    if (!slab) return new Slab();
    counts.reused++;
    slab.#reading = true;
    return slab;
  }

  retain(): void {
    this.#refs++;
  }

  readonly release = (): void => {
    // More releases than retains is a bug somewhere: never reuse this slab rather than risk it.
    if (--this.#refs < 0) this.#pinned = true;
    else if (this.#refs === 0 && !this.#reading) this.#recycle();
  };

  pin(): void {
    this.#pinned = true;
  }

  /** The connection reading into it moved on. */
  retire(): void {
    this.#reading = false;
    if (this.#refs === 0) this.#recycle();
  }

  #recycle(): void {
    if (!this.#pinned && free.length < MAX_FREE) free.push(this);
  }

  static stats(): { made: number; reused: number; free: number } {
    return { ...counts, free: free.length };
  }
}

const scratch = Buffer.allocUnsafeSlow(MIN_ROOM);

/** What the reads are for: one connection's frames. */
export interface SlabFrameSink {
  /**
   * One whole frame (size prefix included): a view into `memory`, or, with `memory` null, into the
   * shared scratch buffer (valid only during the call: copy what must be kept).
   */
  frame(bytes: Buffer, memory: Slab | null): void;
  /** A frame size below the minimum: the byte stream cannot be resynchronised. */
  malformed(message: string): void;
  /** Frames may carry stream data now or soon: read into a slab, not the scratch buffer. */
  streaming(): boolean;
  /** The connection is gone: nothing more is parsed. */
  closed(): boolean;
}

/** One connection's read position in its slab, and its frame splitting. */
export class SlabReads {
  readonly #sink: SlabFrameSink;
  readonly #minSize: number;
  #slab: Slab | null = null;
  #buf: Buffer = scratch;
  /** First byte not yet parsed, and the end of what was read, in #buf. */
  #start = 0;
  #end = 0;

  constructor(sink: SlabFrameSink, minSize = 3) {
    this.#sink = sink;
    this.#minSize = minSize;
  }

  /** The buffer the next read goes into (node:net calls it before the first read and after each). */
  readonly buffer = (): Buffer => {
    const pending = this.#end - this.#start;
    if (pending === 0 && (!this.#sink.streaming() || this.#sink.closed())) {
      this.#slab?.retire();
      this.#slab = null;
      this.#buf = scratch;
      this.#start = this.#end = 0;
      return scratch;
    }
    if (this.#slab && this.#buf.length - this.#end >= MIN_ROOM) return this.#buf.subarray(this.#end);
    const next = Slab.take();
    // The start of a frame still incomplete moves along (at most one frame's bytes).
    if (pending > 0) next.bytes.set(this.#buf.subarray(this.#start, this.#end), 0);
    this.#slab?.retire();
    this.#slab = next;
    this.#buf = next.bytes;
    this.#start = 0;
    this.#end = pending;
    return next.bytes.subarray(pending);
  };

  /** `nread` bytes were read into the buffer last handed out; true: keep reading (pausing is the socket's). */
  readonly callback = (nread: number): boolean => {
    this.#end += nread;
    const buf = this.#buf;
    const memory = this.#slab;
    let at = this.#start;
    while (this.#end - at >= 2 && !this.#sink.closed()) {
      const size = (buf[at] << 8) | buf[at + 1];
      if (size < this.#minSize) {
        this.#start = this.#end;
        this.#sink.malformed(`frame size ${size} below ${this.#minSize}`);
        return true;
      }
      if (this.#end - at < size) break;
      const frame = buf.subarray(at, at + size);
      at += size;
      this.#start = at;
      this.#sink.frame(frame, memory);
    }
    this.#start = at;
    return true;
  };

  /** Lets go of the slab (the connection closed). */
  release(): void {
    this.#slab?.retire();
    this.#slab = null;
    this.#buf = scratch;
    this.#start = this.#end = 0;
  }
}

/**
 * A socket over `raw`'s handle that reads with `reads` (raw must come from a server with
 * `pauseOnConnect`, so it never started reading), or null when this Node.js does not allow it.
 */
export function adoptWithSlabReads(raw: Socket, reads: SlabReads): Socket | null {
  const internal = raw as unknown as { _handle: { readStart?: unknown } | null };
  const handle = internal._handle;
  if (!handle || typeof handle.readStart !== 'function') return null;
  let socket: Socket;
  try {
    socket = new Socket({
      handle,
      onread: { buffer: reads.buffer, callback: reads.callback },
    } as unknown as ConstructorParameters<typeof Socket>[0]);
  } catch {
    return null;
  }
  // The old socket lets go of the handle (its destroy then only updates the server's count).
  internal._handle = null;
  raw.destroy();
  return socket;
}
