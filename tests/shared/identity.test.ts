import { describe, expect, it } from 'vitest';
import identities from '../vectors/boson-identity.json' with { type: 'json' };
import { base58Decode, base58Encode } from '../../shared/base58.ts';
import { fromHex, toHex } from '../../shared/bytes.ts';
import { SharedError } from '../../shared/errors.ts';
import { Id } from '../../shared/id.ts';
import { idToX25519, KeyPair } from '../../shared/keys.ts';

describe('Boson identity vectors', () => {
  for (const v of identities) {
    it(`${v.source}: key -> id, DID and X25519 keys`, () => {
      const pair = KeyPair.fromBosonPrivateKey(v.privateKeyBase58);
      expect(toHex(pair.seed)).toBe(v.seedHex);
      expect(toHex(pair.publicKey)).toBe(v.publicKeyHex);
      expect(pair.id.toString()).toBe(v.id);
      expect(pair.id.toDid()).toBe(v.did);
      expect(toHex(pair.x25519PublicKey)).toBe(v.x25519PublicKeyHex);
      expect(toHex(pair.x25519SecretKey)).toBe(v.x25519SecretKeyHex);
      expect(toHex(idToX25519(pair.id))).toBe(v.x25519PublicKeyHex);
      expect(pair.bosonPrivateKeyBase58()).toBe(v.privateKeyBase58);
    });

    it(`${v.source}: every id form parses back to the same id`, () => {
      const id = Id.parse(v.id);
      expect(Id.parse(id.toHexString()).equals(id)).toBe(true);
      expect(Id.fromDid(v.did).equals(id)).toBe(true);
      expect(id.toHexString()).toBe('0x' + v.publicKeyHex);
      const fromHexKey = KeyPair.fromBosonPrivateKey('0x' + v.seedHex + v.publicKeyHex);
      expect(fromHexKey.id.equals(id)).toBe(true);
      expect(KeyPair.fromSeed(fromHex(v.seedHex)).id.equals(id)).toBe(true);
    });
  }
});

describe('Base58', () => {
  it('keeps leading zero bytes as 1s', () => {
    expect(base58Encode(new Uint8Array([0, 0, 1]))).toBe('112');
    expect(Array.from(base58Decode('112'))).toEqual([0, 0, 1]);
    expect(base58Encode(new Uint8Array(0))).toBe('');
  });

  it('round-trips random byte strings', () => {
    for (let n = 0; n < 200; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n % 70));
      if (n % 7 === 0 && bytes.length > 1) bytes[0] = 0;
      expect(toHex(base58Decode(base58Encode(bytes)))).toBe(toHex(bytes));
    }
  });

  it('rejects characters outside the alphabet', () => {
    for (const bad of ['0', 'O', 'I', 'l', 'abc+', 'é']) {
      expect(() => base58Decode(bad)).toThrow(SharedError);
    }
  });
});

describe('Id', () => {
  const a = Id.parse('0x' + '00'.repeat(31) + '01');
  const b = Id.parse('0x' + '00'.repeat(31) + '03');
  const c = Id.parse('0x80' + '00'.repeat(31));

  it('rejects malformed ids and DIDs with stable codes', () => {
    const bad = ['', '0x12', 'zzzz', '111', '0x' + 'g'.repeat(64)];
    for (const text of bad) {
      expect(() => Id.parse(text)).toThrow(SharedError);
    }
    expect(() => Id.fromDid('did:web:example.com')).toThrow(
      expect.objectContaining({ code: 'INVALID_DID' }),
    );
    expect(() => Id.fromDid('did:boson:abc')).toThrow(
      expect.objectContaining({ code: 'INVALID_DID' }),
    );
    expect(() => new Id(new Uint8Array(31))).toThrow(
      expect.objectContaining({ code: 'INVALID_ID' }),
    );
  });

  it('measures XOR distance and orders by it', () => {
    expect(a.distance(b).toHexString()).toBe('0x' + '00'.repeat(31) + '02');
    expect(a.compareTo(b)).toBeLessThan(0);
    expect(c.compareTo(a)).toBeGreaterThan(0);
    expect(a.threeWayCompare(b, c)).toBeLessThan(0);
    expect(a.threeWayCompare(c, b)).toBeGreaterThan(0);
    expect(a.threeWayCompare(b, b)).toBe(0);
  });

  it('puts ids in buckets by the highest differing bit', () => {
    expect(a.bucketIndex(a)).toBe(-1);
    expect(a.bucketIndex(Id.zero())).toBe(0);
    expect(a.bucketIndex(b)).toBe(1);
    expect(a.bucketIndex(c)).toBe(255);
    expect(Id.zero().bucketIndex(Id.max())).toBe(255);
  });
});
