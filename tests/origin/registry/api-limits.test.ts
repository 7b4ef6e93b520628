import { afterAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../../shared/keys.ts';
import { registryOpPaths, registryPaths } from '../../../shared/records/api.ts';
import type { NameBinding } from '../../../shared/records/binding.ts';
import { decodeJwsPayload, signRequest } from '../../../shared/records/request.ts';
import { signRoute } from '../../../shared/records/route.ts';
import { clientFor, expectCode, ManualClock, removeTempDirs, startRegistry } from './helpers.ts';

afterAll(removeTempDirs);

describe('rate limits', () => {
  it('limits writes per client IP and per name with 429 RATE_LIMITED', async () => {
    const clock = new ManualClock();
    const node = await startRegistry({
      clock,
      rateLimits: {
        writesPerIpPerSec: 1,
        writesPerIpBurst: 4,
        writesPerNamePerMin: 1,
        writesPerNameBurst: 2,
      },
    });
    try {
      const c = clientFor(node, KeyPair.generate(), clock);
      const route = { name: 'limited-a', mode: 'relay' as const, relays: [node.key.id.toString()] };
      await c.claim('limited-a');
      await c.publishRoute(route);
      await expectCode(c.publishRoute(route), 'RATE_LIMITED', 429); // per name
      clock.advance(60_000);
      await c.claim('limited-b');
      await c.claim('limited-c');
      await c.claim('limited-d');
      await c.claim('limited-e');
      await expectCode(c.claim('limited-f'), 'RATE_LIMITED', 429); // per IP
      clock.advance(1000);
      await c.claim('limited-f');
    } finally {
      await node.close();
    }
  });

  it("charges a name's write budget only to its owner's verified writes (no lock-out)", async () => {
    const clock = new ManualClock();
    const node = await startRegistry({
      clock,
      trustedProxies: ['127.0.0.1'],
      rateLimits: { writesPerNamePerMin: 1, writesPerNameBurst: 3 },
    });
    try {
      const owner = clientFor(node, KeyPair.generate(), clock);
      const route = { name: 'locked', mode: 'relay' as const, relays: [node.key.id.toString()] };
      await owner.claim('locked');
      const put = (body: unknown) =>
        fetch(node.url + registryOpPaths.route('locked'), {
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': '6.6.6.6' },
          body: JSON.stringify(body),
        }).then((r) => r.status);
      const stranger = KeyPair.generate();
      const strangers = await Promise.all(
        [1, 2, 3, 4, 5].map((seq) =>
          signRoute(
            { ...route, seq, iat: clock.t, exp: clock.t + 60_000, endpoint: undefined },
            stranger,
          ),
        ),
      );
      for (let i = 0; i < 5; i++) {
        expect(await put({ route: 'junk' })).toBe(401);
        expect(await put({ route: strangers[i] })).toBe(403);
      }
      // The name's budget is untouched (the claim took one of three): the owner renews, twice.
      await owner.publishRoute(route);
      await owner.publishRoute(route);
    } finally {
      await node.close();
    }
  });

  it('bounds the signature verifications a source can cause; junk that fails cheap checks costs none', async () => {
    const clock = new ManualClock();
    const node = await startRegistry({
      clock,
      rateLimits: { verificationsPerIpPerSec: 1, verificationsPerIpBurst: 3 },
    });
    try {
      const owner = clientFor(node, KeyPair.generate(), clock);
      await owner.claim('verified');
      const boundAt = decodeJwsPayload<NameBinding>(
        (await owner.resolve('verified')).binding,
      ).boundAt;
      const post = (request: string) =>
        fetch(node.url + registryOpPaths.release('verified'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ request }),
        }).then(async (r) => [
          r.status,
          ((await r.json()) as { error: { code: string } }).error.code,
        ]);
      // Not the owner's, out of date or for another binding: refused before any verification.
      const stranger = KeyPair.generate();
      for (let seq = 1; seq <= 10; seq++) {
        const notOwner = await signRequest(
          { op: 'release', name: 'verified', seq, iat: clock.t, boundAt },
          stranger,
        );
        expect(await post(notOwner)).toEqual([403, 'NOT_OWNER']);
      }
      // The owner's kid with a bad signature passes the cheap checks: each costs a verification.
      const forged = async (seq: number) => {
        const real = await signRequest(
          { op: 'release', name: 'verified', seq, iat: clock.t, boundAt },
          owner.key,
        );
        const [h, p] = real.split('.');
        return `${h}.${p}.${Buffer.alloc(64, 1).toString('base64url')}`;
      };
      // (the claim above spent one verification)
      expect(await post(await forged(Date.now()))).toEqual([401, 'INVALID_SIGNATURE']);
      expect(await post(await forged(Date.now() + 1))).toEqual([401, 'INVALID_SIGNATURE']);
      expect(await post(await forged(Date.now() + 2))).toEqual([429, 'RATE_LIMITED']);
      clock.advance(1000);
      expect(await post(await forged(Date.now() + 3))).toEqual([401, 'INVALID_SIGNATURE']);
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
