/** A bounded LRU map whose entries also expire at a per-entry instant (ms, from an injected clock). */
export class ExpiringLru<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: { maxEntries: number; now: () => number }) {
    if (!Number.isSafeInteger(options.maxEntries) || options.maxEntries < 1) throw new RangeError('maxEntries >= 1');
    this.#max = options.maxEntries;
    this.#now = options.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.#now()) return undefined;
    // Re-inserting moves the key to the most recently used end of the Map's order.
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V, expiresAt: number): void {
    this.#entries.delete(key);
    if (expiresAt <= this.#now()) return;
    this.#entries.set(key, { value, expiresAt });
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }
}
