/** Cloud options: one object, documented defaults and units, unknown keys refused. */
import { type Logger, silentLogger } from '../shared/logger.ts';
import type { ChatOptions } from './chat/service.ts';
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
  /** Bytes of each text file that the search indexes. Default 1 MiB. */
  searchTextBytes: number;
  /** Wall time of a WASM run from its first instruction, and the most a run may ask for. Default 5 s (a run may ask for less, down to 100 ms). */
  wasmTimeoutMs: number;
  /** Memory a WASM module may declare (all memories' maximum), and the most a run may ask for. Default 256 MiB. */
  wasmMemoryBytes: number;
  /** WASM runs at once per wallet / on the node, and runs waiting per wallet / on the node (then 429). Defaults 2, 4, 4, 16. */
  wasmRunsPerWallet: number;
  wasmRunsPerNode: number;
  wasmQueuedPerWallet: number;
  wasmQueuedPerNode: number;
  /** Largest module file. Default 64 MiB. */
  wasmModuleBytes: number;
  /** A run's folder at most (materialised, and written by a write-enabled run). Defaults 256 MiB, 10,000 entries. */
  wasmFolderBytes: number;
  wasmFolderFiles: number;
  /** stdout and stderr of a run together at most. Default 8 MiB. */
  wasmOutputBytes: number;
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
  /** The chat backend (docs/cloud.md, "Chat backends"); none: the chat page says how to add one. */
  chat?: ChatOptions;
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
  searchTextBytes: 1024 * 1024,
  wasmTimeoutMs: 5000,
  wasmMemoryBytes: 256 * 1024 * 1024,
  wasmRunsPerWallet: 2,
  wasmRunsPerNode: 4,
  wasmQueuedPerWallet: 4,
  wasmQueuedPerNode: 16,
  wasmModuleBytes: 64 * 1024 * 1024,
  wasmFolderBytes: 256 * 1024 * 1024,
  wasmFolderFiles: 10_000,
  wasmOutputBytes: 8 * 1024 * 1024,
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
  chat: ChatOptions | undefined;
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
  'chat',
]);
const CHAT_KEYS = {
  openai: ['backend', 'url', 'apiKey', 'model'],
  local: ['backend', 'modelPath', 'runtimeDir', 'threads', 'contextSize'],
};

function checkChat(chat: unknown): ChatOptions | undefined {
  if (chat === undefined) return undefined;
  const c = chat as Record<string, unknown>;
  if (c === null || typeof c !== 'object' || (c.backend !== 'openai' && c.backend !== 'local')) {
    throw new TypeError(
      'cloud option "chat" is { backend: "openai", url, model, apiKey? } or { backend: "local", modelPath, runtimeDir?, threads?, contextSize? }',
    );
  }
  const unknown = Object.keys(c).filter(
    (k) => !CHAT_KEYS[c.backend as 'openai' | 'local'].includes(k),
  );
  if (unknown.length > 0)
    throw new TypeError(`unknown cloud chat option(s): ${unknown.join(', ')}`);
  const text = (k: string, optional = false): void => {
    if (c[k] === undefined && optional) return;
    if (typeof c[k] !== 'string' || c[k] === '')
      throw new TypeError(`cloud chat option "${k}" must be a non-empty string`);
  };
  const count = (k: string): void => {
    if (c[k] !== undefined && (!Number.isInteger(c[k]) || (c[k] as number) < 1))
      throw new TypeError(`cloud chat option "${k}" must be a positive integer`);
  };
  if (c.backend === 'openai') {
    text('url');
    text('model');
    text('apiKey', true);
    if (!/^https?:\/\//.test(c.url as string))
      throw new TypeError(
        'cloud chat option "url" must be an http(s) URL, e.g. "http://127.0.0.1:11434/v1"',
      );
  } else {
    text('modelPath');
    text('runtimeDir', true);
    count('threads');
    count('contextSize');
  }
  return c as unknown as ChatOptions;
}
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
    chat: checkChat(options.chat),
  };
}
