/**
 * Ed25519 signing and strict verification behind one switch, as the secretbox is (./secretbox.ts):
 * @noble/curves everywhere (about 1 ms to sign and 3 ms to verify on the project's 2-core machine),
 * libsodium where the process's composition root hands it over (tens of µs). Every tunnel handshake
 * signs (node) and verifies (super node) once, so a pool growing by hundreds of connections under a
 * burst pays it hundreds of times. libsodium is used only after it signs byte-identically (Ed25519
 * is deterministic) and agrees with the strict check on good and bad signatures.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes } from '../bytes.ts';

/** The two libsodium calls used here (sodium-native's signatures). */
export interface SodiumEd25519 {
  crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
  crypto_sign_verify_detached(
    signature: Uint8Array,
    message: Uint8Array,
    publicKey: Uint8Array,
  ): boolean;
}

interface Backend {
  readonly name: string;
  /** `secretKey` is seed(32) || public key(32), libsodium's layout. */
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

const noble: Backend = {
  name: '@noble/curves',
  sign: (message, secretKey) => ed25519.sign(message, secretKey.subarray(0, 32)),
  verify(signature, message, publicKey) {
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
};

let current: Backend = noble;

export function ed25519Backend(): string {
  return current.name;
}

/** Signs with the current backend; `secretKey` is seed || public key. */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return current.sign(message, secretKey);
}

/** Strict RFC 8032 verification with the current backend (the caller checks lengths). */
export function ed25519Verify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  return current.verify(signature, message, publicKey);
}

/** Installs libsodium when it agrees with @noble/curves; returns the backend name in use. */
export function useSodiumEd25519(sodium: SodiumEd25519): string {
  const backend: Backend = {
    name: 'libsodium',
    sign(message, secretKey) {
      const signature = new Uint8Array(64);
      sodium.crypto_sign_detached(signature, message, secretKey);
      return signature;
    },
    verify: (signature, message, publicKey) =>
      sodium.crypto_sign_verify_detached(signature, message, publicKey),
  };
  try {
    const seed = new Uint8Array(32).map((_, i) => i * 13 + 5);
    const secretKey = concatBytes(seed, ed25519.getPublicKey(seed));
    const publicKey = secretKey.subarray(32);
    for (const message of [new Uint8Array(0), new Uint8Array(300).map((_, i) => i)]) {
      const expected = noble.sign(message, secretKey);
      const got = backend.sign(message, secretKey);
      const forged = expected.slice();
      forged[5] ^= 1;
      if (
        got.some((b, i) => b !== expected[i]) ||
        !backend.verify(expected, message, publicKey) ||
        backend.verify(forged, message, publicKey)
      )
        return current.name;
    }
    current = backend;
  } catch {
    // keep @noble/curves
  }
  return current.name;
}
