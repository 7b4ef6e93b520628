/**
 * The edge's configuration: one object, validated once by the adapter that starts the edge (from
 * environment variables or a JSON file), with unknown keys refused so a typo never goes unnoticed.
 */
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import { EdgeError } from './errors.ts';

export interface SuperNodeConfig {
  /** The super node's id (Base58): relays in route records name super nodes by it. */
  id: string;
  /** Origin of its registry API and relay ingress, e.g. `https://sn1.ela.city` (no path). */
  url: string;
}

export interface EdgeCacheOptions {
  /** Most names held in the route cache. Default 10 000. */
  maxEntries?: number;
  /** How long a verified route is reused, ms; at most 30 000 and never past the record's expiry. Default 30 000. */
  ttlMs?: number;
  /** How long "unknown name" and "offline" answers are reused, ms. Default 5 000. */
  negativeTtlMs?: number;
}

export interface EdgeConfig {
  /** DNS zone the names live under: `ela.city`, or `localhost` in development. */
  zone: string;
  /** Ids (Base58) of the registrars whose name bindings are trusted. */
  registrarKeys: string[];
  /** The edge's Boson private key (64 bytes, Base58 or 0x-hex): signs edge tokens. A secret. */
  edgeKey: string;
  /** Super nodes, in preference order for registry look-ups. */
  superNodes: SuperNodeConfig[];
  cache?: EdgeCacheOptions;
  /** Longest wait for one registry answer before the next super node is tried, ms. Default 5 000. */
  resolveTimeoutMs?: number;
  /** fetch used for every request to a target or registry. Default: the runtime's global fetch. */
  fetch?: typeof fetch;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
}

export interface SuperNode {
  id: Id;
  url: string;
}

/** The validated form every edge module works with. */
export interface ParsedEdgeConfig {
  zone: string;
  registrars: Id[];
  edgeKey: KeyPair;
  superNodes: SuperNode[];
  superNodeById: Map<string, SuperNode>;
  cache: Required<EdgeCacheOptions>;
  resolveTimeoutMs: number;
  fetch: typeof fetch;
  now: () => number;
}

export const MAX_CACHE_TTL_MS = 30_000;
const CONFIG_KEYS = new Set(['zone', 'registrarKeys', 'edgeKey', 'superNodes', 'cache', 'resolveTimeoutMs', 'fetch', 'now']);
const CACHE_KEYS = new Set(['maxEntries', 'ttlMs', 'negativeTtlMs']);
const ZONE_PATTERN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function invalid(message: string): EdgeError {
  return new EdgeError('INVALID_CONFIG', `edge config: ${message}`);
}

function refuseUnknown(obj: Record<string, unknown>, known: Set<string>, where: string): void {
  const unknown = Object.keys(obj).filter((k) => !known.has(k));
  if (unknown.length) throw invalid(`unknown ${where} key(s): ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function integer(v: unknown, name: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) {
    throw invalid(`${name} is an integer from ${min} to ${max}`);
  }
  return v as number;
}

function parseId(text: unknown, what: string): Id {
  try {
    return Id.parse(String(text));
  } catch {
    throw invalid(`${what} "${String(text)}" is not a Base58 id`);
  }
}

function parseOrigin(text: unknown, what: string): string {
  if (typeof text !== 'string' || !URL.canParse(text)) throw invalid(`${what} is not a URL`);
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`${what} must be http(s)`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
    throw invalid(`${what} must be an origin without path, query or credentials`);
  }
  return url.origin;
}

/** Validates a config object; throws EdgeError INVALID_CONFIG with a message naming the problem. */
export function parseEdgeConfig(input: unknown): ParsedEdgeConfig {
  if (!isObject(input)) throw invalid('expected an object');
  refuseUnknown(input, CONFIG_KEYS, 'config');
  const zone = typeof input.zone === 'string' ? input.zone.toLowerCase().replace(/\.$/, '') : '';
  if (!ZONE_PATTERN.test(zone)) throw invalid('zone is a DNS name such as ela.city or localhost');
  if (!Array.isArray(input.registrarKeys) || input.registrarKeys.length === 0) {
    throw invalid('registrarKeys is a non-empty list of registrar ids');
  }
  const registrars = input.registrarKeys.map((k) => parseId(k, 'registrar key'));
  let edgeKey: KeyPair;
  try {
    edgeKey = KeyPair.fromBosonPrivateKey(String(input.edgeKey ?? ''));
  } catch (e) {
    throw invalid(`edgeKey: ${(e as Error).message}`);
  }
  if (!Array.isArray(input.superNodes) || input.superNodes.length === 0) {
    throw invalid('superNodes is a non-empty list of {id, url}');
  }
  const superNodes: SuperNode[] = input.superNodes.map((s, i) => {
    if (!isObject(s)) throw invalid(`superNodes[${i}] is an object {id, url}`);
    refuseUnknown(s, new Set(['id', 'url']), `superNodes[${i}]`);
    return { id: parseId(s.id, `superNodes[${i}].id`), url: parseOrigin(s.url, `superNodes[${i}].url`) };
  });
  const superNodeById = new Map(superNodes.map((s) => [s.id.toString(), s]));
  if (superNodeById.size !== superNodes.length) throw invalid('superNodes lists an id twice');
  const cacheIn = input.cache ?? {};
  if (!isObject(cacheIn)) throw invalid('cache is an object');
  refuseUnknown(cacheIn, CACHE_KEYS, 'cache');
  const cache = {
    maxEntries: integer(cacheIn.maxEntries, 'cache.maxEntries', 10_000, 1, 10_000_000),
    ttlMs: integer(cacheIn.ttlMs, 'cache.ttlMs', MAX_CACHE_TTL_MS, 0, MAX_CACHE_TTL_MS),
    negativeTtlMs: integer(cacheIn.negativeTtlMs, 'cache.negativeTtlMs', 5_000, 0, MAX_CACHE_TTL_MS),
  };
  if (input.fetch !== undefined && typeof input.fetch !== 'function') throw invalid('fetch is a function');
  if (input.now !== undefined && typeof input.now !== 'function') throw invalid('now is a function');
  return {
    zone,
    registrars,
    edgeKey,
    superNodes,
    superNodeById,
    cache,
    resolveTimeoutMs: integer(input.resolveTimeoutMs, 'resolveTimeoutMs', 5_000, 1, 600_000),
    fetch: (input.fetch as typeof fetch | undefined) ?? ((req, init) => fetch(req, init)),
    now: (input.now as (() => number) | undefined) ?? Date.now,
  };
}
