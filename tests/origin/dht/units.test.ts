/** Storage, write tokens and routing table rules, with an injected clock. */
import { describe, expect, it } from 'vitest';
import { randomBytes, utf8Encode } from '../../../shared/bytes.ts';
import { ErrorCode, K, NodeInfo, PeerInfo, Value } from '../../../shared/dht/index.ts';
import { Id } from '../../../shared/id.ts';
import { KeyPair } from '../../../shared/keys.ts';
import { RoutingTable } from '../../../origin/dht/routing-table.ts';
import { DhtStorage, STORAGE_EXPIRY_MS } from '../../../origin/dht/storage.ts';
import { TOKEN_BUCKET_MS, TokenManager } from '../../../origin/dht/tokens.ts';
import { testClock } from '../../helpers/dht-testnet.ts';

describe('storage', () => {
  it('expires 2 h after the last store; an equal-seq re-store refreshes the age', () => {
    const clock = testClock();
    const storage = new DhtStorage(clock.now);
    const owner = KeyPair.generate();
    const value = Value.createSigned(owner, utf8Encode('a'), { sequenceNumber: 4 });
    expect(storage.putValue(value)).toBeNull();
    clock.advance(STORAGE_EXPIRY_MS - 60_000);
    expect(storage.putValue(value)).toBeNull();
    clock.advance(STORAGE_EXPIRY_MS - 60_000);
    expect(storage.getValue(owner.id)?.sequenceNumber).toBe(4);
    clock.advance(60_001);
    expect(storage.getValue(owner.id)).toBeUndefined();
    expect(storage.purge()).toBe(1);
    expect(storage.valueCount).toBe(0);
  });

  it('keeps peers per fingerprint with sequence and CAS rules', () => {
    const clock = testClock();
    const storage = new DhtStorage(clock.now, { maxPeersPerId: 2 });
    const key = KeyPair.generate();
    const a = PeerInfo.create(key, 'tcp://a:1', { sequenceNumber: 2 });
    const b = PeerInfo.create(key, 'tcp://b:1');
    expect(storage.putPeer(a)).toBeNull();
    expect(storage.putPeer(b)).toBeNull();
    expect(storage.putPeer(PeerInfo.create(key, 'tcp://c:1'))?.code).toBe(ErrorCode.SERVER);
    expect(
      storage.putPeer(
        PeerInfo.create(key, 'tcp://a:2', { fingerprint: a.fingerprint, sequenceNumber: 1 }),
      )?.code,
    ).toBe(ErrorCode.SEQUENCE_NOT_MONOTONIC);
    expect(storage.putPeer(a.update(key, 'tcp://a:3'), 1)?.code).toBe(ErrorCode.CAS_FAIL);
    expect(storage.putPeer(a.update(key, 'tcp://a:3'), 2)).toBeNull();
    expect(
      storage
        .getPeers(key.id, 10)
        .map((p) => p.endpoint)
        .sort(),
    ).toEqual(['tcp://a:3', 'tcp://b:1']);
    expect(storage.getPeers(key.id, 10, 3).map((p) => p.endpoint)).toEqual(['tcp://a:3']);
    expect(storage.getPeers(key.id, 1).length).toBe(1);
  });
});

describe('write tokens', () => {
  it('bind the token to requester, address, port and target, for the current and previous 5 minutes', () => {
    const clock = testClock();
    const tokens = new TokenManager(clock.now);
    const requester = KeyPair.generate().id;
    const target = new Id(randomBytes(32));
    const token = tokens.issue(requester, '203.0.113.9', 4000, target);
    expect(tokens.verify(token, requester, '203.0.113.9', 4000, target)).toBe(true);
    expect(tokens.verify(token, KeyPair.generate().id, '203.0.113.9', 4000, target)).toBe(false);
    expect(tokens.verify(token, requester, '203.0.113.10', 4000, target)).toBe(false);
    expect(tokens.verify(token, requester, '203.0.113.9', 4001, target)).toBe(false);
    expect(tokens.verify(token, requester, '203.0.113.9', 4000, new Id(randomBytes(32)))).toBe(
      false,
    );
    clock.advance(TOKEN_BUCKET_MS);
    expect(tokens.verify(token, requester, '203.0.113.9', 4000, target)).toBe(true);
    clock.advance(TOKEN_BUCKET_MS);
    expect(tokens.verify(token, requester, '203.0.113.9', 4000, target)).toBe(false);
  });
});

describe('routing table', () => {
  const local = KeyPair.generate().id;
  let port = 1000;
  const contact = (id: Id = new Id(randomBytes(32))) => new NodeInfo(id, '198.51.100.1', port++);

  it('splits only its own bucket, only for verified newcomers, and keeps replacements', () => {
    const clock = testClock();
    const table = new RoutingTable(local, clock.now);
    for (let i = 0; i < K; i++) expect(table.seen(contact(), false)).toBe('added');
    expect(table.usableSize).toBe(0);
    expect(table.seen(contact(), false)).toBe('pending');
    expect(table.bucketCount).toBe(1);
    for (let i = 0; i < 200; i++) table.seen(contact(), true);
    expect(table.bucketCount).toBeGreaterThan(3);
    expect(table.usableSize).toBeGreaterThan(3 * K);
    // Only verified entries are handed out, closest first.
    const target = new Id(randomBytes(32));
    const closest = table.closest(target);
    expect(closest.length).toBe(K);
    for (let i = 1; i < closest.length; i++)
      expect(target.threeWayCompare(closest[i - 1].id, closest[i].id)).toBeLessThan(0);
  });

  it('drops an entry after 3 failures for a verified replacement, and refuses an id flip at a live address', () => {
    const clock = testClock();
    const table = new RoutingTable(local, clock.now);
    // Ids far from ours (first bit differs) all land in one bucket once it has split.
    const far = () => {
      const b = randomBytes(32);
      b[0] = ((local.bytes[0] ^ 0x80) & 0x80) | (b[0] & 0x7f);
      return new Id(b);
    };
    const near = () => {
      const b = local.bytes.slice();
      b[31] ^= 1 + Math.floor(Math.random() * 255);
      return new Id(b);
    };
    const entries = Array.from({ length: K }, () => contact(far()));
    for (const e of entries) table.seen(e, true);
    table.seen(contact(near()), true);
    const spare = contact(far());
    expect(table.seen(spare, true)).toBe('replacement');
    for (let i = 0; i < 3; i++) table.failed(entries[0].id);
    expect(table.get(entries[0].id)).toBeUndefined();
    expect(table.get(spare.id)).toBeDefined();
    const flipped = new NodeInfo(far(), entries[1].host, entries[1].port);
    expect(table.seen(flipped, true)).toBe('idFlip');
    expect(table.get(flipped.id)).toBeUndefined();
  });
});
