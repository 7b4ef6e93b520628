/**
 * `pc2 devnet` (what `npm start` runs): the whole network on loopback. A gateway on :8080, a primary
 * and a secondary super node that replicate to each other, the demo node `alice` behind the relay and
 * `bob` in direct mode, each serving a small demo page. Everything is real: real keys, signed records,
 * HTTP, Active Proxy tunnels; only the addresses are loopback ones.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type Gateway } from '../edge/runtime/node/server.ts';
import { SuperNode } from '../origin/supernode.ts';
import { KeyPair } from '../shared/keys.ts';
import { startDemoSite } from '../agent/demo-site.ts';
import { NodeAgent } from '../agent/node-agent.ts';
import { CliError } from './errors.ts';
import { useNativeCrypto } from './native-crypto.ts';
import { type CliLogger, createLogger } from './logger.ts';
import { COMMON_SPEC, type LogFormat, type LogLevel, parseOptions } from './options.ts';
import { onShutdown } from './shutdown.ts';

const USAGE = `pc2 devnet [options]

Runs the whole network on loopback: gateway, two super nodes, and two demo nodes (alice relayed
through the super nodes, bob direct). Open the printed URLs in a browser; Ctrl-C stops everything.`;

const SPEC = {
  port: {
    kind: 'number',
    value: '<port>',
    description: 'gateway port',
    default: 8080,
    integer: true,
    min: 0,
    max: 65535,
  },
  host: {
    kind: 'string',
    value: '<address>',
    description: 'gateway address',
    default: '127.0.0.1',
  },
  logLevel: { ...COMMON_SPEC.logLevel, default: 'warn' },
} as const;

export interface Devnet {
  gatewayUrl: string;
  urls: Record<string, string>;
  superNodes: { id: string; url: string; node: SuperNode }[];
  agents: Record<string, NodeAgent>;
  edgeKey: KeyPair;
  stop(): Promise<void>;
}

export async function startDevnet(options: {
  port: number;
  host: string;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
}): Promise<Devnet> {
  // The composition root picks the process's crypto backends (libsodium when it loads).
  useNativeCrypto();
  const dir = mkdtempSync(join(tmpdir(), 'pc2-devnet-'));
  const logger = createLogger('devnet', {
    level: options.logLevel ?? 'error',
    format: options.logFormat,
  });
  const edgeKey = KeyPair.generate();
  const keys = [KeyPair.generate(), KeyPair.generate()];
  const publicUrlTemplate = `http://{name}.localhost${options.port === 80 ? '' : `:${options.port}`}`;
  const stoppers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const superNodes = await startSuperNodes(keys, edgeKey, { dir, publicUrlTemplate, logger });
    stoppers.push(...superNodes.map((s) => () => s.node.stop()));

    let gateway: Gateway;
    try {
      gateway = await startGateway({
        config: {
          zone: 'localhost',
          registrarKeys: keys.map((k) => k.id.toString()),
          edgeKey: edgeKey.bosonPrivateKeyBase58(),
          superNodes: superNodes.map(({ id, url }) => ({ id, url })),
          // bob's direct endpoint is on loopback.
          developerMode: true,
        },
        hostname: options.host,
        httpPort: options.port,
      });
    } catch (e) {
      throw new CliError(
        `cannot listen on ${options.host}:${options.port} (${(e as Error).message}); try --port`,
      );
    }
    stoppers.push(() => gateway.close());

    const agents: Record<string, NodeAgent> = {};
    const urls: Record<string, string> = {};
    for (const [name, mode] of [
      ['alice', 'relay'],
      ['bob', 'auto'],
    ] as const) {
      const site = await startDemoSite(name);
      stoppers.push(() => site.close());
      // bob's entry is reachable from the super nodes (all on loopback), so the probe picks direct.
      const listen = mode === 'auto' ? { host: '127.0.0.1', port: await freePort() } : undefined;
      const agent = new NodeAgent({
        key: KeyPair.generate(),
        name,
        upstream: site.url,
        superNodes: superNodes.map((s) => s.url),
        mode,
        publicUrl: listen ? `http://${listen.host}:${listen.port}` : undefined,
        listen,
        // Nothing is there yet when a devnet starts: no app-down warning for the demo sites.
        appCheckMs: 60_000,
        logger,
      });
      stoppers.push(() => agent.stop());
      await agent.start();
      agents[name] = agent;
      urls[name] = publicUrlTemplate.replace('{name}', name);
    }
    await Promise.all(Object.values(agents).map((a) => waitOnline(a)));
    return {
      gatewayUrl: `http://${options.host}:${gateway.ports.http}`,
      urls,
      superNodes,
      agents,
      edgeKey,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface DevSuperNode {
  id: string;
  url: string;
  node: SuperNode;
}

/**
 * Super nodes on loopback (every port ephemeral) that trust, replicate to and DHT-bootstrap from each
 * other, in developer mode: the devnet's, and the integration tests'.
 */
export async function startSuperNodes(
  keys: KeyPair[],
  edgeKey: KeyPair,
  options: { dir: string; publicUrlTemplate: string; logger?: CliLogger },
): Promise<DevSuperNode[]> {
  const nodes: DevSuperNode[] = [];
  try {
    for (const [i, key] of keys.entries()) {
      const node = new SuperNode({
        key,
        dataDir: join(options.dir, `supernode-${i}`),
        zone: 'localhost',
        publicUrlTemplate: options.publicUrlTemplate,
        edgeKeys: [edgeKey.id],
        host: '127.0.0.1',
        apiPort: 0,
        tunnelPort: 0,
        trustedRegistrars: keys.map((k) => k.id),
        developerMode: true,
        rateLimits: false,
        dht: {
          port: 0,
          bootstrap: nodes.map((s) => ({
            id: s.id,
            host: '127.0.0.1',
            port: s.node.dht!.address().port,
          })),
        },
        logger: options.logger,
      });
      const { apiUrl } = await node.start();
      nodes.push({ id: key.id.toString(), url: apiUrl, node });
    }
  } catch (e) {
    await Promise.all(nodes.map((n) => n.node.stop().catch(() => {})));
    throw e;
  }
  for (const a of nodes)
    for (const b of nodes)
      if (a !== b) a.node.registry.replication.addPeer({ id: b.id, url: b.url });
  return nodes;
}

/** A loopback port free a moment ago (the demo's direct node announces its URL before listening). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

function waitOnline(agent: NodeAgent, timeoutMs = 10_000): Promise<void> {
  if (agent.status().online) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new CliError(`${agent.status().name} did not come online`)),
      timeoutMs,
    );
    agent.on('status', (s) => {
      if (!s.online) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function runDevnet(args: string[]): Promise<void> {
  const parsed = parseOptions(args, SPEC, USAGE);
  if (!parsed) return;
  const started = Date.now();
  const net = await startDevnet(parsed.options);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `pc2 devnet is up (${seconds} s): gateway ${net.gatewayUrl}, super nodes ${net.superNodes.map((s) => s.url).join(' and ')}\n`,
  );
  for (const [name, url] of Object.entries(net.urls)) {
    const s = net.agents[name].status();
    console.log(`  ${url}   (${name}: ${s.mode === 'relay' ? 'behind the relay' : 'direct'})`);
  }
  console.log('\nCtrl-C stops everything.');
  await onShutdown(() => net.stop());
}
