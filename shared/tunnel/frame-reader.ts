/**
 * Splits a byte stream into whole frames by their `size u16` prefix, whatever the chunking. Frames
 * that sit whole inside one chunk are returned as views (no copy); only a frame split across chunks
 * is copied, into a buffer of exactly its size: the hot path for DATA.
 */
import { err, ok, type Result, SharedError } from '../errors.ts';

export class FrameReader {
  #minSize: number;
  readonly #alloc: (bytes: number) => Uint8Array;
  /** A frame split across chunks: its buffer (sized once the size is known) and how much is in. */
  #partial: Uint8Array | null = null;
  #filled = 0;

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
    const frames: Uint8Array[] = [];
    let at = 0;
    if (this.#filled > 0) {
      // Complete the size prefix first if even that was split.
      if (this.#filled === 1) {
        if (chunk.length === 0) return ok(frames);
        const size = (this.#partial![0] << 8) | chunk[0];
        if (size < this.#minSize) return this.#bad(size);
        const partial = this.#alloc(size);
        partial[0] = this.#partial![0];
        partial[1] = chunk[0];
        this.#partial = partial;
        this.#filled = 2;
        at = 1;
      }
      const partial = this.#partial!;
      const take = Math.min(partial.length - this.#filled, chunk.length - at);
      partial.set(chunk.subarray(at, at + take), this.#filled);
      this.#filled += take;
      at += take;
      if (this.#filled < partial.length) return ok(frames);
      frames.push(partial);
      this.#partial = null;
      this.#filled = 0;
    }
    while (chunk.length - at >= 2) {
      const size = (chunk[at] << 8) | chunk[at + 1];
      if (size < this.#minSize) return this.#bad(size);
      if (chunk.length - at < size) {
        const partial = this.#alloc(size);
        partial.set(chunk.subarray(at));
        this.#partial = partial;
        this.#filled = chunk.length - at;
        return ok(frames);
      }
      frames.push(chunk.subarray(at, at + size));
      at += size;
    }
    if (at < chunk.length) {
      this.#partial = new Uint8Array([chunk[at]]);
      this.#filled = 1;
    }
    return ok(frames);
  }

  #bad(size: number): Result<never> {
    this.#partial = null;
    this.#filled = 0;
    return err(new SharedError('FRAME_MALFORMED', `frame size ${size} below ${this.#minSize}`));
  }
}
