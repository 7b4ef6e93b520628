/** DhtNode options: defaults, units and validation, declared once (shared/options.ts); unknown options are refused. */
import { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import { type Logger, silentLogger } from '../../shared/logger.ts';
import {
  boolean,
  type Checked,
  checkOptions,
  fn,
  instance,
  integer,
  list,
  nested,
  nonEmptyString,
  object,
  optional,
  refuse,
  type Rule,
  type Rules,
  rule,
  string,
  withDefault,
} from '../../shared/options.ts';
import { DhtError } from './errors.ts';

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

/** A bootstrap DHT node: its id (or the id's text) and where it listens. */
const bootstrapNode: Rule<{ id: Id; host: string; port: number }> = (value, name) => {
  const b = nested({
    id: rule<Id | string>((v) => v instanceof Id || typeof v === 'string', 'an Id or its text'),
    host: nonEmptyString,
    port: integer(1, 65535),
  })(value ?? null, name);
  if (b.id instanceof Id) return { ...b, id: b.id };
  try {
    return { ...b, id: Id.parse(b.id) };
  } catch (e) {
    return refuse(`${name}.id: ${(e as Error).message}`);
  }
};

const DHT_OPTIONS = {
  key: instance(KeyPair),
  host: withDefault(string, '0.0.0.0'),
  port: withDefault(integer(0, 65535), 39001),
  host6: optional(
    rule<string | false>((v) => v === false || typeof v === 'string', 'an address or false'),
  ),
  bootstrap: withDefault(list(bootstrapNode), []),
  dataDir: optional(string),
  developerMode: withDefault(boolean, false),
  clock: withDefault(fn<() => number>(), Date.now),
  logger: withDefault(object<Logger>(), silentLogger),
  lookupConcurrency: withDefault(integer(1, 16), 3),
  maxInFlight: withDefault(integer(1, 65536), 256),
  requestTimeoutMs: withDefault(integer(10, 600_000), 10_000),
  minStallMs: withDefault(integer(1, 600_000), 100),
  rateLimitPerSecond: withDefault(integer(0, 1_000_000), 32),
  rateLimitBurst: withDefault(integer(1, 1_000_000), 128),
  maxPacketBytes: withDefault(integer(128, 65535), 16384),
  maintenanceIntervalMs: withDefault(integer(10, 3_600_000), 30_000),
} satisfies Rules<DhtNodeOptions>;

export type ResolvedOptions = Checked<typeof DHT_OPTIONS>;

export function resolveOptions(options: DhtNodeOptions): ResolvedOptions {
  return checkOptions(
    options,
    DHT_OPTIONS,
    'DhtNode options',
    (message) => new DhtError('INVALID_OPTIONS', message),
  );
}
