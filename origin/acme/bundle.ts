/**
 * The zone certificate as it travels between super nodes: the chain in clear, the private key sealed
 * to each super node with NaCl crypto_box (X25519 from the orderer's Ed25519 key to the recipient's,
 * XSalsa20-Poly1305, random nonce), the whole signed by the orderer (records.ts). Only a trusted super
 * node can open its copy, and the box also proves the orderer sealed it.
 */
import {
  fromBase64Url,
  randomBytes,
  toBase64Url,
  utf8Decode,
  utf8Encode,
} from '../../shared/bytes.ts';
import { CryptoBox, NONCE_BYTES } from '../../shared/crypto/box.ts';
import type { Id } from '../../shared/id.ts';
import { idToX25519, type KeyPair } from '../../shared/keys.ts';

export function sealKey(keyPem: string, from: KeyPair, to: Id): string {
  const nonce = randomBytes(NONCE_BYTES);
  const boxed = CryptoBox.between(from.x25519SecretKey, idToX25519(to)).seal(
    utf8Encode(keyPem),
    nonce,
  );
  const out = new Uint8Array(NONCE_BYTES + boxed.length);
  out.set(nonce);
  out.set(boxed, NONCE_BYTES);
  return toBase64Url(out);
}

/** The key sealed to `me` by `from`, or null when it is missing or does not open. */
export function openKey(sealed: string | undefined, me: KeyPair, from: Id): string | null {
  if (typeof sealed !== 'string') return null;
  try {
    const bytes = fromBase64Url(sealed);
    if (bytes.length <= NONCE_BYTES) return null;
    const plain = CryptoBox.between(me.x25519SecretKey, idToX25519(from)).open(
      bytes.subarray(NONCE_BYTES),
      bytes.subarray(0, NONCE_BYTES),
    );
    return plain ? utf8Decode(plain) : null;
  } catch {
    return null;
  }
}

/** The key sealed to every recipient (the orderer included, so a restarted orderer can open it too). */
export function sealToAll(
  keyPem: string,
  from: KeyPair,
  recipients: readonly Id[],
): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const id of recipients) keys[id.toString()] = sealKey(keyPem, from, id);
  return keys;
}
