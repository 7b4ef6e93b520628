/** The registry's rate limiters, shared by the Hono app and the node:http resolve fast path. */
import { clientIp } from './client-ip.ts';
import { RegistryError } from './errors.ts';
import type { ResolvedOptions } from './options.ts';
import { RateLimiter } from './rate-limit.ts';

export class RegistryLimits {
  readonly #o: ResolvedOptions;
  readonly #proxies: Set<string>;
  readonly #writesPerIp: RateLimiter | null;
  readonly #readsPerIp: RateLimiter | null;
  readonly #writesPerName: RateLimiter | null;

  constructor(o: ResolvedOptions) {
    this.#o = o;
    this.#proxies = new Set(o.trustedProxies.map((p) => p.toLowerCase()));
    const l = o.rateLimits;
    this.#writesPerIp = l ? new RateLimiter(l.writesPerIpPerSec, l.writesPerIpBurst) : null;
    this.#readsPerIp = l ? new RateLimiter(l.readsPerIpPerSec, l.readsPerIpBurst) : null;
    this.#writesPerName = l
      ? new RateLimiter(l.writesPerNamePerMin / 60, l.writesPerNameBurst)
      : null;
  }

  /** Charges one request; throws RATE_LIMITED when a bucket is empty. */
  charge(
    kind: 'read' | 'write',
    remote: string | undefined,
    forwardedFor: string | undefined,
    name?: string,
  ): void {
    if (!this.#readsPerIp) return;
    const now = this.#o.clock.now();
    const ip = clientIp(remote, forwardedFor, this.#proxies);
    if (!(kind === 'read' ? this.#readsPerIp : this.#writesPerIp!).take(ip, now)) {
      throw new RegistryError('RATE_LIMITED', 'too many requests from this address');
    }
    if (name !== undefined && kind === 'write' && !this.#writesPerName!.take(name, now)) {
      throw new RegistryError('RATE_LIMITED', 'too many writes for this name');
    }
  }
}
