/** Cloud options: one object, documented defaults and units, unknown keys refused. */
import { type Logger, silentLogger } from '../shared/logger.ts';
import type { ChangeEvent } from './storage/events.ts';

export type { Logger };

export interface Clock {
  now(): number;
}

export interface CloudLimits {
  /** Bytes a wallet may store (files, versions and trash together). Default 10 GiB. */
  quotaBytes: number;
  /** Largest JSON request body. Default 64 KiB. */
  jsonBodyBytes: number;
  /** Largest XML body of PROPFIND, PROPPATCH and LOCK. Default 1 MiB. */
  xmlBodyBytes: number;
  /** An unfinished tus upload is deleted this long after its last write. Default 24 h. */
  uploadExpiryMs: number;
  /** Items in the trash are purged this long after deletion. Default 30 days. */
  trashRetentionMs: number;
  /** A session lives this long after sign-in. Default 7 days. */
  sessionTtlMs: number;
  /** A sign-in nonce must be used within this time. Default 10 min. */
  nonceTtlMs: number;
  /** Wrong share passwords allowed per share and client address per minute. Default 5. */
  sharePasswordAttemptsPerMin: number;
  /** Failed sign-ins (bad signature, bad app password, bad owner code) per client address per minute. Default 20. */
  authFailuresPerMin: number;
  /** Longest WebDAV lock timeout granted. Default 3600 s. */
  maxLockSeconds: number;
}

export interface CloudOptions {
  /** Directory of the database and file content (created if missing). */
  dataDir: string;
  /**
   * The public origins of this node, e.g. `https://alice.ela.city` and `http://alice.localhost:8080`.
   * A request whose origin (see docs/cloud.md, "How the origin is decided") is not one of them is refused.
   */
  origins: string[];
  /** Peer addresses whose X-Forwarded-Host/-Proto/-For are believed. Default loopback (the agent's tunnel). */
  trustedProxies?: string[];
  /** Partial override of the limits. */
  limits?: Partial<CloudLimits>;
  clock?: Clock;
  logger?: Logger;
  /** Called after every committed change of a wallet's files (for a search index). */
  onChange?: (event: ChangeEvent) => void;
  /** Purge expired trash, uploads and sessions this often. Default 10 min; 0 disables the timer. */
  sweepIntervalMs?: number;
}

export const DEFAULT_LIMITS: CloudLimits = {
  quotaBytes: 10 * 1024 ** 3,
  jsonBodyBytes: 64 * 1024,
  xmlBodyBytes: 1024 * 1024,
  uploadExpiryMs: 24 * 3600_000,
  trashRetentionMs: 30 * 24 * 3600_000,
  sessionTtlMs: 7 * 24 * 3600_000,
  nonceTtlMs: 10 * 60_000,
  sharePasswordAttemptsPerMin: 5,
  authFailuresPerMin: 20,
  maxLockSeconds: 3600,
};

export interface ResolvedOptions {
  dataDir: string;
  origins: URL[];
  trustedProxies: Set<string>;
  limits: CloudLimits;
  clock: Clock;
  logger: Logger;
  onChange: (event: ChangeEvent) => void;
  sweepIntervalMs: number;
}

const KNOWN = new Set([
  'dataDir',
  'origins',
  'trustedProxies',
  'limits',
  'clock',
  'logger',
  'onChange',
  'sweepIntervalMs',
]);
export const systemClock: Clock = { now: () => Date.now() };

function parseOrigin(value: unknown): URL {
  if (typeof value !== 'string')
    throw new TypeError('cloud option "origins" is a list of origin strings');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`cloud origin "${value}" is not a URL`);
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.origin !== value.replace(/\/$/, '')
  ) {
    throw new TypeError(
      `cloud origin "${value}" must be scheme://host[:port] (http or https, no path)`,
    );
  }
  return url;
}

export function resolveOptions(options: CloudOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object')
    throw new TypeError('cloud options must be an object');
  const unknown = Object.keys(options).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new TypeError(`unknown cloud option(s): ${unknown.join(', ')}`);
  if (typeof options.dataDir !== 'string' || options.dataDir === '')
    throw new TypeError('cloud option "dataDir" is required');
  if (!Array.isArray(options.origins) || options.origins.length === 0) {
    throw new TypeError(
      'cloud option "origins" needs at least one public origin, e.g. "https://alice.ela.city"',
    );
  }
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(options.limits ?? {})) {
    if (!(key in DEFAULT_LIMITS)) throw new TypeError(`unknown cloud limit: ${key}`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new TypeError(`cloud limit "${key}" must be a non-negative number`);
    limits[key as keyof CloudLimits] = value;
  }
  const proxies = options.trustedProxies ?? ['127.0.0.1', '::1', '::ffff:127.0.0.1'];
  if (!Array.isArray(proxies) || proxies.some((p) => typeof p !== 'string'))
    throw new TypeError('cloud option "trustedProxies" is a list of addresses');
  const sweep = options.sweepIntervalMs ?? 600_000;
  if (!Number.isFinite(sweep) || sweep < 0)
    throw new TypeError('cloud option "sweepIntervalMs" must be a non-negative number');
  if (options.onChange !== undefined && typeof options.onChange !== 'function')
    throw new TypeError('cloud option "onChange" must be a function');
  return {
    dataDir: options.dataDir,
    origins: options.origins.map(parseOrigin),
    trustedProxies: new Set(proxies),
    limits,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    onChange: options.onChange ?? (() => {}),
    sweepIntervalMs: sweep,
  };
}
