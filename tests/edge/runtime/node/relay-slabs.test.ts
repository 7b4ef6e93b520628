/**
 * The Node.js gateway's relayed responses over connections that read into pooled slabs
 * (edge/runtime/node/slab-connect.ts): while slabs are reused, bodies whose chunks still sit in a slow
 * client's socket queue arrive byte-exact.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../../../edge/runtime/node/server.ts';
import { slabStats } from '../../../../edge/runtime/node/slab-connect.ts';
import { open } from '../../client.ts';
import { bodies } from '../../upstream.ts';
import { createWorld, type World } from '../../world.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('Node gateway, relayed bodies over slab reads', () => {
  let world: World;
  let gateway: Gateway;
  let base: string;

  beforeAll(async () => {
    world = await createWorld();
    gateway = await startGateway({ config: world.config, hostname: '127.0.0.1', httpPort: 0 });
    base = `http://127.0.0.1:${gateway.ports.http}`;
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await world?.close();
  }, 60_000);

  it('concurrent relayed downloads, one read slowly, each byte-exact; slabs are reused', async () => {
    const keys = [0, 1, 2, 3].map((i) => `slabs-${i}-${Math.random()}`);
    for (const key of keys) bodies.set(key, randomBytes(6 * 1024 * 1024));
    const before = slabStats();
    const fetchOne = async (key: string, slow: boolean) => {
      const { req, res } = open(base, 'bob.localhost', `/body?key=${key}`);
      req.end();
      const response = await res;
      expect(response.headers['x-served-by']).toBe('relay:A');
      const hash = createHash('sha256');
      for await (const chunk of response) {
        hash.update(chunk as Buffer);
        if (slow) await new Promise((r) => setTimeout(r, 2));
      }
      return hash.digest('hex');
    };
    const got = await Promise.all(keys.map((key, i) => fetchOne(key, i === 0)));
    expect(got).toEqual(keys.map((key) => sha(bodies.get(key)!)));
    expect(slabStats().reused).toBeGreaterThan(before.reused + 10);
    for (const key of keys) bodies.delete(key);
  }, 60_000);
});
