/**
 * Splits a byte stream into whole frames by their `size u16` prefix, whatever the chunking. Frames
 * that sit whole inside one chunk are returned as views (no copy). A frame split across chunks is
 * copied into a buffer of exactly its size, except, with `pushKeepingSplitData`, a large DATA frame:
 * that one is returned as the views of its pieces, to be decrypted where they lie
 * (`decodeSplitData`), which spares copying nearly every frame when frames are about as large as the
 * socket's reads (65,535-byte frames in 65,536-byte reads straddle almost every read boundary).
 */
import { err, ok, type Result, SharedError } from '../errors.ts';

/** A DATA frame received in pieces (views into the chunks it came in), in order. */
export interface SplitFrame {
  readonly pieces: Uint8Array[];
  /** The frame's size, header included. */
  readonly length: number;
}

/** DATA type bytes (./frame-type.ts): 0x40..0x6F, never with the ACK bit. */
const isDataType = (byte: number) => byte >= 0x40 && byte <= 0x6f;
/** Smaller split frames are copied: cheaper than decrypting them piece by piece. */
const KEEP_MIN_BYTES = 4096;
/** A frame arriving in more pieces than this is gathered into one buffer (bounded bookkeeping). */
const MAX_PIECES = 8;

export class FrameReader {
  #minSize: number;
  readonly #alloc: (bytes: number) => Uint8Array;
  /** A frame split across chunks: its pieces so far (views), or the buffer they were gathered into. */
  #pieces: Uint8Array[] = [];
  #partial: Uint8Array | null = null;
  /** Bytes of the split frame received, and its size (0 while only its first byte is in). */
  #filled = 0;
  #size = 0;

  /**
   * `minSize`: the smallest legal frame (3 with a type byte; the challenge frame has none).
   * `alloc`: buffers for split frames; a runtime may skip zero-filling, as every byte is copied in.
   */
  constructor(
    minSize = 3,
    alloc: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes),
  ) {
    this.#minSize = minSize;
    this.#alloc = alloc;
  }

  set minSize(value: number) {
    this.#minSize = value;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.#filled;
  }

  /**
   * Appends `chunk` and returns the whole frames now available. A size below the minimum is an error
   * value: the stream cannot be resynchronised, so the caller closes the connection.
   */
  push(chunk: Uint8Array): Result<Uint8Array[]> {
    return this.#read(chunk, false) as Result<Uint8Array[]>;
  }

  /**
   * Like push, but large DATA frames split across chunks come as their pieces. The caller must not
   * reuse a chunk's memory afterwards (a socket's own read buffers are never reused).
   */
  pushKeepingSplitData(chunk: Uint8Array): Result<(Uint8Array | SplitFrame)[]> {
    return this.#read(chunk, true);
  }

  #read(chunk: Uint8Array, keep: boolean): Result<(Uint8Array | SplitFrame)[]> {
    const frames: (Uint8Array | SplitFrame)[] = [];
    let at = 0;
    if (this.#filled > 0) {
      if (this.#size === 0) {
        // Only the first byte of the size was in.
        if (chunk.length === 0) return ok(frames);
        const size = (this.#pieces[0][0] << 8) | chunk[0];
        if (size < this.#minSize) return this.#bad(size);
        this.#size = size;
        if (!keep) this.#gather();
      }
      const take = Math.min(this.#size - this.#filled, chunk.length);
      this.#add(chunk.subarray(0, take));
      at = take;
      if (this.#filled < this.#size) return ok(frames);
      frames.push(this.#complete(keep));
    }
    while (chunk.length - at >= 2) {
      const size = (chunk[at] << 8) | chunk[at + 1];
      if (size < this.#minSize) return this.#bad(size);
      if (chunk.length - at < size) {
        this.#size = size;
        this.#add(chunk.subarray(at));
        if (!keep) this.#gather();
        return ok(frames);
      }
      frames.push(chunk.subarray(at, at + size));
      at += size;
    }
    if (at < chunk.length) this.#add(chunk.subarray(at));
    return ok(frames);
  }

  /** Adds a piece of the split frame: kept as a view, or copied once the frame is gathered. */
  #add(piece: Uint8Array): void {
    if (this.#partial) this.#partial.set(piece, this.#filled);
    else {
      this.#pieces.push(piece);
      if (this.#pieces.length > MAX_PIECES && this.#size > 0) this.#gather();
    }
    this.#filled += piece.length;
  }

  /** From views to one buffer of the frame's size (the pieces so far copied in). */
  #gather(): void {
    if (this.#partial) return;
    const partial = this.#alloc(this.#size);
    let at = 0;
    for (const piece of this.#pieces) {
      partial.set(piece, at);
      at += piece.length;
    }
    this.#pieces = [];
    this.#partial = partial;
  }

  #complete(keep: boolean): Uint8Array | SplitFrame {
    const size = this.#size;
    const pieces = this.#pieces;
    let frame: Uint8Array | SplitFrame;
    if (this.#partial) frame = this.#partial;
    else if (keep && size >= KEEP_MIN_BYTES && isDataType(byteAt(pieces, 2)))
      frame = { pieces, length: size };
    else {
      this.#gather();
      frame = this.#partial!;
    }
    this.#pieces = [];
    this.#partial = null;
    this.#filled = 0;
    this.#size = 0;
    return frame;
  }

  #bad(size: number): Result<never> {
    this.#pieces = [];
    this.#partial = null;
    this.#filled = 0;
    this.#size = 0;
    return err(new SharedError('FRAME_MALFORMED', `frame size ${size} below ${this.#minSize}`));
  }
}

/** Byte `index` of the concatenation of `pieces`. */
function byteAt(pieces: readonly Uint8Array[], index: number): number {
  for (const piece of pieces) {
    if (index < piece.length) return piece[index];
    index -= piece.length;
  }
  return -1;
}
