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
import { type Parsed, parseOptions } from './options.ts';
import { onShutdown } from './shutdown.ts';
import { StatusScreen } from './status-screen.ts';

const USAGE = `pc2 node --name <name> --supernode <url> [--supernode <url> ...] [options]

Claims <name> (or confirms it is yours), then keeps it online until stopped: direct when a super
node can reach --public-url, otherwise relayed through an encrypted tunnel to every super node.
On a terminal it shows a live status; otherwise it logs a line per change. The inspector
(http://127.0.0.1:4040 by default) lists the requests passing through.`;

/** Where the local app is when nothing says otherwise; the one place --upstream gets its value. */
export const DEFAULT_UPSTREAM = 'http://127.0.0.1:4200';

export const NODE_SPEC = {
  name: { ...NAME_FLAG, required: true },
  supernode: { ...SUPERNODE_FLAG, required: true },
  upstream: {
    kind: 'string',
    value: '<url>',
    description: 'the local app to publish',
    default: DEFAULT_UPSTREAM,
    url: ['http:'],
  },
  key: { ...KEY_FLAG, description: 'identity key file (created if missing)' },
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
} as const;

export type NodeFlags = Parsed<typeof NODE_SPEC>;

/** The agent's options from the flags (and the key). */
export function agentOptions(
  o: NodeFlags,
  key: NodeAgentOptions['key'],
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
    upstream: o.upstream,
    superNodes: o.supernode,
    mode: o.mode as NodeAgentOptions['mode'],
    publicUrl: o.publicUrl,
    listen: o.listen ? parseHostPort(o.listen)! : undefined,
    leaseMs: o.leaseSeconds * 1000,
    hostHeader: o.hostHeader as NodeAgentOptions['hostHeader'],
    appCheckMs: Math.round(o.appCheckSeconds * 1000),
  };
}

export async function runNode(args: string[]): Promise<void> {
  const parsed = parseOptions(args, NODE_SPEC, USAGE);
  if (!parsed) return;
  if (parsed.positionals.length)
    throw new CliError(`unexpected argument "${parsed.positionals[0]}"`, EXIT.USAGE);
  const o = parsed.options;
  // The composition root picks the process's crypto backends (libsodium when it loads).
  useNativeCrypto();
  const tty = Boolean(process.stdout.isTTY && process.stderr.isTTY);
  const screen = tty ? new StatusScreen() : null;
  const logger = createLogger('node', {
    level: o.logLevel,
    format: o.logFormat,
    write: screen ? (line) => screen.log(line.trimEnd()) : undefined,
  });
  const options = agentOptions(o, null as never);
  const key = await loadOrCreateKey(o.key, 'identity', true);
  let agent: NodeAgent;
  try {
    agent = new NodeAgent({ ...options, key, logger });
  } catch (e) {
    throw cliErrorOf(e);
  }
  const show = (s: AgentStatus) => {
    if (screen) screen.draw(statusLines(s));
    else logger.info('status', statusFields(s));
  };
  agent.on('status', show);
  const inspector = await startInspectorFromFlags(o, agent);
  try {
    await agent.start();
  } catch (e) {
    agent.off('status', show);
    await inspector?.close();
    await agent.stop().catch(() => {});
    throw cliErrorOf(e);
  }
  if (inspector) logger.info(`inspector on ${inspector.url}`);
  await onShutdown(
    async () => {
      await inspector?.close();
      await agent.stop();
    },
    screen ? (line) => screen.log(line) : undefined,
  );
}
