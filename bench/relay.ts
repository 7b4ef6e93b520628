/**
 * `npm run bench:relay [-- --sessions N]`: the Active Proxy relay against direct loopback.
 *  1. bulk download throughput: ingress + tunnel vs direct to the same upstream (ratio), and the
 *     CPU seconds each process spends per GiB relayed;
 *  2. request capacity (closed loop, 16 in flight) and latency p50/p99 at 1, 100 and 1000
 *     requests/s (open loop, direct and relay interleaved), with each process's cores and
 *     event-loop delay while measuring;
 *  3. super-node memory per idle session with N sessions (default 10,000).
 * Three processes, as in a deployment where they sit on different machines: the node side (app +
 * Active Proxy client, bench/node-side.ts), the super node (Active Proxy server + relay ingress,
 * bench/super-side.ts) and, here, the load generator, which measures direct and relay alike.
 * `--only bulk,latency,memory` runs a subset; `--prof DIR` runs both children with --cpu-prof into
 * DIR; `--rates 1000` runs only those latency rates (and no capacity run); `--stock-frames` makes
 * the client behave as a stock one (32,724-byte DATA payloads). Writes bench-out/relay.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { KeyPair } from '../shared/keys.ts';
import { INGRESS_HEADERS } from '../shared/records/api.ts';
import { signEdgeToken } from '../shared/records/edge-token.ts';
import { latencies } from './open-loop.ts';

const args = process.argv.slice(2);
const argValue = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const SESSIONS = argValue('--sessions', 10_000);
const BULK_BYTES = argValue('--bulk-mib', 512) * 1024 * 1024;
const ONLY = new Set(
  (args.includes('--only') ? args[args.indexOf('--only') + 1] : 'bulk,latency,memory').split(','),
);
const STOCK_FRAMES = args.includes('--stock-frames');
const PROF_DIR = args.includes('--prof') ? args[args.indexOf('--prof') + 1] : null;
const RATES = (args.includes('--rates') ? args[args.indexOf('--rates') + 1] : '1,100,1000')
  .split(',')
  .map(Number);
const SECONDS: Record<number, number> = { 1: 15, 100: 5, 1000: 5 };

const edge = KeyPair.generate();
const superNode = KeyPair.generate();
const device = KeyPair.generate();

function startChild(
  script: string,
  childArgs: string[],
  ready: (line: string) => boolean,
): Promise<{ child: ChildProcess; line: string }> {
  const prof = PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROF_DIR] : [];
  const child = spawn(
    process.execPath,
    ['--expose-gc', ...prof, '--import', 'tsx', script, ...childArgs],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (const line of buffer.split('\n')) if (ready(line)) resolve({ child, line });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** Sends `cmd` over the child's IPC channel and resolves with its first reply. */
function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (reply) => resolve(reply as T));
    child.send({ cmd });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function download(
  url: string,
  headers: Record<string, string>,
  dispatcher: Agent,
): Promise<number> {
  const start = performance.now();
  const res = await request(url, { headers, dispatcher });
  let bytes = 0;
  for await (const chunk of res.body) bytes += (chunk as Buffer).length;
  if (bytes !== BULK_BYTES) throw new Error(`short download: ${bytes}`);
  return bytes / 1048576 / ((performance.now() - start) / 1000);
}

const round = (n: number, d = 2) => Number(n.toFixed(d));

interface Memory {
  heapUsed: number;
  rss: number;
  sessions: number;
  connections: number;
  gc: boolean;
}

async function main(): Promise<void> {
  const superSide = await startChild(
    'bench/super-side.ts',
    [edge.id.toString(), superNode.id.toString()],
    (l) => l.startsWith('{'),
  );
  const ports = JSON.parse(superSide.line) as {
    tunnelPort: number;
    ingressPort: number;
    servicePeer: string;
  };
  const nodeSide = await startChild(
    'bench/node-side.ts',
    [
      String(ports.tunnelPort),
      ports.servicePeer,
      device.bosonPrivateKeyBase58(),
      STOCK_FRAMES ? 'stock' : 'large',
    ],
    (l) => l.startsWith('{'),
  );
  const { appPort, crypto } = JSON.parse(nodeSide.line) as { appPort: number; crypto: string };
  const direct = `http://127.0.0.1:${appPort}`;
  const relayed = `http://127.0.0.1:${ports.ingressPort}`;
  // Edge tokens live 60 s; the edge caches one per node and renews it.
  let token = await signEdgeToken(edge, device.id, superNode.id, Date.now());
  const renew = setInterval(
    async () => (token = await signEdgeToken(edge, device.id, superNode.id, Date.now())),
    20_000,
  );
  const edgeHeaders = () => ({
    [INGRESS_HEADERS.nodeId]: device.id.toString(),
    [INGRESS_HEADERS.edgeToken]: token,
    'x-forwarded-for': '198.51.100.7',
    'x-forwarded-proto': 'https',
  });
  const dispatcher = new Agent({ connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
  const result: Record<string, unknown> = {
    crypto,
    node: process.version,
    frames: STOCK_FRAMES ? 'stock' : 'large',
  };

  // CPU time of the three processes: [load generator, super node, node side].
  const cpuNow = async () => [
    process.cpuUsage(),
    (await ask<{ cpu: NodeJS.CpuUsage }>(superSide.child, 'cpu')).cpu,
    (await ask<{ cpu: NodeJS.CpuUsage }>(nodeSide.child, 'cpu')).cpu,
  ];
  const seconds = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) =>
    (b.user - a.user + b.system - a.system) / 1e6;

  if (ONLY.has('bulk')) await bulkPhase();
  async function bulkPhase() {
    console.log(`bulk download, ${BULK_BYTES / 1048576} MiB per run (best of 3)`);
    const bulk = { direct: 0, relay: 0 };
    // CPU seconds per GiB relayed in each process: where the time goes.
    const cpu = { loadGenerator: 0, superNode: 0, nodeSide: 0 };
    for (let run = 0; run < 3; run++) {
      bulk.direct = Math.max(
        bulk.direct,
        await download(`${direct}/bulk?bytes=${BULK_BYTES}`, {}, dispatcher),
      );
      const before = await cpuNow();
      bulk.relay = Math.max(
        bulk.relay,
        await download(`${relayed}/bulk?bytes=${BULK_BYTES}`, edgeHeaders(), dispatcher),
      );
      const after = await cpuNow();
      cpu.loadGenerator += seconds(before[0], after[0]);
      cpu.superNode += seconds(before[1], after[1]);
      cpu.nodeSide += seconds(before[2], after[2]);
    }
    result.throughputMiBs = {
      direct: round(bulk.direct, 0),
      relay: round(bulk.relay, 0),
      ratio: round(bulk.relay / bulk.direct),
    };
    const gib = (3 * BULK_BYTES) / 2 ** 30;
    result.relayCpuSecondsPerGiB = {
      loadGenerator: round(cpu.loadGenerator / gib),
      superNode: round(cpu.superNode / gib),
      nodeSide: round(cpu.nodeSide / gib),
    };
    console.log(result.throughputMiBs, 'CPU s/GiB relayed', result.relayCpuSecondsPerGiB);
  }

  if (ONLY.has('latency')) await latencyPhase();
  async function latencyPhase() {
    // Closed-loop capacity: how many requests/s each path completes with 16 in flight.
    const capacity = async (url: string, headers: () => Record<string, string>) => {
      const until = performance.now() + 5000;
      let done = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (performance.now() < until) {
            const res = await request(url, { headers: headers(), dispatcher });
            await res.body.text();
            done++;
          }
        }),
      );
      return Math.round(done / 5);
    };
    if (!args.includes('--rates')) {
      result.capacityReqPerS = {
        direct: await capacity(`${direct}/`, () => ({})),
        relay: await capacity(`${relayed}/`, edgeHeaders),
      };
      console.log('capacity (16 in flight)', result.capacityReqPerS);
    }
    const latency: Record<string, unknown> = {};
    for (const rate of RATES) {
      const paths = [
        { url: `${direct}/`, headers: () => ({}) },
        { url: `${relayed}/`, headers: edgeHeaders },
      ];
      // Steady state: 2 s at the measured rate first (code warmed up, the node's pool grown to it).
      await latencies(paths, rate, Math.min(2, SECONDS[rate]), dispatcher);
      const statsBefore = (
        await ask<{ stats: { streamsOpened: number; connections: number } }>(
          superSide.child,
          'stats',
        )
      ).stats;
      const loopDelay = () =>
        Promise.all(
          [superSide.child, nodeSide.child].map(
            async (c) =>
              (await ask<{ loopDelay: Record<string, number> }>(c, 'loopDelay')).loopDelay,
          ),
        );
      const generatorDelay = monitorEventLoopDelay({ resolution: 1 });
      await loopDelay();
      generatorDelay.enable();
      const cpuBefore = await cpuNow();
      const wallBefore = performance.now();
      const [d, r] = await latencies(paths, rate, SECONDS[rate], dispatcher);
      const wall = (performance.now() - wallBefore) / 1000;
      const cpuAfter = await cpuNow();
      generatorDelay.disable();
      const [superDelay, nodeDelay] = await loopDelay();
      const statsAfter = (
        await ask<{ stats: { streamsOpened: number; connections: number } }>(
          superSide.child,
          'stats',
        )
      ).stats;
      latency[`${rate}/s`] = {
        // Tunnel streams opened for the relayed requests (the rest reused a kept-alive stream) and
        // tunnel connections of the session afterwards.
        streamsOpened: statsAfter.streamsOpened - statsBefore.streamsOpened,
        proxyConnections: statsAfter.connections,
        // Cores busy in each process while measuring (of the machine's 2).
        cores: {
          loadGenerator: round(seconds(cpuBefore[0], cpuAfter[0]) / wall),
          superNode: round(seconds(cpuBefore[1], cpuAfter[1]) / wall),
          nodeSide: round(seconds(cpuBefore[2], cpuAfter[2]) / wall),
        },
        // Event-loop delay (ms) in each process while measuring: its stalls (GC, long tasks).
        loopDelayMs: {
          loadGenerator: {
            p99: round(generatorDelay.percentile(99) / 1e6),
            max: round(generatorDelay.max / 1e6),
          },
          superNode: { p99: round(superDelay.p99), max: round(superDelay.max) },
          nodeSide: { p99: round(nodeDelay.p99), max: round(nodeDelay.max) },
        },
        direct: { p50: round(d.p50), p99: round(d.p99), n: d.requests, errors: d.errors },
        relay: { p50: round(r.p50), p99: round(r.p99), n: r.requests, errors: r.errors },
        addedP50: round(r.p50 - d.p50),
        addedP99: round(r.p99 - d.p99),
      };
      console.log(`${rate} req/s`, latency[`${rate}/s`]);
    }
    result.latencyMs = latency;
  }
  clearInterval(renew);
  await dispatcher.close();
  await stopChild(nodeSide.child);
  await ask(superSide.child, 'closeIngress');

  // Memory per idle session, measured inside the super-node process.
  if (ONLY.has('memory')) {
    const before = (await ask<{ memory: Memory }>(superSide.child, 'memory')).memory;
    const idle = await startChild(
      'bench/idle-clients.ts',
      [String(ports.tunnelPort), ports.servicePeer, String(SESSIONS), '9'],
      (l) => l.startsWith('ready'),
    );
    const after = (await ask<{ memory: Memory }>(superSide.child, 'memory')).memory;
    result.idleSessions = {
      sessions: after.sessions,
      connections: after.connections,
      heapPerSessionKiB: round((after.heapUsed - before.heapUsed) / after.sessions / 1024),
      rssPerSessionKiB: round((after.rss - before.rss) / after.sessions / 1024),
      gc: after.gc,
    };
    console.log('idle sessions', result.idleSessions);
    await stopChild(idle.child);
  }
  await stopChild(superSide.child);
  mkdirSync('bench-out', { recursive: true });
  writeFileSync('bench-out/relay.json', JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result));
  process.exit(0);
}

await main();
