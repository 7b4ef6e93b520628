/** `pc2 node --inspector`: starts the agent's inspector page where the flags say, loopback unless told. */
import type { NodeAgent } from '../agent/node-agent.ts';
import { type Inspector, isLoopback, startInspector } from '../agent/inspector/server.ts';
import { CliError, EXIT } from './errors.ts';
import { parseHostPort } from './flags.ts';

export const DEFAULT_INSPECTOR = '127.0.0.1:4040';

export async function startInspectorFromFlags(
  o: { inspector: string; inspectorPublic: boolean },
  agent: NodeAgent,
): Promise<Inspector | null> {
  if (o.inspector === 'off') return null;
  const at = parseHostPort(o.inspector)!;
  if (!isLoopback(at.host) && !o.inspectorPublic)
    throw new CliError(
      `--inspector ${o.inspector} is not a loopback address: it shows every request, so add --inspector-public to mean it`,
      EXIT.USAGE,
    );
  // The default port may be another node's: as ngrok does, the next ones are tried.
  const tries = o.inspector === DEFAULT_INSPECTOR ? 10 : 1;
  try {
    for (let i = 0; ; i++) {
      try {
        return await startInspector(agent, { host: at.host, port: at.port + i });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || i + 1 >= tries) throw e;
      }
    }
  } catch (e) {
    throw new CliError(
      `cannot start the inspector on ${o.inspector}: ${(e as Error).message} (use --inspector <host:port> or --inspector off)`,
    );
  }
}
