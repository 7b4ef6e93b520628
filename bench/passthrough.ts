/**
 * `npm run bench:passthrough`: what passing a private name's TLS through costs. One download of
 * BENCH_BYTES (default 512 MiB) per row with curl, the median of 3 after a warm-up, each process
 * apart (as on separate machines): the node (app, the agent's TLS terminator, its tunnel clients:
 * passthrough-node.ts), the super node (tunnel server and relay ingress: super-side.ts) and the
 * Node.js gateway (edge-gateway.ts, TLS, private names on). Rows: TLS straight to the node's
 * terminator (the floor), through the gateway passed through to the node (direct), through the
 * gateway and the relay as a raw TLS stream (relayed), and, for comparison, a public relayed name
 * whose TLS the gateway terminates. Then the time to the first byte of a new connection (TLS
 * handshake included), the median of 40, straight and passed through. Prints Markdown.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KeyPair } from '../shared/keys.ts';
import { registryPaths, type ResolveResponse } from '../shared/records/api.ts';
import { signBinding } from '../shared/records/binding.ts';
import { type RouteRecord, signRoute } from '../shared/records/route.ts';
import { makeCertificate } from '../tests/edge/certs.ts';
import { type Cpu, processCpu, startGateway, sumCpu } from './edge-processes.ts';

const BYTES = Number(process.env.BENCH_BYTES ?? 512 * 1024 * 1024);
const RUNS = 3;
const FIRST_BYTE_RUNS = 40;
const run = promisify(execFile);

function startChild(script: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  return new Promise<{ child: ChildProcess; info: Record<string, unknown> }>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      const line = buffer.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, info: JSON.parse(line) });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

/** One curl download over a new TLS connection: MiB/s, and the seconds to the first byte. */
async function curl(
  host: string,
  port: number,
  bytes: number,
): Promise<{ mibs: number; ttfb: number }> {
  const { stdout } = await run(
    'curl',
    [
      '-sk',
      '--http1.1',
      '-o',
      '/dev/null',
      '--resolve',
      `${host}:${port}:127.0.0.1`,
      '-w',
      '%{size_download} %{speed_download} %{time_starttransfer}',
      `https://${host}:${port}/bulk?bytes=${bytes}`,
    ],
    { timeout: 600_000 },
  );
  const [size, speed, ttfb] = stdout.trim().split(' ').map(Number);
  if (size !== bytes) throw new Error(`short download from ${host}:${port}: ${size} of ${bytes}`);
  return { mibs: speed / 1048576, ttfb };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pc2-bench-passthrough-'));
  const registrar = KeyPair.generate();
  const edge = KeyPair.generate();
  const relay = KeyPair.generate();
  const registry = KeyPair.generate();
  const [dora, rita, bob] = [KeyPair.generate(), KeyPair.generate(), KeyPair.generate()];
  const nodeCert = makeCertificate(dir, 'node');
  const gatewayCert = makeCertificate(dir, 'gateway');
  const superSide = await startChild('bench/super-side.ts', [
    edge.id.toString(),
    relay.id.toString(),
  ]);
  const ports = superSide.info as { tunnelPort: number; ingressPort: number; servicePeer: string };
  const nodeSide = await startChild('bench/passthrough-node.ts', [], {
    PC2_BENCH_NODE: JSON.stringify({
      serverPort: ports.tunnelPort,
      servicePeer: ports.servicePeer,
      rita: rita.bosonPrivateKeyBase58(),
      bob: bob.bosonPrivateKeyBase58(),
      cert: readFileSync(nodeCert.certFile, 'utf8'),
      key: readFileSync(nodeCert.keyFile, 'utf8'),
    }),
  });
  const node = nodeSide.info as { doraPort: number };
  // The registry's resolve, answered here: the relay's ingress is the super side's.
  const records = new Map<string, ResolveResponse>();
  const now = Date.now();
  const add = async (
    name: string,
    key: KeyPair,
    route: Pick<RouteRecord, 'mode'> & Partial<RouteRecord>,
  ) =>
    records.set(name, {
      name,
      binding: await signBinding(
        { name, owner: key.id.toString(), boundAt: now - 1000 },
        registrar,
      ),
      route: await signRoute(
        { name, relays: [], seq: 1, iat: now - 1000, exp: now + 3_600_000, ...route },
        key,
      ),
    });
  await add('dora', dora, {
    mode: 'direct',
    endpoint: `https://127.0.0.1:${node.doraPort}`,
    tls: 'node',
  });
  await add('rita', rita, { mode: 'relay', relays: [relay.id.toString()], tls: 'node' });
  await add('bob', bob, { mode: 'relay', relays: [relay.id.toString()] });
  const stub = http.createServer((req, res) => {
    const name = (req.url ?? '').split('/').pop() ?? '';
    const record = records.get(name);
    if (req.url !== registryPaths.resolve(name) || !record) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(record));
  });
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
  const gateway = await startGateway(
    {
      zone: 'localhost',
      // The direct node is on loopback.
      developerMode: true,
      registrarKeys: [registrar.id.toString()],
      edgeKey: edge.bosonPrivateKeyBase58(),
      superNodes: [
        {
          id: registry.id.toString(),
          url: `http://127.0.0.1:${(stub.address() as AddressInfo).port}`,
        },
        { id: relay.id.toString(), url: `http://127.0.0.1:${ports.ingressPort}` },
      ],
    },
    1,
    { tls: gatewayCert },
  );
  const cpu = (): Record<string, Cpu> => ({
    node: processCpu(nodeSide.child.pid!),
    superNode: processCpu(superSide.child.pid!),
    gateway: processCpu(gateway.pid),
  });
  const rows = [
    { label: 'TLS straight to the node (the floor)', host: 'dora.localhost', port: node.doraPort },
    {
      label: 'gateway, passed through to a direct node',
      host: 'dora.localhost',
      port: gateway.port,
    },
    {
      label: 'gateway + relay, passed through (raw TLS stream)',
      host: 'rita.localhost',
      port: gateway.port,
    },
    {
      label: 'gateway + relay, a public name (TLS ends at the gateway)',
      host: 'bob.localhost',
      port: gateway.port,
    },
  ];
  const uptimeBefore = loadavg();
  const results: string[] = [];
  try {
    for (const row of rows) {
      await curl(row.host, row.port, 64 * 1024 * 1024); // JIT, pools, a warm route cache
      const speeds: number[] = [];
      const before = cpu();
      for (let i = 0; i < RUNS; i++) speeds.push((await curl(row.host, row.port, BYTES)).mibs);
      const after = cpu();
      const gib = (RUNS * BYTES) / 1024 ** 3;
      const used = (k: string) => {
        const d = sumCpu(after[k]) as Cpu;
        return ((d.user + d.system - before[k].user - before[k].system) / 1000 / gib).toFixed(2);
      };
      results.push(
        `| ${row.label} | ${median(speeds).toFixed(0)} | ${used('gateway')} | ${used('superNode')} | ${used('node')} |`,
      );
    }
    const firstByte = async (host: string, port: number) => {
      const times: number[] = [];
      for (let i = 0; i < FIRST_BYTE_RUNS; i++) times.push((await curl(host, port, 1)).ttfb * 1000);
      return median(times);
    };
    const straight = await firstByte('dora.localhost', node.doraPort);
    const direct = await firstByte('dora.localhost', gateway.port);
    const relayed = await firstByte('rita.localhost', gateway.port);
    console.log(
      `curl --http1.1, ${BYTES / 1048576} MiB per download, median of ${RUNS} after a 64 MiB warm-up; load average ${uptimeBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} after\n`,
    );
    console.log(
      '| path | MiB/s | gateway CPU s/GiB | super node CPU s/GiB | node CPU s/GiB |\n|---|---|---|---|---|',
    );
    for (const line of results) console.log(line);
    console.log(
      `\nTime to the first byte of a new connection (TCP + TLS 1.3 + request), median of ${FIRST_BYTE_RUNS}: straight to the node ${straight.toFixed(2)} ms; passed through the gateway ${direct.toFixed(2)} ms (direct node), ${relayed.toFixed(2)} ms (relayed)`,
    );
  } finally {
    await gateway.stop();
    await stop(nodeSide.child);
    await stop(superSide.child);
    stub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
