/**
 * Super node processes answering DNS for a test zone on loopback, replicating with each other, and
 * the DNS tools to ask them (Debian dnsutils' dig, knot-dnsutils' kdig).
 */
import { execFile, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Pebble, startPebble } from './pebble.ts';
import { type KeyFile, keyFile, type Proc, pc2, reservePort, tempDir } from './processes.ts';

const run = promisify(execFile);

export const TEST_ZONE = 'ela.test';

export function toolsSupported(tools: string[]): { ok: boolean; why?: string } {
  for (const tool of tools) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      return {
        ok: false,
        why: `needs ${tool} (apt-get install dnsutils knot-dnsutils pebble, as .ci/run does)`,
      };
    }
  }
  return { ok: true };
}

/** A port free for both TCP and UDP on 127.0.0.1 (a name server takes both). */
export async function reserveDnsPort(): Promise<number> {
  for (;;) {
    const port = await reservePort();
    const free = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export async function dig(
  port: number,
  args: string[],
  tool: 'dig' | 'kdig' = 'dig',
): Promise<string> {
  const { stdout } = await run(tool, [`@127.0.0.1`, '-p', String(port), ...args], {
    timeout: 15_000,
  });
  return stdout;
}

/** Record data of the answer section, `+short` style, sorted. */
export async function short(
  port: number,
  name: string,
  type: string,
  extra: string[] = [],
): Promise<string[]> {
  const out = await dig(port, [name, type, '+short', '+tries=1', '+time=2', ...extra]);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}

export interface ZoneSuperNode {
  name: string;
  key: KeyFile;
  apiPort: number;
  proxyPort: number;
  dnsPort: number;
  url: string;
  gateways: string[];
  nsHost: string;
  args: string[];
  proc: Proc;
}

export interface ZoneNetwork {
  dir: string;
  nodes: ZoneSuperNode[];
  start(node: ZoneSuperNode): Promise<void>;
  close(): Promise<void>;
}

/**
 * `count` super nodes for TEST_ZONE, each with its own gateway addresses (192.0.2.<i+1>,
 * 2001:db8::<i+1>) and name server ns<i+1>.<zone>, peers of each other. With `deferStart` the
 * ports and arguments are set but nothing runs until `start(node)`.
 */
export async function startZoneNetwork(
  options: {
    count?: number;
    ttl?: number;
    extra?: (i: number) => string[];
    env?: Record<string, string>;
    deferStart?: boolean;
  } = {},
): Promise<ZoneNetwork> {
  const dir = tempDir('pc2-zone-');
  const count = options.count ?? 2;
  const nodes: ZoneSuperNode[] = [];
  for (let i = 0; i < count; i++) {
    const apiPort = await reservePort();
    nodes.push({
      name: `sn${i + 1}`,
      key: await keyFile(dir, `sn${i + 1}`),
      apiPort,
      proxyPort: await reservePort(),
      dnsPort: await reserveDnsPort(),
      url: `http://127.0.0.1:${apiPort}`,
      gateways: [`192.0.2.${i + 1}`, `2001:db8::${i + 1}`],
      nsHost: `ns${i + 1}.${TEST_ZONE}`,
      args: [],
      proc: null as unknown as Proc,
    });
  }
  for (const [i, n] of nodes.entries()) {
    n.args = [
      'supernode',
      '--zone',
      TEST_ZONE,
      '--key',
      n.key.path,
      '--data-dir',
      join(dir, n.name),
      '--host',
      '127.0.0.1',
      '--api-port',
      String(n.apiPort),
      '--proxy-port',
      String(n.proxyPort),
      '--no-dht',
      '--developer-mode',
      '--dns',
      `127.0.0.1:${n.dnsPort}`,
      '--dns-ttl',
      String(options.ttl ?? 30),
      '--ns-host',
      n.nsHost,
      '--dns-rate-limit',
      '0',
      ...n.gateways.flatMap((g) => ['--gateway-address', g]),
      ...nodes.filter((p) => p !== n).flatMap((p) => ['--peer', `${p.key.key.id}@${p.url}`]),
      ...(options.extra?.(i) ?? []),
    ];
  }
  const procs: Proc[] = [];
  const start = async (n: ZoneSuperNode) => {
    n.proc = pc2(n.args, { env: options.env });
    procs.push(n.proc);
    await n.proc.waitFor(/DNS for ela\.test\s+udp\+tcp port/, 60_000);
  };
  const close = async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (!options.deferStart) await Promise.all(nodes.map(start));
  } catch (e) {
    await close();
    throw e;
  }
  return { dir, nodes, start, close };
}

/**
 * Super node processes that order the zone certificate (--acme) from a pebble validating through
 * sn1's DNS, and accept relay traffic from the edge key returned; started. pebble must know sn1's DNS
 * port before the super nodes order: the network's ports come first.
 */
export async function startAcmeZoneNetwork(o: {
  ttl: number;
  validitySeconds: number;
  acmeRetryS?: number;
}): Promise<{ net: ZoneNetwork; pebble: Pebble; edge: KeyFile }> {
  const net = await startZoneNetwork({ ttl: o.ttl, deferStart: true });
  let pebble: Pebble | undefined;
  try {
    pebble = await startPebble({
      dir: net.dir,
      dnsServer: `127.0.0.1:${net.nodes[0].dnsPort}`,
      validitySeconds: o.validitySeconds,
    });
    const edge = await keyFile(net.dir, 'edge');
    for (const n of net.nodes)
      n.args.push(
        '--acme',
        '--acme-agree-tos',
        '--acme-directory',
        pebble.directory,
        '--acme-ca-file',
        pebble.listenerCaFile,
        ...(o.acmeRetryS ? ['--acme-retry', String(o.acmeRetryS)] : []),
        '--edge-key',
        edge.key.id.toString(),
      );
    await Promise.all(net.nodes.map((n) => net.start(n)));
    return { net, pebble, edge };
  } catch (e) {
    await pebble?.stop();
    await net.close();
    throw e;
  }
}

/** Polls `probe` until `ok(value)`; returns the last value (the caller asserts on it). */
export async function until<T>(
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 15_000,
  stepMs = 200,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let value = await probe().catch(() => undefined as T);
  while (!ok(value) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, stepMs));
    value = await probe().catch(() => undefined as T);
  }
  return value;
}
