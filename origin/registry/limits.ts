/**
 * The registry's rate limits, shared by the Hono app and the node:http fast path. Three budgets, each
 * charged where it protects something and only to requests that reached that point:
 *
 * - requests per client IP: every request, before its body is read (cheap);
 * - signature verifications per client IP: only requests that passed every cheap check (shape, name,
 *   time, owner, seq), right before their signature is verified, so that junk costs its sender only
 *   the first budget and the CPU a source can make the registry spend on Ed25519 is bounded;
 * - writes per name: only verified requests that will change the name (its owner's, or a claim of a
 *   free name), so nobody else's requests can use up an owner's budget.
 */
import { clientIp } from './client-ip.ts';
import { RegistryError } from './errors.ts';
import type { ResolvedOptions } from './options.ts';
import { RateLimiter } from './rate-limit.ts';

/** The per-request budgets a signed write draws on, bound to its client address. */
export interface WriteBudget {
  /** Before a signature verification. Throws RATE_LIMITED. */
  verification(): void;
  /** Before a verified write changes `name`. Throws RATE_LIMITED. */
  write(name: string): void;
}

export const UNLIMITED: WriteBudget = { verification() {}, write() {} };

export class RegistryLimits {
  readonly #o: ResolvedOptions;
  readonly #proxies: Set<string>;
  readonly #writesPerIp: RateLimiter | null;
  readonly #readsPerIp: RateLimiter | null;
  readonly #verificationsPerIp: RateLimiter | null;
  readonly #writesPerName: RateLimiter | null;
  /** Requests refused with RATE_LIMITED, by kind. */
  readonly refused = { read: 0, write: 0 };
  readonly #probesPerIp: RateLimiter | null;
  readonly #probesPerName: RateLimiter | null;

  constructor(o: ResolvedOptions) {
    this.#o = o;
    this.#proxies = new Set(o.trustedProxies.map((p) => p.toLowerCase()));
    const l = o.rateLimits;
    this.#writesPerIp = l ? new RateLimiter(l.writesPerIpPerSec, l.writesPerIpBurst) : null;
    this.#readsPerIp = l ? new RateLimiter(l.readsPerIpPerSec, l.readsPerIpBurst) : null;
    this.#verificationsPerIp = l
      ? new RateLimiter(l.verificationsPerIpPerSec, l.verificationsPerIpBurst)
      : null;
    this.#writesPerName = l
      ? new RateLimiter(l.writesPerNamePerMin / 60, l.writesPerNameBurst)
      : null;
    this.#probesPerIp = l ? new RateLimiter(l.probesPerIpPerMin / 60, l.probesPerIpBurst) : null;
    this.#probesPerName = l
      ? new RateLimiter(l.probesPerNamePerMin / 60, l.probesPerNameBurst)
      : null;
  }

  /** Charges one request to its client address; throws RATE_LIMITED when the bucket is empty. */
  charge(
    kind: 'read' | 'write',
    remote: string | undefined,
    forwardedFor: string | undefined,
  ): void {
    if (!this.#readsPerIp) return;
    const ip = clientIp(remote, forwardedFor, this.#proxies);
    if (!(kind === 'read' ? this.#readsPerIp : this.#writesPerIp!).take(ip, this.#o.clock.now())) {
      this.refused[kind]++;
      throw new RegistryError('RATE_LIMITED', 'too many requests from this address');
    }
  }

  /** The verification and per-name budgets of one signed write from this client. */
  budget(remote: string | undefined, forwardedFor: string | undefined): WriteBudget {
    return this.#budget(remote, forwardedFor, this.#writesPerName);
  }

  /**
   * One probe from this client, charged now (throws RATE_LIMITED), and its budgets: a verification
   * like a write's, and the name's own probe budget.
   */
  probe(remote: string | undefined, forwardedFor: string | undefined): WriteBudget {
    if (!this.#probesPerIp) return UNLIMITED;
    const ip = clientIp(remote, forwardedFor, this.#proxies);
    if (!this.#probesPerIp.take(ip, this.#o.clock.now()))
      throw new RegistryError('RATE_LIMITED', 'too many probes from this address');
    return this.#budget(remote, forwardedFor, this.#probesPerName);
  }

  #budget(
    remote: string | undefined,
    forwardedFor: string | undefined,
    perName: RateLimiter | null,
  ): WriteBudget {
    if (!this.#verificationsPerIp) return UNLIMITED;
    const ip = clientIp(remote, forwardedFor, this.#proxies);
    const verifications = this.#verificationsPerIp;
    const names = perName!;
    const clock = this.#o.clock;
    const refused = this.refused;
    return {
      verification() {
        if (!verifications.take(ip, clock.now())) {
          refused.write++;
          throw new RegistryError('RATE_LIMITED', 'too many signed requests from this address');
        }
      },
      write(name) {
        if (!names.take(name, clock.now())) {
          refused.write++;
          throw new RegistryError('RATE_LIMITED', 'too many writes for this name');
        }
      },
    };
  }
}
