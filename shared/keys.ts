/**
 * Ed25519 identities (via @noble/curves) and their X25519 forms for CryptoBox.
 * Boson writes a private key as 64 bytes, libsodium layout seed(32) || publicKey(32), in Base58 or
 * `0x`-hex; both are read and written here.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base58Decode, base58Encode } from './base58.ts';
import { bytesEqual, concatBytes, fromHex, randomBytes, toHex } from './bytes.ts';
import { ed25519Sign, ed25519Verify } from './crypto/ed25519.ts';
import { SharedError } from './errors.ts';
import { Id } from './id.ts';

export const SEED_BYTES = 32;
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const BOSON_PRIVATE_KEY_BYTES = 64;

export class KeyPair {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly id: Id;
  #x25519Secret?: Uint8Array;
  #x25519Public?: Uint8Array;
  #secretKey?: Uint8Array;

  private constructor(seed: Uint8Array, publicKey: Uint8Array) {
    this.seed = seed;
    this.publicKey = publicKey;
    this.id = new Id(publicKey);
  }

  static generate(): KeyPair {
    return KeyPair.fromSeed(randomBytes(SEED_BYTES));
  }

  static fromSeed(seed: Uint8Array): KeyPair {
    if (!(seed instanceof Uint8Array) || seed.length !== SEED_BYTES) {
      throw new SharedError('INVALID_KEY', `an Ed25519 seed is ${SEED_BYTES} bytes`);
    }
    const copy = seed.slice();
    return new KeyPair(copy, ed25519.getPublicKey(copy));
  }

  /** Reads Boson's 64-byte private key (seed || public key) as bytes, Base58 or `0x`-hex. */
  static fromBosonPrivateKey(key: Uint8Array | string): KeyPair {
    let bytes: Uint8Array;
    if (typeof key === 'string') {
      try {
        bytes = key.startsWith('0x') ? fromHex(key.slice(2)) : base58Decode(key);
      } catch (e) {
        throw new SharedError(
          'INVALID_KEY',
          `private key is neither Base58 nor 0x-hex: ${(e as Error).message}`,
        );
      }
    } else {
      bytes = key;
    }
    if (bytes.length !== BOSON_PRIVATE_KEY_BYTES) {
      throw new SharedError(
        'INVALID_KEY',
        `a Boson private key is ${BOSON_PRIVATE_KEY_BYTES} bytes, got ${bytes.length}`,
      );
    }
    const pair = KeyPair.fromSeed(bytes.subarray(0, SEED_BYTES));
    if (!bytesEqual(pair.publicKey, bytes.subarray(SEED_BYTES))) {
      throw new SharedError(
        'INVALID_KEY',
        'the public half of the private key does not match its seed',
      );
    }
    return pair;
  }

  /** The 64-byte seed || public key form Boson stores. */
  bosonPrivateKey(): Uint8Array {
    return concatBytes(this.seed, this.publicKey);
  }

  bosonPrivateKeyBase58(): string {
    return base58Encode(this.bosonPrivateKey());
  }

  bosonPrivateKeyHex(): string {
    return '0x' + toHex(this.bosonPrivateKey());
  }

  sign(message: Uint8Array): Uint8Array {
    return ed25519Sign(message, (this.#secretKey ??= concatBytes(this.seed, this.publicKey)));
  }

  /** X25519 secret: clamp(SHA-512(seed)[0..32]). */
  get x25519SecretKey(): Uint8Array {
    return (this.#x25519Secret ??= ed25519.utils.toMontgomerySecret(this.seed));
  }

  /** X25519 public key: the Montgomery u of the Edwards point. */
  get x25519PublicKey(): Uint8Array {
    return (this.#x25519Public ??= ed25519.utils.toMontgomery(this.publicKey));
  }
}

/**
 * Strict RFC 8032 verification (no ZIP-215 leniency), matching libsodium, which stock Boson nodes use.
 * Returns false for any malformed key or signature instead of throwing.
 */
export function verifySignature(
  publicKey: Uint8Array | Id,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const key = publicKey instanceof Id ? publicKey.bytes : publicKey;
  if (key.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  return ed25519Verify(signature, message, key);
}

/**
 * True when `publicKey` is not a usable Ed25519 key: not a curve point, or a point of small order.
 * Under a small-order key a "signature" (R of small order, S = 0) verifies for every message in
 * verifiers that do not check the key (OpenSSL, hence WebCrypto and node:crypto), so such keys are
 * refused before any signature is checked. About 130 µs: callers cache per key.
 */
export function isWeakKey(publicKey: Uint8Array | Id): boolean {
  const key = publicKey instanceof Id ? publicKey.bytes : publicKey;
  try {
    return ed25519.Point.fromBytes(key).isSmallOrder();
  } catch {
    return true;
  }
}

const x25519PublicCache = new Map<string, Uint8Array>();

/** X25519 public key of an id (Ed25519 public key); throws INVALID_KEY for a non-point. */
export function idToX25519(id: Id): Uint8Array {
  const cacheKey = id.toString();
  let key = x25519PublicCache.get(cacheKey);
  if (!key) {
    try {
      key = ed25519.utils.toMontgomery(id.bytes);
    } catch (e) {
      throw new SharedError(
        'INVALID_KEY',
        `id is not an Ed25519 public key: ${(e as Error).message}`,
      );
    }
    if (x25519PublicCache.size >= 4096) x25519PublicCache.clear();
    x25519PublicCache.set(cacheKey, key);
  }
  return key;
}
