import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../../shared/bytes.ts';
import { SharedError } from '../../shared/errors.ts';
import { isWeakKey, KeyPair, verifySignature } from '../../shared/keys.ts';

// RFC 8032 section 7.1 test vectors (TEST 1, 2, 3 and SHA(abc)).
const RFC8032 = [
  {
    name: 'TEST 1',
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    pub: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    msg: 'af82',
    sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    name: 'TEST SHA(abc)',
    seed: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    pub: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    msg: 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    sig: 'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];

describe('Ed25519 (RFC 8032 vectors)', () => {
  for (const v of RFC8032) {
    it(v.name, () => {
      const pair = KeyPair.fromSeed(fromHex(v.seed));
      expect(toHex(pair.publicKey)).toBe(v.pub);
      const sig = pair.sign(fromHex(v.msg));
      expect(toHex(sig)).toBe(v.sig);
      expect(verifySignature(pair.id, fromHex(v.msg), sig)).toBe(true);
    });
  }

  it('rejects a signature over other bytes, by another key, or malformed', () => {
    const pair = KeyPair.generate();
    const other = KeyPair.generate();
    const msg = utf8Encode('hello');
    const sig = pair.sign(msg);
    expect(verifySignature(pair.publicKey, msg, sig)).toBe(true);
    expect(verifySignature(pair.publicKey, utf8Encode('hellO'), sig)).toBe(false);
    expect(verifySignature(other.publicKey, msg, sig)).toBe(false);
    const flipped = sig.slice();
    flipped[10] ^= 1;
    expect(verifySignature(pair.publicKey, msg, flipped)).toBe(false);
    expect(verifySignature(pair.publicKey, msg, sig.subarray(0, 63))).toBe(false);
    expect(verifySignature(new Uint8Array(32).fill(0xff), msg, sig)).toBe(false);
  });

  it('refuses private keys that are the wrong size or inconsistent', () => {
    const pair = KeyPair.generate();
    const bad = pair.bosonPrivateKey();
    bad[40] ^= 1;
    expect(() => KeyPair.fromBosonPrivateKey(bad)).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY' }),
    );
    expect(() => KeyPair.fromBosonPrivateKey(new Uint8Array(32))).toThrow(SharedError);
    expect(() => KeyPair.fromBosonPrivateKey('not base58 0OIl')).toThrow(SharedError);
    expect(KeyPair.fromBosonPrivateKey(pair.bosonPrivateKeyHex()).id.equals(pair.id)).toBe(true);
  });

  it('calls small-order points and non-points weak keys, real keys not', () => {
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const minusOne = fromHex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'); // order 2
    expect(isWeakKey(identity)).toBe(true);
    expect(isWeakKey(minusOne)).toBe(true);
    expect(isWeakKey(new Uint8Array(31))).toBe(true);
    expect(isWeakKey(KeyPair.generate().id)).toBe(false);
    // The forgery these keys allow: R = identity, S = 0 (strict verification refuses it anyway).
    const forged = new Uint8Array(64);
    forged[0] = 1;
    expect(verifySignature(identity, utf8Encode('anything'), forged)).toBe(false);
  });
});
