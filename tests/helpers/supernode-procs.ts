/**
 * `pc2 supernode` processes on loopback that replicate to each other (each the others' peer and DHT
 * bootstrap), as an operator starts them: for end-to-end tests of one super node or several.
 */
import { join } from 'node:path';
import { type KeyFile, keyFile, type Proc, pc2, reservePort } from './processes.ts';

export interface SuperNodeProc {
  name: string;
  key: KeyFile;
  apiPort: number;
  proxyPort: number;
  dhtPort: number;
  url: string;
  dataDir: string;
  args: string[];
  proc: Proc;
}

export interface SuperNodeProcOptions {
  /** Edge ids whose relay traffic is accepted. */
  edgeKeys: string[];
  /** Where browsers reach a name (`--public-url`). Default `http://{name}.localhost:8080`. */
  publicUrl?: string;
  developerMode?: boolean;
  /** Runs no DHT node (`--no-dht`): a DHT start waits for its bootstrap peers, a restart alone too. */
  noDht?: boolean;
  /** Runs the CLI under another runner (`deno run ...`). */
  runner?: string[];
  env?: Record<string, string>;
}

/** Prepares (does not start) `names.length` super nodes in `dir`, each the others' peer. */
export async function superNodeProcs(
  dir: string,
  names: string[],
  options: SuperNodeProcOptions,
): Promise<SuperNodeProc[]> {
  const nodes: SuperNodeProc[] = [];
  for (const name of names) {
    const apiPort = await reservePort();
    nodes.push({
      name,
      key: await keyFile(dir, name),
      apiPort,
      proxyPort: await reservePort(),
      dhtPort: await reservePort(),
      url: `http://127.0.0.1:${apiPort}`,
      dataDir: join(dir, name),
      args: [],
      proc: null as unknown as Proc,
    });
  }
  for (const me of nodes) {
    const peers = nodes.filter((n) => n !== me);
    me.args = [
      'supernode',
      '--zone',
      'localhost',
      '--key',
      me.key.path,
      '--data-dir',
      me.dataDir,
      '--host',
      '127.0.0.1',
      '--api-port',
      String(me.apiPort),
      '--proxy-port',
      String(me.proxyPort),
      ...(options.noDht ? ['--no-dht'] : ['--dht-port', String(me.dhtPort)]),
      '--public-url',
      options.publicUrl ?? 'http://{name}.localhost:8080',
      ...options.edgeKeys.flatMap((k) => ['--edge-key', k]),
      ...peers.flatMap((p) => ['--peer', `${p.key.key.id}@${p.url}`]),
      ...(options.noDht
        ? []
        : peers.flatMap((p) => ['--bootstrap', `${p.key.key.id}@127.0.0.1:${p.dhtPort}`])),
      ...(options.developerMode ? ['--developer-mode'] : []),
    ];
  }
  return nodes;
}

/** Starts (or restarts) one prepared super node and waits until it serves. */
export async function startSuperNodeProc(
  sn: SuperNodeProc,
  options: Pick<SuperNodeProcOptions, 'runner' | 'env'> = {},
): Promise<Proc> {
  sn.proc = pc2(sn.args, { prefix: options.runner, env: options.env });
  await sn.proc.waitFor(/registry API \+ relay ingress/, 60_000);
  return sn.proc;
}

/** `pc2 gateway` arguments for plain HTTP on 127.0.0.1:`port` in front of `sns` (zone localhost). */
export function gatewayArgs(
  sns: SuperNodeProc[],
  edgeKeyFile: string,
  port: number,
  extra: string[] = [],
): string[] {
  return [
    'gateway',
    '--zone',
    'localhost',
    ...sns.flatMap((sn) => ['--registrar', sn.key.key.id.toString()]),
    ...sns.flatMap((sn) => ['--supernode', `${sn.key.key.id}@${sn.url}`]),
    '--edge-key-file',
    edgeKeyFile,
    '--host',
    '127.0.0.1',
    '--http-port',
    String(port),
    ...extra,
  ];
}
