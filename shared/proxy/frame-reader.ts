/**
 * Splits a byte stream into whole frames by their `size u16` prefix, whatever the chunking. Frames
 * that sit whole inside one chunk are returned as views (no copy): the hot path for DATA.
 */
import { err, ok, type Result, SharedError } from '../errors.ts';

export class FrameReader {
  #pending: Uint8Array | null = null;
  #minSize: number;

  /** `minSize`: the smallest legal frame (3 with a type byte; the challenge frame has none). */
  constructor(minSize = 3) {
    this.#minSize = minSize;
  }

  set minSize(value: number) {
    this.#minSize = value;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.#pending?.length ?? 0;
  }

  /**
   * Appends `chunk` and returns the whole frames now available. A size below the minimum is an error
   * value: the stream cannot be resynchronised, so the caller closes the connection.
   */
  push(chunk: Uint8Array): Result<Uint8Array[]> {
    let bytes = chunk;
    if (this.#pending) {
      const joined = new Uint8Array(this.#pending.length + chunk.length);
      joined.set(this.#pending, 0);
      joined.set(chunk, this.#pending.length);
      bytes = joined;
      this.#pending = null;
    }
    const frames: Uint8Array[] = [];
    let at = 0;
    while (bytes.length - at >= 2) {
      const size = (bytes[at] << 8) | bytes[at + 1];
      if (size < this.#minSize) return err(new SharedError('FRAME_MALFORMED', `frame size ${size} below ${this.#minSize}`));
      if (bytes.length - at < size) break;
      frames.push(bytes.subarray(at, at + size));
      at += size;
    }
    if (at < bytes.length) this.#pending = bytes.slice(at);
    return ok(frames);
  }
}
