/** Registry options: one object, documented defaults, unknown keys refused. */
import { DEFAULT_RESERVED_NAMES } from '../../shared/records/names.ts';
import type { Id } from '../../shared/id.ts';
import type { KeyPair } from '../../shared/keys.ts';
import type { VerifiedRoute } from '../../shared/records/route.ts';

export interface Clock {
  now(): number;
}

import { type Logger, silentLogger } from '../../shared/logger.ts';

export type { Logger };

export interface RateLimitOptions {
  /** Signed writes per client IP: sustained per second, and burst. Default 20/s, burst 100. */
  writesPerIpPerSec: number;
  writesPerIpBurst: number;
  /** Reads (resolve, availability) per client IP. Default 200/s, burst 1000. */
  readsPerIpPerSec: number;
  readsPerIpBurst: number;
  /** Writes per name: sustained per minute, and burst. Default 30/min, burst 20. */
  writesPerNamePerMin: number;
  writesPerNameBurst: number;
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
  writesPerNamePerMin: 30,
  writesPerNameBurst: 20,
};

export type ResolvedOptions = Required<Omit<RegistryOptions, 'rateLimits' | 'onRoutePublished'>> & {
  rateLimits: RateLimitOptions | false;
  onRoutePublished?: (route: VerifiedRoute) => void;
};

const KNOWN = new Set([
  'key', 'trustedRegistrars', 'dataDir', 'peers', 'reservedNames', 'holdPeriodMs', 'clockSkewMs', 'transferTtlMs',
  'developerMode', 'trustedProxies', 'rateLimits', 'pullIntervalMs', 'pushDelayMs', 'replicationTimeoutMs',
  'compactMinBytes', 'clock', 'logger', 'onRoutePublished',
]);

export { silentLogger } from '../../shared/logger.ts';
export const systemClock: Clock = { now: () => Date.now() };

export function resolveOptions(options: RegistryOptions): ResolvedOptions {
  const unknown = Object.keys(options).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new TypeError(`unknown registry option(s): ${unknown.join(', ')}`);
  if (!options.key) throw new TypeError('registry option "key" (the registrar KeyPair) is required');
  if (typeof options.dataDir !== 'string' || options.dataDir === '') throw new TypeError('registry option "dataDir" is required');
  if (!Array.isArray(options.trustedRegistrars)) throw new TypeError('registry option "trustedRegistrars" is a list of ids');
  const trusted = [...options.trustedRegistrars];
  if (!trusted.some((id) => id.equals(options.key.id))) trusted.push(options.key.id);
  let rateLimits: RateLimitOptions | false = false;
  if (options.rateLimits !== false) {
    const extra = Object.keys(options.rateLimits ?? {}).filter((k) => !(k in DEFAULT_RATE_LIMITS));
    if (extra.length > 0) throw new TypeError(`unknown rate limit option(s): ${extra.join(', ')}`);
    rateLimits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
  }
  const positive = (name: string, value: number | undefined, fallback: number): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < 0) throw new TypeError(`registry option "${name}" must be a non-negative number`);
    return v;
  };
  return {
    key: options.key,
    trustedRegistrars: trusted,
    dataDir: options.dataDir,
    peers: options.peers ?? [],
    reservedNames: options.reservedNames ?? DEFAULT_RESERVED_NAMES,
    holdPeriodMs: positive('holdPeriodMs', options.holdPeriodMs, 30 * 24 * 3600_000),
    clockSkewMs: positive('clockSkewMs', options.clockSkewMs, 60_000),
    transferTtlMs: positive('transferTtlMs', options.transferTtlMs, 24 * 3600_000),
    developerMode: options.developerMode ?? false,
    trustedProxies: options.trustedProxies ?? [],
    rateLimits,
    pullIntervalMs: positive('pullIntervalMs', options.pullIntervalMs, 5_000),
    pushDelayMs: positive('pushDelayMs', options.pushDelayMs, 5),
    replicationTimeoutMs: positive('replicationTimeoutMs', options.replicationTimeoutMs, 5_000),
    compactMinBytes: positive('compactMinBytes', options.compactMinBytes, 64 * 1024 * 1024),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    onRoutePublished: options.onRoutePublished,
  };
}
