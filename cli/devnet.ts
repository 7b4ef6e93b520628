/**
 * `pc2 devnet` (what `npm start` runs): the whole network on loopback. A gateway on :8080, a primary
 * and a secondary super node that replicate to each other, the node `alice` behind the relay and
 * `bob` in direct mode, each a personal cloud (as `pc2 node` serves by default) that a throwaway demo
 * wallet owns, with a little demo content. Everything is real: real keys, signed records, HTTP,
 * Active Proxy tunnels, SIWE, WebDAV; only the addresses are loopback ones. `--zone` adds the zone
 * (devnet-zone.ts): DNS, certificates from a local pebble, HTTPS, and `carol`, a private name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type Gateway } from '../edge/runtime/node/server.ts';
import { SuperNode } from '../origin/supernode.ts';
import { KeyPair } from '../shared/keys.ts';
import * as Secp256k1 from 'ox/Secp256k1';
import { NodeAgent } from '../agent/node-agent.ts';
import { type DemoOwner, demoText, seedDemoCloud } from './cloud-demo.ts';
import { listenNodeCloud, type NodeCloud } from './node-cloud.ts';
import { CHAT_SPEC, chatOptions } from './cloud-flags.ts';
import type { CloudOptions } from '../cloud/index.ts';
import { CliError } from './errors.ts';
import { useNativeCrypto } from './native-crypto.ts';
import { type CliLogger, createLogger } from './logger.ts';
import { COMMON_SPEC, type LogFormat, type LogLevel, parseOptions } from './options.ts';
import {
  caUnavailable,
  DEVNET_ZONE,
  type DevnetCa,
  devnetZoneOptions,
  startDevnetCa,
} from './devnet-zone.ts';
import type { SuperNodeZoneOptions } from '../origin/zone/supernode-zone.ts';
import { onShutdown } from './shutdown.ts';
import { nodeAgentMetrics } from '../agent/metrics.ts';
import { createGatewayMetrics } from '../edge/runtime/node/metrics.ts';
import { superNodeMetrics } from '../origin/metrics.ts';
import {
  METRICS_SPEC,
  type MetricsFlags,
  metricsWanted,
  renderRegistry,
  startRoleMetrics,
} from './metrics/flags.ts';
import type { MetricsServer } from './metrics/server.ts';
import { PC2_VERSION } from './version.ts';

const USAGE = `pc2 devnet [options]

Runs the whole network on loopback: gateway, two super nodes, and two nodes (alice relayed through
the super nodes, bob direct), each a personal cloud with demo content owned by a throwaway demo
wallet. Open the printed URLs in a browser; Ctrl-C stops everything (and deletes the demo data).`;

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
  zone: {
    kind: 'boolean',
    description:
      'also the zone: DNS on --dns-port, certificates from a local pebble (if installed), HTTPS on --https-port, a private node',
    default: false,
  },
  dnsPort: {
    kind: 'number',
    value: '<port>',
    description: "with --zone: the zone's DNS (UDP and TCP)",
    default: 8053,
    integer: true,
    min: 0,
    max: 65535,
  },
  httpsPort: {
    kind: 'number',
    value: '<port>',
    description: "with --zone and pebble: the gateway's HTTPS port (--port redirects to it)",
    default: 8443,
    integer: true,
    min: 0,
    max: 65535,
  },
  logLevel: { ...COMMON_SPEC.logLevel, default: 'warn' },
  ...METRICS_SPEC,
  // On by default, as every role of `npm start` shows its metrics: a free loopback port, printed.
  metrics: { ...METRICS_SPEC.metrics, default: '127.0.0.1:0' },
  ...CHAT_SPEC,
} as const;

export interface Devnet {
  gatewayUrl: string;
  urls: Record<string, string>;
  superNodes: { id: string; url: string; node: SuperNode }[];
  agents: Record<string, NodeAgent>;
  /** Each node's cloud: its loopback address and the demo owner's app password. */
  clouds: Record<string, { cloud: NodeCloud; owner: DemoOwner }>;
  edgeKey: KeyPair;
  /** The metrics' own address, with `--metrics`. */
  metricsServer: MetricsServer | null;
  /** With --zone: the DNS port, and the local CA's root (null without pebble, with the reason). */
  zone?: { dnsPort: number; rootFile: string | null; unavailable: string | null };
  stop(): Promise<void>;
}

export async function startDevnet(options: {
  port: number;
  host: string;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  metrics?: MetricsFlags;
  zone?: boolean;
  dnsPort?: number;
  httpsPort?: number;
  /** Both clouds' chat backend. */
  chat?: CloudOptions['chat'];
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
  const unavailable = options.zone ? caUnavailable() : null;
  const secure = options.zone === true && unavailable === null;
  const dnsPort = options.dnsPort ?? 8053;
  const httpsPort = options.httpsPort ?? 8443;
  // A zone of its own under localhost (names still resolve to loopback): OpenSSL, so curl, matches no
  // wildcard with a single label after it, such as *.localhost.
  const zone = options.zone ? DEVNET_ZONE : 'localhost';
  const publicUrlTemplate = secure
    ? `https://{name}.${zone}${httpsPort === 443 ? '' : `:${httpsPort}`}`
    : `http://{name}.${zone}${options.port === 80 ? '' : `:${options.port}`}`;
  const stoppers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const superNodes = await startSuperNodes(keys, edgeKey, {
      dir,
      zone,
      publicUrlTemplate,
      logger,
      zoneDns: options.zone
        ? (i) => devnetZoneOptions(i, options.host, dnsPort, secure)
        : undefined,
    }).catch((e: Error) => {
      throw options.zone && /EADDRINUSE/.test(e.message)
        ? new CliError(`cannot answer DNS on ${options.host}:${dnsPort} (in use); try --dns-port`)
        : e;
    });
    stoppers.push(...superNodes.map((s) => () => s.node.stop()));
    let ca: DevnetCa | null = null;
    if (secure) {
      ca = await startDevnetCa({
        dir,
        dnsPort,
        superNode: superNodes[0].node,
        key: keys[0],
        logger,
      });
      stoppers.push(() => ca!.stop());
    }

    // One registry for the whole network of this process: gateway, super nodes, node agents.
    const watched: NodeAgent[] = [];
    const flags = options.metrics ?? {};
    const gatewayMetrics = metricsWanted(flags) ? createGatewayMetrics() : null;
    const metrics = await startRoleMetrics(
      flags,
      [superNodeMetrics(() => superNodes.map((s) => s.node)), nodeAgentMetrics(() => watched)],
      gatewayMetrics?.registry,
    );
    stoppers.push(async () => metrics?.close());

    let gateway: Gateway;
    try {
      gateway = await startGateway({
        config: {
          zone,
          registrarKeys: keys.map((k) => k.id.toString()),
          edgeKey: edgeKey.bosonPrivateKeyBase58(),
          superNodes: superNodes.map(({ id, url }) => ({ id, url })),
          // bob's direct endpoint is on loopback.
          developerMode: true,
        },
        hostname: options.host,
        httpPort: options.port,
        ...(ca ? { httpsPort, tls: ca.paths } : {}),
        observer: gatewayMetrics?.observer,
        metricsEndpoint:
          metrics?.token && gatewayMetrics
            ? { token: metrics.token, render: renderRegistry(gatewayMetrics.registry) }
            : undefined,
      });
      gatewayMetrics?.attach({
        edge: gateway.edge,
        certificateReloads: () => gateway.certificateReloads,
        certificateNotAfter: () => gateway.certificateNotAfter,
      });
    } catch (e) {
      throw new CliError(
        `cannot listen on ${options.host}:${ca ? `${httpsPort} or ${options.port}` : options.port} (${(e as Error).message}); try --port${ca ? ' or --https-port' : ''}`,
      );
    }
    stoppers.push(() => gateway.close());

    const agents: Record<string, NodeAgent> = {};
    const clouds: Devnet['clouds'] = {};
    const urls: Record<string, string> = {};
    const demo: [string, 'relay' | 'auto'][] = [
      ['alice', 'relay'],
      ['bob', 'auto'],
    ];
    // A private name: TLS from the visitor to carol's own agent, through the relay.
    if (ca) demo.push(['carol', 'relay']);
    const demoWallet = Secp256k1.randomPrivateKey();
    for (const [name, mode] of demo) {
      const url = publicUrlTemplate.replace('{name}', name);
      const cloud = await listenNodeCloud({
        dataDir: join(dir, `cloud-${name}`),
        logger,
        ...(options.chat ? { chat: options.chat } : {}),
      });
      stoppers.push(() => cloud.close());
      const owner = await seedDemoCloud(
        cloud.url,
        (await cloud.open([url])).ownerCode()!,
        demoWallet,
      );
      clouds[name] = { cloud, owner };
      // bob's entry is reachable from the super nodes (all on loopback), so the probe picks direct.
      const listen = mode === 'auto' ? { host: '127.0.0.1', port: await freePort() } : undefined;
      const agent = new NodeAgent({
        key: KeyPair.generate(),
        name,
        upstream: cloud.url,
        superNodes: superNodes.map((s) => s.url),
        mode,
        publicUrl: listen ? `http://${listen.host}:${listen.port}` : undefined,
        listen,
        appCheckMs: 60_000,
        ...(name === 'carol' && ca ? { tls: ca.nodeTls(join(dir, 'carol-tls')) } : {}),
        // alice shows how a node asks to be listed on the map; bob is online but not listed.
        listOnMap: name === 'alice',
        logger,
      });
      stoppers.push(() => agent.stop());
      await agent.start();
      agents[name] = agent;
      watched.push(agent);
      urls[name] = url;
    }
    await Promise.all(Object.values(agents).map((a) => waitOnline(a)));
    return {
      gatewayUrl: ca
        ? `https://${options.host}:${gateway.ports.https}`
        : `http://${options.host}:${gateway.ports.http}`,
      urls,
      superNodes,
      agents,
      clouds,
      edgeKey,
      metricsServer: metrics?.server ?? null,
      ...(options.zone ? { zone: { dnsPort, rootFile: ca?.rootFile ?? null, unavailable } } : {}),
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
  options: {
    dir: string;
    /** Default `localhost`. */
    zone?: string;
    publicUrlTemplate: string;
    logger?: CliLogger;
    /** The zone of super node i (`pc2 devnet --zone`); none by default. */
    zoneDns?: (index: number) => SuperNodeZoneOptions | undefined;
  },
): Promise<DevSuperNode[]> {
  const nodes: DevSuperNode[] = [];
  try {
    for (const [i, key] of keys.entries()) {
      const node = new SuperNode({
        key,
        dataDir: join(options.dir, `supernode-${i}`),
        zone: options.zone ?? 'localhost',
        publicUrlTemplate: options.publicUrlTemplate,
        edgeKeys: [edgeKey.id],
        host: '127.0.0.1',
        apiPort: 0,
        tunnelPort: 0,
        trustedRegistrars: keys.map((k) => k.id),
        developerMode: true,
        version: PC2_VERSION,
        label: i === 0 ? 'primary' : i === 1 ? 'secondary' : undefined,
        region: 'loopback',
        rateLimits: false,
        zoneDns: options.zoneDns?.(i),
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

/** How to use the two clouds: sign in, WebDAV with the app passwords, rclone. */
export async function runDevnet(args: string[]): Promise<void> {
  const parsed = parseOptions(args, SPEC, USAGE);
  if (!parsed) return;
  const started = Date.now();
  const { metrics, metricsToken, ...rest } = parsed.options;
  const net = await startDevnet({
    ...rest,
    metrics: { metrics, metricsToken },
    chat: chatOptions(parsed.options),
  });
  if (net.zone?.unavailable) console.log(`pc2 devnet --zone: ${net.zone.unavailable}\n`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `pc2 devnet is up (${seconds} s): gateway ${net.gatewayUrl}, super nodes ${net.superNodes.map((s) => s.url).join(' and ')}\n`,
  );
  for (const [name, url] of Object.entries(net.urls)) {
    const s = net.agents[name].status();
    const how = s.tls
      ? 'private: its own certificate, TLS passed through to its agent via the relay'
      : s.mode === 'relay'
        ? 'behind the relay'
        : 'direct';
    console.log(`  ${url}   (${name}: ${how})`);
  }
  if (net.zone) {
    const { dnsPort, rootFile } = net.zone;
    console.log(
      `\nThe zone ${DEVNET_ZONE}: dig @127.0.0.1 -p ${dnsPort} carol.${DEVNET_ZONE} +short   (every name -> the gateway)`,
    );
    if (rootFile)
      console.log(
        `Certificates from a local pebble; trust its root to check them:\n  curl --cacert ${rootFile} ${net.urls.carol}\n  (carol's certificate is carol's own, the others' the zone's *.${DEVNET_ZONE}; the file lives while the devnet runs)`,
      );
  }
  console.log(
    `\n  ${net.gatewayUrl.replace('127.0.0.1', 'localhost')}/network   (the network map)`,
  );
  if (net.metricsServer) console.log(`  ${net.metricsServer.url}   (Prometheus metrics)`);
  console.log(demoText(net.clouds, net.urls, net.gatewayUrl));
  console.log('\nCtrl-C stops everything.');
  await onShutdown(() => net.stop());
}
