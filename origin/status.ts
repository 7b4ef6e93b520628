/**
 * What a super node says about itself: the health report (`GET /api/v1/health`), its share of the
 * network map (`GET /api/v1/network`), the request counters both read, and, when the operator asks
 * for it, the Prometheus text on the API port behind a bearer token (`GET /metrics`). It sees the
 * super node's parts only through {@link StatusSources}, and reads the counters they already keep.
 */
import { timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { Hono } from 'hono';
import { registryPaths } from '../shared/records/api.ts';
import type { SuperNodeHealth } from '../shared/records/health.ts';
import { networkPath, type SuperNodeReport } from '../shared/records/network.ts';
import type { DhtNode } from './dht/index.ts';
import { healthReport } from './health.ts';
import { cachedSummary, type RegistrySummary } from './network/registry-summary.ts';
import { TrafficHistory } from './network/traffic.ts';
import type { Registry } from './registry/index.ts';
import type { TunnelServer } from './tunnel/server.ts';
import type { Zone } from './zone/supernode-zone.ts';

/** Prometheus text on the API port, for operators who expose no separate metrics address. */
export interface MetricsEndpoint {
  /** Requests must carry `Authorization: Bearer <token>`. */
  token: string;
  render(): Promise<{ contentType: string; body: string }>;
}

export interface StatusSources {
  id: string;
  dataDir: string;
  version: string;
  label: string;
  region: string | null;
  registry: Registry;
  tunnel: TunnelServer;
  dht: DhtNode | null;
  /** DHT bootstrap nodes were configured (an empty routing table then means trouble). */
  dhtBootstrapped: boolean;
  zone: Zone | null;
  now(): number;
}

/** Requests the super node's HTTP port took, by kind (counted as they arrive). */
export interface RequestCounts {
  api: number;
  relay: number;
  relayUpgrades: number;
}

export class SuperNodeStatus {
  readonly requests: RequestCounts = { api: 0, relay: 0, relayUpgrades: 0 };
  readonly startedAt: number;
  readonly traffic: TrafficHistory;
  readonly summary: () => RegistrySummary;
  readonly #s: StatusSources;

  constructor(sources: StatusSources) {
    this.#s = sources;
    this.startedAt = sources.now();
    this.summary = cachedSummary(sources.registry.store, () => sources.now());
    this.traffic = new TrafficHistory({
      file: join(sources.dataDir, 'network', 'traffic.json'),
      now: () => sources.now(),
      read: () => {
        const t = sources.tunnel.stats();
        return {
          bytesToNodes: t.bytesToNodes,
          bytesFromNodes: t.bytesFromNodes,
          relayRequests: this.requests.relay + this.requests.relayUpgrades,
          apiRequests: this.requests.api,
        };
      },
    });
  }

  /** The certificate this super node holds for the zone (replicated with the zone records). */
  certificateNotAfter(): number | null {
    return this.#s.zone?.certificate()?.payload.notAfter ?? null;
  }

  dhtRunning(): boolean {
    try {
      this.#s.dht?.address();
      return this.#s.dht !== null;
    } catch {
      return false;
    }
  }

  health(): SuperNodeHealth {
    const s = this.#s;
    const store = s.registry.store;
    let listening = true;
    try {
      s.tunnel.address();
    } catch {
      listening = false;
    }
    const t = s.tunnel.stats();
    const dhtRunning = this.dhtRunning();
    const report = healthReport({
      now: s.now(),
      id: s.id,
      version: s.version,
      label: s.label,
      region: s.region,
      startedAt: this.startedAt,
      store: {
        names: store.size,
        namesBound: this.summary().namesBound,
        logBytes: store.logBytes,
        writeError: store.writeError,
      },
      peers: s.registry.replication.peerStates(),
      tunnel: { listening, ...t },
      dht: s.dht
        ? {
            running: dhtRunning,
            bootstrapped: s.dhtBootstrapped,
            routingTable: dhtRunning ? s.dht.routingTableSize() : { v4: 0, v4Usable: 0 },
            sizeEstimate: dhtRunning ? s.dht.sizeEstimate() : 0,
          }
        : null,
      certificateNotAfter: this.certificateNotAfter(),
    });
    // Records lost to a damaged log at start, and the peers they came back from (docs/registry.md).
    return store.damage ? { ...report, damage: store.damage } : report;
  }

  report(): SuperNodeReport {
    const s = this.#s;
    const summary = this.summary();
    return {
      v: 1,
      id: s.id,
      label: s.label,
      region: s.region,
      version: s.version,
      startedAt: this.startedAt,
      time: s.now(),
      fit: this.health().ok,
      nodesOnline: summary.online,
      namesBound: summary.namesBound,
      tunnelSessions: s.tunnel.stats().sessions,
      dhtSizeEstimate: this.dhtRunning() ? s.dht!.sizeEstimate() : null,
      listed: summary.listed,
      ...this.traffic.snapshot(),
    };
  }

  /** GET /api/v1/health, GET /api/v1/network, and GET /metrics when `metrics` is given. */
  app(metrics?: MetricsEndpoint): Hono {
    const app = new Hono();
    const noStore = { 'cache-control': 'no-store' };
    app.get(registryPaths.health, (c) => {
      const report = this.health();
      return c.json(report, report.ok ? 200 : 503, noStore);
    });
    app.get(networkPath, (c) => c.json(this.report(), 200, noStore));
    if (metrics) {
      const expected = Buffer.from(`Bearer ${metrics.token}`);
      app.get('/metrics', async (c) => {
        const given = Buffer.from(c.req.header('authorization') ?? '');
        if (given.length !== expected.length || !timingSafeEqual(given, expected))
          return c.json(
            { error: { code: 'UNAUTHENTICATED', message: 'metrics need the bearer token' } },
            401,
            { 'www-authenticate': 'Bearer realm="metrics"' },
          );
        const { contentType, body } = await metrics.render();
        return c.body(body, 200, { 'content-type': contentType, ...noStore });
      });
    }
    return app;
  }
}
