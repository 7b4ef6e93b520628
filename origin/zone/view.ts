/**
 * What the zone answers right now, computed from the stored records: the live super nodes (a newer
 * heartbeat arrived within the last TTL), their name servers, the gateways in front of them, the
 * challenge TXT values, CAA and SOA. Every super node holding the same records computes the same
 * view, so any name server of the delegation gives the same answers.
 */
import type { ZoneRecord } from './records.ts';
import type { StoredRecord } from './store.ts';

export interface CaaRecord {
  flags: number;
  tag: 'issue' | 'issuewild' | 'iodef';
  value: string;
}

export interface NameServer {
  id: string;
  host: string;
  addresses: string[];
  port: number;
}

export interface ZoneView {
  /** Lower-case, no trailing dot. */
  zone: string;
  ttl: number;
  serial: number;
  /** Live super nodes' name servers, sorted by host (the first is the SOA MNAME). */
  nameServers: NameServer[];
  /** Name server host (lower-case) -> its addresses, for the NS targets inside the zone. */
  hostAddresses: Map<string, string[]>;
  gateways: { a: string[]; aaaa: string[] };
  /** Lower-case owner name (`_acme-challenge.alice.ela.city`) -> TXT values, sorted. */
  txt: Map<string, string[]>;
  caa: CaaRecord[];
  hostmaster: string;
  /** Live super nodes by id. */
  live: Set<string>;
  /** The view must be recomputed at this time (a heartbeat ages out, a challenge expires) at the latest. */
  validUntil: number;
}

export interface ViewOptions {
  zone: string;
  ttlS: number;
  /** A heartbeat keeps its super node live this long after it arrived. */
  aliveMs: number;
  /** Tolerated distance between the signer's clock and ours. */
  clockSkewMs: number;
  caa: CaaRecord[];
  hostmaster: string;
  /** The name's current owner id per the registry; null when released; undefined when unknown here. */
  currentOwner(name: string): string | null | undefined;
}

const byHost = (a: NameServer, b: NameServer) =>
  a.host < b.host ? -1 : a.host > b.host ? 1 : a.id < b.id ? -1 : 1;

export function isLive(
  stored: StoredRecord,
  now: number,
  o: Pick<ViewOptions, 'aliveMs' | 'clockSkewMs'>,
): boolean {
  const { record } = stored;
  if (record.kind !== 'heartbeat') return false;
  return (
    now - stored.receivedAt <= o.aliveMs && now - record.payload.iat <= o.aliveMs + o.clockSkewMs
  );
}

export function buildView(records: Iterable<StoredRecord>, now: number, o: ViewOptions): ZoneView {
  const heartbeats: StoredRecord[] = [];
  const challenges: Extract<ZoneRecord, { kind: 'challenge' }>[] = [];
  let validUntil = now + o.aliveMs;
  let changedAt = 0;
  for (const stored of records) {
    const { record } = stored;
    if (record.kind === 'heartbeat') {
      heartbeats.push(stored);
      changedAt = Math.max(changedAt, record.payload.changedAt);
    } else if (
      record.kind === 'challenge' &&
      record.payload.exp > now &&
      record.payload.values.length > 0
    ) {
      const owner = record.payload.name === '' ? undefined : o.currentOwner(record.payload.name);
      if (owner === null || (owner !== undefined && owner !== record.signer.toString())) continue;
      challenges.push(record);
      changedAt = Math.max(changedAt, record.payload.iat);
      validUntil = Math.min(validUntil, record.payload.exp);
    }
  }
  const reallyLive = heartbeats.filter((s) => isLive(s, now, o));
  for (const s of reallyLive) validUntil = Math.min(validUntil, s.receivedAt + o.aliveMs + 1);
  // With no live super node known (this one's heartbeat is late), a possibly stale answer beats none.
  const live = reallyLive.length > 0 ? reallyLive : heartbeats;
  const nameServers = live
    .flatMap((s) => {
      const ns = (s.record as Extract<ZoneRecord, { kind: 'heartbeat' }>).payload.ns;
      return ns
        ? [
            {
              id: s.record.signer.toString(),
              host: ns.host.toLowerCase(),
              addresses: ns.addresses,
              port: ns.port,
            },
          ]
        : [];
    })
    .sort(byHost);
  const hostAddresses = new Map<string, string[]>();
  for (const ns of nameServers)
    hostAddresses.set(ns.host, unique([...(hostAddresses.get(ns.host) ?? []), ...ns.addresses]));
  let gateways = live.flatMap(
    (s) => (s.record as Extract<ZoneRecord, { kind: 'heartbeat' }>).payload.gateways,
  );
  if (gateways.length === 0)
    gateways = heartbeats.flatMap(
      (s) => (s.record as Extract<ZoneRecord, { kind: 'heartbeat' }>).payload.gateways,
    );
  const txt = new Map<string, string[]>();
  for (const c of challenges) {
    const owner = `_acme-challenge.${c.payload.name === '' ? '' : `${c.payload.name}.`}${o.zone}`;
    txt.set(owner, unique([...(txt.get(owner) ?? []), ...c.payload.values]));
  }
  return {
    zone: o.zone,
    ttl: o.ttlS,
    serial: Math.floor(changedAt / 1000) % 2 ** 32,
    nameServers,
    hostAddresses,
    gateways: {
      a: unique(gateways.filter((g) => !g.includes(':'))),
      aaaa: unique(gateways.filter((g) => g.includes(':'))),
    },
    txt,
    caa: o.caa,
    hostmaster: o.hostmaster,
    live: new Set(reallyLive.map((s) => s.record.signer.toString())),
    validUntil,
  };
}

function unique(list: string[]): string[] {
  return [...new Set(list)].sort();
}
