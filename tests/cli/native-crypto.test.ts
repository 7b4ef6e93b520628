import { createRequire } from 'node:module';
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
import { KeyPair } from '../../shared/keys.ts';

describe('secretbox backends', () => {
  it('libsodium loads on Node.js and produces the same bytes as tweetnacl', () => {
    expect(useNativeCrypto()).toEqual({ secretbox: 'libsodium', jws: 'libsodium' });
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
