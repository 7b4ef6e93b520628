/**
 * `npm run bench:dht -- --nodes 1000 [--lookups 1000] [--churn 0.2] [--parallel 8]`
 * N real DHT nodes on loopback in one process. Random node lookups (target = a live node's id, from
 * another live node): success rate (target found), K-closest exactness, hops, latency, messages per
 * lookup, memory per node; then the same after stopping a share of the nodes without warning.
 */
import { randomBytes } from '../shared/bytes.ts';
import { Id } from '../shared/id.ts';
import { KeyPair } from '../shared/keys.ts';
import { DhtNode } from '../origin/dht/index.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number`);
  return v;
}

const NODES = arg('nodes', 1000);
const LOOKUPS = arg('lookups', 1000);
const CHURN = arg('churn', 0.2);
const PARALLEL = arg('parallel', 8);
const K = 8;

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))] : NaN;
};
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function startNetwork(): Promise<DhtNode[]> {
  const nodes: DhtNode[] = [];
  const make = async () => {
    const known = nodes.slice();
    const picks = known.length
      ? [...new Set([known[0], known[Math.floor(Math.random() * known.length)]])]
      : [];
    const node = new DhtNode({
      key: KeyPair.generate(),
      host: '127.0.0.1',
      port: 0,
      host6: false,
      developerMode: true,
      // One process drives every lookup; 3.0's per-source limit (32/s) would throttle the harness.
      rateLimitPerSecond: 100_000,
      rateLimitBurst: 100_000,
      maintenanceIntervalMs: 3_600_000,
      bootstrap: picks.map((n) => ({ id: n.id, ...n.address() })),
    });
    await node.start();
    nodes.push(node);
  };
  await make();
  while (nodes.length < NODES) {
    await Promise.all(Array.from({ length: Math.min(16, NODES - nodes.length) }, make));
    if (nodes.length % 200 < 16) console.error(`  ${nodes.length} nodes up`);
  }
  return nodes;
}

interface PhaseResult {
  lookups: number;
  success: number;
  exactK: number;
  hopsMedian: number;
  hopsP95: number;
  latencyMedianMs: number;
  latencyP95Ms: number;
  messagesMean: number;
  messagesP95: number;
}

async function phase(live: DhtNode[]): Promise<PhaseResult> {
  const hops: number[] = [];
  const latency: number[] = [];
  const messages: number[] = [];
  let success = 0;
  let exactK = 0;
  let next = 0;
  const worker = async () => {
    while (next < LOOKUPS) {
      next++;
      const target = live[Math.floor(Math.random() * live.length)];
      let from = target;
      while (from === target) from = live[Math.floor(Math.random() * live.length)];
      const started = performance.now();
      const result = await from.lookupNodes(target.id);
      latency.push(performance.now() - started);
      hops.push(result.hops);
      messages.push(result.messages);
      if (result.nodes[0]?.id.equals(target.id)) success++;
      const truth = live
        .filter((n) => n !== from)
        .map((n) => n.id)
        .sort((a, b) => target.id.threeWayCompare(a, b))
        .slice(0, K)
        .map(String);
      if (result.nodes.map((n) => n.id.toString()).join() === truth.join()) exactK++;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return {
    lookups: latency.length,
    success: success / latency.length,
    exactK: exactK / latency.length,
    hopsMedian: percentile(hops, 0.5),
    hopsP95: percentile(hops, 0.95),
    latencyMedianMs: Math.round(percentile(latency, 0.5) * 10) / 10,
    latencyP95Ms: Math.round(percentile(latency, 0.95) * 10) / 10,
    messagesMean: Math.round((messages.reduce((a, b) => a + b, 0) / messages.length) * 10) / 10,
    messagesP95: percentile(messages, 0.95),
  };
}

const print = (title: string, r: PhaseResult) =>
  console.log(
    `${title}: ${r.lookups} lookups, success ${(r.success * 100).toFixed(1)}%, exact K closest ${(r.exactK * 100).toFixed(1)}%, ` +
      `hops median ${r.hopsMedian} p95 ${r.hopsP95}, latency median ${r.latencyMedianMs} ms p95 ${r.latencyP95Ms} ms, ` +
      `messages/lookup mean ${r.messagesMean} p95 ${r.messagesP95}`,
  );

global.gc?.();
const before = process.memoryUsage();
const t0 = performance.now();
console.error(`starting ${NODES} nodes...`);
const nodes = await startNetwork();
const startSeconds = (performance.now() - t0) / 1000;
global.gc?.();
const after = process.memoryUsage();
const tables = nodes.map((n) => n.routingTableSize().v4);
console.log(
  `${NODES} nodes up in ${startSeconds.toFixed(1)} s; routing table entries median ${percentile(tables, 0.5)}`,
);
console.log(
  `memory per node: rss ${mb((after.rss - before.rss) / NODES)} MiB, heap ${mb((after.heapUsed - before.heapUsed) / NODES)} MiB ` +
    `(process rss ${mb(after.rss)} MiB)`,
);
// Unrelated targets for warm-up: lets the RTT estimate (stall timer) settle as in a running network.
await Promise.all(nodes.slice(0, 50).map((n) => n.lookupNodes(new Id(randomBytes(32)))));

const healthy = await phase(nodes);
print('no churn', healthy);

const killed = new Set<DhtNode>();
while (killed.size < Math.floor(NODES * CHURN))
  killed.add(nodes[Math.floor(Math.random() * NODES)]);
await Promise.all([...killed].map((n) => n.stop()));
const live = nodes.filter((n) => !killed.has(n));
const churned = await phase(live);
print(`${Math.round(CHURN * 100)}% churn`, churned);

const counters = live.map((n) => n.counters());
const timeouts = counters.reduce(
  (a, c) => a + Object.values(c.timeouts).reduce((x, y) => x + y, 0),
  0,
);
console.log(`timeouts counted by live nodes: ${timeouts}`);
console.log(
  JSON.stringify({ nodes: NODES, lookups: LOOKUPS, churn: CHURN, startSeconds, healthy, churned }),
);
await Promise.all(live.map((n) => n.stop()));
