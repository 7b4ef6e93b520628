/**
 * `npm run bench:relay`: the whole relayed path, every role in its own process started the way the
 * CLI starts it (bench/relay-network.ts): client → `pc2 gateway` → `pc2 supernode` (ingress + tunnel
 * server) → `pc2 node --mode relay` (tunnel client) → the app; nginx in front of the same app, in the
 * same run, is the floor. Phases (`--only a,b,…`, default all):
 *  - bulk1: one download of --bulk-mib MiB (default 1024) with curl: MiB/s and CPU-s/GiB per process;
 *  - bulk100: 100 concurrent downloads of 10 MiB (curl --parallel);
 *  - bulk1000: 1000 concurrent downloads of 1 MiB: failures and aggregate MiB/s;
 *  - burst: 1000 concurrent requests of the small page to the relayed node (alice) and to the
 *    direct one (bob), both through the gateway: the time until the last answer; first right after
 *    start (the node's tunnel pool cold), again after the downloads (warm);
 *  - latency: open loop at --rates (default 500,1000) requests/s for --latency-s s (default 60),
 *    relayed and nginx paired: p50/p99/max and errors;
 *  - memory: the super node's memory per idle tunnel session, and one node's pool growing to 1,000
 *    connections: time, and the super node's CPU and memory per connection (bench/relay-memory.ts).
 * Writes bench-out/relay.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent } from 'undici';
import { curlAll, type CurlRun } from './curl.ts';
import { type Cpu, processCpu } from './edge-processes.ts';
import { latencies } from './open-loop.ts';
import { measureIdleSessions, measurePoolGrowth } from './relay-memory.ts';
import { type RelayNetwork, startRelayNetwork } from './relay-network.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const ONLY = new Set(flag('--only', 'bulk1,bulk100,bulk1000,burst,latency,memory').split(','));
const BULK_MIB = Number(flag('--bulk-mib', '1024'));
const LATENCY_S = Number(flag('--latency-s', '60'));
const RATES = flag('--rates', '500,1000').split(',').map(Number);
const SESSIONS = Number(flag('--sessions', '10000'));

const MiB = 1024 * 1024;
const round = (n: number, d = 2) => Number(n.toFixed(d));
const uptime = () => execFileSync('uptime').toString().trim();

type Role = keyof RelayNetwork['pids'];
const RELAY_ROLES: Role[] = ['gateway', 'superNode', 'agent', 'upstream'];
const NGINX_ROLES: Role[] = ['nginx', 'upstream'];

function cpuOf(net: RelayNetwork, roles: Role[]): Record<string, Cpu> {
  return Object.fromEntries(roles.map((r) => [r, processCpu(net.pids[r])]));
}

/** CPU seconds per GiB moved, per process and in total. */
function cpuPerGiB(before: Record<string, Cpu>, after: Record<string, Cpu>, bytes: number) {
  const gib = bytes / 2 ** 30;
  const out: Record<string, number> = {};
  let total = 0;
  for (const role of Object.keys(before)) {
    const user = (after[role].user - before[role].user) / 1000;
    const system = (after[role].system - before[role].system) / 1000;
    out[role] = round((user + system) / gib);
    // The kernel's share (socket copies, syscalls) apart from the process's own work.
    out[`${role}System`] = round(system / gib);
    total += user + system;
  }
  out.total = round(total / gib);
  return out;
}

interface PathRun {
  MiBs: number;
  failures: number;
  seconds: number;
  cpuSPerGiB: Record<string, number>;
  clientCpuSPerGiB: number;
}

/** One batch of downloads through a path, with the CPU every process of the path spent on it. */
async function downloads(
  net: RelayNetwork,
  roles: Role[],
  url: string,
  count: number,
  bytes: number,
  host?: string,
): Promise<PathRun> {
  const before = cpuOf(net, roles);
  const run: CurlRun = await curlAll(Array(count).fill(`${url}/bytes/${bytes}`), { host });
  const after = cpuOf(net, roles);
  const ok = run.transfers.filter((t) => t.status === 200 && t.bytes === bytes);
  const moved = ok.length * bytes;
  return {
    MiBs: round(moved / MiB / run.seconds, 0),
    failures: count - ok.length,
    seconds: round(run.seconds),
    cpuSPerGiB: cpuPerGiB(before, after, moved),
    clientCpuSPerGiB: round(run.cpuSeconds / (moved / 2 ** 30)),
  };
}

async function bulk(net: RelayNetwork, count: number, bytes: number) {
  const gateway = `http://127.0.0.1:${net.gatewayPort}`;
  const nginx = await downloads(
    net,
    NGINX_ROLES,
    `http://127.0.0.1:${net.nginxPort}`,
    count,
    bytes,
  );
  const relay = await downloads(net, RELAY_ROLES, gateway, count, bytes, net.hosts.alice);
  return { nginx, relay, ratio: round(relay.MiBs / nginx.MiBs) };
}

/** 1000 small requests at once through the gateway, to `host`: the time until the last answer. */
async function burst(net: RelayNetwork, host: string) {
  const run = await curlAll(Array(1000).fill(`http://127.0.0.1:${net.gatewayPort}/`), { host });
  const failures = run.transfers.filter((t) => t.status !== 200).length;
  const times = run.transfers.map((t) => t.seconds).sort((a, b) => a - b);
  return {
    seconds: round(run.seconds, 3),
    failures,
    slowestTransferS: round(times[times.length - 1] ?? NaN, 3),
  };
}

async function latency(net: RelayNetwork) {
  const dispatcher = new Agent({ connections: 2048, keepAliveTimeout: 30_000 });
  const paths = [
    {
      url: `http://127.0.0.1:${net.gatewayPort}/`,
      headers: () => ({ host: net.hosts.alice }),
    },
    { url: `http://127.0.0.1:${net.nginxPort}/`, headers: () => ({}) },
  ];
  const out: Record<string, unknown> = {};
  for (const rate of RATES) {
    await latencies(paths, rate, 2, dispatcher);
    const before = cpuOf(net, RELAY_ROLES);
    const [relay, nginx] = await latencies(paths, rate, LATENCY_S, dispatcher);
    const after = cpuOf(net, RELAY_ROLES);
    const cores = Object.fromEntries(
      RELAY_ROLES.map((r) => [
        r,
        round(
          (after[r].user - before[r].user + after[r].system - before[r].system) / 1000 / LATENCY_S,
        ),
      ]),
    );
    const shape = (l: typeof relay) => ({
      n: l.requests,
      errors: l.errors,
      p50: round(l.p50),
      p99: round(l.p99),
      max: round(l.max),
    });
    out[`${rate}/s`] = { relay: shape(relay), nginx: shape(nginx), relayCores: cores };
    console.log(`${rate} req/s for ${LATENCY_S} s`, out[`${rate}/s`]);
  }
  await dispatcher.close();
  return out;
}

async function main(): Promise<void> {
  const result: Record<string, unknown> = { node: process.version, uptimeBefore: uptime() };
  console.log(result.uptimeBefore);
  const net = await startRelayNetwork();
  try {
    // The burst first on a cold pool (the node holds one or two tunnel connections), again later warm.
    const burstPair = async () => {
      const direct = await burst(net, net.hosts.bob);
      const relayed = await burst(net, net.hosts.alice);
      return { direct, relayed, ratio: round(relayed.seconds / direct.seconds) };
    };
    if (ONLY.has('burst')) {
      result.burstCold = await burstPair();
      console.log('1000 concurrent small requests, cold pool', JSON.stringify(result.burstCold));
    }
    if (ONLY.has('bulk1')) {
      result.bulk1 = await bulk(net, 1, BULK_MIB * MiB);
      console.log(`one download of ${BULK_MIB} MiB`, JSON.stringify(result.bulk1));
    }
    if (ONLY.has('bulk100')) {
      result.bulk100 = await bulk(net, 100, 10 * MiB);
      console.log('100 concurrent downloads of 10 MiB', JSON.stringify(result.bulk100));
    }
    if (ONLY.has('bulk1000')) {
      result.bulk1000 = await bulk(net, 1000, MiB);
      console.log('1000 concurrent downloads of 1 MiB', JSON.stringify(result.bulk1000));
    }
    if (ONLY.has('burst')) {
      result.burstWarm = await burstPair();
      console.log('1000 concurrent small requests, warm pool', JSON.stringify(result.burstWarm));
    }
    if (ONLY.has('latency')) result.latency = await latency(net);
  } finally {
    await net.close();
  }
  if (ONLY.has('memory')) {
    result.idleSessions = await measureIdleSessions(SESSIONS);
    console.log('idle sessions', result.idleSessions);
    result.poolGrowth = await measurePoolGrowth(1000);
    console.log('one node, 1,000 streams at once', result.poolGrowth);
  }
  result.uptimeAfter = uptime();
  console.log(result.uptimeAfter);
  mkdirSync('bench-out', { recursive: true });
  writeFileSync('bench-out/relay.json', JSON.stringify(result, null, 2));
  process.exit(0);
}

await main();
