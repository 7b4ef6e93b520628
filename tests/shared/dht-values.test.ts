import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../../shared/cbor/index.ts';
import { decodeValue } from '../../shared/dht/card.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toHex, utf8Decode, utf8Encode } from '../../shared/bytes.ts';
import {
  decodeMessage,
  encodeMessage,
  fromWireMessage,
  Method,
  PeerInfo,
  toWireMessage,
  Value,
} from '../../shared/dht/index.ts';
import { KeyPair, verifySignature } from '../../shared/keys.ts';

const owner = KeyPair.fromSeed(new Uint8Array(32).fill(1));
const recipient = KeyPair.fromSeed(new Uint8Array(32).fill(2));
const node = KeyPair.fromSeed(new Uint8Array(32).fill(3));
const nonce = new Uint8Array(24).fill(9);

describe('DHT values', () => {
  it('an immutable value is identified by SHA-256 of its data', () => {
    const data = utf8Encode('This is a immutable value');
    const value = Value.createImmutable(data);
    expect(toHex(value.id.bytes)).toBe(toHex(sha256(data)));
    expect(value.isMutable).toBe(false);
    expect(value.isValid()).toBe(true);
    expect(value.toWire()).toEqual({ v: data });
  });

  it('a signed value signs SHA-256(k || n || seq int32 BE || v)', () => {
    const data = utf8Encode('signed');
    const value = Value.createSigned(owner, data, { sequenceNumber: 258, nonce });
    const digest = sha256(concatBytes(owner.publicKey, nonce, new Uint8Array([0, 0, 1, 2]), data));
    expect(toHex(value.signatureDigest())).toBe(toHex(digest));
    expect(verifySignature(owner.id, digest, value.signature!)).toBe(true);
    expect(value.id.equals(owner.id)).toBe(true);
    expect(value.isValid()).toBe(true);
    const tampered = Value.fromWire({ ...value.toWire(), v: utf8Encode('signes') });
    expect(tampered.ok && tampered.value.isValid()).toBe(false);
    const next = value.update(owner, utf8Encode('v2'));
    expect(next.sequenceNumber).toBe(259);
    expect(next.isValid()).toBe(true);
    expect(() => value.update(recipient, data)).toThrow();
  });

  it('an encrypted value signs over the recipient too and opens only for the recipient', () => {
    const plain = utf8Encode('for your eyes only');
    const value = Value.createEncrypted(owner, recipient.id, plain, { nonce });
    const digest = sha256(
      concatBytes(owner.publicKey, recipient.publicKey, nonce, new Uint8Array(4), value.data),
    );
    expect(toHex(value.signatureDigest())).toBe(toHex(digest));
    expect(value.isValid()).toBe(true);
    expect(value.data.length).toBe(plain.length + 16);
    expect(utf8Decode(value.decrypt(recipient)!)).toBe('for your eyes only');
    expect(value.decrypt(owner)).toBeNull();
    expect(value.decrypt(node)).toBeNull();
  });

  it('travels in STORE_VALUE and FIND_VALUE and comes back equal and valid', () => {
    const value = Value.createEncrypted(owner, recipient.id, utf8Encode('x'), {
      sequenceNumber: 5,
    });
    const store = toWireMessage({
      kind: 'request',
      txid: 1,
      request: { method: Method.STORE_VALUE, token: -5, cas: 4, value },
    });
    const found = toWireMessage({
      kind: 'response',
      txid: 2,
      response: { method: Method.FIND_VALUE, nodes4: [], nodes6: [], value },
    });
    for (const wire of [store, found]) {
      const decoded = decodeMessage(encodeMessage(wire));
      if (!decoded.ok) throw decoded.error;
      const typed = fromWireMessage(decoded.value);
      if (!typed.ok) throw typed.error;
      const back =
        typed.value.kind === 'request' && typed.value.request.method === Method.STORE_VALUE
          ? typed.value.request.value
          : typed.value.kind === 'response' && typed.value.response.method === Method.FIND_VALUE
            ? typed.value.response.value
            : undefined;
      expect(back?.equals(value)).toBe(true);
      expect(back?.isValid()).toBe(true);
    }
  });

  it('refuses malformed value fields', () => {
    expect(Value.fromWire({}).ok).toBe(false);
    expect(Value.fromWire({ v: new Uint8Array(1), sig: new Uint8Array(64) }).ok).toBe(false);
    expect(Value.fromWire({ k: owner.publicKey, v: new Uint8Array(1) }).ok).toBe(false);
  });
});

describe('decodeValue (the DHT API body)', () => {
  it('refuses fields of the wrong type or length with an error value, never a throw (found by npm run fuzz)', () => {
    const owner = KeyPair.generate();
    const good = Value.createSigned(owner, utf8Encode('data')).toWire();
    for (const bad of [
      { ...good, v: 5 },
      { ...good, v: 'text' },
      { ...good, k: new Uint8Array(31) },
      { ...good, n: [1, 2, 3] },
      { ...good, sig: new Uint8Array(63) },
      { ...good, seq: 'one' },
      { ...good, rec: 7 },
    ]) {
      const decoded = decodeValue(encodeCbor(bad as never));
      expect(decoded.ok).toBe(false);
    }
    expect(decodeValue(encodeCbor(good as never)).ok).toBe(true);
  });
});

describe('PeerInfo', () => {
  it('signs the exact 3.0 digest, plain and node-authenticated', () => {
    const peerKey = owner;
    const plain = PeerInfo.create(peerKey, 'tcp://203.0.113.7:8090', {
      nonce,
      fingerprint: 0x0102030405060708n,
      sequenceNumber: 1,
    });
    const expected = sha256(
      concatBytes(
        peerKey.publicKey,
        nonce,
        new Uint8Array([0, 0, 0, 1]),
        new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
        utf8Encode('tcp://203.0.113.7:8090'),
      ),
    );
    expect(toHex(plain.signatureDigest())).toBe(toHex(expected));
    expect(plain.isValid()).toBe(true);
    expect(plain.isAuthenticated).toBe(false);

    const extra = new Uint8Array([0xa0]);
    const authed = PeerInfo.create(peerKey, 'tcp://h:1', { nonce, node, fingerprint: -2n, extra });
    const nodeDigest = sha256(concatBytes(peerKey.publicKey, node.publicKey, nonce));
    expect(verifySignature(node.id, nodeDigest, authed.nodeSignature!)).toBe(true);
    const digest = sha256(
      concatBytes(
        peerKey.publicKey,
        nonce,
        new Uint8Array(4),
        node.publicKey,
        authed.nodeSignature!,
        new Uint8Array([255, 255, 255, 255, 255, 255, 255, 254]),
        utf8Encode('tcp://h:1'),
        extra,
      ),
    );
    expect(toHex(authed.signatureDigest())).toBe(toHex(digest));
    expect(authed.isValid()).toBe(true);
  });

  it('picks a random fingerprint for 0, normalises the endpoint and detects tampering', () => {
    const peer = PeerInfo.create(owner, 'tcp://cafe\u0301:1');
    expect(peer.fingerprint).not.toBe(0n);
    expect(peer.endpoint).toBe('tcp://caf\u00e9:1');
    const wire = peer.toWire();
    const moved = PeerInfo.fromWire({ ...wire, e: 'tcp://evil:1' });
    expect(moved.ok && moved.value.isValid()).toBe(false);
    const forgedNode = PeerInfo.fromWire({
      ...PeerInfo.create(owner, 'tcp://h:1', { node }).toWire(),
      o: recipient.publicKey,
    });
    expect(forgedNode.ok && forgedNode.value.isValid()).toBe(false);
    expect(PeerInfo.fromWire({ ...wire, os: new Uint8Array(64) }).ok).toBe(false);
    const next = peer.update(owner, 'tcp://other:2');
    expect(next.sequenceNumber).toBe(1);
    expect(next.fingerprint).toBe(peer.fingerprint);
    expect(next.isValid()).toBe(true);
  });

  it('travels in ANNOUNCE_PEER and FIND_PEER with exact int64 fingerprints', () => {
    const peer = PeerInfo.create(owner, 'tcp://h:8090', {
      node,
      fingerprint: -(1n << 63n),
      sequenceNumber: 3,
    });
    const announce = toWireMessage({
      kind: 'request',
      txid: 3,
      request: { method: Method.ANNOUNCE_PEER, token: 42, peer },
    });
    const found = toWireMessage({
      kind: 'response',
      txid: 4,
      response: { method: Method.FIND_PEER, nodes4: [], nodes6: [], peers: [peer, peer] },
    });
    for (const wire of [announce, found]) {
      const decoded = decodeMessage(encodeMessage(wire));
      if (!decoded.ok) throw decoded.error;
      const typed = fromWireMessage(decoded.value);
      if (!typed.ok) throw typed.error;
      const back =
        typed.value.kind === 'request' && typed.value.request.method === Method.ANNOUNCE_PEER
          ? [typed.value.request.peer]
          : typed.value.kind === 'response' && typed.value.response.method === Method.FIND_PEER
            ? typed.value.response.peers
            : [];
      expect(back.length).toBeGreaterThan(0);
      for (const p of back) {
        expect(p.fingerprint).toBe(-(1n << 63n));
        expect(p.isValid()).toBe(true);
        expect(p.nodeId?.equals(node.id)).toBe(true);
      }
    }
  });
});
