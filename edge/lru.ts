/** A bounded LRU map whose entries also expire at a per-entry instant (ms, from an injected clock). */
export class ExpiringLru<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>();
  readonly #max: number;
  readonly #now: () => number;
  /** The most recently used key: a hit on it needs no move (the common case of one busy name). */
  #newest: K | undefined;

  constructor(options: { maxEntries: number; now: () => number }) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1)
      throw new RangeError('maxEntries >= 1');
    this.#max = options.maxEntries;
    this.#now = options.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.delete(key);
      return undefined;
    }
    if (key !== this.#newest) {
      // Re-inserting moves the key to the most recently used end of the Map's order.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.#newest = key;
    }
    return entry.value;
  }

  set(key: K, value: V, expiresAt: number): void {
    this.delete(key);
    if (expiresAt <= this.#now()) return;
    this.#entries.set(key, { value, expiresAt });
    this.#newest = key;
    while (this.#entries.size > this.#max)
      this.#entries.delete(this.#entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.#entries.delete(key);
    if (key === this.#newest) this.#newest = undefined;
  }
}
