/** A fixed-window counter per key with a bounded number of keys (oldest windows evicted first). */
export class WindowLimiter {
  private readonly hits = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly maxKeys = 10_000,
  ) {}

  /** True when the key is already at its limit (the attempt must be refused). */
  blocked(key: string): boolean {
    const w = this.hits.get(key);
    return !!w && this.now() - w.start < this.windowMs && w.count >= this.limit;
  }

  /** Counts one attempt (call for failures only, so honest users are never slowed). */
  hit(key: string): void {
    const now = this.now();
    const w = this.hits.get(key);
    if (w && now - w.start < this.windowMs) {
      w.count++;
      return;
    }
    this.hits.delete(key);
    if (this.hits.size >= this.maxKeys) this.hits.delete(this.hits.keys().next().value!);
    this.hits.set(key, { start: now, count: 1 });
  }

  retryAfterS(key: string): number {
    const w = this.hits.get(key);
    return w ? Math.max(1, Math.ceil((w.start + this.windowMs - this.now()) / 1000)) : 1;
  }
}
