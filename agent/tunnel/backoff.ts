/**
 * Reconnect delays: a few fast retries (a blip should not cost seconds), then exponential backoff
 * with full jitter (uniform in [0, min(cap, base * 2^n)]) so that many nodes do not reconnect in step.
 */
import { type Checked, type Rules, rule, withDefault } from '../../shared/options.ts';

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

const count = rule<number>((v) => typeof v === 'number' && v >= 0, 'a number >= 0');

/** The backoff options' rules and defaults (shared/options.ts). */
export const BACKOFF_OPTIONS = {
  fastRetries: withDefault(count, 3),
  fastDelayMs: withDefault(count, 100),
  initialDelayMs: withDefault(count, 1000),
  maxDelayMs: withDefault(count, 60_000),
  maxAttempts: withDefault(count, Number.POSITIVE_INFINITY),
} satisfies Rules<BackoffOptions>;

export type ResolvedBackoff = Checked<typeof BACKOFF_OPTIONS>;

/** Delay before retry number `failures` (1 = first retry). */
export function backoffDelay(
  failures: number,
  o: ResolvedBackoff,
  random: () => number = Math.random,
): number {
  if (failures <= o.fastRetries) return Math.floor(random() * o.fastDelayMs);
  const exponent = Math.min(30, failures - o.fastRetries - 1);
  return Math.floor(random() * Math.min(o.maxDelayMs, o.initialDelayMs * 2 ** exponent));
}
