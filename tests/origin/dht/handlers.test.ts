/** Every request handler of a real DhtNode, driven over real UDP on 127.0.0.1 by a hand-made peer. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, utf8Encode } from '../../../shared/bytes.ts';
import {
  type DhtMessage,
  ErrorCode,
  Method,
  PeerInfo,
  Value,
  Want,
} from '../../../shared/dht/index.ts';
import { Id } from '../../../shared/id.ts';
import { KeyPair } from '../../../shared/keys.ts';
import { DhtNode } from '../../../origin/dht/index.ts';
import { RawPeer } from '../../helpers/dht-raw-peer.ts';
import { testClock } from '../../helpers/dht-testnet.ts';

const clock = testClock();
let node: DhtNode;
let others: DhtNode[] = [];
let peer: RawPeer;
let target: { id: Id; port: number };

function response(m: DhtMessage) {
  if (m.kind !== 'response')
    throw new Error(
      `expected a response, got ${m.kind}${m.kind === 'error' ? ` ${m.error.code}` : ''}`,
    );
  return m.response;
}

function errorCode(m: DhtMessage): number {
  if (m.kind !== 'error') throw new Error(`expected an error, got ${m.kind}`);
  return m.error.code;
}

async function tokenFor(id: Id): Promise<number> {
  const r = response(
    await peer.request(target, {
      method: Method.FIND_NODE,
      target: id,
      want: Want.IPV4 | Want.TOKEN,
    }),
  );
  if (r.method !== Method.FIND_NODE || r.token === undefined) throw new Error('no token');
  return r.token;
}

beforeAll(async () => {
  const opts = {
    host: '127.0.0.1',
    port: 0,
    host6: false as const,
    developerMode: true,
    clock: clock.now,
    rateLimitPerSecond: 10_000,
    rateLimitBurst: 10_000,
  };
  node = new DhtNode({ key: KeyPair.generate(), ...opts });
  await node.start();
  for (let i = 0; i < 3; i++) {
    const other = new DhtNode({
      key: KeyPair.generate(),
      ...opts,
      bootstrap: [{ id: node.id, ...node.address() }],
    });
    await other.start();
    others.push(other);
  }
  peer = await new RawPeer().start();
  target = { id: node.id, port: node.address().port };
});

afterAll(async () => {
  await peer?.close();
  await Promise.all([node, ...others].map((n) => n?.stop()));
});

describe('DHT request handlers over UDP', () => {
  it('PING answers with the same txid and method', async () => {
    const answer = await peer.request(target, { method: Method.PING });
    expect(response(answer).method).toBe(Method.PING);
    expect(node.counters().requestsIn.ping).toBeGreaterThan(0);
  });

  it('FIND_NODE returns the closest verified nodes, and a token only when asked', async () => {
    const r = response(
      await peer.request(target, {
        method: Method.FIND_NODE,
        target: others[0].id,
        want: Want.IPV4,
      }),
    );
    if (r.method !== Method.FIND_NODE) throw new Error('wrong method');
    expect(r.nodes4.map((n) => n.id.toString())).toContain(others[0].id.toString());
    expect(r.nodes4[0].id.equals(others[0].id)).toBe(true);
    expect(r.nodes4.every((n) => n.host === '127.0.0.1')).toBe(true);
    expect(r.token).toBeUndefined();
    expect(r.nodes6).toEqual([]);
    expect(await tokenFor(others[0].id)).toBeTypeOf('number');
  });

  it('STORE_VALUE needs a token bound to the sender and target; FIND_VALUE finds what was stored', async () => {
    const value = Value.createImmutable(utf8Encode('handler test value'));
    expect(
      errorCode(await peer.request(target, { method: Method.STORE_VALUE, token: 12345, value })),
    ).toBe(ErrorCode.INVALID_TOKEN);
    // A token for another target does not pass either.
    const wrongTarget = await tokenFor(new Id(randomBytes(32)));
    expect(
      errorCode(
        await peer.request(target, { method: Method.STORE_VALUE, token: wrongTarget, value }),
      ),
    ).toBe(ErrorCode.INVALID_TOKEN);
    // Nor does a token used by another sender.
    const token = await tokenFor(value.id);
    const stranger = KeyPair.generate();
    expect(
      errorCode(await peer.request(target, { method: Method.STORE_VALUE, token, value }, stranger)),
    ).toBe(ErrorCode.INVALID_TOKEN);
    expect(
      response(await peer.request(target, { method: Method.STORE_VALUE, token, value })).method,
    ).toBe(Method.STORE_VALUE);
    const found = response(
      await peer.request(target, { method: Method.FIND_VALUE, target: value.id, want: Want.IPV4 }),
    );
    if (found.method !== Method.FIND_VALUE) throw new Error('wrong method');
    expect(found.value?.equals(value)).toBe(true);
  });

  it('applies the sequence, CAS and signature rules to mutable values', async () => {
    const owner = KeyPair.generate();
    const v1 = Value.createSigned(owner, utf8Encode('one'), { sequenceNumber: 1 });
    const token = await tokenFor(owner.id);
    const store = (value: Value, cas?: number) =>
      peer.request(target, { method: Method.STORE_VALUE, token, value, cas });
    expect(response(await store(v1)).method).toBe(Method.STORE_VALUE);
    const v3 = v1.update(owner, utf8Encode('two')).update(owner, utf8Encode('three'));
    expect(response(await store(v3)).method).toBe(Method.STORE_VALUE);
    expect(
      errorCode(await store(Value.createSigned(owner, utf8Encode('old'), { sequenceNumber: 2 }))),
    ).toBe(ErrorCode.SEQUENCE_NOT_MONOTONIC);
    expect(errorCode(await store(v3.update(owner, utf8Encode('four')), 2))).toBe(
      ErrorCode.CAS_FAIL,
    );
    const forged = Value.fromWire({
      ...v3.update(owner, utf8Encode('x')).toWire(),
      v: utf8Encode('y'),
    });
    if (!forged.ok) throw forged.error;
    expect(errorCode(await store(forged.value))).toBe(ErrorCode.INVALID_SIGNATURE);
    // Same seq again: accepted (it refreshes the stored age).
    expect(response(await store(v3)).method).toBe(Method.STORE_VALUE);
    const found = response(
      await peer.request(target, {
        method: Method.FIND_VALUE,
        target: owner.id,
        want: Want.IPV4,
        cas: 3,
      }),
    );
    if (found.method !== Method.FIND_VALUE) throw new Error('wrong method');
    expect(found.value?.sequenceNumber).toBe(3);
    const newer = response(
      await peer.request(target, {
        method: Method.FIND_VALUE,
        target: owner.id,
        want: Want.IPV4,
        cas: 4,
      }),
    );
    if (newer.method !== Method.FIND_VALUE) throw new Error('wrong method');
    expect(newer.value).toBeUndefined();
    expect(newer.nodes4.length).toBeGreaterThan(0);
  });

  it('ANNOUNCE_PEER stores verified peers; FIND_PEER returns up to the expected count', async () => {
    const service = KeyPair.generate();
    const token = await tokenFor(service.id);
    const a = PeerInfo.create(service, 'tcp://127.0.0.1:8090', { node: KeyPair.generate() });
    const b = PeerInfo.create(service, 'tcp://127.0.0.1:8091');
    for (const p of [a, b]) {
      expect(
        response(await peer.request(target, { method: Method.ANNOUNCE_PEER, token, peer: p }))
          .method,
      ).toBe(Method.ANNOUNCE_PEER);
    }
    const forged = PeerInfo.fromWire({ ...b.toWire(), e: 'tcp://evil:1' });
    if (!forged.ok) throw forged.error;
    expect(
      errorCode(
        await peer.request(target, { method: Method.ANNOUNCE_PEER, token, peer: forged.value }),
      ),
    ).toBe(ErrorCode.INVALID_SIGNATURE);
    const all = response(
      await peer.request(target, { method: Method.FIND_PEER, target: service.id, want: Want.IPV4 }),
    );
    if (all.method !== Method.FIND_PEER) throw new Error('wrong method');
    expect(all.peers.map((p) => p.endpoint).sort()).toEqual([
      'tcp://127.0.0.1:8090',
      'tcp://127.0.0.1:8091',
    ]);
    expect(all.peers.every((p) => p.isValid())).toBe(true);
    const one = response(
      await peer.request(target, {
        method: Method.FIND_PEER,
        target: service.id,
        want: Want.IPV4,
        expected: 1,
      }),
    );
    if (one.method !== Method.FIND_PEER) throw new Error('wrong method');
    expect(one.peers.length).toBe(1);
    const none = response(
      await peer.request(target, {
        method: Method.FIND_PEER,
        target: new Id(randomBytes(32)),
        want: Want.IPV4,
      }),
    );
    if (none.method !== Method.FIND_PEER) throw new Error('wrong method');
    expect(none.peers).toEqual([]);
    expect(none.nodes4.length).toBeGreaterThan(0);
  });

  it('a node outside developer mode ignores announces and routing inserts from loopback', async () => {
    const strict = new DhtNode({
      key: KeyPair.generate(),
      host: '127.0.0.1',
      port: 0,
      host6: false,
      clock: clock.now,
    });
    await strict.start();
    try {
      const to = { id: strict.id, port: strict.address().port };
      const service = KeyPair.generate();
      const r = response(
        await peer.request(to, {
          method: Method.FIND_NODE,
          target: service.id,
          want: Want.IPV4 | Want.TOKEN,
        }),
      );
      if (r.method !== Method.FIND_NODE || r.token === undefined) throw new Error('no token');
      const p = PeerInfo.create(service, 'tcp://127.0.0.1:1');
      expect(
        response(await peer.request(to, { method: Method.ANNOUNCE_PEER, token: r.token, peer: p }))
          .method,
      ).toBe(Method.ANNOUNCE_PEER);
      expect(strict.storage.peerCount).toBe(0);
      expect(strict.routingTableSize().v4).toBe(0);
    } finally {
      await strict.stop();
    }
  });
});
