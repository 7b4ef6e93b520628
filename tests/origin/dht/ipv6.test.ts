/** IPv4 and IPv6 run as two DHTs side by side in one node (here on 127.0.0.1 and ::1). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8Encode } from '../../../shared/bytes.ts';
import { Value } from '../../../shared/dht/index.ts';
import { KeyPair } from '../../../shared/keys.ts';
import { DhtNode } from '../../../origin/dht/index.ts';

const nodes: DhtNode[] = [];

beforeAll(async () => {
  for (let i = 0; i < 6; i++) {
    const seed = nodes[0];
    const bootstrap = seed
      ? [
          { id: seed.id, ...seed.address() },
          { id: seed.id, ...seed.address6()! },
        ]
      : [];
    const node = new DhtNode({
      key: KeyPair.generate(),
      host: '127.0.0.1',
      host6: '::1',
      port: 0,
      developerMode: true,
      bootstrap,
    });
    await node.start();
    nodes.push(node);
  }
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

describe('dual-stack node', () => {
  it('binds an IPv6 socket and fills a separate IPv6 routing table', () => {
    for (const n of nodes) {
      expect(n.address6()?.host).toBe('::1');
      expect(n.routingTableSize().v6).toBeGreaterThan(0);
    }
  });

  it('finds nodes on both families and stores values on both', async () => {
    const target = nodes[5].id;
    const found = await nodes[1].findNode(target);
    const hosts = found
      .filter((n) => n.id.equals(target))
      .map((n) => n.host)
      .sort();
    expect(hosts).toEqual(['127.0.0.1', '::1']);
    const value = Value.createImmutable(utf8Encode('dual stack'));
    // Every other node accepts on each family: 5 over IPv4 and 5 over IPv6.
    expect(await nodes[2].storeValue(value)).toBe(10);
    expect((await nodes[4].findValue(value.id))?.equals(value)).toBe(true);
  });
});
