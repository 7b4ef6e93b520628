/** `pc2 id new|show`: the node's identity. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KeyPair } from '../../shared/keys.ts';
import { loadIdentity, saveIdentity } from '../identity.ts';
import { CliError } from './errors.ts';

const HELP = `pc2 id new|show [--key <file>]

  new    create a new identity key (fails if the file exists)
  show   print the id and DID of the key

Options:
  --key <file>   key file (default $PC2_KEY or ~/.pc2/identity.key)`;

export async function runId(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { key: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n\n${HELP}`, 2);
  }
  const [action] = parsed.positionals;
  if (parsed.values.help || !action) return console.log(HELP);
  const path = parsed.values.key ?? process.env.PC2_KEY ?? join(homedir(), '.pc2', 'identity.key');
  if (action === 'new') {
    const key = KeyPair.generate();
    try {
      await saveIdentity(path, key);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${path} already exists; refusing to overwrite a key`);
      throw e;
    }
    console.log(`created ${path}\nid:  ${key.id}\ndid: ${key.id.toDid()}`);
  } else if (action === 'show') {
    const key = await loadIdentity(path).catch((e: Error) => {
      throw new CliError(`cannot read ${path}: ${e.message}`);
    });
    if (!key) throw new CliError(`no key at ${path}; create one with \`pc2 id new\``);
    console.log(`id:  ${key.id}\ndid: ${key.id.toDid()}`);
  } else {
    throw new CliError(`unknown action "${action}"\n\n${HELP}`, 2);
  }
}
