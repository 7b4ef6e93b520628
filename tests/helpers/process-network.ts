/**
 * The network as separate processes on loopback: primary and secondary `pc2 supernode`, a
 * `pc2 gateway` (plain HTTP), and `pc2 node` for alice in front of a test upstream.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { type KeyFile, keyFile, type Proc, pc2, reservePort, tempDir } from './processes.ts';
import { startUpstream } from './upstream.ts';

export interface SuperNodeProc {
  key: KeyFile;
  apiPort: number;
  proxyPort: number;
  dhtPort: number;
  url: string;
  args: string[];
  proc: Proc;
}

export interface ProcessNetwork {
  dir: string;
  gatewayPort: number;
  primary: SuperNodeProc;
  secondary: SuperNodeProc;
  gateway: Proc;
  node: Proc;
  /** A GET through the gateway to alice. */
  get(path: string, timeoutMs?: number): Promise<{ status: number; body: string }>;
  startSuperNode(sn: SuperNodeProc): Promise<void>;
  close(): Promise<void>;
}

export async function startProcessNetwork(
  options: { runner?: string[]; env?: Record<string, string> } = {},
): Promise<ProcessNetwork> {
  const dir = tempDir('pc2-procnet-');
  const [pk, sk, edge, alice] = await Promise.all(
    ['primary', 'secondary', 'edge', 'alice'].map((n) => keyFile(dir, n)),
  );
  const gatewayPort = await reservePort();
  const procs: Proc[] = [];
  const superNode = async (key: KeyFile, name: string): Promise<SuperNodeProc> => {
    const apiPort = await reservePort();
    const proxyPort = await reservePort();
    const dhtPort = await reservePort();
    return {
      key,
      apiPort,
      proxyPort,
      dhtPort,
      url: `http://127.0.0.1:${apiPort}`,
      args: [],
      proc: null as unknown as Proc,
      name,
    } as SuperNodeProc;
  };
  const primary = await superNode(pk, 'primary');
  const secondary = await superNode(sk, 'secondary');
  for (const [me, peer, name] of [
    [primary, secondary, 'primary'],
    [secondary, primary, 'secondary'],
  ] as const) {
    me.args = [
      'supernode',
      '--zone',
      'localhost',
      '--key',
      me.key.path,
      '--data-dir',
      join(dir, name),
      '--host',
      '127.0.0.1',
      '--api-port',
      String(me.apiPort),
      '--proxy-port',
      String(me.proxyPort),
      '--edge-key',
      edge.key.id.toString(),
      '--peer',
      `${peer.key.key.id}@${peer.url}`,
      '--developer-mode',
      '--dht-port',
      String(me.dhtPort),
      '--bootstrap',
      `${peer.key.key.id}@127.0.0.1:${peer.dhtPort}`,
      '--public-url',
      `http://{name}.localhost:${gatewayPort}`,
    ];
  }
  const startSuperNode = async (sn: SuperNodeProc) => {
    sn.proc = pc2(sn.args, { prefix: options.runner, env: options.env });
    procs.push(sn.proc);
    await sn.proc.waitFor(/registry API \+ relay ingress/, 60_000);
  };
  try {
    await Promise.all([startSuperNode(primary), startSuperNode(secondary)]);
    const gateway = pc2(
      [
        'gateway',
        '--zone',
        'localhost',
        '--registrar',
        pk.key.id.toString(),
        '--registrar',
        sk.key.id.toString(),
        '--supernode',
        `${pk.key.id}@${primary.url}`,
        '--supernode',
        `${sk.key.id}@${secondary.url}`,
        '--edge-key-file',
        edge.path,
        '--host',
        '127.0.0.1',
        '--http-port',
        String(gatewayPort),
      ],
      { prefix: options.runner, env: options.env },
    );
    procs.push(gateway);
    await gateway.waitFor(/gateway for \*\.localhost/, 60_000);
    const upstream = await startUpstream('alice');
    const node = pc2([
      'node',
      '--name',
      'alice',
      '--supernode',
      primary.url,
      '--supernode',
      secondary.url,
      '--upstream',
      upstream.url,
      '--key',
      alice.path,
      '--mode',
      'relay',
    ]);
    procs.push(node);
    await node.waitFor(/"state":"online"[^\n]*tunnel=up[^\n]*tunnel=up/, 60_000);
    const get = async (path: string, timeoutMs = 5000) => {
      const res = await request(`http://127.0.0.1:${gatewayPort}${path}`, {
        headers: { host: `alice.localhost:${gatewayPort}` },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      return { status: res.statusCode, body: await res.body.text() };
    };
    return {
      dir,
      gatewayPort,
      primary,
      secondary,
      gateway,
      node,
      get,
      startSuperNode,
      async close() {
        await Promise.all(procs.map((p) => p.kill('SIGKILL')));
        await upstream.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
