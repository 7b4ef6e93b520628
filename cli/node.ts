/** `pc2 node`: put this machine's PC2 app online under <name>.<zone>, until stopped. */
import { type AgentStatus, NodeAgent, type NodeAgentOptions } from '../agent/node-agent.ts';
import { statusFields, statusLines } from '../agent/agent-status.ts';
import { CliError, EXIT } from './errors.ts';
import {
  cliErrorOf,
  hostPortProblem,
  KEY_FLAG,
  NAME_FLAG,
  parseHostPort,
  SUPERNODE_FLAG,
} from './flags.ts';
import { DEFAULT_INSPECTOR, startInspectorFromFlags } from './inspector.ts';
import { useNativeCrypto } from './native-crypto.ts';
import { loadOrCreateKey } from './keyfile.ts';
import { createLogger } from './logger.ts';
import { NODE_TLS_SPEC, nodeTlsFromFlags } from './node-tls-flags.ts';
import { type Parsed, parseOptions } from './options.ts';
import { onShutdown } from './shutdown.ts';
import { StatusScreen } from './status-screen.ts';
import { nodeAgentMetrics } from '../agent/metrics.ts';
import { METRICS_SPEC, startRoleMetrics } from './metrics/flags.ts';
import { parseMetricsAddress } from './metrics/server.ts';
import { CLOUD_SPEC, cloudOptions, startCloudUpstream } from './cloud-flags.ts';

const USAGE = `pc2 node --name <name> --supernode <url> [--supernode <url> ...] [options]

Claims <name> (or confirms it is yours), then keeps it online until stopped: direct when a super
node can reach --public-url, otherwise relayed through an encrypted tunnel to every super node.
What visitors reach is this node's personal cloud (data in --cloud-dir; while it has no owner, the
one-time owner code is printed at start), or, with --upstream, any other local app.
On a terminal it shows a live status; otherwise it logs a line per change. The inspector
(http://127.0.0.1:4040 by default) lists the requests passing through.`;

export const NODE_SPEC = {
  name: { ...NAME_FLAG, required: true },
  supernode: { ...SUPERNODE_FLAG, required: true },
  upstream: {
    kind: 'string',
    value: '<url>',
    description: 'a local app to publish instead of the personal cloud',
    url: ['http:'],
  },
  key: { ...KEY_FLAG, description: 'identity key file (created if missing)' },
  ...CLOUD_SPEC,
  mode: {
    kind: 'string',
    value: 'auto|direct|relay',
    description: 'how visitors reach this node',
    default: 'auto',
    choices: ['auto', 'direct', 'relay'],
  },
  publicUrl: {
    kind: 'string',
    value: '<url>',
    description:
      "this node's own public URL, if it has one (direct mode); it should lead to --listen",
    url: ['http:', 'https:'],
  },
  listen: {
    kind: 'string',
    value: '<host:port>',
    description:
      "direct mode: where the agent takes the edge's requests (what --public-url leads to)",
    check: hostPortProblem,
  },
  leaseSeconds: {
    kind: 'number',
    value: '<seconds>',
    description: 'route record lease, renewed at half (10 to 86400)',
    default: 600,
    integer: true,
    min: 10,
    max: 86_400,
  },
  hostHeader: {
    kind: 'string',
    value: 'visitor|hop',
    description:
      "the Host the app sees: the visitor's, or the one the last hop sent (the super node's or the public URL's)",
    default: 'visitor',
    choices: ['visitor', 'hop'],
  },
  appCheckSeconds: {
    kind: 'number',
    value: '<seconds>',
    description: 'how often the app is checked (0.1 to 3600)',
    default: 10,
    min: 0.1,
    max: 3600,
  },
  inspector: {
    kind: 'string',
    value: '<host:port>|off',
    description: 'where the inspector page listens',
    default: DEFAULT_INSPECTOR,
    check: (v: string) => (v === 'off' ? undefined : hostPortProblem(v)),
  },
  inspectorPublic: {
    kind: 'boolean',
    description: 'let the inspector listen on a non-loopback address (it shows every request)',
    default: false,
  },
  listOnMap: {
    kind: 'boolean',
    description: "list this node's name on the zone's network map (/network)",
    default: false,
  },
  metrics: METRICS_SPEC.metrics,
  ...NODE_TLS_SPEC,
} as const;

export type NodeFlags = Parsed<typeof NODE_SPEC>;

/** The agent's options from the flags (and the key); `upstream` is the cloud's when no --upstream. */
export function agentOptions(
  o: NodeFlags,
  key: NodeAgentOptions['key'],
  upstream = o.upstream ?? 'http://127.0.0.1:0',
): Omit<NodeAgentOptions, 'logger'> {
  if (o.mode === 'direct' && !o.publicUrl)
    throw new CliError(
      '--mode direct needs --public-url (where the world reaches this node)',
      EXIT.USAGE,
    );
  if (o.listen && !o.publicUrl)
    throw new CliError(
      '--listen is for direct mode: give --public-url too (what leads to it)',
      EXIT.USAGE,
    );
  return {
    key,
    name: o.name,
    upstream,
    superNodes: o.supernode,
    mode: o.mode as NodeAgentOptions['mode'],
    publicUrl: o.publicUrl,
    listen: o.listen ? parseHostPort(o.listen)! : undefined,
    leaseMs: o.leaseSeconds * 1000,
    hostHeader: o.hostHeader as NodeAgentOptions['hostHeader'],
    appCheckMs: Math.round(o.appCheckSeconds * 1000),
    listOnMap: o.listOnMap,
    tls: nodeTlsFromFlags(o),
  };
}

export async function runNode(args: string[]): Promise<void> {
  const parsed = parseOptions(args, NODE_SPEC, USAGE);
  if (!parsed) return;
  if (parsed.positionals.length)
    throw new CliError(`unexpected argument "${parsed.positionals[0]}"`, EXIT.USAGE);
  const o = parsed.options;
  if (o.metrics !== undefined && o.inspector !== 'off' && o.inspector !== DEFAULT_INSPECTOR) {
    const m = parseMetricsAddress(o.metrics);
    const i = parseHostPort(o.inspector)!;
    if (m.host === i.host && m.port === i.port)
      throw new CliError('--metrics and --inspector need different addresses', EXIT.USAGE);
  }
  // The composition root picks the process's crypto backends (libsodium when it loads).
  useNativeCrypto();
  const tty = Boolean(process.stdout.isTTY && process.stderr.isTTY);
  const screen = tty ? new StatusScreen() : null;
  const logger = createLogger('node', {
    level: o.logLevel,
    format: o.logFormat,
    write: screen ? (line) => screen.log(line.trimEnd()) : undefined,
  });
  agentOptions(o, null as never);
  const cloudSettings = o.upstream ? null : cloudOptions(o, logger);
  const key = await loadOrCreateKey(o.key, 'identity', true);
  const cloud = cloudSettings ? await startCloudUpstream(cloudSettings) : null;
  let agent: NodeAgent;
  try {
    agent = new NodeAgent({ ...agentOptions(o, key, cloud?.url), key, logger });
  } catch (e) {
    await cloud?.close();
    throw cliErrorOf(e);
  }
  const show = (s: AgentStatus) => {
    if (screen) screen.draw(statusLines(s));
    else logger.info('status', statusFields(s));
  };
  agent.on('status', show);
  // The agent has no port of its own: its metrics are served only on --metrics, started before the
  // inspector so that the inspector's search for a free port steps over it.
  const metrics = await startRoleMetrics(o, [nodeAgentMetrics(() => [agent])]);
  const inspector = await startInspectorFromFlags(o, agent).catch(async (e) => {
    await metrics?.close();
    throw e;
  });
  const close = async () => {
    await inspector?.close();
    await metrics?.close();
  };
  let ownerLine: string | null = null;
  try {
    await agent.start();
    // The cloud's origin is the name's public URL, which the super nodes tell the agent.
    const publicUrl = agent.status().publicUrl;
    ownerLine = (await cloud?.open([...(publicUrl ? [publicUrl] : []), ...o.cloudOrigin])) ?? null;
  } catch (e) {
    agent.off('status', show);
    await close();
    await agent.stop().catch(() => {});
    await cloud?.close();
    throw cliErrorOf(e);
  }
  if (inspector) logger.info(`inspector on ${inspector.url}`);
  if (metrics?.server) logger.info(`metrics on ${metrics.server.url}`);
  if (ownerLine) {
    if (screen) screen.log(ownerLine);
    else process.stderr.write(`${ownerLine}\n`);
  }
  await onShutdown(
    async () => {
      await close();
      await agent.stop();
      await cloud?.close();
    },
    screen ? (line) => screen.log(line) : undefined,
  );
}
