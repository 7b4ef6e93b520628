/**
 * Key files: where they live by default, loading them, and creating one (0600) on first use so that
 * one command is enough to get started. pc2 creates exactly one directory by itself, ~/.pc2 (0700)
 * for its default keys; any other key path must be in a directory that exists.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { KeyPair } from '../shared/keys.ts';
import { loadIdentity, saveIdentity } from '../agent/identity.ts';
import { recoveryPhrase } from '../agent/recovery.ts';
import { CliError, EXIT } from './errors.ts';

/** The directory of pc2's default key files. */
export const PC2_HOME = join(homedir(), '.pc2');
export const DEFAULT_IDENTITY_KEY = join(PC2_HOME, 'identity.key');

/** Makes sure a key file can be written at `path`: refuses a missing directory, except ~/.pc2. */
export function keyDirectory(path: string, flag = '--key'): void {
  const dir = dirname(path);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory())
      throw new CliError(`${flag} ${path}: ${dir} is not a directory`, EXIT.USAGE);
    return;
  }
  if (dir === PC2_HOME) {
    mkdirSync(dir, { mode: 0o700 });
    return;
  }
  throw new CliError(
    `${flag} ${path}: the directory ${dir} does not exist (pc2 does not create it: check the path, or create it first)`,
    EXIT.USAGE,
  );
}

/** Loads a key file; null when there is none. */
export async function readKeyFile(path: string, what: string): Promise<KeyPair | null> {
  try {
    return await loadIdentity(path);
  } catch (e) {
    throw new CliError(`cannot read ${what} key ${path}: ${(e as Error).message}`);
  }
}

/** Loads a key that must exist (commands that act for a key never make a new one). */
export async function requireKey(path: string, what = 'identity'): Promise<KeyPair> {
  const key = await readKeyFile(path, what);
  if (!key)
    throw new CliError(`no ${what} key at ${path}; create one with \`pc2 id new\` or give --key`);
  return key;
}

export async function loadOrCreateKey(
  path: string,
  what: string,
  showPhrase: boolean,
  flag = '--key',
): Promise<KeyPair> {
  let key = await readKeyFile(path, what);
  if (key) return key;
  keyDirectory(path, flag);
  key = KeyPair.generate();
  try {
    await saveIdentity(path, key);
  } catch (e) {
    throw new CliError(`cannot write ${what} key ${path}: ${(e as Error).message}`);
  }
  process.stderr.write(`created ${what} key ${path} (mode 0600), id ${key.id}\n`);
  // Only to a person: a service's log is no place for the words that are the key.
  if (showPhrase && process.stderr.isTTY)
    process.stderr.write(
      `recovery phrase (write it down; \`pc2 id restore\` brings the key back):\n  ${recoveryPhrase(key)}\n`,
    );
  else if (showPhrase)
    process.stderr.write(
      `its recovery phrase: \`pc2 id show --phrase --key ${path}\` on a terminal\n`,
    );
  return key;
}

/** `id@url` (or `id@host:port`) as used by --peer and --supernode-id lists. */
export function parseIdAt(text: string, flag: string): { id: string; at: string } {
  const at = text.indexOf('@');
  if (at <= 0) throw new CliError(`${flag} takes <id>@<address>, got "${text}"`, EXIT.USAGE);
  return { id: text.slice(0, at), at: text.slice(at + 1) };
}
