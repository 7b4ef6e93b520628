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
  /**
   * Opens a box whose ciphertext arrived in pieces (`mac` first, then the pieces in order), each
   * decrypted where it lies; false when it does not authenticate (no piece is written then).
   */
  openPiecesInPlace(
    mac: Uint8Array,
    pieces: readonly Uint8Array[],
    nonce: Uint8Array,
    key: Uint8Array,
  ): boolean;
}

/** Opens pieces by gathering them into one box: for backends with no streaming primitives. */
function openGathered(
  backend: Pick<SecretboxBackend, 'open'>,
  mac: Uint8Array,
  pieces: readonly Uint8Array[],
  nonce: Uint8Array,
  key: Uint8Array,
): boolean {
  let length = mac.length;
  for (const piece of pieces) length += piece.length;
  const boxed = new Uint8Array(length);
  boxed.set(mac, 0);
  let at = mac.length;
  for (const piece of pieces) {
    boxed.set(piece, at);
    at += piece.length;
  }
  const plain = backend.open(boxed, nonce, key);
  if (!plain) return false;
  at = 0;
  for (const piece of pieces) {
    piece.set(plain.subarray(at, at + piece.length));
    at += piece.length;
  }
  return true;
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
  openPiecesInPlace(mac, pieces, nonce, key) {
    return openGathered(tweetnaclBackend, mac, pieces, nonce, key);
  },
};

/** The libsodium calls the backend needs (sodium-native's signatures); the streaming ones are optional. */
export interface SodiumLike {
  crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void;
  crypto_secretbox_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean;
  /** XSalsa20 (crypto_stream) as a stream: any split of the input gives the same output. */
  crypto_stream_xor_STATEBYTES?: number;
  crypto_stream_xor_init?(state: Uint8Array, n: Uint8Array, k: Uint8Array): void;
  crypto_stream_xor_update?(state: Uint8Array, c: Uint8Array, m: Uint8Array): void;
  crypto_stream_xor_final?(state: Uint8Array): void;
  crypto_onetimeauth_STATEBYTES?: number;
  crypto_onetimeauth_init?(state: Uint8Array, k: Uint8Array): void;
  crypto_onetimeauth_update?(state: Uint8Array, input: Uint8Array): void;
  crypto_onetimeauth_final?(state: Uint8Array, out: Uint8Array): void;
  sodium_memcmp?(a: Uint8Array, b: Uint8Array): boolean;
}

type StreamingSodium = Required<SodiumLike>;

const hasStreaming = (sodium: SodiumLike): sodium is StreamingSodium =>
  typeof sodium.crypto_stream_xor_init === 'function' &&
  typeof sodium.crypto_stream_xor_update === 'function' &&
  typeof sodium.crypto_stream_xor_final === 'function' &&
  typeof sodium.crypto_onetimeauth_init === 'function' &&
  typeof sodium.sodium_memcmp === 'function' &&
  typeof sodium.crypto_stream_xor_STATEBYTES === 'number' &&
  typeof sodium.crypto_onetimeauth_STATEBYTES === 'number';

/**
 * secretbox_open over pieces with libsodium's streaming calls: XSalsa20 keystream bytes 0..31 are
 * the Poly1305 key, the MAC covers the ciphertext, the plaintext is the ciphertext XOR the keystream
 * from byte 32 on (NaCl's construction), so each piece is checked, then decrypted, where it lies.
 * (The backend is only installed after a self-check against tweetnacl, pieces included.)
 */
function streamingOpen(sodium: StreamingSodium) {
  const stream = new Uint8Array(sodium.crypto_stream_xor_STATEBYTES);
  const auth = new Uint8Array(sodium.crypto_onetimeauth_STATEBYTES);
  const zeros = new Uint8Array(32);
  const polyKey = new Uint8Array(32);
  const computed = new Uint8Array(16);
  return (mac: Uint8Array, pieces: readonly Uint8Array[], nonce: Uint8Array, key: Uint8Array) => {
    if (mac.length !== 16 || nonce.length !== 24 || key.length !== 32) return false;
    sodium.crypto_stream_xor_init(stream, nonce, key);
    sodium.crypto_stream_xor_update(stream, polyKey, zeros);
    sodium.crypto_onetimeauth_init(auth, polyKey);
    for (const piece of pieces) sodium.crypto_onetimeauth_update(auth, piece);
    sodium.crypto_onetimeauth_final(auth, computed);
    const authentic = sodium.sodium_memcmp(computed, mac);
    if (authentic)
      for (const piece of pieces) sodium.crypto_stream_xor_update(stream, piece, piece);
    sodium.crypto_stream_xor_final(stream);
    polyKey.fill(0);
    return authentic;
  };
}

export function sodiumBackend(sodium: SodiumLike): SecretboxBackend {
  const open = (boxed: Uint8Array, nonce: Uint8Array, key: Uint8Array) => {
    if (boxed.length < 16) return null;
    const plain = new Uint8Array(boxed.length - 16);
    return sodium.crypto_secretbox_open_easy(plain, boxed, nonce, key) ? plain : null;
  };
  const openPieces = hasStreaming(sodium)
    ? streamingOpen(sodium)
    : (mac: Uint8Array, pieces: readonly Uint8Array[], nonce: Uint8Array, key: Uint8Array) =>
        openGathered({ open }, mac, pieces, nonce, key);
  return {
    name: 'libsodium',
    openPiecesInPlace: openPieces,
    sealInto(out, offset, plain, nonce, key) {
      sodium.crypto_secretbox_easy(
        out.subarray(offset, offset + 16 + plain.length),
        plain,
        nonce,
        key,
      );
    },
    open,
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
    const openedInPieces = piecesOpen(backend, expected, nonce, key);
    const tamperedPieces = piecesOpen(backend, tampered, nonce, key);
    if (
      !same ||
      !openedInPlace ||
      !openedInPieces ||
      !plain.every((b, i) => b === openedInPieces[i]) ||
      tamperedPieces !== null ||
      backend.open(tampered, nonce, key) !== null ||
      backend.openInPlace(tampered, nonce, key)
    ) {
      throw new SharedError('INVALID_KEY', `secretbox backend ${backend.name} does not match NaCl`);
    }
  }
  current = backend;
}

/** Opens `boxed` (MAC || ciphertext) split into three uneven pieces; the plaintext, or null. */
function piecesOpen(
  backend: SecretboxBackend,
  boxed: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
): Uint8Array | null {
  const cipher = boxed.slice(16);
  const cuts = [0, Math.floor(cipher.length / 3), Math.floor(cipher.length / 2) + 1, cipher.length];
  const pieces = [0, 1, 2].map((i) => cipher.subarray(cuts[i], cuts[i + 1]));
  return backend.openPiecesInPlace(boxed.subarray(0, 16), pieces, nonce, key) ? cipher : null;
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
