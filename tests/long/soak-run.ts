/**
 * The soak: two `pc2 supernode` processes and a `pc2 gateway` process under hours-like use, squeezed
 * into minutes. This process plays a crowd of nodes (every node one tunnel client per super node,
 * routes published and renewed) and their visitors (GETs, downloads and uploads through the gateway
 * to the relayed nodes, without pause). Every few seconds a reconnect storm: half the nodes drop
 * every tunnel and dial in again at once (new sessions, replacing the old). The super nodes' and the
 * gateway's memory (RSS, from /proc) is sampled throughout; after the warm-up it may grow by at most
 * `maxGrowth` (5%) for each of them, comparing the mean of the first and of the last fifth of the
 * samples taken after warm-up (single samples jump with GC). Each of those processes runs with its
 * inspector on a loopback port, through which the heap used after a full collection is sampled every
 * few minutes (soak-memory.ts) and heap snapshots are taken when asked for.
 */
import http from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient } from '../../agent/registry-client.ts';
import { TunnelClient } from '../../agent/tunnel/index.ts';
import { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import { keyFile, type Proc, pc2, reservePort, tempDir } from '../helpers/processes.ts';
import {
  gatewayArgs,
  type SuperNodeProc,
  startSuperNodeProc,
  superNodeProcs,
} from '../helpers/supernode-procs.ts';
import { patternBytes, startUpstream } from '../helpers/upstream.ts';
import { Inspector } from './soak-inspector.ts';
import { MemorySamples, type ProcessMemory } from './soak-memory.ts';

export type { ProcessMemory };

export interface SoakOptions {
  minutes: number;
  warmupMinutes: number;
  /** Nodes; each holds a tunnel to both super nodes. */
  nodes: number;
  /** Visitors' requests in flight at once. */
  concurrency: number;
  /** Seconds between reconnect storms. */
  stormSeconds: number;
  /** Allowed RSS growth after warm-up, as a fraction. */
  maxGrowth: number;
  /** Minutes between samples of the heap used after a full collection. Default 3. */
  heapEveryMinutes?: number;
  /** Heap snapshots of every process at these minutes, written into `dir` (kept after the run). */
  heapSnapshots?: { atMinutes: number[]; dir: string };
  log?: (line: string) => void;
}

export interface SoakResult {
  seconds: number;
  requests: number;
  failed: number;
  bytes: number;
  storms: number;
  sessionsStarted: number;
  memory: ProcessMemory[];
  /** Every process still running at the end. */
  allAlive: boolean;
  ok: boolean;
}

interface SoakNode {
  name: string;
  key: KeyPair;
  tunnels: TunnelClient[];
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const dir = tempDir('pc2-soak-');
  const procs: Proc[] = [];
  const upstream = await startUpstream('soak');
  try {
    const edge = await keyFile(dir, 'edge');
    const gatewayPort = await reservePort();
    const sns = await superNodeProcs(dir, ['sn1', 'sn2'], {
      edgeKeys: [edge.key.id.toString()],
      publicUrl: `http://{name}.localhost:${gatewayPort}`,
      noDht: true,
    });
    const inspectPorts = await Promise.all([0, 1, 2].map(() => reservePort()));
    const inspect = (i: number) => ({ NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPorts[i]}` });
    procs.push(
      ...(await Promise.all(sns.map((sn, i) => startSuperNodeProc(sn, { env: inspect(i) })))),
    );
    const gateway = pc2(gatewayArgs(sns, edge.path, gatewayPort), { env: inspect(2) });
    procs.push(gateway);
    await gateway.waitFor(/gateway for \*\.localhost/, 60_000);
    const inspectors = await Promise.all(inspectPorts.map((port) => Inspector.connect(port)));

    const nodes = await registerNodes(sns, o.nodes, log);
    let sessionsStarted = 0;
    const connect = (node: SoakNode) => {
      node.tunnels = sns.map((sn) => {
        const client = new TunnelClient({
          serverHost: '127.0.0.1',
          serverPort: sn.proxyPort,
          servicePeerId: sn.key.key.id,
          deviceKey: node.key,
          upstream: { host: '127.0.0.1', port: upstream.port },
        });
        client.on('authenticated', () => sessionsStarted++);
        client.start();
        return client;
      });
    };
    for (const node of nodes) connect(node);
    const routes = setInterval(() => void publishRoutes(sns, nodes), 120_000);
    await publishRoutes(sns, nodes);

    const processes = ['super node 1', 'super node 2', 'gateway'].map(
      (name, i) => new MemorySamples(name, procs[i].child.pid!, inspectors[i]),
    );
    for (const [i, p] of processes.entries()) await p.readLaunch(procs[i].output());
    const started = Date.now();
    const endAt = started + o.minutes * 60_000;
    const warmEnd = started + o.warmupMinutes * 60_000;
    const sampler = setInterval(() => {
      for (const p of processes) p.sampleRss();
    }, 5_000);
    // A full collection once every few minutes (each one shrinks the heap a little, so not often),
    // one process at a time, so that no two collections or snapshots compete for the 2 cores.
    let minute = 0;
    const snapshotsAt = new Set(o.heapSnapshots?.atMinutes ?? []);
    const heapEvery = o.heapEveryMinutes ?? 3;
    const heapSampler = setInterval(async () => {
      minute++;
      if (minute % heapEvery === 0) for (const p of processes) await p.sampleHeap();
      if (!snapshotsAt.has(minute) || !o.heapSnapshots) return;
      for (const [i, p] of processes.entries()) {
        const path = join(
          o.heapSnapshots.dir,
          `${p.name.replaceAll(' ', '-')}-min${minute}.heapsnapshot`,
        );
        await inspectors[i].snapshot(path).catch((e) => log(`snapshot ${path}: ${e}`));
        log(`heap snapshot ${path}`);
      }
    }, 60_000);

    // Reconnect storms: half the nodes (a different half each time) drop and redial every tunnel.
    let storms = 0;
    const storm = setInterval(async () => {
      storms++;
      const half = nodes.filter((_, i) => (i + storms) % 2 === 0);
      await Promise.all(half.flatMap((n) => n.tunnels.map((t) => t.stop())));
      for (const n of half) connect(n);
    }, o.stormSeconds * 1000);

    const traffic = { requests: 0, failed: 0, bytes: 0 };
    const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
    const visitor = async (v: number) => {
      for (let i = 0; Date.now() < endAt; i++) {
        const node = nodes[(v * 7 + i) % nodes.length];
        const kind = i % 10;
        const request =
          kind < 6
            ? { method: 'GET', path: '/' }
            : kind < 8
              ? { method: 'GET', path: `/bytes/${64 * 1024 * (1 + (i % 16))}` }
              : { method: 'POST', path: '/upload', body: patternBytes(i, 256 * 1024) };
        const result = await visit(agent, gatewayPort, node.name, request).catch(() => null);
        traffic.requests++;
        if (!result || result.status !== 200) traffic.failed++;
        else traffic.bytes += result.bytes;
      }
    };
    const progress = setInterval(() => {
      const rss = processes.map(
        (p) =>
          `${p.name} ${p.rss.at(-1)?.mib.toFixed(0)} MiB (heap after GC ${p.heap.at(-1)?.mib.toFixed(1) ?? '-'})`,
      );
      log(
        `${((Date.now() - started) / 60_000).toFixed(1)} min: ${traffic.requests} requests (${traffic.failed} failed), ${storms} storms, ${sessionsStarted} sessions; ${rss.join(', ')}`,
      );
    }, 60_000);
    await Promise.all(Array.from({ length: o.concurrency }, (_, v) => visitor(v)));
    clearInterval(storm);
    clearInterval(routes);
    clearInterval(progress);
    clearInterval(sampler);
    clearInterval(heapSampler);
    for (const p of processes) p.sampleRss();
    agent.destroy();
    const allAlive = procs.every((p) => p.child.exitCode === null && !p.child.signalCode);
    const memory = processes.map((p) => p.summary(warmEnd));
    for (const i of inspectors) i.close();
    await Promise.all(nodes.flatMap((n) => n.tunnels.map((t) => t.stop())));
    const result = {
      seconds: (Date.now() - started) / 1000,
      ...traffic,
      storms,
      sessionsStarted,
      memory,
      allAlive,
      ok:
        allAlive &&
        memory.every((m) => m.growth <= o.maxGrowth) &&
        traffic.requests > traffic.failed,
    };
    return result;
  } finally {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Claims `count` names (at the first super node, replicated to the second) and gives their keys. */
async function registerNodes(
  sns: SuperNodeProc[],
  count: number,
  log: (line: string) => void,
): Promise<SoakNode[]> {
  const nodes: SoakNode[] = [];
  for (let i = 0; i < count; i++) {
    const node = { name: `soak-${i}`, key: KeyPair.generate(), tunnels: [] };
    // The registry's write budget per address is 20/s (burst 100): stay under it.
    for (;;) {
      try {
        await new RegistryClient({ url: sns[0].url, key: node.key }).claim(node.name);
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== 'RATE_LIMITED') throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    nodes.push(node);
  }
  // The tunnel servers admit only owners of a name they know: wait for the replication.
  const last = new RegistryClient({ url: sns[1].url, key: KeyPair.generate() });
  for (let t = 0; t < 100; t++) {
    if (
      await last.resolve(nodes.at(-1)!.name).then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`${count} names claimed`);
  return nodes;
}

/** A relay route record for every node, naming both super nodes, at both (as an agent does). */
async function publishRoutes(sns: SuperNodeProc[], nodes: SoakNode[]): Promise<void> {
  const relays = sns.map((sn) => Id.parse(sn.key.key.id.toString()).toString());
  for (const node of nodes) {
    const client = new RegistryClient({ url: sns[0].url, key: node.key });
    const jws = await client.signRouteRecord({
      name: node.name,
      mode: 'relay',
      relays,
      ttlMs: 600_000,
    });
    for (const sn of sns) {
      for (;;) {
        try {
          await new RegistryClient({ url: sn.url, key: node.key }).publishSignedRoute(
            node.name,
            jws,
          );
          break;
        } catch (e) {
          if ((e as { code?: string }).code !== 'RATE_LIMITED') break;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  }
}

function visit(
  agent: http.Agent,
  port: number,
  name: string,
  request: { method: string; path: string; body?: Buffer },
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: request.method,
      path: request.path,
      agent,
      headers: { host: `${name}.localhost:${port}` },
      timeout: 30_000,
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.on('response', (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.end(request.body);
  });
}
