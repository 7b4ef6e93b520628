/**
 * XSalsa20-Poly1305 (NaCl secretbox) behind one switch. Every runtime gets the pure-JS backend
 * (tweetnacl); Node.js and Deno processes install libsodium (sodium-native) at start-up, which is about
 * ten times faster on the Active Proxy data path (docs/benchmarks.md). Both give identical bytes: a
 * backend is only accepted after it reproduces tweetnacl's output.
 */
import nacl from 'tweetnacl';
import { SharedError } from '../errors.ts';

export interface SecretboxBackend {
  readonly name: string;
  /** Writes MAC(16) || ciphertext of `plain` into `out` at `offset`. */
  sealInto(
    out: Uint8Array,
    offset: number,
    plain: Uint8Array,
    nonce: Uint8Array,
    key: Uint8Array,
  ): void;
  /** The plaintext, or null when `boxed` does not authenticate. */
  open(boxed: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null;
  /**
   * Opens MAC(16) || ciphertext where it lies: on success the plaintext is `boxed.subarray(16)` and
   * true is returned; a box that does not authenticate returns false (its bytes are not used).
   */
  openInPlace(boxed: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean;
}

export const tweetnaclBackend: SecretboxBackend = {
  name: 'tweetnacl',
  sealInto(out, offset, plain, nonce, key) {
    out.set(nacl.secretbox(plain, nonce, key), offset);
  },
  open(boxed, nonce, key) {
    return nacl.secretbox.open(boxed, nonce, key);
  },
  openInPlace(boxed, nonce, key) {
    const plain = nacl.secretbox.open(boxed, nonce, key);
    if (!plain) return false;
    boxed.set(plain, 16);
    return true;
  },
};

/** The two libsodium calls the backend needs (sodium-native's signatures). */
export interface SodiumLike {
  crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void;
  crypto_secretbox_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean;
}

export function sodiumBackend(sodium: SodiumLike): SecretboxBackend {
  return {
    name: 'libsodium',
    sealInto(out, offset, plain, nonce, key) {
      sodium.crypto_secretbox_easy(
        out.subarray(offset, offset + 16 + plain.length),
        plain,
        nonce,
        key,
      );
    },
    open(boxed, nonce, key) {
      if (boxed.length < 16) return null;
      const plain = new Uint8Array(boxed.length - 16);
      return sodium.crypto_secretbox_open_easy(plain, boxed, nonce, key) ? plain : null;
    },
    openInPlace(boxed, nonce, key) {
      // libsodium verifies the MAC first, then decrypts; overlapping message and ciphertext are allowed.
      return (
        boxed.length >= 16 &&
        sodium.crypto_secretbox_open_easy(boxed.subarray(16), boxed, nonce, key)
      );
    },
  };
}

let current: SecretboxBackend = tweetnaclBackend;

export function secretboxBackend(): SecretboxBackend {
  return current;
}

/** Installs `backend` after checking it seals and opens exactly like tweetnacl; throws if it does not. */
export function useSecretboxBackend(backend: SecretboxBackend): void {
  const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
  const nonce = new Uint8Array(24).map((_, i) => 255 - i);
  for (const size of [0, 1, 63, 1000]) {
    const plain = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
    const expected = nacl.secretbox(plain, nonce, key);
    const got = new Uint8Array(expected.length + 3);
    backend.sealInto(got, 3, plain, nonce, key);
    const opened = backend.open(expected, nonce, key);
    const same =
      expected.every((b, i) => b === got[i + 3]) &&
      opened !== null &&
      opened.every((b, i) => b === plain[i]);
    const inPlace = expected.slice();
    const openedInPlace =
      backend.openInPlace(inPlace, nonce, key) && plain.every((b, i) => b === inPlace[i + 16]);
    const tampered = expected.slice();
    tampered[0] ^= 1;
    if (
      !same ||
      !openedInPlace ||
      backend.open(tampered, nonce, key) !== null ||
      backend.openInPlace(tampered, nonce, key)
    ) {
      throw new SharedError('INVALID_KEY', `secretbox backend ${backend.name} does not match NaCl`);
    }
  }
  current = backend;
}

let nativeTried = false;

/**
 * Installs libsodium as the backend once per process, if `load` can provide it (the caller owns the
 * runtime-specific loading); keeps the current backend otherwise. Returns the backend name in use.
 */
export function installSodiumOnce(load: () => SodiumLike): string {
  if (!nativeTried) {
    nativeTried = true;
    try {
      useSecretboxBackend(sodiumBackend(load()));
    } catch {
      // keep the pure-JS backend
    }
  }
  return secretboxBackend().name;
}
