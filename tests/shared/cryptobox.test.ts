import { describe, expect, it } from 'vitest';
import { toHex, utf8Decode, utf8Encode } from '../../shared/bytes.ts';
import { CryptoBox, incrementNonce, MAC_BYTES, NONCE_BYTES } from '../../shared/crypto/box.ts';
import { CONTEXT_OVERHEAD, CryptoContext } from '../../shared/crypto/context.ts';
import { KeyPair } from '../../shared/keys.ts';

const alice = KeyPair.generate();
const bob = KeyPair.generate();
const pairOfContexts = () =>
  [
    CryptoContext.between(alice.x25519SecretKey, bob.x25519PublicKey),
    CryptoContext.between(bob.x25519SecretKey, alice.x25519PublicKey),
  ] as const;

describe('nonce increment (sodium_increment)', () => {
  it('adds one as a little-endian integer with carry', () => {
    const nonce = new Uint8Array(NONCE_BYTES);
    nonce[0] = 0xff;
    nonce[1] = 0xff;
    incrementNonce(nonce);
    expect(Array.from(nonce.subarray(0, 3))).toEqual([0, 0, 1]);
    const max = new Uint8Array(NONCE_BYTES).fill(0xff);
    expect(toHex(incrementNonce(max))).toBe('00'.repeat(NONCE_BYTES));
  });
});

describe('CryptoBox', () => {
  it('is the same shared key from both sides, and MAC comes first', () => {
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const a = CryptoBox.between(alice.x25519SecretKey, bob.x25519PublicKey);
    const b = CryptoBox.between(bob.x25519SecretKey, alice.x25519PublicKey);
    const boxed = a.seal(utf8Encode('hi'), nonce);
    expect(boxed.length).toBe(MAC_BYTES + 2);
    expect(utf8Decode(b.open(boxed, nonce)!)).toBe('hi');
    expect(b.open(boxed, new Uint8Array(NONCE_BYTES))).toBeNull();
  });
});

describe('CryptoContext (Boson 3.0)', () => {
  it('round-trips messages and increments the nonce per message', () => {
    const [a, b] = pairOfContexts();
    const m1 = a.encrypt(utf8Encode('one'));
    const m2 = a.encrypt(utf8Encode('two'));
    expect(m1.length).toBe(CONTEXT_OVERHEAD + 3);
    const n1 = m1.slice(0, NONCE_BYTES);
    expect(toHex(m2.subarray(0, NONCE_BYTES))).toBe(toHex(incrementNonce(n1)));
    const r1 = b.decrypt(m1);
    const r2 = b.decrypt(m2);
    expect(r1.ok && utf8Decode(r1.value)).toBe('one');
    expect(r2.ok && utf8Decode(r2.value)).toBe('two');
  });

  it('rejects a tampered ciphertext, MAC or nonce', () => {
    const [a, b] = pairOfContexts();
    const message = a.encrypt(utf8Encode('payload'));
    for (const at of [0, NONCE_BYTES, CONTEXT_OVERHEAD + 2]) {
      const bad = message.slice();
      bad[at] ^= 0x01;
      const result = b.decrypt(bad);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.code).toBe('DECRYPT_FAILED');
    }
    expect(b.decrypt(message.subarray(0, CONTEXT_OVERHEAD - 1)).ok).toBe(false);
    expect(b.decrypt(message).ok).toBe(true);
  });

  it('rejects a replayed nonce (the previous message received again)', () => {
    const [a, b] = pairOfContexts();
    const message = a.encrypt(utf8Encode('once'));
    expect(b.decrypt(message).ok).toBe(true);
    const again = b.decrypt(message);
    expect(again.ok).toBe(false);
    expect(!again.ok && again.error.code).toBe('DUPLICATED_NONCE');
  });

  it('a third key cannot read or forge', () => {
    const eve = KeyPair.generate();
    const [a] = pairOfContexts();
    const eveCtx = CryptoContext.between(eve.x25519SecretKey, alice.x25519PublicKey);
    expect(eveCtx.decrypt(a.encrypt(utf8Encode('secret'))).ok).toBe(false);
  });
});
