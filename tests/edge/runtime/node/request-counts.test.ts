/**
 * The gateway's per-request counts (plain numbers, read at scrape time) print exactly what
 * prom-client's own Counter and Histogram print for the same requests, alone and summed over
 * workers the way the cluster's primary sums them.
 */
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  BUCKETS,
  KIND_INDEX,
  RequestCounts,
  requestMetrics,
} from '../../../../edge/runtime/node/request-counts.ts';
import type { RouteKind } from '../../../../edge/stats.ts';

type Request = [RouteKind, number, number];

// Bounds themselves (le is inclusive), between them, above the last, and odd statuses.
const REQUESTS: Request[] = [
  ['direct', 200, 0.0004],
  ['direct', 200, 0.001],
  ['direct', 204, 0.0010001],
  ['direct', 503, 0.3],
  ['relayed', 200, 30],
  ['relayed', 302, 31],
  ['relayed', 101, 0],
  ['registry', 502, 2.5],
  ['landing', 200, 0.002],
  ['map', 200, 0.07],
  ['unrouted', 404, 0.0001],
  ['unrouted', 0, 0.005],
  ['unrouted', 99, 0.02],
  ['unrouted', 600, 7],
];

/** The metrics as they were counted before: prom-client labels per request. */
function reference(requests: Request[]): Registry {
  const registry = new Registry();
  const counter = new Counter({
    name: 'pc2_gateway_requests_total',
    help: 'Requests by route kind (direct, relayed, registry, landing, map, unrouted) and status class.',
    labelNames: ['route', 'code'],
    registers: [registry],
  });
  const histogram = new Histogram({
    name: 'pc2_gateway_request_duration_seconds',
    help: 'From a request’s arrival to the end of its response (or the client leaving), by route kind.',
    labelNames: ['route'],
    buckets: [...BUCKETS],
    registers: [registry],
  });
  const classes = ['1xx', '2xx', '3xx', '4xx', '5xx'];
  for (const [route, status, seconds] of requests) {
    counter.inc({ route, code: classes[Math.floor(status / 100) - 1] ?? 'other' });
    histogram.observe({ route }, seconds);
  }
  return registry;
}

function counted(requests: Request[]): Registry {
  const registry = new Registry();
  const counts = new RequestCounts();
  requestMetrics(counts, [registry]);
  for (const [route, status, seconds] of requests) counts.add(KIND_INDEX[route], status, seconds);
  return registry;
}

/** Families in the registry's order; samples within a family in any order. */
const normalized = (text: string) =>
  text
    .split('\n\n')
    .map((family) => {
      const [help, type, ...samples] = family.trim().split('\n');
      return [help, type, ...samples.sort()].join('\n');
    })
    .join('\n\n');

describe('request counts', () => {
  it('print what prom-client’s Counter and Histogram print for the same requests', async () => {
    const ours = await counted(REQUESTS).metrics();
    expect(ours).toMatch(
      /^pc2_gateway_request_duration_seconds_bucket\{le="0.001",route="direct"\} 2$/m,
    );
    expect(ours).toMatch(/^pc2_gateway_requests_total\{route="unrouted",code="other"\} 3$/m);
    expect(normalized(ours)).toBe(normalized(await reference(REQUESTS).metrics()));
  });

  it('print nothing but HELP and TYPE before the first request, as prom-client does', async () => {
    expect(await counted([]).metrics()).toBe(await reference([]).metrics());
  });

  it('sum over workers as the cluster primary sums them', async () => {
    const half = REQUESTS.length / 2;
    const workers = [counted(REQUESTS.slice(0, half)), counted(REQUESTS.slice(half))];
    const summed = AggregatorRegistry.aggregate(
      await Promise.all(workers.map((r) => r.getMetricsAsJSON())),
    );
    const expected = AggregatorRegistry.aggregate([
      await reference(REQUESTS.slice(0, half)).getMetricsAsJSON(),
      await reference(REQUESTS.slice(half)).getMetricsAsJSON(),
    ]);
    expect(normalized(await summed.metrics())).toBe(normalized(await expected.metrics()));
    expect(await summed.metrics()).toMatch(
      /^pc2_gateway_request_duration_seconds_count\{route="unrouted"\} 4$/m,
    );
  });
});
