/** Flags several owner commands share (`pc2 node`, `name`, `status`, `service install node`), and one error mapping. */
import { AgentError } from '../agent/errors.ts';
import { checkName } from '../shared/records/names.ts';
import { CliError, EXIT } from './errors.ts';
import { DEFAULT_IDENTITY_KEY } from './keyfile.ts';
import type { OptionSpec } from './options.ts';

/** The name as the registry will judge it (format; the default reserved list). */
export function nameProblem(name: string): string | undefined {
  const checked = checkName(name);
  return checked.ok ? undefined : checked.error.message;
}

/** `host:port`, `[v6]:port`; port 0-65535. */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/i.exec(text);
  if (!m || Number(m[3]) > 65535) return null;
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}

export const hostPortProblem = (text: string) =>
  parseHostPort(text) ? undefined : 'an address as <host>:<port>, e.g. 127.0.0.1:4040';

export const NAME_FLAG = {
  kind: 'string',
  value: '<name>',
  description: 'the name, e.g. alice (3-63 of a-z, 0-9, hyphen)',
  check: (v: string) => {
    const problem = nameProblem(v);
    return problem && `a valid name (${problem})`;
  },
} as const satisfies OptionSpec;

export const SUPERNODE_FLAG = {
  kind: 'list',
  value: '<url>',
  description: 'super node API URL, primary first',
  url: ['http:', 'https:'],
} as const satisfies OptionSpec;

export const KEY_FLAG = {
  kind: 'string',
  value: '<file>',
  description: 'identity key file',
  default: DEFAULT_IDENTITY_KEY,
} as const satisfies OptionSpec;

/** An agent's failure as the CLI's: its code picks the documented exit code. */
export function cliErrorOf(e: unknown): unknown {
  if (!(e instanceof AgentError)) return e;
  switch (e.code) {
    case 'INVALID_OPTIONS':
    case 'INVALID_NAME':
      return new CliError(e.message, EXIT.USAGE);
    case 'NAME_TAKEN':
    case 'NAME_HELD':
    case 'RESERVED_NAME':
    case 'NOT_OWNER':
      return new CliError(e.message, EXIT.NAME);
    case 'NO_SUPERNODE':
    case 'NETWORK':
      return new CliError(e.message, EXIT.UNREACHABLE);
    default:
      return new CliError(e.message, EXIT.ERROR);
  }
}
