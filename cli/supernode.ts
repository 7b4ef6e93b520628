/** `pc2 supernode`: registry API + relay ingress, Active Proxy relay, DHT; one config. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Id } from '../shared/id.ts';
import { DEFAULT_RESERVED_NAMES } from '../shared/records/names.ts';
import { SuperNode } from '../origin/supernode.ts';
import { CliError } from './errors.ts';
import { startHeapTrim } from './heap-trim.ts';
import { useNativeCrypto } from './native-crypto.ts';
import { GATEWAY_SPEC, startGatewayFromFlags } from './gateway.ts';
import { loadOrCreateKey, parseIdAt } from './keyfile.ts';
import { createLogger } from './logger.ts';
import { parseOptions } from './options.ts';
import { onShutdown } from './shutdown.ts';
import { startAcmeFromFlags, ZONE_SPEC, zoneOptionsFromFlags } from './zone-flags.ts';
import { METRICS_SPEC, metricsWanted, startRoleMetrics } from './metrics/flags.ts';
import { createGatewayMetrics } from '../edge/runtime/node/metrics.ts';
import { superNodeMetrics } from '../origin/metrics.ts';
import { PC2_VERSION } from './version.ts';

const USAGE = `pc2 supernode --zone <zone> --edge-key <id> [options]

Runs a super node: the name registry API and relay ingress (HTTP, --api-port), the Active Proxy
relay that nodes behind NAT dial out to (TCP, --proxy-port), replicated with its --peer super nodes.`;

export const SUPERNODE_SPEC = {
  zone: {
    kind: 'string',
    value: '<zone>',
    description: 'zone the names live under, e.g. ela.city',
    required: true,
  },
  edgeKey: {
    kind: 'list',
    value: '<id>',
    description: 'edge (gateway) id whose relay traffic is accepted',
    default: [] as string[],
  },
  key: {
    kind: 'string',
    value: '<file>',
    description: 'super node key file (created if missing)',
    default: join(homedir(), '.pc2', 'supernode.key'),
  },
  dataDir: {
    kind: 'string',
    value: '<dir>',
    description: 'where the registry store lives',
    default: join(homedir(), '.pc2', 'supernode'),
  },
  host: {
    kind: 'string',
    value: '<address>',
    description: 'address to listen on',
    default: '0.0.0.0',
  },
  apiPort: {
    kind: 'number',
    integer: true,
    min: 0,
    max: 65535,
    value: '<port>',
    description: 'registry API + relay ingress port',
    default: 8080,
  },
  proxyPort: {
    kind: 'number',
    value: '<port>',
    description: 'Active Proxy port',
    default: 8090,
    integer: true,
    min: 0,
    max: 65535,
  },
  dhtPort: {
    kind: 'number',
    value: '<port>',
    description: 'Boson DHT port (UDP)',
    default: 39001,
    integer: true,
    min: 0,
    max: 65535,
  },
  noDht: { kind: 'boolean', description: 'run no DHT node', default: false },
  bootstrap: {
    kind: 'list',
    value: '<id>@<host>:<port>',
    description: 'DHT node to join the network through',
  },
  publicHost: {
    kind: 'string',
    value: '<address>',
    description: 'address nodes and DHT peers reach this super node at (default: --host)',
  },
  publicUrl: {
    kind: 'string',
    value: '<template>',
    description: 'where browsers reach a name (default https://{name}.<zone>)',
  },
  peer: { kind: 'list', value: '<id>@<url>', description: 'another super node to replicate with' },
  registrar: {
    kind: 'list',
    value: '<id>',
    description: 'extra registrar id whose bindings are trusted (self and peers always are)',
  },
  reserved: { kind: 'list', value: '<name>', description: 'extra reserved name' },
  trustedProxy: {
    kind: 'list',
    value: '<address>',
    description: 'proxy whose X-Forwarded-For is believed',
  },
  streamWaitMs: {
    kind: 'number',
    value: '<ms>',
    description: 'how long a relayed request waits for a tunnel stream of its node before 503',
    default: 30_000,
  },
  largePoolConnections: {
    kind: 'number',
    value: '<n>',
    description:
      'tunnel connections (requests in flight) a pc2 node may hold; stock clients get 16',
    default: 1024,
  },
  developerMode: {
    kind: 'boolean',
    description: 'admit loopback/private endpoints (local testing only)',
    default: false,
  },
  label: {
    kind: 'string',
    value: '<text>',
    description: 'display name on the network map (default sn-<first 8 characters of the id>)',
  },
  region: { kind: 'string', value: '<text>', description: 'region label on the network map' },
  ...METRICS_SPEC,
  gateway: {
    kind: 'boolean',
    description: 'also run the Node.js gateway in this process (single-VPS setups)',
    default: false,
  },
  edgeKeyFile: GATEWAY_SPEC.edgeKeyFile,
  httpsPort: GATEWAY_SPEC.httpsPort,
  httpPort: GATEWAY_SPEC.httpPort,
  cert: GATEWAY_SPEC.cert,
  certKey: GATEWAY_SPEC.certKey,
  responseTimeout: GATEWAY_SPEC.responseTimeout,
  ...ZONE_SPEC,
} as const;

/** Options the libraries refuse (TypeError, or their INVALID_OPTIONS) are the operator's to fix: a usage error. */
function newSuperNode(options: ConstructorParameters<typeof SuperNode>[0]): SuperNode {
  try {
    return new SuperNode(options);
  } catch (e) {
    if (e instanceof TypeError || (e as { code?: string }).code === 'INVALID_OPTIONS')
      throw new CliError((e as Error).message, 2);
    throw e;
  }
}

function ids(list: string[] | undefined, flag: string): Id[] {
  return (list ?? []).map((text) => {
    try {
      return Id.parse(text);
    } catch {
      throw new CliError(`${flag}: "${text}" is not an id`, 2);
    }
  });
}

export async function runSupernode(args: string[]): Promise<void> {
  const parsed = parseOptions(args, SUPERNODE_SPEC, USAGE);
  if (!parsed) return;
  // The composition root picks the process's crypto backends (libsodium when it loads).
  useNativeCrypto();
  const o = parsed.options;
  const logger = createLogger('supernode', { level: o.logLevel, format: o.logFormat });
  const key = await loadOrCreateKey(o.key!, 'super node', false);
  const peers = (o.peer ?? []).map((p) => {
    const { id, at } = parseIdAt(p, '--peer');
    ids([id], '--peer');
    return { id, url: at };
  });
  const extra = ids(o.registrar, '--registrar');
  const bootstrap = (o.bootstrap ?? []).map((b) => {
    const { id, at } = parseIdAt(b, '--bootstrap');
    const match = /^(.+):(\d{1,5})$/.exec(at);
    if (!match) throw new CliError(`--bootstrap takes <id>@<host>:<port>, got "${b}"`, 2);
    return {
      id: ids([id], '--bootstrap')[0],
      host: match[1].replace(/^\[|\]$/g, ''),
      port: Number(match[2]),
    };
  });
  const edgeKeys = ids(o.edgeKey, '--edge-key');
  const gatewayKey = o.gateway ? await loadOrCreateKey(o.edgeKeyFile!, 'edge', false) : null;
  if (gatewayKey) edgeKeys.push(gatewayKey.id);
  if (!edgeKeys.length)
    logger.warn('no --edge-key given: relay traffic will be refused until an edge is configured');
  const zoneDns = zoneOptionsFromFlags(o);
  const running: SuperNode[] = [];
  // With --gateway, one registry for both: the gateway's (request path) and the super node's.
  const gatewayMetrics = gatewayKey && metricsWanted(o) ? createGatewayMetrics() : null;
  const metrics = await startRoleMetrics(
    o,
    [superNodeMetrics(() => running)],
    gatewayMetrics?.registry,
  );
  const node = newSuperNode({
    key,
    dataDir: o.dataDir!,
    zone: o.zone,
    publicUrlTemplate: o.publicUrl,
    edgeKeys,
    host: o.host,
    apiPort: o.apiPort,
    tunnelPort: o.proxyPort,
    peers,
    trustedRegistrars: [key.id, ...peers.map((p) => Id.parse(p.id)), ...extra],
    reservedNames: o.reserved?.length ? [...DEFAULT_RESERVED_NAMES, ...o.reserved] : undefined,
    developerMode: o.developerMode,
    trustedProxies: o.trustedProxy,
    dht: o.noDht ? false : { port: o.dhtPort, bootstrap },
    publicHost: o.publicHost,
    zoneDns,
    version: PC2_VERSION,
    label: o.label,
    region: o.region,
    metricsEndpoint: metrics?.token ? { token: metrics.token, render: metrics.render } : undefined,
    streamWaitMs: o.streamWaitMs,
    largePoolConnections: o.largePoolConnections,
    logger,
  });
  running.push(node);
  let started;
  try {
    started = await node.start();
  } catch (e) {
    await metrics?.close();
    throw new CliError(`cannot start the super node: ${(e as Error).message}`);
  }
  await startHeapTrim(logger);
  logger.info('super node up', {
    id: key.id.toString(),
    api: started.apiUrl,
    activeProxyPort: started.tunnelPort,
    peers: peers.length,
  });
  const dht = node.dht ? `udp port ${node.dht.address().port}` : 'off';
  console.log(
    `super node ${key.id}\n  registry API + relay ingress  ${started.apiUrl}\n  Active Proxy                  tcp port ${started.tunnelPort}\n  Boson DHT                     ${dht}`,
  );
  if (metrics?.server) console.log(`  metrics                       ${metrics.server.url}`);
  if (node.zone?.dnsPort)
    console.log(
      `  DNS for ${o.zone.toLowerCase()}${' '.repeat(Math.max(1, 22 - o.zone.length))}udp+tcp port ${node.zone.dnsPort}`,
    );
  const acme = await startAcmeFromFlags({ ...o, dataDir: o.dataDir! }, node, key, logger).catch(
    async (e) => {
      await node.stop();
      throw e;
    },
  );
  const stopNode = async () => {
    await acme?.manager.stop();
    await node.stop();
    await metrics?.close();
  };
  if (!gatewayKey) return onShutdown(stopNode);
  const self = `${key.id}@http://127.0.0.1:${node.apiPort}`;
  if (acme && !acme.manager.certificate) {
    logger.info('the gateway starts once the zone certificate is installed');
    await acme.manager.whenInstalled();
  }
  const gateway = await startGatewayFromFlags(
    {
      ...o,
      ...(acme ? { cert: acme.paths.certFile, certKey: acme.paths.keyFile } : {}),
      supernode: [self, ...peers.map((p) => `${p.id}@${p.url}`)],
      registrar: [key.id, ...peers.map((p) => Id.parse(p.id)), ...extra].map(String),
    },
    gatewayKey,
    gatewayMetrics ? { gateway: gatewayMetrics, token: metrics?.token } : undefined,
  ).catch(async (e) => {
    await stopNode();
    throw e;
  });
  console.log(
    `  gateway                       ${gateway.ports.https ? `https port ${gateway.ports.https}` : `http port ${gateway.ports.http}`} (edge id ${gatewayKey.id})`,
  );
  await onShutdown(async () => {
    await gateway.close();
    await stopNode();
  });
}
