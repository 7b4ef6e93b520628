/** A 200-node testnet in one process: exact lookups, values and peers across it, expiry and republish. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, utf8Decode, utf8Encode } from '../../../shared/bytes.ts';
import { PeerInfo, Value } from '../../../shared/dht/index.ts';
import { Id } from '../../../shared/id.ts';
import { KeyPair } from '../../../shared/keys.ts';
import {
  announceActiveProxyService,
  createCard,
  findActiveProxyService,
  publishDidDocument,
  REPUBLISH_AFTER_MS,
  resolveDidDocument,
  STORAGE_EXPIRY_MS,
} from '../../../origin/dht/index.ts';
import { startTestnet, type Testnet } from '../../helpers/dht-testnet.ts';

const NODES = 200;
let net: Testnet;

const pick = () => net.nodes[Math.floor(Math.random() * net.nodes.length)];

beforeAll(async () => {
  net = await startTestnet(NODES);
}, 120_000);

afterAll(async () => {
  await net?.stop();
});

describe(`${NODES}-node testnet`, () => {
  it('lookups return the true K closest nodes', async () => {
    for (let i = 0; i < 20; i++) {
      const target = new Id(randomBytes(32));
      const from = pick();
      const truth = net.nodes
        .filter((n) => n !== from)
        .map((n) => n.id)
        .sort((a, b) => target.threeWayCompare(a, b))
        .slice(0, 8)
        .map(String);
      const found = await from.findNode(target);
      expect(found.map((n) => n.id.toString())).toEqual(truth);
    }
  });

  it('stores immutable, signed and encrypted values that any node finds', async () => {
    const owner = KeyPair.generate();
    const reader = KeyPair.generate();
    const values = [
      Value.createImmutable(utf8Encode('immutable across the testnet')),
      Value.createSigned(owner, utf8Encode('signed v1')),
      Value.createEncrypted(KeyPair.generate(), reader.id, utf8Encode('sealed for the reader')),
    ];
    for (const value of values) {
      const accepted = await pick().storeValue(value);
      expect(accepted).toBeGreaterThanOrEqual(6);
      const found = await pick().findValue(value.id);
      expect(found?.equals(value)).toBe(true);
    }
    expect(utf8Decode((await pick().findValue(values[2].id))!.decrypt(reader)!)).toBe(
      'sealed for the reader',
    );
    // A newer version wins.
    const v2 = values[1].update(owner, utf8Encode('signed v2'));
    await pick().storeValue(v2);
    expect((await pick().findValue(owner.id))?.sequenceNumber).toBe(1);
    expect(await pick().findValue(new Id(randomBytes(32)))).toBeNull();
  });

  it('announces peers that any node finds, including an Active Proxy service and a DID document', async () => {
    const service = KeyPair.generate();
    const a = PeerInfo.create(service, 'tcp://127.0.0.1:9001');
    const b = PeerInfo.create(service, 'tcp://127.0.0.1:9002');
    expect(await pick().announcePeer(a)).toBeGreaterThanOrEqual(6);
    expect(await pick().announcePeer(b)).toBeGreaterThanOrEqual(6);
    const found = await pick().findPeer(service.id);
    expect(found.map((p) => p.endpoint).sort()).toEqual([
      'tcp://127.0.0.1:9001',
      'tcp://127.0.0.1:9002',
    ]);

    const proxyKey = KeyPair.generate();
    const superNode = pick();
    await announceActiveProxyService(
      superNode,
      proxyKey,
      '127.0.0.1',
      8090,
      net.keys[net.nodes.indexOf(superNode)],
    );
    const proxies = await findActiveProxyService(pick(), proxyKey.id);
    expect(proxies.map((p) => `${p.host}:${p.port}`)).toEqual(['127.0.0.1:8090']);
    expect(proxies[0].peer.nodeId?.equals(superNode.id)).toBe(true);

    const holder = KeyPair.generate();
    const card = createCard(
      holder,
      [{ id: 'pc2', type: 'PC2Node', endpoint: 'https://alice.ela.city' }],
      [],
      1_700_000_000_000,
    );
    await publishDidDocument(pick(), holder, card);
    const resolved = await resolveDidDocument(pick(), holder.id.toDid());
    expect(resolved?.services).toEqual(card.services);
    expect(resolved?.id.equals(holder.id)).toBe(true);
  });

  it('expires items 2 h after their last store and republishes persistent ones in time', async () => {
    const owner = pick();
    const kept = Value.createImmutable(utf8Encode(`persistent ${Math.random()}`));
    const dropped = Value.createImmutable(utf8Encode(`one-shot ${Math.random()}`));
    const peerKey = KeyPair.generate();
    const keptPeer = PeerInfo.create(peerKey, 'tcp://127.0.0.1:7000');
    await owner.storeValue(kept, { persistent: true });
    await owner.announcePeer(keptPeer, { persistent: true });
    await pick().storeValue(dropped);

    net.clock.advance(REPUBLISH_AFTER_MS + 60_000);
    await owner.runMaintenance();
    net.clock.advance(STORAGE_EXPIRY_MS - REPUBLISH_AFTER_MS);
    for (const n of net.nodes) n.storage.purge();

    const reader = net.nodes.find((n) => n !== owner)!;
    expect((await reader.findValue(kept.id))?.equals(kept)).toBe(true);
    expect(await reader.findValue(dropped.id)).toBeNull();
    expect((await reader.findPeer(peerKey.id)).map((p) => p.endpoint)).toEqual([
      'tcp://127.0.0.1:7000',
    ]);
  });

  it('counts packets and errors per node without drops on a healthy network', () => {
    const c = net.nodes[0].counters();
    expect(c.packetsIn).toBeGreaterThan(0);
    expect(c.packetsOut).toBeGreaterThan(0);
    expect(Object.values(c.dropped).reduce((a, b) => a + b, 0)).toBe(0);
  });
});
