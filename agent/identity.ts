/** The node's identity key on disk: Boson's 64-byte private key, Base58, file mode 0600. */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { KeyPair } from '../shared/keys.ts';

export async function loadIdentity(path: string): Promise<KeyPair | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return KeyPair.fromBosonPrivateKey(text.trim());
}

/**
 * Writes the key so that only the owner can read it; never overwrites an existing key, and never
 * creates directories: a mistyped path must fail (ENOENT), not grow a tree and a new identity.
 */
export async function saveIdentity(path: string, key: KeyPair): Promise<void> {
  await writeFile(path, key.bosonPrivateKeyBase58() + '\n', { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
}
