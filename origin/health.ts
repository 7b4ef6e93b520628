/**
 * The super node's health report and the verdict "fit to serve". A check that fails makes it unfit
 * (503): it cannot keep what it acknowledges (the store's log hit a write error), a part is not
 * running (tunnel server, DHT), or the zone certificate it holds has expired. Warnings keep it fit
 * (200, `degraded`): a peer not pulled from for longer than the lag limit, a certificate within
 * 7 days of expiry, a DHT with an empty routing table. See docs/operator-guide.md.
 */
import type { HealthCheck, PeerHealth, SuperNodeHealth } from '../shared/records/health.ts';
import type { PeerReplicationState } from './registry/replication.ts';

/** A peer not pulled from for this long is "behind" (12 pull intervals of 5 s). */
export const REPLICATION_LAG_LIMIT_S = 60;
export const CERTIFICATE_WARN_S = 7 * 24 * 3600;

export interface HealthFacts {
  now: number;
  id: string;
  version: string;
  label: string;
  region: string | null;
  startedAt: number;
  store: { names: number; namesBound: number; logBytes: number; writeError: Error | null };
  peers: PeerReplicationState[];
  tunnel: {
    listening: boolean;
    sessions: number;
    connections: number;
    streams: number;
    queuedStreams: number;
  };
  dht: {
    running: boolean;
    bootstrapped: boolean;
    routingTable: { v4: number; v4Usable: number; v6?: number };
    sizeEstimate: number;
  } | null;
  certificateNotAfter: number | null;
}

export function peerHealth(p: PeerReplicationState, now: number, startedAt: number): PeerHealth {
  const lagS = p.lastPullAt ? Math.max(0, (now - p.lastPullAt) / 1000) : null;
  const state =
    lagS === null
      ? (now - startedAt) / 1000 > REPLICATION_LAG_LIMIT_S
        ? 'never'
        : 'ok'
      : lagS > REPLICATION_LAG_LIMIT_S
        ? 'behind'
        : 'ok';
  return {
    id: p.id,
    url: p.url,
    state,
    lagS: lagS === null ? null : Math.round(lagS),
    pending: p.pending,
    lastPushAt: p.lastPushAt || null,
    lastPullAt: p.lastPullAt || null,
    lastError: p.lastError,
  };
}

export function healthReport(f: HealthFacts): SuperNodeHealth {
  const checks: HealthCheck[] = [];
  const check = (name: string, status: HealthCheck['status'], detail: string) =>
    checks.push({ name, status, detail });

  check(
    'store',
    f.store.writeError ? 'fail' : 'ok',
    f.store.writeError ? `writes fail: ${f.store.writeError.message}` : 'writes are acknowledged',
  );
  check(
    'tunnel',
    f.tunnel.listening ? 'ok' : 'fail',
    f.tunnel.listening ? 'listening' : 'not listening',
  );
  if (f.dht) {
    if (!f.dht.running) check('dht', 'fail', 'not running');
    else if (f.dht.routingTable.v4 === 0 && f.dht.bootstrapped)
      check('dht', 'warn', 'no DHT peer in the routing table');
    else check('dht', 'ok', `${f.dht.routingTable.v4} peers in the routing table`);
  }
  const peers = f.peers.map((p) => peerHealth(p, f.now, f.startedAt));
  const lagging = peers.filter((p) => p.state !== 'ok');
  if (peers.length)
    check(
      'replication',
      lagging.length ? 'warn' : 'ok',
      lagging.length
        ? `not pulled from within ${REPLICATION_LAG_LIMIT_S} s: ${lagging.map((p) => p.url).join(', ')}`
        : `${peers.length} peer(s) in step`,
    );
  let certificate: SuperNodeHealth['certificate'] = null;
  if (f.certificateNotAfter !== null) {
    const expiresInS = Math.round((f.certificateNotAfter - f.now) / 1000);
    certificate = { notAfter: f.certificateNotAfter, expiresInS };
    const when = new Date(f.certificateNotAfter).toISOString();
    check(
      'certificate',
      expiresInS <= 0 ? 'fail' : expiresInS < CERTIFICATE_WARN_S ? 'warn' : 'ok',
      expiresInS <= 0 ? `expired ${when}` : `expires ${when}`,
    );
  }
  const status = checks.some((c) => c.status === 'fail')
    ? 'unfit'
    : checks.some((c) => c.status === 'warn')
      ? 'degraded'
      : 'ok';
  return {
    ok: status !== 'unfit',
    status,
    registrar: f.id,
    time: f.now,
    version: f.version,
    label: f.label,
    region: f.region,
    startedAt: f.startedAt,
    uptimeS: Math.round((f.now - f.startedAt) / 1000),
    store: { ...f.store, writeError: f.store.writeError?.message ?? null },
    peers,
    dht: f.dht
      ? {
          routingTable: {
            v4: f.dht.routingTable.v4,
            v4Usable: f.dht.routingTable.v4Usable,
            v6: f.dht.routingTable.v6 ?? null,
          },
          sizeEstimate: f.dht.sizeEstimate,
        }
      : null,
    tunnel: {
      sessions: f.tunnel.sessions,
      connections: f.tunnel.connections,
      streams: f.tunnel.streams,
      queuedStreams: f.tunnel.queuedStreams,
    },
    certificate,
    checks,
  };
}
