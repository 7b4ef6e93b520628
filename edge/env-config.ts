/**
 * Reads an {@link EdgeConfig} from environment variables (Workers vars and secrets, Deno and Node.js
 * process env) or a JSON file's text. Every `PC2_EDGE_*` variable must be a known one.
 */
import type { EdgeConfig } from './config.ts';
import { EdgeError } from './errors.ts';

export const ENV_PREFIX = 'PC2_EDGE_';

/** Environment variables the edge reads; lists are JSON arrays or comma-separated. */
export const ENV_KEYS = {
  zone: 'PC2_EDGE_ZONE',
  registrarKeys: 'PC2_EDGE_REGISTRAR_KEYS',
  /** A secret: `wrangler secret put PC2_EDGE_KEY` on Workers. */
  edgeKey: 'PC2_EDGE_KEY',
  /** `id=url,id=url` or a JSON array of {id, url}. */
  superNodes: 'PC2_EDGE_SUPER_NODES',
  cacheMaxEntries: 'PC2_EDGE_CACHE_MAX_ENTRIES',
  cacheTtlMs: 'PC2_EDGE_CACHE_TTL_MS',
  negativeTtlMs: 'PC2_EDGE_NEGATIVE_TTL_MS',
  resolveTimeoutMs: 'PC2_EDGE_RESOLVE_TIMEOUT_MS',
  responseTimeoutMs: 'PC2_EDGE_RESPONSE_TIMEOUT_MS',
  /** `true` admits loopback and private direct endpoints (development on loopback only). */
  developerMode: 'PC2_EDGE_DEVELOPER_MODE',
} as const;

/** Variables the Deno and Node.js adapters read for themselves (listening, certificate, config file). */
export const ADAPTER_ENV_KEYS = {
  configFile: 'PC2_EDGE_CONFIG_FILE',
  hostname: 'PC2_EDGE_HOSTNAME',
  port: 'PC2_EDGE_PORT',
  httpPort: 'PC2_EDGE_HTTP_PORT',
  certFile: 'PC2_EDGE_TLS_CERT_FILE',
  keyFile: 'PC2_EDGE_TLS_KEY_FILE',
} as const;

const ENV_NAMES = new Set<string>([...Object.values(ENV_KEYS), ...Object.values(ADAPTER_ENV_KEYS)]);

function invalid(message: string): EdgeError {
  return new EdgeError('INVALID_CONFIG', `edge environment: ${message}`);
}

function list(value: unknown, name: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${name} is required`);
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (Array.isArray(parsed)) return parsed;
    } catch {
      // fall through to the error below
    }
    throw invalid(`${name} is not a JSON array`);
  }
  return text.split(/[\s,]+/).filter(Boolean);
}

function int(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw invalid(`${name} is an integer`);
  return n;
}

export function edgeConfigFromEnv(env: Record<string, unknown>): EdgeConfig {
  const unknown = Object.keys(env).filter((k) => k.startsWith(ENV_PREFIX) && !ENV_NAMES.has(k));
  if (unknown.length)
    throw invalid(
      `unknown variable(s) ${unknown.join(', ')} (known: ${[...ENV_NAMES].join(', ')})`,
    );
  const superNodes = list(env[ENV_KEYS.superNodes], ENV_KEYS.superNodes).map((entry) => {
    if (typeof entry !== 'string') return entry;
    const at = entry.indexOf('=');
    if (at <= 0) throw invalid(`${ENV_KEYS.superNodes} entries are id=url`);
    return { id: entry.slice(0, at), url: entry.slice(at + 1) };
  });
  const cache = {
    maxEntries: int(env[ENV_KEYS.cacheMaxEntries], ENV_KEYS.cacheMaxEntries),
    ttlMs: int(env[ENV_KEYS.cacheTtlMs], ENV_KEYS.cacheTtlMs),
    negativeTtlMs: int(env[ENV_KEYS.negativeTtlMs], ENV_KEYS.negativeTtlMs),
  };
  const config: EdgeConfig = {
    zone: String(env[ENV_KEYS.zone] ?? ''),
    registrarKeys: list(env[ENV_KEYS.registrarKeys], ENV_KEYS.registrarKeys) as string[],
    edgeKey: String(env[ENV_KEYS.edgeKey] ?? ''),
    superNodes: superNodes as EdgeConfig['superNodes'],
    cache: Object.fromEntries(Object.entries(cache).filter(([, v]) => v !== undefined)),
  };
  const timeout = int(env[ENV_KEYS.resolveTimeoutMs], ENV_KEYS.resolveTimeoutMs);
  if (timeout !== undefined) config.resolveTimeoutMs = timeout;
  const responseTimeout = int(env[ENV_KEYS.responseTimeoutMs], ENV_KEYS.responseTimeoutMs);
  if (responseTimeout !== undefined) config.responseTimeoutMs = responseTimeout;
  const developer = env[ENV_KEYS.developerMode];
  if (developer !== undefined && developer !== '') {
    if (developer !== 'true' && developer !== 'false' && developer !== true && developer !== false)
      throw invalid(`${ENV_KEYS.developerMode} is true or false`);
    config.developerMode = developer === 'true' || developer === true;
  }
  return config;
}

/** A JSON config file's text; its keys are EdgeConfig's (fetch and now excepted). */
export function edgeConfigFromJson(text: string): EdgeConfig {
  try {
    return JSON.parse(text) as EdgeConfig;
  } catch (e) {
    throw invalid(`config file is not JSON: ${(e as Error).message}`);
  }
}
