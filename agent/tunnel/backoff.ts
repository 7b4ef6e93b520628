/**
 * Reconnect delays: a few fast retries (a blip should not cost seconds), then exponential backoff
 * with full jitter (uniform in [0, min(cap, base * 2^n)]) so that many nodes do not reconnect in step.
 */
export interface BackoffOptions {
  /** Retries at up to `fastDelayMs` before backing off. Default 3. */
  fastRetries?: number;
  /** Default 100 ms. */
  fastDelayMs?: number;
  /** Base of the exponential part. Default 1,000 ms. */
  initialDelayMs?: number;
  /** Cap. Default 60,000 ms. */
  maxDelayMs?: number;
  /** Give up after this many failed attempts in a row. Default Infinity (retry forever). */
  maxAttempts?: number;
}

export type ResolvedBackoff = Required<BackoffOptions>;

export const BACKOFF_DEFAULTS: ResolvedBackoff = {
  fastRetries: 3,
  fastDelayMs: 100,
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** Delay before retry number `failures` (1 = first retry). */
export function backoffDelay(failures: number, o: ResolvedBackoff, random: () => number = Math.random): number {
  if (failures <= o.fastRetries) return Math.floor(random() * o.fastDelayMs);
  const exponent = Math.min(30, failures - o.fastRetries - 1);
  return Math.floor(random() * Math.min(o.maxDelayMs, o.initialDelayMs * 2 ** exponent));
}
