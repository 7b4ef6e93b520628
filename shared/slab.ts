/**
 * Pooled read memory: a socket reads into the free end of a large slab instead of a fresh buffer per
 * read, and a slab is used again once nothing refers to it any more. Fresh read buffers cost more
 * than their allocation: V8 counts their memory as external, and every 64 MiB or so of it starts a
 * full mark-compact of the heap ("external memory pressure"), about 1 CPU-s per relayed GiB on V8's
 * helper threads in the super node (docs/benchmarks.md).
 *
 * The rules: whoever keeps a view of a slab past the call that handed it over calls `retain` first
 * and `release` once done with it (the callback of the socket write that sends it on); `pin` when it
 * cannot tell when that is, and the slab is then never reused (left to the garbage collector). The
 * reader calls `retire` once it reads into another slab. A slab is back in the pool when it is
 * retired and every retain was released.
 */

/** The memory a view handed over lies in (see the rules above). */
export interface ViewMemory {
  retain(): void;
  readonly release: () => void;
  pin(): void;
}

export class SlabPool {
  readonly slabBytes: number;
  readonly #maxFree: number;
  readonly #alloc: (bytes: number) => Uint8Array;
  readonly #free: Slab[] = [];
  readonly #byBuffer = new WeakMap<ArrayBufferLike, Slab>();
  readonly #counts = { made: 0, reused: 0 };

  /** `alloc` may skip zero-filling: a reader only hands out bytes it read. */
  constructor(
    slabBytes: number,
    maxFree: number,
    alloc: (bytes: number) => Uint8Array = (bytes) => new Uint8Array(bytes),
  ) {
    this.slabBytes = slabBytes;
    this.#maxFree = maxFree;
    this.#alloc = alloc;
  }

  /** A slab to read into (from the pool, or new). */
  take(): Slab {
    const slab = this.#free.pop();
    if (slab) {
      this.#counts.reused++;
      slab.revive();
      return slab;
    }
    this.#counts.made++;
    const made = new Slab(this.#alloc(this.slabBytes), (s) => this.#recycle(s));
    this.#byBuffer.set(made.bytes.buffer, made);
    return made;
  }

  /** The slab `view` lies in, if it lies in one of this pool's. */
  of(view: Uint8Array): Slab | undefined {
    return this.#byBuffer.get(view.buffer);
  }

  stats(): { made: number; reused: number; free: number } {
    return { ...this.#counts, free: this.#free.length };
  }

  #recycle(slab: Slab): void {
    if (this.#free.length < this.#maxFree) this.#free.push(slab);
  }
}

export class Slab implements ViewMemory {
  readonly bytes: Uint8Array;
  readonly #recycle: (slab: Slab) => void;
  #refs = 0;
  /** A reader still reads into it. */
  #reading = true;
  #pinned = false;

  constructor(bytes: Uint8Array, recycle: (slab: Slab) => void) {
    this.bytes = bytes;
    this.#recycle = recycle;
  }

  retain(): void {
    this.#refs++;
  }

  readonly release = (): void => {
    // More releases than retains is a bug somewhere: never reuse this slab rather than risk it.
    if (--this.#refs < 0) this.#pinned = true;
    else if (this.#refs === 0 && !this.#reading && !this.#pinned) this.#recycle(this);
  };

  pin(): void {
    this.#pinned = true;
  }

  /** The reader moved on to another slab. */
  retire(): void {
    this.#reading = false;
    if (this.#refs === 0 && !this.#pinned) this.#recycle(this);
  }

  /** Taken from the pool again. */
  revive(): void {
    this.#reading = true;
  }
}
