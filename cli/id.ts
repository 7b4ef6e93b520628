/** `pc2 id new|show|restore`: the node's identity key and its recovery phrase. */
import { readFile } from 'node:fs/promises';
import { KeyPair } from '../shared/keys.ts';
import { loadIdentity, saveIdentity } from '../agent/identity.ts';
import { AgentError } from '../agent/errors.ts';
import { keyFromRecoveryPhrase, recoveryPhrase } from '../agent/recovery.ts';
import { CliError, EXIT } from './errors.ts';
import { DEFAULT_IDENTITY_KEY, keyDirectory, requireKey } from './keyfile.ts';
import { parseOptions } from './options.ts';

const USAGE = `pc2 id new|show|restore [options]

  new       create a new identity key and print its recovery phrase (fails if the key file exists)
  show      print the id and DID (--phrase: the recovery phrase; only the words when not on a terminal)
  restore   recreate the key file from a recovery phrase (read from --phrase-file or standard input)

\`pc2 id show --phrase | pc2 id restore --key other.key\` copies a key.`;

const SPEC = {
  key: {
    kind: 'string',
    value: '<file>',
    description: 'identity key file',
    default: DEFAULT_IDENTITY_KEY,
  },
  phrase: { kind: 'boolean', description: 'show: print the 24-word recovery phrase' },
  phraseFile: {
    kind: 'string',
    value: '<file>',
    description: 'restore: file holding the recovery phrase',
  },
} as const;

const describeKey = (key: KeyPair) => `id:  ${key.id}\ndid: ${key.id.toDid()}`;

async function readPhrase(file: string | undefined): Promise<string> {
  if (file)
    return readFile(file, 'utf8').catch((e: Error) =>
      Promise.reject(new CliError(`cannot read ${file}: ${e.message}`)),
    );
  if (process.stdin.isTTY)
    process.stderr.write('Type the 24-word recovery phrase, then Enter and Ctrl-D:\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function save(path: string, key: KeyPair): Promise<void> {
  keyDirectory(path);
  try {
    await saveIdentity(path, key);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new CliError(`${path} already exists; refusing to overwrite a key`);
    throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

export async function runId(args: string[]): Promise<void> {
  const parsed = parseOptions(args, SPEC, USAGE);
  if (!parsed) return;
  const { options, positionals } = parsed;
  const path = options.key;
  if (positionals.length > 1)
    throw new CliError(`unexpected argument "${positionals[1]}"\n\n${USAGE}`, EXIT.USAGE);
  switch (positionals[0]) {
    case 'new': {
      const key = KeyPair.generate();
      await save(path, key);
      console.log(`created ${path} (mode 0600)\n${describeKey(key)}\n`);
      console.log(`recovery phrase (write it down; it restores this key):\n${recoveryPhrase(key)}`);
      return;
    }
    case 'show': {
      const key = await requireKey(path);
      // Piped or redirected, --phrase gives exactly what `pc2 id restore` reads.
      if (options.phrase && !process.stdout.isTTY) {
        console.log(recoveryPhrase(key));
        return;
      }
      console.log(describeKey(key));
      if (options.phrase) console.log(`recovery phrase: ${recoveryPhrase(key)}`);
      return;
    }
    case 'restore': {
      keyDirectory(path);
      let key: KeyPair;
      try {
        key = keyFromRecoveryPhrase(await readPhrase(options.phraseFile));
      } catch (e) {
        if (e instanceof AgentError) throw new CliError(e.message);
        throw e;
      }
      const existing = await loadIdentity(path).catch(() => null);
      if (existing?.id.equals(key.id)) {
        console.log(`${path} already holds this key\n${describeKey(key)}`);
        return;
      }
      await save(path, key);
      console.log(`restored ${path} (mode 0600)\n${describeKey(key)}`);
      return;
    }
    default:
      throw new CliError(
        positionals[0] ? `unknown action "${positionals[0]}"\n\n${USAGE}` : USAGE,
        EXIT.USAGE,
      );
  }
}
