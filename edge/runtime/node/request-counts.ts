/**
 * The gateway's per-request counts as plain numbers: requests by route kind and status class, and
 * their durations' histogram by route kind. A request adds to typed arrays (no label object, no
 * hashing, no allocation); prom-client reads them only at scrape time (`requestMetrics`), with the
 * same names, help, labels and buckets as prom-client's own Counter and Histogram would print.
 */
import {
  type Aggregator,
  Counter,
  Histogram,
  type MetricObjectWithValues,
  type MetricType,
  type MetricValueWithName,
  type Registry,
} from 'prom-client';
import type { RouteKind } from '../../stats.ts';

/** In the order the exposition lists them. */
export const ROUTE_KINDS: readonly RouteKind[] = [
  'direct',
  'relayed',
  'registry',
  'landing',
  'map',
  'unrouted',
];
/** Status classes; `other` for a status outside 100-599. */
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'];
/** Seconds: a cached relayed request takes a few ms; a slow node's first byte, seconds. */
export const BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** One slot per bound, then +Inf. */
const SLOTS = BUCKETS.length + 1;

export const KIND_INDEX = Object.fromEntries(ROUTE_KINDS.map((k, i) => [k, i])) as Record<
  RouteKind,
  number
>;

export class RequestCounts {
  // Float64: exact to 2^53, where 32-bit counts would wrap after days at full speed.
  readonly requests = new Float64Array(ROUTE_KINDS.length * CLASSES.length);
  /** Per route kind, observations per bucket (not cumulative; the last slot: above every bound). */
  readonly buckets = new Float64Array(ROUTE_KINDS.length * SLOTS);
  readonly seconds = new Float64Array(ROUTE_KINDS.length);

  /** One request of route kind `kind` (KIND_INDEX) that ended with `status` after `seconds`. */
  add(kind: number, status: number, seconds: number): void {
    const hundreds = (status / 100) | 0;
    this.requests[kind * CLASSES.length + (hundreds >= 1 && hundreds <= 5 ? hundreds - 1 : 5)]++;
    let slot = 0;
    while (slot < BUCKETS.length && seconds > BUCKETS[slot]) slot++;
    this.buckets[kind * SLOTS + slot]++;
    this.seconds[kind] += seconds;
  }

  count(kind: number): number {
    let n = 0;
    for (let slot = 0; slot < SLOTS; slot++) n += this.buckets[kind * SLOTS + slot];
    return n;
  }
}

type Values = MetricObjectWithValues<MetricValueWithName<'route' | 'le'>>;
/** Fields every prom-client metric has that its typings leave out. */
interface MetricFields {
  name: string;
  help: string;
  type: MetricType;
  aggregator: Aggregator;
}

/**
 * prom-client's Histogram, its samples read from `counts` when scraped. Only the values are ours:
 * name, help, type and aggregation (summed over workers) stay prom-client's.
 */
class CountedHistogram extends Histogram<'route' | 'le'> {
  constructor(
    private readonly counts: RequestCounts,
    registers: Registry[],
  ) {
    super({
      name: 'pc2_gateway_request_duration_seconds',
      help: 'From a request’s arrival to the end of its response (or the client leaving), by route kind.',
      labelNames: ['route'],
      buckets: [...BUCKETS],
      registers,
    });
  }

  override async get(): Promise<Values> {
    const { name, help, type, aggregator } = this as unknown as MetricFields;
    const values: MetricValueWithName<'route' | 'le'>[] = [];
    ROUTE_KINDS.forEach((route, kind) => {
      const count = this.counts.count(kind);
      // As prom-client: a route kind appears once it has been observed.
      if (count === 0) return;
      let below = 0;
      BUCKETS.forEach((le, slot) => {
        below += this.counts.buckets[kind * SLOTS + slot];
        values.push({ labels: { le, route }, value: below, metricName: `${name}_bucket` });
      });
      values.push(
        { labels: { le: '+Inf', route }, value: count, metricName: `${name}_bucket` },
        { labels: { route }, value: this.counts.seconds[kind], metricName: `${name}_sum` },
        { labels: { route }, value: count, metricName: `${name}_count` },
      );
    });
    // prom-client's typings also want `collect`, which its own get() leaves out too.
    return { name, help, type, aggregator, values } as Values;
  }

  /** The registry prefers this to get() when rendering text; ours has no other source. */
  getForPromString(): Promise<Values> {
    return this.get();
  }
}

/** Registers the requests counter and duration histogram, both read from `counts`. */
export function requestMetrics(counts: RequestCounts, registers: Registry[]): void {
  new Counter({
    name: 'pc2_gateway_requests_total',
    help: 'Requests by route kind (direct, relayed, registry, landing, map, unrouted) and status class.',
    labelNames: ['route', 'code'],
    registers,
    collect() {
      this.reset();
      ROUTE_KINDS.forEach((route, kind) =>
        CLASSES.forEach((code, c) => {
          const n = counts.requests[kind * CLASSES.length + c];
          if (n > 0) this.inc({ route, code }, n);
        }),
      );
    },
  });
  new CountedHistogram(counts, registers);
}
