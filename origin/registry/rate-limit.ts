/** Token buckets keyed by client IP or name; the table is bounded so a flood of keys cannot grow it. */
export class RateLimiter {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(ratePerSec: number, burst: number, maxKeys = 100_000) {
    this.#ratePerMs = ratePerSec / 1000;
    this.#burst = burst;
    this.#maxKeys = maxKeys;
  }

  /** Takes one token for `key` at time `now`; false when the bucket is empty. */
  take(key: string, now: number): boolean {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxKeys) this.#evict(now);
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(
        this.#burst,
        bucket.tokens + Math.max(0, now - bucket.at) * this.#ratePerMs,
      );
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Drops full buckets (they hold no information); if none is full, the oldest half. */
  #evict(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#ratePerMs >= this.#burst) this.#buckets.delete(key);
    }
    if (this.#buckets.size < this.#maxKeys) return;
    let n = this.#buckets.size / 2;
    for (const key of this.#buckets.keys()) {
      if (n-- <= 0) break;
      this.#buckets.delete(key);
    }
  }
}
