/**
 * What the owner commands (`pc2 name`, `pc2 status`) ask the super nodes: each call goes to the first
 * super node that answers; one that cannot be reached is skipped, and when none can be, the command
 * exits 4. An answer with a registry error code (NOT_OWNER, ...) is final: another super node would
 * say the same, since they replicate.
 */
import { AgentError } from '../agent/errors.ts';
import { RegistryClient } from '../agent/registry-client.ts';
import type { KeyPair } from '../shared/keys.ts';
import { CliError, EXIT } from './errors.ts';
import { cliErrorOf } from './flags.ts';

const unreachable = (e: unknown) =>
  e instanceof AgentError &&
  (e.code === 'NETWORK' || e.code === 'BAD_RESPONSE' || e.code === 'INTERNAL');

export function clientsFor(superNodes: string[], key: KeyPair): RegistryClient[] {
  return superNodes.map((url) => new RegistryClient({ url, key, timeoutMs: 5000 }));
}

/** `call` at the first super node that answers. */
export async function atFirst<T>(
  clients: RegistryClient[],
  call: (c: RegistryClient) => Promise<T>,
): Promise<{ value: T; at: RegistryClient }> {
  const failures: string[] = [];
  for (const c of clients) {
    try {
      return { value: await call(c), at: c };
    } catch (e) {
      if (!unreachable(e)) throw cliErrorOf(e);
      failures.push(`${c.url}: ${(e as Error).message}`);
    }
  }
  throw new CliError(`no super node answered: ${failures.join('; ')}`, EXIT.UNREACHABLE);
}
