/** Route cache and edge-token cache, against the loopback registry with an injected clock. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../../edge/config.ts';
import { RouteResolver } from '../../edge/resolver.ts';
import { EdgeTokenCache } from '../../edge/tokens.ts';
import { KeyPair } from '../../shared/keys.ts';
import { signRoute } from '../../shared/records/route.ts';
import { verifyEdgeToken } from '../../shared/records/edge-token.ts';
import { createWorld, type World } from './world.ts';

describe('route resolver', () => {
  let world: World;
  let clock = Date.now();
  const now = () => clock;

  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(() => world.close());

  it('caches a verified route for at most ttlMs, and never past the record expiry', async () => {
    const resolver = new RouteResolver(
      parseEdgeConfig({ ...world.config, now, cache: { ttlMs: 30_000 } }),
    );
    const before = world.a.resolveCount;
    expect((await resolver.resolve('bob')).kind).toBe('online');
    expect((await resolver.resolve('bob')).kind).toBe('online');
    expect(world.a.resolveCount).toBe(before + 1);
    clock += 30_001;
    await resolver.resolve('bob');
    expect(world.a.resolveCount).toBe(before + 2);

    // A record that expires in 2 s is dropped from the cache at its expiry, not after 30 s.
    const owner = world.nodes.get('bob')!;
    const record = world.a.records.get('bob')!;
    const exp = clock + 2_000;
    const shortRoute = await signRoute(
      {
        name: 'bob',
        mode: 'relay',
        relays: [world.a.id.toString()],
        seq: 2,
        iat: clock - 1000,
        exp,
      },
      owner,
    );
    world.a.records.set('bob', { ...record, route: shortRoute });
    const fresh = new RouteResolver(parseEdgeConfig({ ...world.config, now }));
    expect((await fresh.resolve('bob')).kind).toBe('online');
    clock = exp;
    const after = await fresh.resolve('bob');
    expect(after).toMatchObject({ kind: 'offline', reason: 'expired' });
    world.a.records.set('bob', record);
  });

  it('caches unknown names briefly and shares one look-up between concurrent requests', async () => {
    const resolver = new RouteResolver(
      parseEdgeConfig({ ...world.config, now, cache: { negativeTtlMs: 5_000 } }),
    );
    const before = world.a.resolveCount;
    const answers = await Promise.all([
      resolver.resolve('nobody'),
      resolver.resolve('nobody'),
      resolver.resolve('nobody'),
    ]);
    expect(answers.map((a) => a.kind)).toEqual(['unknown', 'unknown', 'unknown']);
    expect(world.a.resolveCount).toBe(before + 1);
    clock += 5_001;
    await resolver.resolve('nobody');
    expect(world.a.resolveCount).toBe(before + 2);
  });

  it('takes a good record from the next super node when one serves a bad one', async () => {
    const good = world.a.records;
    const tampered = new Map(good);
    const mallory = good.get('mallory')!;
    tampered.set('bob', { ...good.get('bob')!, route: mallory.route });
    world.a.records = tampered;
    try {
      const resolver = new RouteResolver(parseEdgeConfig({ ...world.config, now }));
      expect((await resolver.resolve('bob')).kind).toBe('online');
    } finally {
      world.a.records = good;
    }
  });

  it('refuses a config with unknown keys, naming them', () => {
    expect(() => parseEdgeConfig({ ...world.config, zoen: 'x' })).toThrow(
      /unknown option\(s\) zoen/,
    );
    expect(() => parseEdgeConfig({ ...world.config, cache: { ttlMs: 60_000 } })).toThrow(/ttlMs/);
    expect(() =>
      parseEdgeConfig({ ...world.config, superNodes: [{ id: 'x', url: 'http://a' }] }),
    ).toThrow(/not a Base58 id/);
  });
});

describe('edge token cache', () => {
  it('signs once per (node, super node) and renews shortly before expiry', async () => {
    let clock = 1_800_000_000_000;
    const edgeKey = KeyPair.generate();
    const node = KeyPair.generate().id;
    const superNode = KeyPair.generate().id;
    const cache = new EdgeTokenCache({ edgeKey, now: () => clock });
    const first = await cache.get(node, superNode);
    clock += 40_000;
    expect(await cache.get(node, superNode)).toBe(first);
    const verified = await verifyEdgeToken(first, [edgeKey.id], superNode, clock);
    expect(verified.ok && verified.value.node.equals(node)).toBe(true);
    clock += 6_000;
    const second = await cache.get(node, superNode);
    expect(second).not.toBe(first);
    expect((await verifyEdgeToken(second, [edgeKey.id], superNode, clock + 50_000)).ok).toBe(true);
  });
});
