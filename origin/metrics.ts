/**
 * The super node's metrics, read at scrape time from the counters its parts keep: the registry
 * (names, routes, writes by outcome, rate limits, replication per peer), the tunnel server
 * (sessions, streams waiting and refused, bytes each way), the DHT (packets, requests, errors and
 * timeouts by method, routing table, size estimate), the zone's name server (answers by type and
 * rcode) and certificate. Every sample carries `supernode` (its id): one process may run several
 * (pc2 devnet). Names and meanings: docs/operator-guide.md.
 */
import { type MetricDef, type MetricSet, type Sample, tableSamples } from '../shared/metrics.ts';
import type { SuperNode } from './supernode.ts';

/** One super node during one scrape: what several metrics read is computed once. */
interface Scrape {
  node: SuperNode;
  health(): ReturnType<SuperNode['status']['health']>;
  tunnel(): ReturnType<SuperNode['tunnel']['stats']>;
}

type Def = MetricDef & { read(scrape: Scrape, sn: Record<string, string>): Sample[] };

function memo<T>(f: () => T): () => T {
  let value: { v: T } | null = null;
  return () => (value ??= { v: f() }).v;
}

const one = (labels: Record<string, string>, value: number): Sample[] => [{ labels, value }];
const SN = ['supernode'] as const;

const gauge = (
  name: string,
  help: string,
  labelNames: readonly string[],
  read: Def['read'],
): Def => ({ name, help, type: 'gauge', labelNames, read });
const counter = (
  name: string,
  help: string,
  labelNames: readonly string[],
  read: Def['read'],
): Def => ({ name, help, type: 'counter', labelNames, read });

const DEFS: Def[] = [
  gauge(
    'pc2_supernode_info',
    'The super node: its version, display label and region (value 1).',
    [...SN, 'version', 'label', 'region'],
    (n, sn) => {
      const h = n.health();
      return one({ ...sn, version: h.version, label: h.label, region: h.region ?? '' }, 1);
    },
  ),
  gauge('pc2_supernode_start_time_seconds', 'When the super node started.', SN, (n, sn) =>
    one(sn, n.node.status.startedAt / 1000),
  ),
  gauge(
    'pc2_supernode_fit',
    'Whether the super node is fit to serve (GET /api/v1/health answers 200): 1 or 0.',
    SN,
    (n, sn) => one(sn, n.health().ok ? 1 : 0),
  ),
  gauge(
    'pc2_supernode_health_check',
    'Each health check: 0 ok, 1 warn, 2 fail.',
    [...SN, 'check'],
    (n, sn) =>
      n.node.status.health().checks.map((c) => ({
        labels: { ...sn, check: c.name },
        value: c.status === 'ok' ? 0 : c.status === 'warn' ? 1 : 2,
      })),
  ),
  gauge('pc2_registry_names_bound', 'Names bound (not released).', SN, (n, sn) =>
    one(sn, n.node.status.summary().namesBound),
  ),
  gauge(
    'pc2_registry_routes_live',
    'Names whose route record has not expired, by mode.',
    [...SN, 'mode'],
    (n, sn) => tableSamples(n.node.status.summary().online, 'mode', sn),
  ),
  counter(
    'pc2_registry_writes_total',
    'Signed writes (claim, route = lease renewal, release, transfer, accept) by outcome: ok or the refusal code.',
    [...SN, 'op', 'result'],
    (n, sn) =>
      n.node.registry.service.counters
        .entries()
        .map(([op, result, value]) => ({ labels: { ...sn, op, result }, value })),
  ),
  counter(
    'pc2_registry_rate_limited_total',
    'Registry requests refused by the rate limits, by kind (read, write).',
    [...SN, 'kind'],
    (n, sn) => tableSamples(n.node.registry.limits.refused, 'kind', sn),
  ),
  gauge('pc2_registry_store_bytes', 'Size of the registry log on disk.', SN, (n, sn) =>
    one(sn, n.node.registry.store.logBytes),
  ),
  gauge(
    'pc2_registry_replication_pending_items',
    'Local changes not yet pushed to each peer.',
    [...SN, 'peer'],
    (n, sn) =>
      n.node.registry.replication
        .peerStates()
        .map((p) => ({ labels: { ...sn, peer: p.id }, value: p.pending })),
  ),
  gauge(
    'pc2_registry_replication_lag_seconds',
    'Seconds since the last complete pull from each peer (since start when none yet).',
    [...SN, 'peer'],
    (n, sn) =>
      n.node.status.health().peers.map((p) => ({
        labels: { ...sn, peer: p.id },
        value: p.lagS ?? (Date.now() - n.node.status.startedAt) / 1000,
      })),
  ),
  gauge(
    'pc2_registry_replication_last_pull_timestamp_seconds',
    'When the last complete pull from each peer ended (0: never).',
    [...SN, 'peer'],
    (n, sn) =>
      n.node.registry.replication
        .peerStates()
        .map((p) => ({ labels: { ...sn, peer: p.id }, value: p.lastPullAt / 1000 })),
  ),
  counter(
    'pc2_registry_replication_failures_total',
    'Failed replication calls to each peer, by direction (push, pull).',
    [...SN, 'peer', 'direction'],
    (n, sn) =>
      n.node.registry.replication.peerStates().flatMap((p) => [
        { labels: { ...sn, peer: p.id, direction: 'push' }, value: p.pushFailures },
        { labels: { ...sn, peer: p.id, direction: 'pull' }, value: p.pullFailures },
      ]),
  ),
  counter(
    'pc2_supernode_http_requests_total',
    'Requests on the API port by kind: api (registry, DHT, zone), relay (HTTP), relay_websocket.',
    [...SN, 'kind'],
    (n, sn) => {
      const r = n.node.status.requests;
      return [
        { labels: { ...sn, kind: 'api' }, value: r.api },
        { labels: { ...sn, kind: 'relay' }, value: r.relay },
        { labels: { ...sn, kind: 'relay_websocket' }, value: r.relayUpgrades },
      ];
    },
  ),
  gauge('pc2_tunnel_sessions', 'Nodes holding a tunnel session here.', SN, (n, sn) =>
    one(sn, n.tunnel().sessions),
  ),
  gauge('pc2_tunnel_connections', 'Tunnel connections (TCP) open.', SN, (n, sn) =>
    one(sn, n.tunnel().connections),
  ),
  gauge('pc2_tunnel_streams_active', 'Tunnel streams carrying a request now.', SN, (n, sn) =>
    one(sn, n.tunnel().streams),
  ),
  gauge(
    'pc2_tunnel_streams_waiting',
    'Streams waiting for a free tunnel connection of their node.',
    SN,
    (n, sn) => one(sn, n.tunnel().queuedStreams),
  ),
  counter('pc2_tunnel_streams_opened_total', 'Tunnel streams opened.', SN, (n, sn) =>
    one(sn, n.tunnel().streamsOpened),
  ),
  counter(
    'pc2_tunnel_streams_refused_total',
    'Streams that could not be opened, by reason (QUEUE_FULL, QUEUE_TIMEOUT, NO_SESSION, ...).',
    [...SN, 'reason'],
    (n, sn) => tableSamples(n.tunnel().streamsRefused, 'reason', sn),
  ),
  counter(
    'pc2_tunnel_bytes_total',
    'Bytes on tunnel connections, by direction (to_nodes, from_nodes), framing included.',
    [...SN, 'direction'],
    (n, sn) => {
      const t = n.tunnel();
      return [
        { labels: { ...sn, direction: 'to_nodes' }, value: t.bytesToNodes },
        { labels: { ...sn, direction: 'from_nodes' }, value: t.bytesFromNodes },
      ];
    },
  ),
  counter(
    'pc2_tunnel_auth_failures_total',
    'Tunnel handshakes refused for a bad signature or key.',
    SN,
    (n, sn) => one(sn, n.tunnel().authFailures),
  ),
  counter('pc2_tunnel_malformed_frames_total', 'Malformed tunnel frames dropped.', SN, (n, sn) =>
    one(sn, n.tunnel().malformedFrames),
  ),
  counter(
    'pc2_tunnel_dead_connections_total',
    'Tunnel connections closed after 3 silent ping intervals.',
    SN,
    (n, sn) => one(sn, n.tunnel().deadConnections),
  ),
  ...dhtDefs(),
  ...zoneDefs(),
];

function dhtDefs(): Def[] {
  const dht =
    (
      read: (d: NonNullable<SuperNode['dht']>, sn: Record<string, string>) => Sample[],
    ): Def['read'] =>
    (n, sn) =>
      n.node.dht && n.node.status.dhtRunning() ? read(n.node.dht, sn) : [];
  return [
    counter(
      'pc2_dht_packets_total',
      'DHT datagrams by direction (in, out).',
      [...SN, 'direction'],
      dht((d, sn) => {
        const c = d.counters();
        return [
          { labels: { ...sn, direction: 'in' }, value: c.packetsIn },
          { labels: { ...sn, direction: 'out' }, value: c.packetsOut },
        ];
      }),
    ),
    counter(
      'pc2_dht_bytes_total',
      'DHT datagram bytes by direction (in, out).',
      [...SN, 'direction'],
      dht((d, sn) => {
        const c = d.counters();
        return [
          { labels: { ...sn, direction: 'in' }, value: c.bytesIn },
          { labels: { ...sn, direction: 'out' }, value: c.bytesOut },
        ];
      }),
    ),
    counter(
      'pc2_dht_requests_total',
      'DHT requests by direction (in: answered, out: sent) and method.',
      [...SN, 'direction', 'method'],
      dht((d, sn) => {
        const c = d.counters();
        return [
          ...tableSamples(c.requestsIn, 'method', { ...sn, direction: 'in' }),
          ...tableSamples(c.requestsOut, 'method', { ...sn, direction: 'out' }),
        ];
      }),
    ),
    counter(
      'pc2_dht_errors_total',
      'DHT protocol errors by direction (in: received for our requests, out: sent) and method.',
      [...SN, 'direction', 'method'],
      dht((d, sn) => {
        const c = d.counters();
        return [
          ...tableSamples(c.errorsIn, 'method', { ...sn, direction: 'in' }),
          ...tableSamples(c.errorsOut, 'method', { ...sn, direction: 'out' }),
        ];
      }),
    ),
    counter(
      'pc2_dht_timeouts_total',
      'Our DHT requests that got no answer in time, by method.',
      [...SN, 'method'],
      dht((d, sn) => tableSamples(d.counters().timeouts, 'method', sn)),
    ),
    counter(
      'pc2_dht_dropped_total',
      'DHT datagrams dropped, by reason.',
      [...SN, 'reason'],
      dht((d, sn) => tableSamples(d.counters().dropped, 'reason', sn)),
    ),
    gauge(
      'pc2_dht_routing_table_entries',
      'Routing table entries by family (ipv4, ipv6).',
      [...SN, 'family'],
      dht((d, sn) => {
        const r = d.routingTableSize();
        return [
          { labels: { ...sn, family: 'ipv4' }, value: r.v4 },
          ...(r.v6 === undefined ? [] : [{ labels: { ...sn, family: 'ipv6' }, value: r.v6 }]),
        ];
      }),
    ),
    gauge(
      'pc2_dht_size_estimate',
      'Estimated number of nodes in the DHT.',
      SN,
      dht((d, sn) => one(sn, d.sizeEstimate())),
    ),
  ];
}

function zoneDefs(): Def[] {
  return [
    counter(
      'pc2_dns_answers_total',
      "The zone's name server: answers by question type and rcode.",
      [...SN, 'type', 'rcode'],
      (n, sn) =>
        n.node.zone && n.node.zone.dnsPort !== null
          ? n.node.zone.responder.answers
              .entries()
              .map((e) => ({ labels: { ...sn, type: e.type, rcode: e.rcode }, value: e.count }))
          : [],
    ),
    counter(
      'pc2_dns_dropped_total',
      "The zone's name server: queries not answered, by reason (malformed, rate_limited).",
      [...SN, 'reason'],
      (n, sn) => {
        if (!n.node.zone || n.node.zone.dnsPort === null) return [];
        const s = n.node.zone.responder.stats;
        const rateLimited = s.rateLimited;
        return [
          { labels: { ...sn, reason: 'malformed' }, value: s.malformed },
          { labels: { ...sn, reason: 'rate_limited' }, value: rateLimited },
        ];
      },
    ),
    gauge(
      'pc2_zone_live_super_nodes',
      'Super nodes this one sees alive (their heartbeats are current).',
      SN,
      (n, sn) => (n.node.zone ? one(sn, n.node.zone.view().live.size) : []),
    ),
    gauge(
      'pc2_certificate_expiry_timestamp_seconds',
      'When the zone certificate this super node holds expires.',
      SN,
      (n, sn) => {
        const notAfter = n.node.status.certificateNotAfter();
        return notAfter === null ? [] : one(sn, notAfter / 1000);
      },
    ),
  ];
}

/** The metrics of the super nodes `nodes()` returns (read at each scrape). */
export function superNodeMetrics(nodes: () => readonly SuperNode[]): MetricSet {
  return {
    defs: DEFS,
    collect() {
      const out: Record<string, Sample[]> = {};
      const scrapes: Scrape[] = nodes().map((node) => ({
        node,
        health: memo(() => node.status.health()),
        tunnel: memo(() => node.tunnel.stats()),
      }));
      for (const def of DEFS) {
        out[def.name] = scrapes.flatMap((s) => def.read(s, { supernode: s.node.id.toString() }));
      }
      return out;
    },
  };
}
