/**
 * `pc2 name list|release|transfer|accept`: the names this key owns. Every change is a request signed
 * by the key (the registry refuses it from any other key: exit 3) and replicated between super nodes.
 */
import { createInterface } from 'node:readline/promises';
import { Id } from '../shared/id.ts';
import { CliError, EXIT } from './errors.ts';
import { KEY_FLAG, nameProblem, SUPERNODE_FLAG } from './flags.ts';
import { requireKey } from './keyfile.ts';
import { parseOptions } from './options.ts';
import { atFirst, clientsFor } from './owner-network.ts';

const USAGE = `pc2 name <action> [<name>] --supernode <url> [options]

  list                         the names bound to this key (--json: as JSON)
  release <name>               give the name up at once (anyone may claim it again); asks to confirm, or --yes
  transfer <name> --to <id>    offer the name to another key; it becomes theirs when they accept
  accept <name> [--from <id>]  run with the new owner's key: take a name offered to it`;

const idProblem = (v: string) => {
  try {
    Id.parse(v);
    return undefined;
  } catch {
    return 'a node id (Base58, as `pc2 id show` prints it)';
  }
};

const SPEC = {
  supernode: { ...SUPERNODE_FLAG, required: true },
  key: KEY_FLAG,
  to: {
    kind: 'string',
    value: '<id>',
    description: "transfer: the new owner's id",
    check: idProblem,
  },
  from: {
    kind: 'string',
    value: '<id>',
    description: 'accept: the id the name must come from',
    check: idProblem,
  },
  yes: { kind: 'boolean', description: 'release: do not ask to confirm', default: false },
  json: { kind: 'boolean', description: 'list: print JSON', default: false },
} as const;

async function confirmRelease(name: string): Promise<void> {
  if (!process.stdin.isTTY)
    throw new CliError(`releasing "${name}" cannot be undone: add --yes to mean it`, EXIT.USAGE);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    `Release "${name}" for good? Anyone may claim it then. Type the name to confirm: `,
  );
  rl.close();
  if (answer.trim() !== name) throw new CliError('not confirmed: nothing released');
}

export async function runName(args: string[]): Promise<void> {
  const parsed = parseOptions(args, SPEC, USAGE);
  if (!parsed) return;
  const o = parsed.options;
  const [action, name, ...extra] = parsed.positionals;
  if (!action) throw new CliError(USAGE, EXIT.USAGE);
  if (!['list', 'release', 'transfer', 'accept'].includes(action))
    throw new CliError(`unknown action "${action}"\n\n${USAGE}`, EXIT.USAGE);
  if (extra.length || (action === 'list' && name))
    throw new CliError(`unexpected argument "${extra[0] ?? name}"\n\n${USAGE}`, EXIT.USAGE);
  if (action !== 'list') {
    if (!name) throw new CliError(`pc2 name ${action} needs a name\n\n${USAGE}`, EXIT.USAGE);
    const problem = nameProblem(name);
    if (problem) throw new CliError(`"${name}": ${problem}`, EXIT.USAGE);
  }
  if (action === 'transfer' && !o.to)
    throw new CliError("pc2 name transfer needs --to <id> (the new owner's id)", EXIT.USAGE);
  const key = await requireKey(o.key);
  const clients = clientsFor(o.supernode, key);
  switch (action) {
    case 'list': {
      const { value } = await atFirst(clients, (c) => c.namesOf());
      if (o.json) console.log(JSON.stringify(value));
      else if (!value.names.length) console.log(`no names are bound to ${key.id}`);
      else console.log(value.names.join('\n'));
      return;
    }
    case 'release': {
      if (!o.yes) await confirmRelease(name);
      const { at } = await atFirst(clients, (c) => c.release(name));
      console.log(`released "${name}" (at ${at.url}); anyone may claim it now`);
      return;
    }
    case 'transfer': {
      const { value } = await atFirst(clients, (c) => c.transfer(name, o.to!));
      console.log(
        `offered "${name}" to ${value.to} until ${new Date(value.expiresAt).toISOString()}\nthe new owner takes it with: pc2 name accept ${name} --from ${key.id} --supernode ${o.supernode[0]}`,
      );
      return;
    }
    case 'accept': {
      await atFirst(clients, (c) => c.acceptTransfer(name, o.from));
      console.log(`"${name}" is now bound to ${key.id}`);
      return;
    }
  }
}
