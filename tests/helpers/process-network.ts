/**
 * The network as separate processes on loopback: primary and secondary `pc2 supernode`, a
 * `pc2 gateway` (plain HTTP), and `pc2 node` for alice in front of a test upstream.
 */
import { rmSync } from 'node:fs';
import { request } from 'undici';
import { keyFile, type Proc, pc2, reservePort, tempDir } from './processes.ts';
import {
  gatewayArgs,
  type SuperNodeProc,
  startSuperNodeProc,
  superNodeProcs,
} from './supernode-procs.ts';
import { startUpstream } from './upstream.ts';

export type { SuperNodeProc };

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
  options: {
    runner?: string[];
    env?: Record<string, string>;
    /** More flags for each process (e.g. metrics). */
    extraArgs?: {
      supernode?: (name: 'primary' | 'secondary') => string[];
      gateway?: string[];
      node?: string[];
    };
  } = {},
): Promise<ProcessNetwork> {
  const dir = tempDir('pc2-procnet-');
  const [edge, alice] = await Promise.all(['edge', 'alice'].map((n) => keyFile(dir, n)));
  const gatewayPort = await reservePort();
  const procs: Proc[] = [];
  const [primary, secondary] = await superNodeProcs(dir, ['primary', 'secondary'], {
    edgeKeys: [edge.key.id.toString()],
    publicUrl: `http://{name}.localhost:${gatewayPort}`,
    developerMode: true,
  });
  for (const sn of [primary, secondary])
    sn.args.push(...(options.extraArgs?.supernode?.(sn.name as 'primary' | 'secondary') ?? []));
  const startSuperNode = async (sn: SuperNodeProc) => {
    procs.push(await startSuperNodeProc(sn, options));
  };
  try {
    await Promise.all([startSuperNode(primary), startSuperNode(secondary)]);
    const gateway = pc2(
      // Direct endpoints here are on loopback, which a gateway refuses outside developer mode.
      gatewayArgs([primary, secondary], edge.path, gatewayPort, [
        '--developer-mode',
        ...(options.extraArgs?.gateway ?? []),
      ]),
      {
        prefix: options.runner,
        env: options.env,
      },
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
      ...(options.extraArgs?.node ?? []),
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
