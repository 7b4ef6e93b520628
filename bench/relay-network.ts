/**
 * The processes bench:relay measures, each started the way the CLI starts it: the app (upstream,
 * bench/relay-upstream.ts), `pc2 supernode`, `pc2 gateway` (plain HTTP), `pc2 node --mode relay`
 * (alice, through the super node's tunnel) and `pc2 node --mode direct` (bob, the gateway to its
 * entry), each node's entry in front of the app, plus nginx in front of the same app as the floor.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { keyFile, pc2, type Proc, reservePort, tempDir } from '../tests/helpers/processes.ts';
import { type Running, startNginx, startPortPrinter } from './edge-processes.ts';

export interface RelayNetwork {
  gatewayPort: number;
  nginxPort: number;
  upstreamPort: number;
  /** Host headers the gateway routes: alice is relayed, bob direct. */
  hosts: { alice: string; bob: string };
  /** Process ids whose CPU time is measured. */
  pids: { gateway: number; superNode: number; agent: number; upstream: number; nginx: number };
  close(): Promise<void>;
}

function startUpstream(): Promise<Running> {
  return startPortPrinter([
    '--import',
    'tsx',
    new URL('./relay-upstream.ts', import.meta.url).pathname,
  ]);
}

/** Polls until the gateway answers 200 for `host`. */
async function reachable(gatewayPort: number, host: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await request(`http://127.0.0.1:${gatewayPort}/`, { headers: { host } })
      .then(async (res) => (await res.body.text(), res.statusCode === 200))
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${host} never answered through the gateway`);
}

/** `superNodeArgs`: extra `pc2 supernode` flags; `nodeArgs`: extra `pc2 node` flags for alice. */
export async function startRelayNetwork(
  options: { superNodeArgs?: string[]; nodeArgs?: string[] } = {},
): Promise<RelayNetwork> {
  const dir = tempDir('pc2-bench-relay-');
  const procs: Proc[] = [];
  const others: Running[] = [];
  const close = async () => {
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
    await Promise.all(others.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [superKey, edge, alice, bob] = await Promise.all(
      ['supernode', 'edge', 'alice', 'bob'].map((n) => keyFile(dir, n)),
    );
    const upstream = await startUpstream();
    others.push(upstream);
    const nginx = await startNginx(upstream.port, 1, 4096);
    others.push(nginx);
    const [gatewayPort, apiPort, proxyPort, dhtPort] = await Promise.all(
      [0, 1, 2, 3].map(() => reservePort()),
    );
    const api = `http://127.0.0.1:${apiPort}`;
    // BENCH_PROF_DIR: every pc2 process writes a CPU profile there (--cpu-prof) when it stops;
    // BENCH_NODE_OPTIONS: more Node.js flags for every pc2 process (e.g. --trace-gc).
    const prof = process.env.BENCH_PROF_DIR;
    const extra = process.env.BENCH_NODE_OPTIONS ?? '';
    const env = (role: string) => ({
      env: {
        NODE_OPTIONS: `${prof ? `--cpu-prof --cpu-prof-dir=${join(prof, role)} ` : ''}${extra}`,
      },
    });
    const superNode = pc2(
      [
        'supernode',
        ...['--zone', 'localhost', '--key', superKey.path, '--data-dir', join(dir, 'supernode')],
        ...[
          '--host',
          '127.0.0.1',
          '--api-port',
          String(apiPort),
          '--proxy-port',
          String(proxyPort),
        ],
        ...[
          '--dht-port',
          String(dhtPort),
          '--edge-key',
          edge.key.id.toString(),
          '--developer-mode',
        ],
        ...['--public-url', `http://{name}.localhost:${gatewayPort}`],
        ...(options.superNodeArgs ?? []),
      ],
      env('supernode'),
    );
    procs.push(superNode);
    await superNode.waitFor(/registry API \+ relay ingress/, 60_000);
    const gateway = pc2(
      [
        'gateway',
        ...['--zone', 'localhost', '--registrar', superKey.key.id.toString()],
        ...['--supernode', `${superKey.key.id}@${api}`, '--edge-key-file', edge.path],
        ...['--host', '127.0.0.1', '--http-port', String(gatewayPort)],
        // bob's entry is on loopback: a direct endpoint the gateway only dials in developer mode.
        '--developer-mode',
      ],
      env('gateway'),
    );
    procs.push(gateway);
    await gateway.waitFor(/gateway for \*\.localhost/, 60_000);
    const app = `http://127.0.0.1:${upstream.port}`;
    const node = (name: string, key: string, mode: string[], extra: string[] = []) =>
      pc2(
        [
          'node',
          '--name',
          name,
          '--supernode',
          api,
          '--upstream',
          app,
          '--key',
          key,
          ...mode,
          ...extra,
        ],
        env(name),
      );
    const agent = node('alice', alice.path, ['--mode', 'relay'], options.nodeArgs);
    // bob as `npm start` runs it: the gateway to the node's entry (--listen), the entry to the app.
    const bobEntry = `127.0.0.1:${await reservePort()}`;
    const direct = node('bob', bob.path, [
      ...['--mode', 'direct', '--listen', bobEntry, '--public-url', `http://${bobEntry}`],
    ]);
    procs.push(agent, direct);
    await Promise.all([
      agent.waitFor(/"state":"online"[^\n]*tunnel=up/, 60_000),
      direct.waitFor(/"state":"online"/, 60_000),
    ]);
    const hosts = { alice: `alice.localhost:${gatewayPort}`, bob: `bob.localhost:${gatewayPort}` };
    await reachable(gatewayPort, hosts.alice);
    await reachable(gatewayPort, hosts.bob);
    return {
      gatewayPort,
      nginxPort: nginx.port,
      upstreamPort: upstream.port,
      hosts,
      pids: {
        gateway: gateway.child.pid!,
        superNode: superNode.child.pid!,
        agent: agent.child.pid!,
        upstream: upstream.pid,
        nginx: nginx.pid,
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
