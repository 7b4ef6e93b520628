/** Zone options: one object, documented defaults and units, unknown keys refused. */
import type { Id } from '../../shared/id.ts';
import { ipToBytes } from '../../shared/ip.ts';
import type { KeyPair } from '../../shared/keys.ts';
import { type Logger, silentLogger } from '../../shared/logger.ts';
import { ZONE_PATTERN } from '../../shared/records/challenge.ts';
import type { CaaRecord } from './view.ts';

export interface ZoneRegistryView {
  /** The name's current owner id; null when released; undefined when this registry does not know it. */
  currentOwner(name: string): string | null | undefined;
  /** The current binding JWS of the name, if bound. */
  binding(name: string): string | undefined;
}

export interface ZoneOptions {
  /** The zone, e.g. `ela.city`. */
  zone: string;
  /** This super node's key: signs its heartbeats, apex challenges and certificate bundles. */
  key: KeyPair;
  /** `zone.json` (published challenges, the certificate bundle) lives here. */
  dataDir: string;
  /** Super nodes whose records count (the registry's trusted registrars). */
  trusted: Id[];
  /** Super nodes to replicate with. Default none. */
  peers?: { id: string; url: string }[];
  registry: ZoneRegistryView;
  /** Where the name server listens; null: no DNS here (records still replicate). */
  dns: { host: string; port: number } | null;
  /** This super node's name server host name (NS target). Default `ns-<first 8 hex of the id>.<zone>`. */
  nsHost?: string;
  /** Addresses resolvers reach this name server at (glue). Default: the DNS host when it is a specific address. */
  nsAddresses?: string[];
  /** Addresses of the gateways in front of this super node that the apex and `*.zone` point at. Default none. */
  gatewayAddresses?: string[];
  /** Lists a gateway address only while a TCP connection to it on this port succeeds. Default: no check. */
  gatewayCheckPort?: number | null;
  /** TTL of every record, seconds. Default 30. A dead super node leaves the answers within 2 x TTL. */
  ttlS?: number;
  /** CAA records at the apex. Default none. */
  caa?: CaaRecord[];
  /** SOA RNAME. Default `hostmaster.<zone>`. */
  hostmaster?: string;
  /** This super node orders the zone's certificate when it is its turn. Default false. */
  acme?: boolean;
  /** UDP queries per second and burst per source (cookie holders exempt); false: no limit. Default 50/s, burst 200. */
  rateLimit?: { perSec: number; burst: number } | false;
  /** Largest UDP answer, as a multiple of the query's size, for a client without a valid cookie. Default 4. */
  amplificationFactor?: number;
  /** Every n-th rate-limited query gets a truncated answer (0: none). Default 2. */
  slip?: number;
  /** Period of the pull from every peer. Default 5 000 ms. */
  pullIntervalMs?: number;
  /** Timeout of one replication call. Default 5 000 ms. */
  replicationTimeoutMs?: number;
  /** Accepted distance of a signed iat from our clock. Default 60 000 ms. */
  clockSkewMs?: number;
  /** Owner challenge publications per name: per minute and burst. Default 10/min, burst 10. */
  publishesPerNamePerMin?: number;
  /** Records the zone holds at most (challenges mostly). Default 10 000. */
  maxRecords?: number;
  clock?: { now(): number };
  logger?: Logger;
}

export type ResolvedZoneOptions = Required<
  Omit<ZoneOptions, 'dns' | 'gatewayCheckPort' | 'rateLimit'>
> & {
  dns: { host: string; port: number } | null;
  gatewayCheckPort: number | null;
  rateLimit: { perSec: number; burst: number } | false;
  /** A heartbeat is sent this often: a third of the TTL, so two may be lost before the super node drops out. */
  heartbeatIntervalMs: number;
};

const KNOWN = new Set([
  'zone',
  'key',
  'dataDir',
  'trusted',
  'peers',
  'registry',
  'dns',
  'nsHost',
  'nsAddresses',
  'gatewayAddresses',
  'gatewayCheckPort',
  'ttlS',
  'caa',
  'hostmaster',
  'acme',
  'rateLimit',
  'amplificationFactor',
  'slip',
  'pullIntervalMs',
  'replicationTimeoutMs',
  'clockSkewMs',
  'publishesPerNamePerMin',
  'maxRecords',
  'clock',
  'logger',
]);

const SPECIFIC = (host: string) => host !== '0.0.0.0' && host !== '::' && ipToBytes(host) !== null;

export function resolveZoneOptions(o: ZoneOptions): ResolvedZoneOptions {
  const unknown = Object.keys(o).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new TypeError(`unknown zone option(s): ${unknown.join(', ')}`);
  const zone = String(o.zone ?? '')
    .toLowerCase()
    .replace(/\.$/, '');
  if (!ZONE_PATTERN.test(zone)) throw new TypeError(`zone "${o.zone}" is not a DNS name`);
  if (!o.key || !o.registry || typeof o.dataDir !== 'string')
    throw new TypeError('zone options "key", "registry" and "dataDir" are required');
  const number = (name: string, value: number | undefined, fallback: number, min = 0): number => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < min)
      throw new TypeError(`zone option "${name}" must be a number >= ${min}`);
    return v;
  };
  const ttlS = number('ttlS', o.ttlS, 30, 1);
  if (!Number.isInteger(ttlS)) throw new TypeError('zone option "ttlS" is whole seconds');
  const addresses = (name: string, list: string[] | undefined, fallback: string[]): string[] => {
    const v = list ?? fallback;
    const bad = v.filter((a) => ipToBytes(a) === null);
    if (bad.length > 0)
      throw new TypeError(`zone option "${name}": ${bad.join(', ')} is not an IP address`);
    return v;
  };
  const nsHost = (o.nsHost ?? `ns-${o.key.id.toHexString().slice(2, 10)}.${zone}`)
    .toLowerCase()
    .replace(/\.$/, '');
  if (!ZONE_PATTERN.test(nsHost))
    throw new TypeError(`zone option "nsHost": "${o.nsHost}" is not a host name`);
  const hostmaster = (o.hostmaster ?? `hostmaster.${zone}`).replace(/\.$/, '');
  if (!ZONE_PATTERN.test(hostmaster.toLowerCase()))
    throw new TypeError(`zone option "hostmaster": "${o.hostmaster}" is not a DNS name`);
  for (const c of o.caa ?? []) {
    if (
      !['issue', 'issuewild', 'iodef'].includes(c.tag) ||
      !Number.isInteger(c.flags) ||
      c.flags < 0 ||
      c.flags > 255 ||
      typeof c.value !== 'string'
    ) {
      throw new TypeError(`zone option "caa": ${JSON.stringify(c)} is not a CAA record`);
    }
  }
  const rateLimit = o.rateLimit === false ? false : { perSec: 50, burst: 200, ...o.rateLimit };
  return {
    zone,
    key: o.key,
    dataDir: o.dataDir,
    trusted: o.trusted.some((t) => t.equals(o.key.id)) ? o.trusted : [...o.trusted, o.key.id],
    peers: o.peers ?? [],
    registry: o.registry,
    dns: o.dns,
    nsHost,
    nsAddresses: addresses(
      'nsAddresses',
      o.nsAddresses,
      o.dns && SPECIFIC(o.dns.host) ? [o.dns.host] : [],
    ),
    gatewayAddresses: addresses('gatewayAddresses', o.gatewayAddresses, []),
    gatewayCheckPort: o.gatewayCheckPort ?? null,
    ttlS,
    caa: o.caa ?? [],
    hostmaster,
    acme: o.acme ?? false,
    rateLimit,
    amplificationFactor: number('amplificationFactor', o.amplificationFactor, 4, 1),
    slip: number('slip', o.slip, 2),
    pullIntervalMs: number('pullIntervalMs', o.pullIntervalMs, 5_000),
    replicationTimeoutMs: number('replicationTimeoutMs', o.replicationTimeoutMs, 5_000, 1),
    clockSkewMs: number('clockSkewMs', o.clockSkewMs, 60_000),
    publishesPerNamePerMin: number('publishesPerNamePerMin', o.publishesPerNamePerMin, 10, 1),
    maxRecords: number('maxRecords', o.maxRecords, 10_000, 16),
    clock: o.clock ?? { now: () => Date.now() },
    logger: o.logger ?? silentLogger,
    heartbeatIntervalMs: Math.max(100, Math.floor((ttlS * 1000) / 3)),
  };
}
