/**
 * Per-source rate limit (token bucket) and banning of sources that send malformed packets or flip
 * ids. A source is an IP address; in developer mode, where many test nodes share one loopback address,
 * it is the address and port.
 */

export interface AbuseOptions {
  ratePerSecond: number;
  burst: number;
  /** Strikes (malformed packets, id flips) within the window that get a source banned. */
  strikesToBan: number;
  strikeWindowMs: number;
  banMs: number;
  clock: () => number;
}

const MAX_TRACKED = 65536;

export class AbuseGuard {
  readonly #options: AbuseOptions;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #strikes = new Map<string, number[]>();
  readonly #bans = new Map<string, number>();

  constructor(options: AbuseOptions) {
    this.#options = options;
  }

  /** True if a packet from `source` may be processed now (takes one token). */
  allow(source: string): boolean {
    const { ratePerSecond, burst, clock } = this.#options;
    if (ratePerSecond <= 0) return true;
    const now = clock();
    let bucket = this.#buckets.get(source);
    if (!bucket) {
      if (this.#buckets.size >= MAX_TRACKED) this.#buckets.clear();
      bucket = { tokens: burst, at: now };
      this.#buckets.set(source, bucket);
    }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * ratePerSecond) / 1000);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  isBanned(source: string): boolean {
    const until = this.#bans.get(source);
    if (until === undefined) return false;
    if (this.#options.clock() < until) return true;
    this.#bans.delete(source);
    return false;
  }

  /** Records one misbehaviour; returns true when it got the source banned. */
  strike(source: string): boolean {
    const { strikesToBan, strikeWindowMs, banMs, clock } = this.#options;
    const now = clock();
    const recent = (this.#strikes.get(source) ?? []).filter((t) => now - t < strikeWindowMs);
    recent.push(now);
    if (this.#strikes.size >= MAX_TRACKED) this.#strikes.clear();
    this.#strikes.set(source, recent);
    if (recent.length < strikesToBan) return false;
    this.#strikes.delete(source);
    this.#bans.set(source, now + banMs);
    return true;
  }

  get bannedCount(): number {
    return this.#bans.size;
  }
}
