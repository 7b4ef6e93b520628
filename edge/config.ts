/**
 * The edge's configuration: one object, validated once by the runtime that starts the edge (from
 * environment variables or a JSON file) against one declaration (shared/options.ts), with unknown
 * keys refused so a typo never goes unnoticed.
 */
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import {
  boolean,
  checkOptions,
  fn,
  integer,
  list,
  nested,
  optional,
  type Parsers,
  refuse,
  type Rule,
  type Rules,
  withDefault,
} from '../shared/options.ts';
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
  /**
   * Longest wait for a target's response headers, ms, before the next target is tried (GET, HEAD and
   * the other idempotent methods) or the request fails (docs/edge.md, "Liveness"). 0 = no bound.
   * Default 5 000.
   */
  responseTimeoutMs?: number;
  /**
   * Admits direct endpoints on loopback and private addresses (devnet and tests on loopback only).
   * Default false: a direct endpoint must be a public address, also once its name is resolved.
   */
  developerMode?: boolean;
  /** fetch used for every request to a super node (registry, relay ingress). Default: the runtime's global fetch. */
  fetch?: typeof fetch;
  /**
   * fetch used for direct nodes' endpoints: the runtime's own, which refuses non-public addresses at
   * connect time (Node.js, Deno). Default: `fetch` (Workers: Cloudflare's network decides, docs/edge.md).
   */
  directFetch?: typeof fetch;
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
  responseTimeoutMs: number;
  developerMode: boolean;
  fetch: typeof fetch;
  directFetch: typeof fetch;
  now: () => number;
}

export const MAX_CACHE_TTL_MS = 30_000;
export const DEFAULT_RESPONSE_TIMEOUT_MS = 5_000;
const ZONE_PATTERN =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const zone: Rule<string> = (value, name) => {
  const text = typeof value === 'string' ? value.toLowerCase().replace(/\.$/, '') : '';
  return ZONE_PATTERN.test(text)
    ? text
    : refuse(`${name} is a DNS name such as ela.city or localhost`);
};

const id: Rule<Id> = (value, name) => {
  try {
    return Id.parse(String(value));
  } catch {
    return refuse(`${name} "${String(value)}" is not a Base58 id`);
  }
};

const edgeKey: Rule<KeyPair> = (value, name) => {
  try {
    return KeyPair.fromBosonPrivateKey(String(value ?? ''));
  } catch (e) {
    return refuse(`${name}: ${(e as Error).message}`);
  }
};

/** An http(s) origin: no path, query or credentials. */
const origin: Rule<string> = (value, name) => {
  if (typeof value !== 'string' || !URL.canParse(value)) return refuse(`${name} is not a URL`);
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') refuse(`${name} must be http(s)`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
    refuse(`${name} must be an origin without path, query or credentials`);
  }
  return url.origin;
};

const nonEmpty =
  <T>(item: Rule<T>, what: string): Rule<T[]> =>
  (value, name) =>
    Array.isArray(value) && value.length > 0
      ? list(item)(value, name)
      : refuse(`${name} is a non-empty list of ${what}`);

const EDGE_CONFIG = {
  zone,
  registrarKeys: nonEmpty(id, 'registrar ids'),
  edgeKey,
  superNodes: nonEmpty(nested({ id, url: origin } satisfies Parsers<SuperNodeConfig>), '{id, url}'),
  cache: nested({
    maxEntries: withDefault(integer(1, 10_000_000), 10_000),
    ttlMs: withDefault(integer(0, MAX_CACHE_TTL_MS), MAX_CACHE_TTL_MS),
    negativeTtlMs: withDefault(integer(0, MAX_CACHE_TTL_MS), 5_000),
  } satisfies Rules<EdgeCacheOptions>),
  resolveTimeoutMs: withDefault(integer(1, 600_000), 5_000),
  responseTimeoutMs: withDefault(integer(0, 600_000), DEFAULT_RESPONSE_TIMEOUT_MS),
  developerMode: withDefault(boolean, false),
  fetch: withDefault(fn<typeof fetch>(), (req, init) => fetch(req, init)),
  directFetch: optional(fn<typeof fetch>()),
  now: withDefault(fn<() => number>(), Date.now),
} satisfies Parsers<EdgeConfig>;

/** Validates a config object; throws EdgeError INVALID_CONFIG with a message naming the problem. */
export function parseEdgeConfig(input: unknown): ParsedEdgeConfig {
  const config = checkOptions(
    input,
    EDGE_CONFIG,
    'edge config',
    (message) => new EdgeError('INVALID_CONFIG', message),
  );
  const superNodeById = new Map(config.superNodes.map((s) => [s.id.toString(), s]));
  if (superNodeById.size !== config.superNodes.length)
    throw new EdgeError('INVALID_CONFIG', 'edge config: superNodes lists an id twice');
  const { registrarKeys, directFetch, ...parsed } = config;
  return {
    ...parsed,
    directFetch: directFetch ?? parsed.fetch,
    registrars: registrarKeys,
    superNodeById,
  };
}
