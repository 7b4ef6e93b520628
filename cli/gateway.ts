/** `pc2 gateway`: the Node.js edge alone (HTTPS, TLS 1.3, wildcard certificate reloaded from disk). */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Gateway, startGateway } from '../edge/runtime/node/server.ts';
import { DEFAULT_RESPONSE_TIMEOUT_MS } from '../edge/config.ts';
import type { KeyPair } from '../shared/keys.ts';
import { CliError } from './errors.ts';
import { loadOrCreateKey, parseIdAt } from './keyfile.ts';
import { startHeapTrim } from './heap-trim.ts';
import { createLogger } from './logger.ts';
import { parseOptions } from './options.ts';
import { onShutdown } from './shutdown.ts';
import { createGatewayMetrics, type GatewayMetrics } from '../edge/runtime/node/metrics.ts';
import {
  METRICS_SPEC,
  type MetricsFlags,
  metricsToken,
  metricsWanted,
  renderRegistry,
} from './metrics/flags.ts';
import { type MetricsServer, parseMetricsAddress, startMetricsServer } from './metrics/server.ts';

const USAGE = `pc2 gateway --zone <zone> --registrar <id> --supernode <id>@<url> --cert <file> --cert-key <file> [options]

Serves https://<name>.<zone> for every registered node: verifies each name's signed records and
routes to the node directly or through its super nodes. Without --cert it serves plain HTTP
(development only).`;

export const GATEWAY_SPEC = {
  zone: {
    kind: 'string',
    value: '<zone>',
    description: 'zone the names live under, e.g. ela.city',
  },
  registrar: { kind: 'list', value: '<id>', description: 'trusted registrar (super node) id' },
  supernode: {
    kind: 'list',
    value: '<id>@<url>',
    description: 'super node id and API origin, in preference order',
  },
  edgeKeyFile: {
    kind: 'string',
    value: '<file>',
    description: 'edge key (signs relay tokens; created if missing)',
    default: join(homedir(), '.pc2', 'edge.key'),
  },
  host: {
    kind: 'string',
    value: '<address>',
    description: 'address to listen on',
    default: '0.0.0.0',
  },
  httpsPort: {
    kind: 'number',
    value: '<port>',
    description: 'HTTPS port',
    default: 443,
    integer: true,
    min: 0,
    max: 65535,
  },
  httpPort: {
    kind: 'number',
    integer: true,
    min: 0,
    max: 65535,
    value: '<port>',
    description: 'HTTP port (redirects to HTTPS; plain HTTP without --cert)',
    default: 80,
  },
  cert: {
    kind: 'string',
    value: '<file>',
    description: 'wildcard certificate chain (PEM), reloaded when it changes',
  },
  certKey: { kind: 'string', value: '<file>', description: 'private key of the certificate (PEM)' },
  responseTimeout: {
    kind: 'number',
    value: '<ms>',
    description:
      "longest wait for a node's response headers before the next relay is tried (idempotent requests); 0 = none",
    default: DEFAULT_RESPONSE_TIMEOUT_MS,
  },
  developerMode: {
    kind: 'boolean',
    description:
      'admit direct endpoints on loopback/private addresses, private names passed through to them included (local testing only)',
    default: false,
  },
  workers: {
    kind: 'number',
    integer: true,
    min: 1,
    max: 1024,
    value: '<n>',
    description: 'worker processes sharing the ports, one per core to use (Node.js only)',
    default: 1,
  },
  ...METRICS_SPEC,
} as const;

export interface GatewayFlags extends MetricsFlags {
  zone?: string;
  responseTimeout?: number;
  developerMode?: boolean;
  registrar?: string[];
  supernode?: string[];
  host?: string;
  httpsPort?: number;
  httpPort?: number;
  cert?: string;
  certKey?: string;
}

/** What runGateway needs of a running gateway, in-process or as worker processes. */
interface RunningGateway {
  ports: { https?: number; http?: number };
  close(): Promise<void>;
}

function gatewayConfig(o: GatewayFlags, edgeKey: KeyPair) {
  if (!o.zone) throw new CliError('--zone is required', 2);
  if (!o.registrar?.length) throw new CliError('at least one --registrar is required', 2);
  if (!o.supernode?.length)
    throw new CliError('at least one --supernode <id>@<url> is required', 2);
  if (Boolean(o.cert) !== Boolean(o.certKey))
    throw new CliError('--cert and --cert-key go together', 2);
  const superNodes = o.supernode.map((s) => {
    const { id, at } = parseIdAt(s, '--supernode');
    return { id, url: at };
  });
  const timeout = o.responseTimeout ?? DEFAULT_RESPONSE_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout < 0 || timeout > 600_000)
    throw new CliError('--response-timeout is a whole number of ms from 0 to 600000', 2);
  return {
    config: {
      zone: o.zone,
      registrarKeys: o.registrar,
      edgeKey: edgeKey.bosonPrivateKeyBase58(),
      superNodes,
      responseTimeoutMs: timeout,
      developerMode: o.developerMode === true,
    },
    hostname: o.host,
    httpsPort: o.httpsPort,
    httpPort: o.httpPort,
    tls: o.cert ? { certFile: o.cert, keyFile: o.certKey! } : undefined,
  };
}

/**
 * Starts the one-process gateway; with `metrics`, it counts its requests into them and, given
 * `token`, answers GET /metrics on the apex with `render` (the process's whole registry).
 */
export async function startGatewayFromFlags(
  o: GatewayFlags,
  edgeKey: KeyPair,
  metrics?: { gateway: GatewayMetrics; token?: string },
): Promise<Gateway> {
  const options = gatewayConfig(o, edgeKey);
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      ...options,
      observer: metrics?.gateway.observer,
      metricsEndpoint: metrics?.token
        ? { token: metrics.token, render: renderRegistry(metrics.gateway.registry) }
        : undefined,
    });
  } catch (e) {
    throw new CliError(`cannot start the gateway: ${(e as Error).message}`);
  }
  metrics?.gateway.attach({
    edge: gateway.edge,
    certificateReloads: () => gateway.certificateReloads,
    certificateNotAfter: () => gateway.certificateNotAfter,
  });
  return gateway;
}

export async function runGateway(args: string[]): Promise<void> {
  const parsed = parseOptions(args, GATEWAY_SPEC, USAGE);
  if (!parsed) return;
  const o = parsed.options;
  const logger = createLogger('gateway', { level: o.logLevel, format: o.logFormat });
  const edgeKey = await loadOrCreateKey(o.edgeKeyFile!, 'edge', false);
  if (!o.cert) logger.warn('no --cert: serving plain HTTP (development only)');
  const workers = o.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 1)
    throw new CliError('--workers is a whole number >= 1', 2);
  const token = metricsToken(o);
  const address = o.metrics === undefined ? null : parseMetricsAddress(o.metrics);
  let gateway: RunningGateway;
  let metricsServer: MetricsServer | null = null;
  if (workers === 1) {
    const metrics = metricsWanted(o) ? createGatewayMetrics() : null;
    gateway = await startGatewayFromFlags(
      o,
      edgeKey,
      metrics ? { gateway: metrics, token } : undefined,
    );
    if (metrics && address)
      metricsServer = await startMetricsServer(address, renderRegistry(metrics.registry));
  } else {
    // Loaded only here: node:cluster is Node.js's (Deno runs the one-process gateway).
    const { startGatewayCluster } = await import('../edge/runtime/node/cluster.ts');
    const options = gatewayConfig(o, edgeKey);
    try {
      const cluster = await startGatewayCluster({
        ...options,
        workers,
        metrics: metricsWanted(o) ? { token } : undefined,
        onError: (e) => logger.warn(e.message),
      });
      gateway = cluster;
      if (cluster.renderMetrics && address)
        metricsServer = await startMetricsServer(address, cluster.renderMetrics);
    } catch (e) {
      throw new CliError(`cannot start the gateway: ${(e as Error).message}`);
    }
  }
  await startHeapTrim(logger);
  const where = gateway.ports.https
    ? `https port ${gateway.ports.https}${gateway.ports.http ? `, http port ${gateway.ports.http} redirects` : ''}`
    : `http port ${gateway.ports.http}`;
  console.log(
    `gateway for *.${o.zone} (edge id ${edgeKey.id}: give it to the super nodes as --edge-key)\n  ${where}${workers > 1 ? ` (${workers} worker processes)` : ''}`,
  );
  if (metricsServer) console.log(`  metrics ${metricsServer.url}`);
  await onShutdown(async () => {
    await gateway.close();
    await metricsServer?.close();
  });
}
