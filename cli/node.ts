/** `pc2 node`: put this machine's PC2 app online under <name>.<zone>. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../agent/errors.ts';
import { type AgentStatus, NodeAgent } from '../agent/node-agent.ts';
import { CliError } from './errors.ts';
import { useNativeCrypto } from './native-crypto.ts';
import { loadOrCreateKey } from './keyfile.ts';
import { createLogger } from './logger.ts';
import { NODE_TLS_SPEC, nodeTlsFromFlags } from './node-tls-flags.ts';
import { parseOptions } from './options.ts';
import { onShutdown } from './shutdown.ts';

const USAGE = `pc2 node --name <name> --supernode <url> [--supernode <url> ...] [options]

Claims <name> (or confirms it is yours), then keeps it online: direct when a super node can reach
--public-url, otherwise relayed through an encrypted tunnel to every super node.`;

const SPEC = {
  name: {
    kind: 'string',
    value: '<name>',
    description: 'the name to claim, e.g. alice',
    required: true,
  },
  supernode: {
    kind: 'list',
    value: '<url>',
    description: 'super node API URL, primary first',
    required: true,
  },
  upstream: {
    kind: 'string',
    value: '<url>',
    description: 'the local app to publish',
    default: 'http://127.0.0.1:4200',
  },
  key: {
    kind: 'string',
    value: '<file>',
    description: 'identity key file (created if missing)',
    default: join(homedir(), '.pc2', 'identity.key'),
  },
  mode: {
    kind: 'string',
    value: 'auto|direct|relay',
    description: 'how visitors reach this node',
    default: 'auto',
  },
  publicUrl: {
    kind: 'string',
    value: '<url>',
    description: "this node's own public URL, if it has one (for direct mode)",
  },
  leaseSeconds: { kind: 'number', value: '<s>', description: 'route record lease', default: 600 },
  debug: { kind: 'boolean', description: 'verbose logs', default: false },
  ...NODE_TLS_SPEC,
} as const;

export const EXIT_NAME_TAKEN = 3;
export const EXIT_NO_SUPERNODE = 4;

function render(s: AgentStatus): string {
  const lines = [
    `${s.name}  ${s.online ? 'ONLINE ' : 'offline'}  ${s.publicUrl ?? ''}`,
    `mode: ${s.mode ?? '-'}   last published: ${s.lastPublished ? new Date(s.lastPublished).toISOString() : '-'}`,
    ...(s.tls
      ? [
          `TLS on this node (private name): certificate for ${s.tls.host ?? '-'} until ${s.tls.expires ? new Date(s.tls.expires).toISOString() : '-'}`,
        ]
      : []),
    ...s.superNodes.map(
      (l) => `  ${l.state.padEnd(12)} ${l.url}${l.detail ? `  (${l.detail})` : ''}`,
    ),
  ];
  return lines.join('\n');
}

export async function runNode(args: string[]): Promise<void> {
  const parsed = parseOptions(args, SPEC, USAGE);
  if (!parsed) return;
  // The composition root picks the process's crypto backends (libsodium when it loads).
  useNativeCrypto();
  const o = parsed.options;
  if (!['auto', 'direct', 'relay'].includes(o.mode!))
    throw new CliError(`--mode is auto, direct or relay, got "${o.mode}"`, 2);
  const logger = createLogger('node', { debug: o.debug });
  const key = await loadOrCreateKey(o.key!, 'identity', true);
  let agent: NodeAgent;
  try {
    agent = new NodeAgent({
      key,
      name: o.name,
      upstream: o.upstream!,
      superNodes: o.supernode,
      mode: o.mode as 'auto' | 'direct' | 'relay',
      publicUrl: o.publicUrl,
      leaseMs: o.leaseSeconds! * 1000,
      tls: nodeTlsFromFlags(o),
      logger,
    });
  } catch (e) {
    if (e instanceof AgentError) throw new CliError(e.message, 2);
    throw e;
  }
  const tty = process.stdout.isTTY;
  let drawn = 0;
  agent.on('status', (s: AgentStatus) => {
    const text = render(s);
    if (tty) {
      if (drawn) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
      process.stdout.write(text + '\n');
      drawn = text.split('\n').length;
    } else {
      logger.info('status', {
        online: s.online,
        mode: s.mode,
        url: s.publicUrl,
        superNodes: s.superNodes.map((l) => `${l.url}=${l.state}`),
      });
    }
  });
  try {
    await agent.start();
  } catch (e) {
    if (e instanceof AgentError) {
      const code =
        e.code === 'NAME_TAKEN'
          ? EXIT_NAME_TAKEN
          : e.code === 'NO_SUPERNODE'
            ? EXIT_NO_SUPERNODE
            : 1;
      throw new CliError(e.message, code);
    }
    throw e;
  }
  await onShutdown(() => agent.stop());
}
