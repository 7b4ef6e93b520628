/**
 * The Node.js gateway's metrics (prom-client). On the request path only plain numbers
 * (request-counts.ts: requests by route kind and status class, their duration from arrival to the
 * response's close); at TLS handshake a counter by version and ALPN; everything else, those numbers
 * included, is read at scrape time from the edge's own counters (failed targets, failovers,
 * give-ups, route cache) and the gateway (certificate).
 * Under `--workers N` every worker keeps its own registry and the primary sums them over the cluster's
 * IPC (prom-client's AggregatorRegistry): one scrape, one gateway, whatever the number of workers.
 */
import type http from 'node:http';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Edge } from '../../app.ts';
import type { ForwardKind, RouteKind } from '../../stats.ts';
import { KIND_INDEX, RequestCounts, requestMetrics } from './request-counts.ts';

/** What the gateway's request path and TLS server tell the metrics. */
export interface GatewayObserver {
  /** Starts timing a request; the route kind comes later (routed), the rest at close. */
  request(req: http.IncomingMessage, res: http.ServerResponse): void;
  routed(res: http.ServerResponse, kind: RouteKind): void;
  handshake(version: string | null, alpn: string | false | null): void;
  handshakeFailed(code: string | undefined): void;
}

/** What the scrape-time metrics read from the running gateway. */
export interface GatewaySources {
  edge: Edge;
  certificateReloads(): number;
  /** When the served certificate expires, ms (null: plain HTTP). */
  certificateNotAfter(): number | null;
}

export interface GatewayMetrics {
  registry: Registry;
  observer: GatewayObserver;
  /** Points the scrape-time metrics at the running gateway. */
  attach(sources: GatewaySources): void;
}

const FORWARD_KINDS: ForwardKind[] = ['direct', 'relayed', 'registry'];
const UNROUTED = KIND_INDEX.unrouted;
// The request's start and route kind ride on the response itself: no map entry per request.
const STARTED = Symbol('pc2.metrics.started');
const KIND = Symbol('pc2.metrics.kind');
type CountedResponse = http.ServerResponse & { [STARTED]: number; [KIND]: number };

/** The process metrics prom-client keeps, minus the gauges `promtool check metrics` refuses. */
export function addProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: 'pc2_' });
  for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
    registry.removeSingleMetric(`pc2_nodejs_${name}`);
}

export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  addProcessMetrics(registry);
  let sources: GatewaySources | null = null;
  const registers = [registry];

  const counts = new RequestCounts();
  requestMetrics(counts, registers);
  const handshakes = new Counter({
    name: 'pc2_gateway_tls_handshakes_total',
    help: 'TLS handshakes completed, by protocol version and ALPN protocol (none when not negotiated).',
    labelNames: ['version', 'alpn'],
    registers,
  });
  const handshakeFailures = new Counter({
    name: 'pc2_gateway_tls_handshake_failures_total',
    help: 'TLS handshakes that failed, by error code.',
    labelNames: ['reason'],
    registers,
  });
  const perKind = (name: string, help: string, read: (e: Edge) => Record<ForwardKind, number>) =>
    new Counter({
      name,
      help,
      labelNames: ['route'],
      registers,
      collect() {
        this.reset();
        if (!sources) return;
        const table = read(sources.edge);
        for (const kind of FORWARD_KINDS) this.inc({ route: kind }, table[kind]);
      },
    });
  perKind(
    'pc2_gateway_target_failures_total',
    'Target attempts that failed (connection error or a relay refusal), by route kind.',
    (e) => e.stats.targetFailures,
  );
  perKind(
    'pc2_gateway_failovers_total',
    'Requests sent on to a next target after one failed, by route kind.',
    (e) => e.stats.failovers,
  );
  perKind(
    'pc2_gateway_unavailable_total',
    'Requests no target took (502/503 to the client), by route kind.',
    (e) => e.stats.unavailable,
  );
  new Counter({
    name: 'pc2_gateway_route_cache_total',
    help: 'Route look-ups by result: hit (cached), miss (asked a registry), joined (a look-up in flight).',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      if (!sources) return;
      const s = sources.edge.resolver.stats;
      this.inc({ result: 'hit' }, s.hits);
      this.inc({ result: 'miss' }, s.misses);
      this.inc({ result: 'joined' }, s.joined);
    },
  });
  new Counter({
    name: 'pc2_gateway_certificate_reloads_total',
    help: 'Certificate files reloaded without a restart.',
    registers,
    collect() {
      this.reset();
      if (sources) this.inc(sources.certificateReloads());
    },
  });
  new Gauge({
    name: 'pc2_gateway_certificate_expiry_timestamp_seconds',
    help: 'When the certificate the gateway serves expires.',
    registers,
    // Several workers serve the same certificate: the soonest expiry is the one that matters.
    aggregator: 'min',
    collect() {
      this.reset();
      const notAfter = sources?.certificateNotAfter() ?? null;
      if (notAfter !== null) this.set(notAfter / 1000);
    },
  });

  const observer: GatewayObserver = {
    request(_req, res) {
      const r = res as CountedResponse;
      r[STARTED] = performance.now();
      r[KIND] = UNROUTED;
      res.on('close', onClose);
    },
    routed(res, kind) {
      (res as CountedResponse)[KIND] = KIND_INDEX[kind];
    },
    handshake(version, alpn) {
      handshakes.inc({ version: version ?? 'unknown', alpn: alpn || 'none' });
    },
    handshakeFailed(code) {
      handshakeFailures.inc({ reason: code ?? 'unknown' });
    },
  };
  // One listener for every response, not a closure each: `this` is the response that closed.
  function onClose(this: CountedResponse) {
    counts.add(this[KIND], this.statusCode, (performance.now() - this[STARTED]) / 1000);
  }
  return { registry, observer, attach: (s) => void (sources = s) };
}

/** In a cluster worker: lets the primary collect this registry over IPC. */
export function shareWithPrimary(registry: Registry): void {
  // Constructing one installs prom-client's worker-side listener; setRegistries says what it answers with.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/** In the cluster primary: the workers' registries summed, as Prometheus text. */
export function clusterRender(): () => Promise<{ contentType: string; body: string }> {
  const aggregator = new AggregatorRegistry();
  return async () => ({
    contentType: aggregator.contentType,
    body: await aggregator.clusterMetrics(),
  });
}
