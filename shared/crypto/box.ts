/**
 * NaCl crypto_box (X25519 + XSalsa20-Poly1305) with a shared key precomputed once per peer.
 * Output layout is libsodium's "easy" form: MAC(16) || ciphertext. The secretbox primitive is
 * pluggable (./secretbox.ts): pure JS everywhere, libsodium where the runtime can load it.
 */
import nacl from 'tweetnacl';
import { SharedError } from '../errors.ts';
import { secretboxBackend } from './secretbox.ts';

export const NONCE_BYTES = 24;
export const MAC_BYTES = 16;
export const BOX_KEY_BYTES = 32;

export class CryptoBox {
  readonly #sharedKey: Uint8Array;

  private constructor(sharedKey: Uint8Array) {
    this.#sharedKey = sharedKey;
  }

  /** Precomputes the shared key from our X25519 secret key and their X25519 public key. */
  static between(ourSecretKey: Uint8Array, theirPublicKey: Uint8Array): CryptoBox {
    if (ourSecretKey.length !== BOX_KEY_BYTES || theirPublicKey.length !== BOX_KEY_BYTES) {
      throw new SharedError('INVALID_KEY', `box keys are ${BOX_KEY_BYTES} bytes`);
    }
    return new CryptoBox(nacl.box.before(theirPublicKey, ourSecretKey));
  }

  /**
   * A box from an already computed NaCl shared key (crypto_box_beforenm output), for runtimes that
   * compute X25519 natively.
   */
  static fromSharedKey(sharedKey: Uint8Array): CryptoBox {
    if (sharedKey.length !== BOX_KEY_BYTES)
      throw new SharedError('INVALID_KEY', `a shared key is ${BOX_KEY_BYTES} bytes`);
    return new CryptoBox(sharedKey.slice());
  }

  /** MAC || ciphertext of `plain` under `nonce`. */
  seal(plain: Uint8Array, nonce: Uint8Array): Uint8Array {
    if (nonce.length !== NONCE_BYTES)
      throw new SharedError('INVALID_KEY', `a nonce is ${NONCE_BYTES} bytes`);
    const out = new Uint8Array(MAC_BYTES + plain.length);
    secretboxBackend().sealInto(out, 0, plain, nonce, this.#sharedKey);
    return out;
  }

  /** Writes MAC || ciphertext of `plain` into `out` at `offset` (room for MAC_BYTES + plain.length). */
  sealInto(plain: Uint8Array, nonce: Uint8Array, out: Uint8Array, offset: number): void {
    if (nonce.length !== NONCE_BYTES)
      throw new SharedError('INVALID_KEY', `a nonce is ${NONCE_BYTES} bytes`);
    secretboxBackend().sealInto(out, offset, plain, nonce, this.#sharedKey);
  }

  /** Opens MAC || ciphertext where it lies (plaintext at `boxed.subarray(MAC_BYTES)`); false when it does not authenticate. */
  openInPlace(boxed: Uint8Array, nonce: Uint8Array): boolean {
    if (nonce.length !== NONCE_BYTES || boxed.length < MAC_BYTES) return false;
    return secretboxBackend().openInPlace(boxed, nonce, this.#sharedKey);
  }

  /** Opens MAC + ciphertext pieces where they lie (./secretbox.ts); false when it does not authenticate. */
  openPiecesInPlace(mac: Uint8Array, pieces: readonly Uint8Array[], nonce: Uint8Array): boolean {
    if (nonce.length !== NONCE_BYTES || mac.length !== MAC_BYTES) return false;
    return secretboxBackend().openPiecesInPlace(mac, pieces, nonce, this.#sharedKey);
  }

  /** The plaintext, or null when the box does not authenticate. */
  open(boxed: Uint8Array, nonce: Uint8Array): Uint8Array | null {
    if (nonce.length !== NONCE_BYTES || boxed.length < MAC_BYTES) return null;
    return secretboxBackend().open(boxed, nonce, this.#sharedKey);
  }
}

/** libsodium `sodium_increment`: the nonce as a little-endian integer, plus one, in place. */
export function incrementNonce(nonce: Uint8Array): Uint8Array {
  let carry = 1;
  for (let i = 0; i < nonce.length && carry; i++) {
    const sum = nonce[i] + carry;
    nonce[i] = sum & 0xff;
    carry = sum >> 8;
  }
  return nonce;
}
