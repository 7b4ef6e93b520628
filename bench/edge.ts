/**
 * `npm run bench:edge`: requests/s and latency through the Node.js gateway to a direct upstream,
 * against the upstream alone and against nginx as a plain reverse proxy, in one run (wrk as the
 * load generator): nginx with 1 worker process against the gateway with 1, and nginx with 2 against
 * the gateway with 2. Then the gateway over TLS, HTTP/1.1 against HTTP/2 with one load generator
 * (edge-tls.ts), and the cost of a cached route resolution. Prints Markdown tables and writes
 * bench-out/edge.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createEdge } from '../edge/app.ts';
import { forwardedRequestHeaders } from '../edge/headers.ts';
import { signRoute } from '../shared/records/route.ts';
import { createWorld } from '../tests/edge/world.ts';
import {
  type Cpu,
  processCpu,
  type Running,
  startGateway,
  startNginx,
  startUpstream,
  sumCpu,
} from './edge-processes.ts';
import { Agent } from 'undici';
import { latencies, type PathLatency } from './open-loop.ts';
import { runWrk, type WrkResult } from './wrk.ts';
import { tlsComparison, type TlsRow } from './edge-tls.ts';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
/** Warm-up before each measurement: V8 needs a while to optimise the gateway's path on a busy machine. */
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const BODY_BYTES = 1024;
/**
 * Which measurements to make (comma-separated: upstream, nginx1, gateway1, nginx2, gateway2, metrics1,
 * metrics2, latency, tls, resolve), e.g. to profile one. Default all. metricsN: the gateway with N
 * workers without and with --metrics, alternated METRICS_ROUNDS times.
 */
const PATHS = new Set(
  (
    process.env.BENCH_PATHS ??
    'upstream,nginx1,gateway1,nginx2,gateway2,metrics1,metrics2,latency,tls,resolve'
  ).split(','),
);
/** Requests/s per path of the paired open-loop latency measurement (1 worker each). */
const LATENCY_RATES = (process.env.BENCH_LATENCY_RATES ?? '1000,2000').split(',').map(Number);
const LATENCY_S = 5;
const METRICS_ROUNDS = Number(process.env.BENCH_METRICS_ROUNDS ?? 2);

interface Measured extends WrkResult {
  /** CPU wrk itself used per request, us. */
  wrkCpuUsPerRequest: number;
  /** CPU every process on the path except wrk used per request, us (user + kernel). */
  cpuUsPerRequest: number;
  /** Of which kernel (system) time, us. */
  kernelUsPerRequest: number;
}

const wrk = (url: string, seconds: number): Promise<WrkResult> =>
  runWrk({ url, seconds, connections: CONNECTIONS, headers: { Host: 'alice.localhost' } });

/** `cpu` reads the CPU used so far by every process on the measured path except wrk. */
async function measure(url: string, cpu: () => Cpu): Promise<Measured> {
  await wrk(url, WARMUP_S); // JIT, connection pools
  const before = cpu();
  const result = await wrk(url, DURATION_S);
  const after = cpu();
  const perRequest = (msUsed: number) => (msUsed * 1000) / (result.rps * DURATION_S);
  return {
    ...result,
    wrkCpuUsPerRequest: perRequest(result.wrkCpuMs),
    cpuUsPerRequest: perRequest(after.user + after.system - before.user - before.system),
    kernelUsPerRequest: perRequest(after.system - before.system),
  };
}

async function cachedResolutionCost(resolve: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 10_000; i++) await resolve();
  const n = 200_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await resolve();
  return Number(process.hrtime.bigint() - start) / n;
}

/** Starts a proxy, measures it, stops it: only the processes of one path run at a time. */
async function throughProxy(start: () => Promise<Running>, upstream: Running): Promise<Measured> {
  const proxy = await start();
  try {
    return await measure(`http://127.0.0.1:${proxy.port}/`, () =>
      sumCpu(processCpu(upstream.pid), processCpu(proxy.pid)),
    );
  } finally {
    await proxy.stop();
  }
}

type RateLatency = Record<'upstream' | 'nginx' | 'gateway', PathLatency>;

/**
 * Latency added at a given load rather than at saturation: the upstream alone, nginx (1 worker) and
 * the gateway (1 worker) get the same open-loop rate at once, their requests interleaved, so each
 * figure minus the upstream's is what the proxy adds at that rate.
 */
async function latencyAtRates(
  config: Parameters<typeof startGateway>[0],
  upstream: Running,
): Promise<Record<string, RateLatency>> {
  const nginx = await startNginx(upstream.port, 1);
  const gateway = await startGateway(config, 1);
  const dispatcher = new Agent({ connections: 64 });
  const url = (port: number) => `http://127.0.0.1:${port}/`;
  const paths = [upstream.port, nginx.port, gateway.port].map((port) => ({
    url: url(port),
    headers: () => ({ host: 'alice.localhost' }),
  }));
  const out: Record<string, RateLatency> = {};
  try {
    await wrk(url(gateway.port), WARMUP_S); // JIT
    for (const rate of LATENCY_RATES) {
      await latencies(paths, rate, 2, dispatcher); // steady state at this rate
      const [u, n, g] = await latencies(paths, rate, LATENCY_S, dispatcher);
      out[`${rate}/s`] = { upstream: u, nginx: n, gateway: g };
    }
  } finally {
    await dispatcher.close();
    await gateway.stop();
    await nginx.stop();
  }
  return out;
}

async function main(): Promise<void> {
  const world = await createWorld();
  const upstream = await startUpstream(BODY_BYTES);
  // Point alice's direct route at the benchmark upstream.
  const now = Date.now();
  const alice = world.a.records.get('alice')!;
  const route = await signRoute(
    {
      name: 'alice',
      mode: 'direct',
      endpoint: `http://127.0.0.1:${upstream.port}`,
      relays: [],
      seq: 9,
      iat: now,
      exp: now + 3_600_000,
    },
    world.nodes.get('alice')!,
  );
  world.a.records.set('alice', { ...alice, route });
  const results: Record<string, Measured> = {};
  try {
    if (PATHS.has('upstream'))
      results.upstream = await measure(`http://127.0.0.1:${upstream.port}/`, () =>
        processCpu(upstream.pid),
      );
    for (const workers of [1, 2]) {
      if (PATHS.has(`nginx${workers}`))
        results[`nginx${workers}`] = await throughProxy(
          () => startNginx(upstream.port, workers),
          upstream,
        );
      if (PATHS.has(`gateway${workers}`))
        results[`gateway${workers}`] = await throughProxy(
          () => startGateway(world.config, workers),
          upstream,
        );
    }
    const metricsCost: MetricsCost[] = [];
    for (const workers of [1, 2]) {
      if (!PATHS.has(`metrics${workers}`)) continue;
      const off: Measured[] = [];
      const on: Measured[] = [];
      for (let round = 0; round < METRICS_ROUNDS; round++) {
        for (const [withMetrics, into] of [
          [false, off],
          [true, on],
        ] as const) {
          const r = await throughProxy(
            () => startGateway(world.config, workers, { metrics: withMetrics }),
            upstream,
          );
          into.push(r);
        }
      }
      metricsCost.push({ workers, off, on });
    }
    const atRates = PATHS.has('latency') ? await latencyAtRates(world.config, upstream) : {};
    const tls = PATHS.has('tls')
      ? await tlsComparison(world.config, upstream, DURATION_S, WARMUP_S)
      : [];
    let resolveNs = NaN;
    let planNs = NaN;
    if (PATHS.has('resolve')) {
      const edge = createEdge(world.config);
      resolveNs = await cachedResolutionCost(() => edge.resolver.resolve('alice'));
      // What the app does per request before forwarding: the route, and the headers built from a web Request.
      planNs = await cachedResolutionCost(() => {
        const request = new Request('http://alice.localhost/x', { headers: { accept: '*/*' } });
        const url = new URL(request.url);
        forwardedRequestHeaders(request.headers, {
          clientIp: '127.0.0.1',
          host: url.host,
          proto: 'http',
        });
        return edge.route(url);
      });
    }
    report(results, atRates, tls, resolveNs, planNs);
    reportMetricsCost(metricsCost);
  } finally {
    await upstream.stop();
    await world.close();
  }
}

interface MetricsCost {
  workers: number;
  /** Each round without and with metrics. */
  off: Measured[];
  on: Measured[];
}

function reportMetricsCost(costs: MetricsCost[]): void {
  if (!costs.length) return;
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  // Each round's with/without pair ran back to back: their ratios drift less than the rounds do.
  const ratios = (c: MetricsCost, f: (m: Measured) => number) =>
    c.on.map((m, i) => f(m) / f(c.off[i]));
  console.log(
    `\nThe gateway with and without --metrics, alternated ${METRICS_ROUNDS} times (requests/s and server CPU µs/request of each round):\n`,
  );
  console.log(
    '| workers | requests/s without | requests/s with | median with / without | CPU µs/request without | with | median with / without |\n|---|---|---|---|---|---|---|',
  );
  for (const c of costs) {
    const list = (ms: Measured[], f: (m: Measured) => number) =>
      ms.map((m) => f(m).toFixed(0)).join(', ');
    const rps = (m: Measured) => m.rps;
    const cpu = (m: Measured) => m.cpuUsPerRequest;
    console.log(
      `| ${c.workers} | ${list(c.off, rps)} | ${list(c.on, rps)} | ${(100 * median(ratios(c, rps))).toFixed(1)}% | ${list(c.off, cpu)} | ${list(c.on, cpu)} | ${(100 * median(ratios(c, cpu))).toFixed(1)}% |`,
    );
  }
  mkdirSync('bench-out', { recursive: true });
  writeFileSync('bench-out/edge-metrics.json', JSON.stringify(costs, null, 2));
}

function report(
  results: Record<string, Measured>,
  atRates: Record<string, RateLatency>,
  tls: TlsRow[] | string,
  resolveNs: number,
  planNs: number,
): void {
  const label: Record<string, string> = {
    upstream: 'upstream alone',
    nginx1: 'nginx, 1 worker -> upstream',
    gateway1: 'Node gateway, 1 worker -> upstream',
    nginx2: 'nginx, 2 workers -> upstream',
    gateway2: 'Node gateway, 2 workers -> upstream',
  };
  const f = (n: number | undefined, digits = 0) =>
    n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
  console.log(
    `wrk -t1 -c${CONNECTIONS} -d${DURATION_S}s after ${WARMUP_S} s of warm-up, ${BODY_BYTES}-byte responses, loopback; load average at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  console.log(
    '| path | requests/s | p50 ms | p99 ms | server CPU µs/request | of which kernel | wrk CPU µs/request | wrk errors |\n|---|---|---|---|---|---|---|---|',
  );
  for (const [key, r] of Object.entries(results)) {
    console.log(
      `| ${label[key]} | ${f(r.rps)} | ${f(r.p50Ms, 2)} | ${f(r.p99Ms, 2)} | ${f(r.cpuUsPerRequest)} | ${f(r.kernelUsPerRequest)} | ${f(r.wrkCpuUsPerRequest)} | ${r.errors ?? 'none'} |`,
    );
  }
  const base = results.upstream?.p99Ms ?? NaN;
  console.log('');
  for (const w of [1, 2]) {
    const g = results[`gateway${w}`];
    const n = results[`nginx${w}`];
    if (!g || !n) continue;
    console.log(
      `${w} worker(s): gateway / nginx requests/s ${f((100 * g.rps) / n.rps)}%; p99 added over the upstream alone: gateway ${f(g.p99Ms - base, 2)} ms, nginx ${f(n.p99Ms - base, 2)} ms`,
    );
  }
  if (Object.keys(atRates).length) {
    console.log(
      `\nOpen-loop latency, the three paths interleaved at the same rate (undici client, ${LATENCY_S} s per rate after 2 s at it):\n`,
    );
    console.log(
      '| rate per path | upstream alone p50 / p99 ms | nginx (1 worker) p50 / p99 ms | gateway (1 worker) p50 / p99 ms | added p99: nginx / gateway ms | errors u / n / g |\n|---|---|---|---|---|---|',
    );
    for (const [rate, r] of Object.entries(atRates)) {
      const pair = (l: PathLatency) => `${f(l.p50, 2)} / ${f(l.p99, 2)}`;
      console.log(
        `| ${rate} | ${pair(r.upstream)} | ${pair(r.nginx)} | ${pair(r.gateway)} | ${f(r.nginx.p99 - r.upstream.p99, 2)} / ${f(r.gateway.p99 - r.upstream.p99, 2)} | ${r.upstream.errors} / ${r.nginx.errors} / ${r.gateway.errors} |`,
      );
    }
    console.log('');
  }
  if (typeof tls === 'string') console.log(`TLS, HTTP/1.1 and HTTP/2: ${tls}\n`);
  else if (tls.length) {
    console.log(
      `TLS 1.3, Node gateway (1 worker) -> upstream, h2load for every row (${DURATION_S} s after ${WARMUP_S} s of warm-up):\n`,
    );
    console.log(
      '| path | requests/s | mean ms | server CPU µs/request | h2load CPU µs/request | failed |\n|---|---|---|---|---|---|',
    );
    for (const r of tls)
      console.log(
        `| ${r.label} | ${f(r.rps)} | ${f(r.meanMs, 2)} | ${f(r.cpuUsPerRequest)} | ${f(r.clientCpuUsPerRequest)} | ${r.failed} |`,
      );
    console.log('');
  }
  console.log(
    `cached route resolution: ${f(resolveNs / 1000, 2)} us; full cached plan (host, headers, route): ${f(planNs / 1000, 2)} us`,
  );
  mkdirSync('bench-out', { recursive: true });
  writeFileSync(
    'bench-out/edge.json',
    JSON.stringify(
      {
        durationS: DURATION_S,
        warmupS: WARMUP_S,
        connections: CONNECTIONS,
        bodyBytes: BODY_BYTES,
        results,
        latencyAtRates: atRates,
        tls,
        cachedResolveNs: resolveNs,
        cachedPlanNs: planNs,
        loadAverage: loadavg(),
      },
      null,
      2,
    ),
  );
}

await main();
