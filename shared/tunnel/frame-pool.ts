/**
 * Reusable buffers for outgoing DATA frames. Sealing a read's worth of bytes into a fresh buffer
 * each time costs an allocation the size of the read (and, past the allocator's mmap threshold,
 * page faults on every page) plus the garbage collection of it; a buffer handed back once the socket
 * has taken its bytes is used again instead. A request larger than a slot gets a buffer of its own.
 */
import type { CryptoContext } from '../crypto/context.ts';
import { dataFramesBytes, encodeDataFramesInto } from './encode.ts';

/** The one call of a socket this needs: write, then call back once the bytes are taken. */
export interface FrameSink {
  write(bytes: Uint8Array, done: () => void): boolean;
}

export class FramePool {
  readonly slotBytes: number;
  readonly #maxFree: number;
  readonly #alloc: (bytes: number) => Uint8Array;
  #free: Uint8Array[] = [];

  /** `alloc` may skip zero-filling: every byte of a frame buffer is written before it is sent. */
  constructor(
    slotBytes: number,
    maxFree: number,
    alloc: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes),
  ) {
    this.slotBytes = slotBytes;
    this.#maxFree = maxFree;
    this.#alloc = alloc;
  }

  /** A buffer of at least `bytes`: a whole slot for a large request, an exact fresh one otherwise. */
  acquire(bytes: number): Uint8Array {
    // Small writes are cheap to allocate and would pin a whole slot each while they are in flight.
    if (bytes > this.slotBytes || bytes < this.slotBytes / 8) return this.#alloc(bytes);
    return this.#free.pop() ?? this.#alloc(this.slotBytes);
  }

  /** Gives back a buffer from acquire once nothing reads it any more. */
  release(buffer: Uint8Array): void {
    if (buffer.length === this.slotBytes && this.#free.length < this.#maxFree)
      this.#free.push(buffer);
  }

  /** `data` as DATA frames under `session` in one pooled buffer and one write; false when the sink is full. */
  writeDataFrames(
    sink: FrameSink,
    session: CryptoContext,
    data: Uint8Array,
    chunkBytes: number,
  ): boolean {
    const buffer = this.acquire(dataFramesBytes(data.length, chunkBytes));
    const bytes = encodeDataFramesInto(session, data, chunkBytes, buffer);
    return sink.write(buffer.subarray(0, bytes), () => this.release(buffer));
  }

  get free(): number {
    return this.#free.length;
  }
}
