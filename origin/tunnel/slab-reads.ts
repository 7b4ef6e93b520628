/**
 * Tunnel connections read into pooled slabs (../../shared/slab.ts, through node:net's `onread`)
 * instead of a fresh 64 KiB buffer per read. A connection reads into the free end of a 256 KiB slab
 * and the next read continues right behind the last one, so a frame split across reads lies whole in
 * one place (decrypted in one call, no piecewise decryption), and one read may take several frames.
 *
 * Idle connections (no stream) hold no slab: they read into one shared scratch buffer whose frames
 * are handled during the read's callback (a frame still incomplete at its end moves to a slab first).
 *
 * node:net's server has no `onread` option: an accepted socket's handle is taken over by a socket
 * made with one (`adoptWithSlabReads`); where that is not possible the caller keeps the plain socket.
 */
import { Socket } from 'node:net';
import { type Slab, SlabPool } from '../../shared/slab.ts';
import { FrameReader, type SplitFrame } from '../../shared/tunnel/index.ts';

export const SLAB_BYTES = 256 * 1024;
/** Room a slab needs for the next read: a whole frame (at most 65,535 bytes), so a frame begun in it ends in it. */
const MIN_ROOM = 65_536;

/** The super node's slabs (16 kept free: 4 MiB). */
export const tunnelSlabs = new SlabPool(SLAB_BYTES, 16, (bytes) => Buffer.allocUnsafeSlow(bytes));

const scratch = Buffer.allocUnsafeSlow(MIN_ROOM);

/** What the reads are for: one connection's frames. */
export interface SlabFrameSink {
  /**
   * One whole frame (size prefix included): a view into `memory`, or, with `memory` null, into the
   * shared scratch buffer (valid only during the call: copy what must be kept).
   */
  frame(bytes: Uint8Array, memory: Slab | null): void;
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
  #buf: Uint8Array = scratch;
  /** First byte not yet parsed, and the end of what was read, in #buf. */
  #start = 0;
  #end = 0;

  constructor(sink: SlabFrameSink, minSize = 3) {
    this.#sink = sink;
    this.#minSize = minSize;
  }

  /** The buffer the next read goes into (node:net calls it before the first read and after each). */
  readonly buffer = (): Uint8Array => {
    const pending = this.#end - this.#start;
    if (pending === 0 && (!this.#sink.streaming() || this.#sink.closed())) {
      this.#slab?.retire();
      this.#slab = null;
      this.#buf = scratch;
      this.#start = this.#end = 0;
      return scratch;
    }
    if (this.#slab && this.#buf.length - this.#end >= MIN_ROOM)
      return this.#buf.subarray(this.#end);
    const next = tunnelSlabs.take();
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

/** What a connection's reads deliver, whichever way its socket is read. */
export interface FrameSink extends SlabFrameSink {
  /** A large DATA frame that arrived in pieces (plain reads only: each piece a read buffer's view). */
  splitData(frame: SplitFrame): void;
}

/** Frames split across plain reads are copied into one of these: every byte is written, no zero-fill. */
const allocSplitFrame = (bytes: number): Uint8Array => Buffer.allocUnsafe(bytes);

/**
 * Starts reading `raw` (from a server with `pauseOnConnect`) for `sink`: into slabs where node:net
 * allows it, else the plain way (a fresh buffer per read, whose frames are the sink's to keep, split
 * DATA frames handed over in their pieces). Returns the socket to use from now on, and whether frames
 * may lie in the shared scratch buffer (`memory` null: copy what is kept).
 */
export function readFrames(raw: Socket, sink: FrameSink): { socket: Socket; scratch: boolean } {
  const reads = new SlabReads(sink);
  const adopted = adoptWithSlabReads(raw, reads);
  if (adopted) {
    adopted.on('close', () => reads.release());
    return { socket: adopted, scratch: true };
  }
  const reader = new FrameReader(3, allocSplitFrame);
  raw.on('data', (chunk: Buffer) => {
    // Socket reads are fresh buffers: a large DATA frame split across two is decrypted in its pieces.
    const frames = reader.pushKeepingSplitData(chunk);
    if (!frames.ok) return sink.malformed(frames.error.message);
    for (const frame of frames.value) {
      if (sink.closed()) return;
      if (frame instanceof Uint8Array) sink.frame(frame, null);
      else sink.splitData(frame);
    }
  });
  raw.resume();
  return { socket: raw, scratch: false };
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
