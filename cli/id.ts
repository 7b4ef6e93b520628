/** `pc2 id new|show|restore`: the node's identity key and its recovery phrase. */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KeyPair } from '../shared/keys.ts';
import { loadIdentity, saveIdentity } from '../agent/identity.ts';
import { AgentError } from '../agent/errors.ts';
import { keyFromRecoveryPhrase, recoveryPhrase } from '../agent/recovery.ts';
import { CliError } from './errors.ts';
import { parseOptions } from './options.ts';

const USAGE = `pc2 id new|show|restore [options]

  new       create a new identity key and print its recovery phrase (fails if the key file exists)
  show      print the id and DID (--phrase: also the recovery phrase)
  restore   recreate the key file from a recovery phrase (read from --phrase-file or standard input)`;

const SPEC = {
  key: {
    kind: 'string',
    value: '<file>',
    description: 'identity key file',
    default: join(homedir(), '.pc2', 'identity.key'),
  },
  phrase: { kind: 'boolean', description: 'show: also print the 24-word recovery phrase' },
  phraseFile: {
    kind: 'string',
    value: '<file>',
    description: 'restore: file holding the recovery phrase',
  },
} as const;

const describeKey = (key: KeyPair) => `id:  ${key.id}\ndid: ${key.id.toDid()}`;

async function readKey(path: string): Promise<KeyPair> {
  const key = await loadIdentity(path).catch((e: Error) => {
    throw new CliError(`cannot read key file ${path}: ${e.message}`);
  });
  if (!key) throw new CliError(`no key at ${path}; create one with \`pc2 id new\``);
  return key;
}

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
  const path = options.key!;
  switch (positionals[0]) {
    case 'new': {
      const key = KeyPair.generate();
      await save(path, key);
      console.log(`created ${path} (mode 0600)\n${describeKey(key)}\n`);
      console.log(`recovery phrase (write it down; it restores this key):\n${recoveryPhrase(key)}`);
      return;
    }
    case 'show': {
      const key = await readKey(path);
      console.log(describeKey(key));
      if (options.phrase) console.log(`recovery phrase: ${recoveryPhrase(key)}`);
      return;
    }
    case 'restore': {
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
        2,
      );
  }
}
