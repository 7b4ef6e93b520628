import { createRequire } from 'node:module';
import { ed25519 } from '@noble/curves/ed25519.js';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { useNativeCrypto } from '../../cli/native-crypto.ts';
import { CryptoBox } from '../../shared/crypto/box.ts';
import {
  secretboxBackend,
  type SodiumLike,
  sodiumBackend,
  tweetnaclBackend,
  useSecretboxBackend,
} from '../../shared/crypto/secretbox.ts';
import { ed25519Backend, useSodiumEd25519 } from '../../shared/crypto/ed25519.ts';
import { KeyPair, verifySignature } from '../../shared/keys.ts';

describe('secretbox backends', () => {
  it('libsodium loads on Node.js and produces the same bytes as tweetnacl', () => {
    expect(useNativeCrypto()).toEqual({
      secretbox: 'libsodium',
      jws: 'libsodium',
      ed25519: 'libsodium',
    });
    const sodium = sodiumBackend(createRequire(import.meta.url)('sodium-native') as SodiumLike);
    const a = KeyPair.generate();
    const b = KeyPair.generate();
    const box = CryptoBox.between(a.x25519SecretKey, b.x25519PublicKey);
    const shared = nacl.box.before(b.x25519PublicKey, a.x25519SecretKey);
    for (const size of [0, 1, 100, 32724, 65492]) {
      const plain = crypto.getRandomValues(new Uint8Array(size));
      const nonce = crypto.getRandomValues(new Uint8Array(24));
      const sealed = box.seal(plain, nonce);
      expect(
        Buffer.from(sealed).equals(
          Buffer.from(nacl.box(plain, nonce, b.x25519PublicKey, a.x25519SecretKey)),
        ),
      ).toBe(true);
      const viaJs = new Uint8Array(16 + size);
      tweetnaclBackend.sealInto(viaJs, 0, plain, nonce, shared);
      const viaSodium = new Uint8Array(16 + size);
      sodium.sealInto(viaSodium, 0, plain, nonce, shared);
      expect(Buffer.from(viaJs).equals(Buffer.from(viaSodium))).toBe(true);
      expect(
        Buffer.from(tweetnaclBackend.open(viaSodium, nonce, shared)!).equals(Buffer.from(plain)),
      ).toBe(true);
    }
  });

  it('Ed25519 on libsodium signs exactly as @noble/curves and verifies strictly', () => {
    expect(ed25519Backend()).toBe('libsodium');
    const key = KeyPair.generate();
    for (const size of [0, 32, 255]) {
      const message = crypto.getRandomValues(new Uint8Array(size));
      const signature = key.sign(message);
      expect(Buffer.from(signature).equals(Buffer.from(ed25519.sign(message, key.seed)))).toBe(
        true,
      );
      expect(verifySignature(key.id, message, signature)).toBe(true);
      const forged = signature.slice();
      forged[40] ^= 4;
      expect(verifySignature(key.id, message, forged)).toBe(false);
      expect(verifySignature(KeyPair.generate().id, message, signature)).toBe(false);
    }
  });

  it('a libsodium that signs differently is not installed', () => {
    const wrong = {
      crypto_sign_detached: (signature: Uint8Array) => signature.fill(7),
      crypto_sign_verify_detached: () => true,
    };
    expect(useSodiumEd25519(wrong)).toBe('libsodium');
    const key = KeyPair.generate();
    expect(key.sign(new Uint8Array(3))[0]).not.toBe(7);
  });

  it('a backend that differs from NaCl is refused', () => {
    const before = secretboxBackend();
    const broken = {
      ...tweetnaclBackend,
      name: 'broken',
      sealInto: (out: Uint8Array, offset: number) => out.fill(1, offset),
    };
    expect(() => useSecretboxBackend(broken)).toThrow(/does not match/);
    expect(secretboxBackend()).toBe(before);
  });
});
