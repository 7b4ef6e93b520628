/** The node's identity key on disk: Boson's 64-byte private key, Base58, file mode 0600. */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
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

/** Writes the key so that only the owner can read it; never overwrites an existing key. */
export async function saveIdentity(path: string, key: KeyPair): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, key.bosonPrivateKeyBase58() + '\n', { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
}
