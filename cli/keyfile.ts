/** Loads a key file, creating it (0600) on first use, so one command is enough to get started. */
import { KeyPair } from '../shared/keys.ts';
import { loadIdentity, saveIdentity } from '../agent/identity.ts';
import { recoveryPhrase } from '../agent/recovery.ts';
import { CliError } from './errors.ts';

export async function loadOrCreateKey(
  path: string,
  what: string,
  showPhrase: boolean,
): Promise<KeyPair> {
  let key: KeyPair | null;
  try {
    key = await loadIdentity(path);
  } catch (e) {
    throw new CliError(`cannot read ${what} key ${path}: ${(e as Error).message}`);
  }
  if (key) return key;
  key = KeyPair.generate();
  try {
    await saveIdentity(path, key);
  } catch (e) {
    throw new CliError(`cannot write ${what} key ${path}: ${(e as Error).message}`);
  }
  process.stderr.write(`created ${what} key ${path} (mode 0600), id ${key.id}\n`);
  if (showPhrase)
    process.stderr.write(
      `recovery phrase (write it down; \`pc2 id restore\` brings the key back):\n  ${recoveryPhrase(key)}\n`,
    );
  return key;
}

/** `id@url` (or `id@host:port`) as used by --peer and --supernode-id lists. */
export function parseIdAt(text: string, flag: string): { id: string; at: string } {
  const at = text.indexOf('@');
  if (at <= 0) throw new CliError(`${flag} takes <id>@<address>, got "${text}"`, 2);
  return { id: text.slice(0, at), at: text.slice(at + 1) };
}
