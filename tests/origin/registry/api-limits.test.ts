import { afterAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../../shared/keys.ts';
import { registryPaths } from '../../../shared/records/api.ts';
import { clientFor, expectCode, ManualClock, removeTempDirs, startRegistry } from './helpers.ts';

afterAll(removeTempDirs);

describe('rate limits', () => {
  it('limits writes per client IP and per name with 429 RATE_LIMITED', async () => {
    const clock = new ManualClock();
    const node = await startRegistry({
      clock,
      rateLimits: {
        writesPerIpPerSec: 1,
        writesPerIpBurst: 3,
        writesPerNamePerMin: 1,
        writesPerNameBurst: 2,
      },
    });
    try {
      const c = clientFor(node, KeyPair.generate(), clock);
      await c.claim('limited-a');
      await c.claim('limited-a');
      await expectCode(c.claim('limited-a'), 'RATE_LIMITED', 429); // per name
      clock.advance(60_000);
      await c.claim('limited-b');
      await c.claim('limited-c');
      await c.claim('limited-d');
      await expectCode(c.claim('limited-e'), 'RATE_LIMITED', 429); // per IP
      clock.advance(1000);
      await c.claim('limited-e');
    } finally {
      await node.close();
    }
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const limits = { readsPerIpPerSec: 1, readsPerIpBurst: 2 };
    const clock = new ManualClock();
    const direct = await startRegistry({ clock, rateLimits: limits });
    const behindEdge = await startRegistry({
      clock,
      rateLimits: limits,
      trustedProxies: ['127.0.0.1'],
    });
    try {
      const get = (url: string, xff: string) =>
        fetch(url + registryPaths.available('someone'), {
          headers: { 'x-forwarded-for': xff },
        }).then((r) => r.status);
      // Untrusted peer: a spoofed header does not give fresh buckets.
      expect([
        await get(direct.url, '1.1.1.1'),
        await get(direct.url, '2.2.2.2'),
        await get(direct.url, '3.3.3.3'),
      ]).toEqual([200, 200, 429]);
      // Trusted edge: each forwarded client has its own bucket; the rightmost untrusted hop counts.
      expect([
        await get(behindEdge.url, '1.1.1.1'),
        await get(behindEdge.url, '1.1.1.1'),
        await get(behindEdge.url, '1.1.1.1'),
      ]).toEqual([200, 200, 429]);
      expect(await get(behindEdge.url, '9.9.9.9, 2.2.2.2')).toBe(200);
      expect(await get(behindEdge.url, '9.9.9.9, 2.2.2.2')).toBe(200);
      expect(await get(behindEdge.url, '1.1.1.1, 2.2.2.2')).toBe(429);
      // resolves (served by the node:http fast path) are charged to the same buckets
      const resolve = (xff: string) =>
        fetch(behindEdge.url + registryPaths.resolve('someone'), {
          headers: { 'x-forwarded-for': xff },
        });
      const limited = await resolve('1.1.1.1');
      expect(limited.status).toBe(429);
      expect(((await limited.json()) as { error: { code: string } }).error.code).toBe(
        'RATE_LIMITED',
      );
      expect((await resolve('7.7.7.7')).status).toBe(404);
    } finally {
      await direct.close();
      await behindEdge.close();
    }
  });
});
