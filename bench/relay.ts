/**
 * `npm run bench:relay`: the whole relayed path, every role in its own process started the way the
 * CLI starts it (bench/relay-network.ts): client → `pc2 gateway` → `pc2 supernode` (ingress + tunnel
 * server) → `pc2 node --mode relay` (tunnel client) → the app; nginx in front of the same app, in the
 * same run, is the floor, and localtunnel (its server and its client, bench/relay-localtunnel.ts;
 * `--no-localtunnel` leaves it out) the peer. Phases (`--only a,b,…`, default all):
 *  - bulk1: one download of --bulk-mib MiB (default 1024) with curl: MiB/s and CPU-s/GiB per process,
 *    for each path in turn (nginx, pc2 relayed, localtunnel);
 *  - bulk100: 100 concurrent downloads of 10 MiB (curl --parallel);
 *  - bulk1000: 1000 concurrent downloads of 1 MiB: failures and aggregate MiB/s;
 *  - burst: 1000 concurrent requests of the small page to the relayed node (alice) and to the
 *    direct one (bob), both through the gateway: the time until the last answer; first right after
 *    start (the node's tunnel pool cold), again after the downloads (warm); localtunnel's too;
 *  - latency: open loop at --rates (default 500,1000) requests/s for --latency-s s (default 60),
 *    each path at that rate, their requests interleaved: p50/p99/max and errors;
 *  - memory: the super node's memory per idle tunnel session, and one node's pool growing to 1,000
 *    connections: time, and the super node's CPU and memory per connection (bench/relay-memory.ts).
 * Writes bench-out/relay.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { curlAll, type CurlRun } from './curl.ts';
import { type Cpu, processCpu } from './edge-processes.ts';
import { latencies } from './open-loop.ts';
import { measureIdleSessions, measurePoolGrowth } from './relay-memory.ts';
import { type Localtunnel, LOCALTUNNEL_PACKAGES, startLocaltunnel } from './relay-localtunnel.ts';
import { startRelayNetwork } from './relay-network.ts';

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
const LOCALTUNNEL = !args.includes('--no-localtunnel');

const MiB = 1024 * 1024;
const round = (n: number, d = 2) => Number(n.toFixed(d));
const uptime = () => execFileSync('uptime').toString().trim();

/** One way to the app: where a client sends its requests, and the processes that carry them. */
interface Path {
  url: string;
  host?: string;
  pids: Record<string, number>;
}

const cpuOf = (pids: Record<string, number>): Record<string, Cpu> =>
  Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, processCpu(pid)]));

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
async function downloads(path: Path, count: number, bytes: number): Promise<PathRun> {
  const before = cpuOf(path.pids);
  const run: CurlRun = await curlAll(Array(count).fill(`${path.url}/bytes/${bytes}`), {
    host: path.host,
  });
  const after = cpuOf(path.pids);
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

async function bulk(paths: Record<string, Path>, count: number, bytes: number) {
  const out: Record<string, PathRun | number> = {};
  for (const [name, path] of Object.entries(paths)) out[name] = await downloads(path, count, bytes);
  const MiBs = (name: string) => (out[name] as PathRun).MiBs;
  out.ratio = round(MiBs('relay') / MiBs('nginx'));
  if (paths.localtunnel) out.localtunnelRatio = round(MiBs('localtunnel') / MiBs('nginx'));
  return out;
}

/** 1000 small requests at once to `path`: the time until the last answer. */
async function burst(path: Path) {
  const run = await curlAll(Array(1000).fill(`${path.url}/`), { host: path.host });
  const failures = run.transfers.filter((t) => t.status !== 200).length;
  const times = run.transfers.map((t) => t.seconds).sort((a, b) => a - b);
  return {
    seconds: round(run.seconds, 3),
    failures,
    slowestTransferS: round(times[times.length - 1] ?? NaN, 3),
  };
}

/** CPU cores a set of processes used over `seconds`. */
function cores(before: Record<string, Cpu>, after: Record<string, Cpu>, seconds: number) {
  return Object.fromEntries(
    Object.keys(before).map((r) => [
      r,
      round((after[r].user - before[r].user + after[r].system - before[r].system) / 1000 / seconds),
    ]),
  );
}

async function latency(paths: Record<string, Path>) {
  const dispatcher = new Agent({ connections: 2048, keepAliveTimeout: 30_000 });
  const names = Object.keys(paths);
  const load = names.map((name) => {
    const { url, host } = paths[name];
    const headers: Record<string, string> = host ? { host } : {};
    return { url: `${url}/`, headers: () => headers };
  });
  const out: Record<string, unknown> = {};
  for (const rate of RATES) {
    await latencies(load, rate, 2, dispatcher);
    const before = names.map((n) => cpuOf(paths[n].pids));
    const generatorBefore = process.cpuUsage();
    const results = await latencies(load, rate, LATENCY_S, dispatcher);
    const generator = process.cpuUsage(generatorBefore);
    const after = names.map((n) => cpuOf(paths[n].pids));
    const row: Record<string, unknown> = {};
    names.forEach((name, i) => {
      const l = results[i];
      row[name] = {
        n: l.requests,
        errors: l.errors,
        p50: round(l.p50),
        p99: round(l.p99),
        max: round(l.max),
      };
      row[`${name}Cores`] = cores(before[i], after[i], LATENCY_S);
    });
    // The generator's own share: if it nears one core, its event loop, not a path, sets the latency.
    row.generatorCores = round((generator.user + generator.system) / 1e6 / LATENCY_S);
    out[`${rate}/s`] = row;
    console.log(`${rate} req/s for ${LATENCY_S} s`, JSON.stringify(row));
  }
  await dispatcher.close();
  return out;
}

/** Every path answers with the app's own bytes (the same as asking the app directly). */
async function sameBytes(paths: Record<string, Path>, appUrl: string): Promise<void> {
  const get = async (url: string, host?: string) => {
    const res = await request(`${url}/bytes/${MiB + 123}`, { headers: host ? { host } : {} });
    const body = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode !== 200) throw new Error(`${url}: status ${res.statusCode}`);
    return body;
  };
  const app = await get(appUrl);
  for (const [name, path] of Object.entries(paths)) {
    if (!app.equals(await get(path.url, path.host)))
      throw new Error(`${name}: not the app's bytes`);
  }
}

async function main(): Promise<void> {
  const result: Record<string, unknown> = { node: process.version, uptimeBefore: uptime() };
  console.log(result.uptimeBefore);
  const net = await startRelayNetwork();
  let lt: Localtunnel | undefined;
  try {
    if (LOCALTUNNEL) {
      lt = await startLocaltunnel(net.upstreamPort);
      result.localtunnel = LOCALTUNNEL_PACKAGES;
    }
    const gateway = `http://127.0.0.1:${net.gatewayPort}`;
    const { upstream } = net.pids;
    const paths: Record<string, Path> = {
      nginx: {
        url: `http://127.0.0.1:${net.nginxPort}`,
        pids: { nginx: net.pids.nginx, upstream },
      },
      relay: {
        url: gateway,
        host: net.hosts.alice,
        pids: {
          gateway: net.pids.gateway,
          superNode: net.pids.superNode,
          agent: net.pids.agent,
          upstream,
        },
      },
    };
    if (lt) {
      paths.localtunnel = {
        url: `http://127.0.0.1:${lt.port}`,
        host: lt.host,
        pids: { ...lt.pids, upstream },
      };
    }
    await sameBytes(paths, `http://127.0.0.1:${net.upstreamPort}`);
    // The burst first on a cold pool (the node holds one or two tunnel connections), again later warm.
    const burstPair = async () => {
      const direct = await burst({ url: gateway, host: net.hosts.bob, pids: {} });
      const relayed = await burst(paths.relay);
      const localtunnel = paths.localtunnel && (await burst(paths.localtunnel));
      return { direct, relayed, ratio: round(relayed.seconds / direct.seconds), localtunnel };
    };
    if (ONLY.has('burst')) {
      result.burstCold = await burstPair();
      console.log('1000 concurrent small requests, cold pool', JSON.stringify(result.burstCold));
    }
    if (ONLY.has('bulk1')) {
      result.bulk1 = await bulk(paths, 1, BULK_MIB * MiB);
      console.log(`one download of ${BULK_MIB} MiB`, JSON.stringify(result.bulk1));
    }
    if (ONLY.has('bulk100')) {
      result.bulk100 = await bulk(paths, 100, 10 * MiB);
      console.log('100 concurrent downloads of 10 MiB', JSON.stringify(result.bulk100));
    }
    if (ONLY.has('bulk1000')) {
      result.bulk1000 = await bulk(paths, 1000, MiB);
      console.log('1000 concurrent downloads of 1 MiB', JSON.stringify(result.bulk1000));
    }
    if (ONLY.has('burst')) {
      result.burstWarm = await burstPair();
      console.log('1000 concurrent small requests, warm pool', JSON.stringify(result.burstWarm));
    }
    if (ONLY.has('latency')) {
      const { nginx, relay, localtunnel } = paths;
      result.latency = await latency({ relay, nginx, ...(localtunnel ? { localtunnel } : {}) });
    }
  } finally {
    await lt?.stop();
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
