/** DhtNode options: defaults, units and validation (unknown options are refused). */
import { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import { DhtError } from './errors.ts';

import { type Logger, silentLogger } from '../../shared/logger.ts';

export type { Logger };

export interface BootstrapNode {
  id: Id | string;
  host: string;
  port: number;
}

export interface DhtNodeOptions {
  /** The node's identity; its id is the node id. Required. */
  key: KeyPair;
  /** IPv4 address to bind. Default '0.0.0.0'. */
  host?: string;
  /** UDP port, IPv4 and IPv6. Default 39001; 0 = ephemeral. */
  port?: number;
  /** IPv6 address to bind; false = no IPv6; default: '::' when the host has a global IPv6 address. */
  host6?: string | false;
  /** Nodes to join through. Default none (the first node of a network). */
  bootstrap?: BootstrapNode[];
  /** Directory of the routing table file; default none (not persisted). */
  dataDir?: string;
  /** Admit loopback and private addresses into the routing table and as announcers. Default false. */
  developerMode?: boolean;
  /** Milliseconds since the epoch. Default Date.now. */
  clock?: () => number;
  logger?: Logger;
  /** Requests one lookup keeps in flight (not counting stalled ones). Default 3; 3.0 allows up to 16. */
  lookupConcurrency?: number;
  /** Requests in flight per socket; more wait in a queue. Default 256. */
  maxInFlight?: number;
  /** Hard timeout of one request. Default 10000 ms. */
  requestTimeoutMs?: number;
  /** Floor of the adaptive stall timer. Default 100 ms. */
  minStallMs?: number;
  /** Packets per second one source may send; 0 = no limit. Default 32 (burst 128), as 3.0. */
  rateLimitPerSecond?: number;
  rateLimitBurst?: number;
  /** Bigger datagrams are dropped unread. Default 16384 bytes. */
  maxPacketBytes?: number;
  /** How often the maintenance task runs. Default 30000 ms. */
  maintenanceIntervalMs?: number;
}

export interface ResolvedOptions {
  key: KeyPair;
  host: string;
  port: number;
  host6: string | false | undefined;
  bootstrap: { id: Id; host: string; port: number }[];
  dataDir?: string;
  developerMode: boolean;
  clock: () => number;
  logger: Logger;
  lookupConcurrency: number;
  maxInFlight: number;
  requestTimeoutMs: number;
  minStallMs: number;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  maxPacketBytes: number;
  maintenanceIntervalMs: number;
}

const KNOWN = new Set([
  'key', 'host', 'port', 'host6', 'bootstrap', 'dataDir', 'developerMode', 'clock', 'logger', 'lookupConcurrency',
  'maxInFlight', 'requestTimeoutMs', 'minStallMs', 'rateLimitPerSecond', 'rateLimitBurst', 'maxPacketBytes', 'maintenanceIntervalMs',
]);

const bad = (message: string): never => {
  throw new DhtError('INVALID_OPTIONS', message);
};

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) bad(`${name} must be an integer in ${min}..${max}`);
  return value as number;
}

export function resolveOptions(options: DhtNodeOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) bad('options must be an object');
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) bad(`unknown option "${key}"`);
  if (!(options.key instanceof KeyPair)) bad('key must be a KeyPair');
  const bootstrap = (options.bootstrap ?? []).map((b, i) => {
    if (typeof b !== 'object' || b === null) bad(`bootstrap[${i}] must be {id, host, port}`);
    let id: Id;
    try {
      id = typeof b.id === 'string' ? Id.parse(b.id) : b.id;
    } catch (e) {
      return bad(`bootstrap[${i}].id: ${(e as Error).message}`);
    }
    if (!(id instanceof Id)) bad(`bootstrap[${i}].id must be an Id or its text form`);
    if (typeof b.host !== 'string' || b.host.length === 0) bad(`bootstrap[${i}].host must be a string`);
    return { id, host: b.host, port: integer(b.port, `bootstrap[${i}].port`, 0, 1, 65535) };
  });
  if (options.clock !== undefined && typeof options.clock !== 'function') bad('clock must be a function');
  if (options.host6 !== undefined && options.host6 !== false && typeof options.host6 !== 'string') bad('host6 must be a string or false');
  return {
    key: options.key,
    host: options.host ?? '0.0.0.0',
    port: integer(options.port, 'port', 39001, 0, 65535),
    host6: options.host6,
    bootstrap,
    dataDir: options.dataDir,
    developerMode: options.developerMode ?? false,
    clock: options.clock ?? Date.now,
    logger: options.logger ?? silentLogger,
    lookupConcurrency: integer(options.lookupConcurrency, 'lookupConcurrency', 3, 1, 16),
    maxInFlight: integer(options.maxInFlight, 'maxInFlight', 256, 1, 65536),
    requestTimeoutMs: integer(options.requestTimeoutMs, 'requestTimeoutMs', 10_000, 10, 600_000),
    minStallMs: integer(options.minStallMs, 'minStallMs', 100, 1, 600_000),
    rateLimitPerSecond: integer(options.rateLimitPerSecond, 'rateLimitPerSecond', 32, 0, 1_000_000),
    rateLimitBurst: integer(options.rateLimitBurst, 'rateLimitBurst', 128, 1, 1_000_000),
    maxPacketBytes: integer(options.maxPacketBytes, 'maxPacketBytes', 16384, 128, 65535),
    maintenanceIntervalMs: integer(options.maintenanceIntervalMs, 'maintenanceIntervalMs', 30_000, 10, 3_600_000),
  };
}
