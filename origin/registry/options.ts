/** Registry options: one object, documented defaults, declared once (shared/options.ts), unknown keys refused. */
import { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import { type Logger, silentLogger } from '../../shared/logger.ts';
import {
  atLeast,
  boolean,
  type Checked,
  checkOptions,
  fn,
  instance,
  list,
  nested,
  nonEmptyString,
  object,
  optional,
  type Rule,
  type Rules,
  string,
  withDefault,
} from '../../shared/options.ts';
import { DEFAULT_RESERVED_NAMES } from '../../shared/records/names.ts';
import type { VerifiedRoute } from '../../shared/records/route.ts';
import { RegistryError } from './errors.ts';

export interface Clock {
  now(): number;
}

export type { Logger };

export interface RateLimitOptions {
  /** Signed writes per client IP: sustained per second, and burst. Default 20/s, burst 100. */
  writesPerIpPerSec: number;
  writesPerIpBurst: number;
  /** Reads (resolve, availability) per client IP. Default 200/s, burst 1000. */
  readsPerIpPerSec: number;
  readsPerIpBurst: number;
  /**
   * Signature verifications per client IP (signed writes and probes that passed the cheap checks).
   * Default 20/s, burst 100.
   */
  verificationsPerIpPerSec: number;
  verificationsPerIpBurst: number;
  /** Verified writes per name (the owner's, or a claim of a free name). Default 30/min, burst 20. */
  writesPerNamePerMin: number;
  writesPerNameBurst: number;
  /** Reachability probes (each one a connection out) per client IP. Default 10/min, burst 5. */
  probesPerIpPerMin: number;
  probesPerIpBurst: number;
  /** Verified probes per name. Default 6/min, burst 3. */
  probesPerNamePerMin: number;
  probesPerNameBurst: number;
}

export interface PeerOption {
  /** The peer registrar's id (Base58); its key signs its replication requests and bindings. */
  id: string;
  /** Base URL of its registry API, e.g. `http://10.0.0.2:8080`. */
  url: string;
}

export interface RegistryOptions {
  /** The registrar key: signs name bindings and replication requests. */
  key: KeyPair;
  /** Registrar ids whose bindings are accepted (this registrar is always added). */
  trustedRegistrars: Id[];
  /** Directory of the durable store (created if missing). */
  dataDir: string;
  /** Super nodes to replicate with. Default none. */
  peers?: PeerOption[];
  /** Names nobody may claim. Default DEFAULT_RESERVED_NAMES. */
  reservedNames?: readonly string[];
  /** How long a name stays bound after its lease expired or it was never routed. Default 30 days. */
  holdPeriodMs?: number;
  /** Accepted distance of a signed iat from the registrar clock. Default 60 000 ms. */
  clockSkewMs?: number;
  /** A transfer offer lapses after this long. Default 24 h. */
  transferTtlMs?: number;
  /** Allows loopback/private direct endpoints (local development only). Default false. */
  developerMode?: boolean;
  /** Addresses (edges) whose X-Forwarded-For is believed. Default none. */
  trustedProxies?: string[];
  /** Partial override of the rate limits; `false` disables them (benchmarks). */
  rateLimits?: Partial<RateLimitOptions> | false;
  /** How often every peer is asked for changes. Default 5 000 ms. */
  pullIntervalMs?: number;
  /** Pushes to a peer are batched for this long. Default 5 ms. */
  pushDelayMs?: number;
  /** Timeout of one replication HTTP call. Default 5 000 ms. */
  replicationTimeoutMs?: number;
  /** The log is compacted once it is larger than this and twice its live size. Default 64 MiB. */
  compactMinBytes?: number;
  clock?: Clock;
  logger?: Logger;
  /** Called after a route published to this registrar was stored durably (for the DHT). */
  onRoutePublished?: (route: VerifiedRoute) => void;
}

export const DEFAULT_RATE_LIMITS: RateLimitOptions = {
  writesPerIpPerSec: 20,
  writesPerIpBurst: 100,
  readsPerIpPerSec: 200,
  readsPerIpBurst: 1000,
  verificationsPerIpPerSec: 20,
  verificationsPerIpBurst: 100,
  writesPerNamePerMin: 30,
  writesPerNameBurst: 20,
  probesPerIpPerMin: 10,
  probesPerIpBurst: 5,
  probesPerNamePerMin: 6,
  probesPerNameBurst: 3,
};

export { silentLogger } from '../../shared/logger.ts';
export const systemClock: Clock = { now: () => Date.now() };

const RATE_LIMIT_OPTIONS = Object.fromEntries(
  Object.entries(DEFAULT_RATE_LIMITS).map(([name, fallback]) => [
    name,
    withDefault(atLeast(0), fallback),
  ]),
) as { [K in keyof RateLimitOptions]: Rule<number> };

/** `false`, or overrides of the default rate limits. */
const rateLimits: Rule<RateLimitOptions | false> = (value, name) =>
  value === false ? false : nested(RATE_LIMIT_OPTIONS)(value, name);

const REGISTRY_OPTIONS = {
  key: instance(KeyPair),
  trustedRegistrars: list(instance(Id)),
  dataDir: nonEmptyString,
  peers: withDefault(list(nested({ id: nonEmptyString, url: nonEmptyString })), []),
  reservedNames: withDefault<readonly string[]>(list(string), DEFAULT_RESERVED_NAMES),
  holdPeriodMs: withDefault(atLeast(0), 30 * 24 * 3600_000),
  clockSkewMs: withDefault(atLeast(0), 60_000),
  transferTtlMs: withDefault(atLeast(0), 24 * 3600_000),
  developerMode: withDefault(boolean, false),
  trustedProxies: withDefault(list(string), []),
  rateLimits,
  pullIntervalMs: withDefault(atLeast(0), 5_000),
  pushDelayMs: withDefault(atLeast(0), 5),
  replicationTimeoutMs: withDefault(atLeast(0), 5_000),
  compactMinBytes: withDefault(atLeast(0), 64 * 1024 * 1024),
  clock: withDefault(object<Clock>(), systemClock),
  logger: withDefault(object<Logger>(), silentLogger),
  onRoutePublished: optional(fn<(route: VerifiedRoute) => void>()),
} satisfies Rules<RegistryOptions>;

export type ResolvedOptions = Checked<typeof REGISTRY_OPTIONS>;

export function resolveOptions(options: RegistryOptions): ResolvedOptions {
  const o = checkOptions(
    options,
    REGISTRY_OPTIONS,
    'registry options',
    (message) => new RegistryError('INVALID_OPTIONS', message),
  );
  // This registrar always trusts its own bindings.
  if (!o.trustedRegistrars.some((id) => id.equals(o.key.id))) o.trustedRegistrars.push(o.key.id);
  return o;
}
