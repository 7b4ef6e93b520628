import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../../shared/keys.ts';
import { registryOpPaths } from '../../../shared/records/api.ts';
import { verifyBinding } from '../../../shared/records/binding.ts';
import type { NameBinding } from '../../../shared/records/binding.ts';
import { decodeJwsPayload, signRequest } from '../../../shared/records/request.ts';
import { signRoute, verifyResolution } from '../../../shared/records/route.ts';
import type { VerifiedRoute } from '../../../shared/records/route.ts';
import { clientFor, expectCode, ManualClock, removeTempDirs, startRegistry } from './helpers.ts';

const HOLD_MS = 30 * 24 * 3600_000;
const clock = new ManualClock();
const announced: VerifiedRoute[] = [];
let node: Awaited<ReturnType<typeof startRegistry>>;

beforeAll(async () => {
  node = await startRegistry({ clock, onRoutePublished: (r) => announced.push(r) });
});
afterAll(async () => {
  await node?.close();
  removeTempDirs();
});

async function owned(name: string) {
  const c = clientFor(node, KeyPair.generate(), clock);
  await c.claim(name);
  return c;
}

describe('route records', () => {
  it('publishes and renews a route the edge can verify; each renewal needs a higher seq', async () => {
    const c = await owned('routed');
    const relay = KeyPair.generate().id.toString();
    expect(
      await c.publishRoute({
        name: 'routed',
        mode: 'relay',
        relays: [relay],
        seq: 5,
        ttlMs: 60_000,
      }),
    ).toEqual({ name: 'routed', seq: 5, exp: clock.t + 60_000 });
    const resolved = await c.resolve('routed');
    const v = await verifyResolution(resolved, [node.key.id], clock.t);
    expect(v.ok && v.value.state).toBe('online');
    expect(announced.at(-1)?.route.seq).toBe(5);
    await expectCode(
      c.publishRoute({ name: 'routed', mode: 'relay', relays: [relay], seq: 5 }),
      'STALE_SEQ',
      409,
    );
    await expectCode(
      c.publishRoute({ name: 'routed', mode: 'relay', relays: [relay], seq: 4 }),
      'STALE_SEQ',
      409,
    );
    await c.publishRoute({
      name: 'routed',
      mode: 'direct',
      endpoint: 'https://routed.example.org',
      seq: 6,
    });
    expect(
      JSON.parse(
        Buffer.from((await c.resolve('routed')).route!.split('.')[1], 'base64url').toString(),
      ).seq,
    ).toBe(6);
  });

  it('refuses a replayed route record', async () => {
    const key = KeyPair.generate();
    const c = clientFor(node, key, clock);
    await c.claim('route-replay');
    const route = await signRoute(
      {
        name: 'route-replay',
        mode: 'relay',
        relays: [node.key.id.toString()],
        seq: 1,
        iat: clock.t,
        exp: clock.t + 60_000,
      },
      key,
    );
    const put = (body: unknown) =>
      fetch(node.url + registryOpPaths.route('route-replay'), {
        method: 'PUT',
        body: JSON.stringify(body),
      });
    expect((await put({ route })).status).toBe(200);
    const again = await put({ route });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('STALE_SEQ');
  });

  it('refuses skewed, expired, foreign-name and malformed route records', async () => {
    const key = KeyPair.generate();
    const c = clientFor(node, key, clock);
    await c.claim('route-rules');
    const relays = [node.key.id.toString()];
    const put = async (route: string, name = 'route-rules') => {
      const res = await fetch(node.url + registryOpPaths.route(name), {
        method: 'PUT',
        body: JSON.stringify({ route }),
      });
      return {
        status: res.status,
        code: ((await res.json()) as { error?: { code: string } }).error?.code,
      };
    };
    expect(
      await put(
        await signRoute(
          {
            name: 'route-rules',
            mode: 'relay',
            relays,
            seq: 1,
            iat: clock.t + 61_000,
            exp: clock.t + 120_000,
          },
          key,
        ),
      ),
    ).toEqual({ status: 401, code: 'CLOCK_SKEW' });
    expect(
      await put(
        await signRoute(
          {
            name: 'route-rules',
            mode: 'relay',
            relays,
            seq: 2,
            iat: clock.t - 61_000,
            exp: clock.t + 1000,
          },
          key,
        ),
      ),
    ).toEqual({ status: 401, code: 'CLOCK_SKEW' });
    expect(
      await put(
        await signRoute(
          {
            name: 'route-rules',
            mode: 'relay',
            relays,
            seq: 3,
            iat: clock.t - 30_000,
            exp: clock.t - 1,
          },
          key,
        ),
      ),
    ).toEqual({ status: 422, code: 'INVALID_RECORD' });
    expect(
      await put(
        await signRoute(
          { name: 'routed', mode: 'relay', relays, seq: 4, iat: clock.t, exp: clock.t + 1000 },
          key,
        ),
      ),
    ).toEqual({ status: 422, code: 'WRONG_NAME' });
    expect(
      await put(
        await signRoute(
          {
            name: 'route-rules',
            mode: 'relay',
            relays: [],
            seq: 5,
            iat: clock.t,
            exp: clock.t + 1000,
          },
          key,
        ),
      ),
    ).toEqual({ status: 422, code: 'INVALID_RECORD' });
    expect(await put('not.a.jws')).toEqual({ status: 401, code: 'INVALID_SIGNATURE' });
  });

  it('refuses direct endpoints on loopback, private and special ranges', async () => {
    const c = await owned('ssrf-target');
    let seq = 10;
    for (const endpoint of [
      'http://127.0.0.1:4200',
      'http://[::1]/',
      'http://10.0.0.7',
      'http://169.254.169.254',
      'http://100.64.1.1',
      'http://[::ffff:192.168.0.1]',
      'http://2130706433',
      'http://localhost',
      'http://x.internal',
      'http://[fe80::1]',
      'ftp://8.8.8.8',
    ]) {
      await expectCode(
        c.publishRoute({ name: 'ssrf-target', mode: 'direct', endpoint, seq: seq++ }),
        endpoint.startsWith('ftp') ? 'INVALID_RECORD' : 'INVALID_ENDPOINT',
        422,
      );
    }
    await c.publishRoute({
      name: 'ssrf-target',
      mode: 'direct',
      endpoint: 'https://8.8.8.8:8443',
      seq: seq++,
    });
  });

  it('accepts loopback endpoints in developer mode', async () => {
    const dev = await startRegistry({ developerMode: true });
    try {
      const c = clientFor(dev);
      await c.claim('devnode');
      expect(
        (
          await c.publishRoute({
            name: 'devnode',
            mode: 'direct',
            endpoint: 'http://127.0.0.1:4200',
          })
        ).name,
      ).toBe('devnode');
    } finally {
      await dev.close();
    }
  });

  it('an expired lease resolves as offline; the name stays bound for the hold period, then anyone may claim it', async () => {
    const c = await owned('leased');
    await c.publishRoute({
      name: 'leased',
      mode: 'relay',
      relays: [node.key.id.toString()],
      ttlMs: 60_000,
    });
    clock.advance(61_000);
    const v = await verifyResolution(await c.resolve('leased'), [node.key.id], clock.t);
    expect(v.ok && v.value.state === 'offline' && v.value.reason).toBe('expired');
    const other = clientFor(node, KeyPair.generate(), clock);
    await expectCode(other.claim('leased'), 'NAME_HELD', 409);
    expect(await other.available('leased')).toEqual({
      name: 'leased',
      available: false,
      reason: 'held',
    });
    clock.advance(HOLD_MS - 120_000);
    await expectCode(other.claim('leased'), 'NAME_HELD', 409);
    clock.advance(120_000);
    expect(await other.available('leased')).toEqual({ name: 'leased', available: true });
    const taken = await other.claim('leased');
    const b = await verifyBinding(taken.binding, [node.key.id]);
    expect(b.ok && b.value.owner.equals(other.key.id)).toBe(true);
    await expectCode(
      c.publishRoute({ name: 'leased', mode: 'relay', relays: [node.key.id.toString()] }),
      'NOT_OWNER',
      403,
    );
  });

  it('a claimed name that never published a route is held from its bound-at', async () => {
    await owned('never-routed');
    const other = clientFor(node, KeyPair.generate(), clock);
    expect(await other.available('never-routed')).toEqual({
      name: 'never-routed',
      available: false,
      reason: 'taken',
    });
    clock.advance(HOLD_MS);
    expect((await other.claim('never-routed')).created).toBe(true);
  });
});

describe('hijack attempts by other keys', () => {
  it('none succeed: route, release, transfer, accept, claim and forged-kid requests', async () => {
    const owner = await owned('victim');
    await owner.publishRoute({ name: 'victim', mode: 'relay', relays: [node.key.id.toString()] });
    const before = await owner.resolve('victim');
    const thief = clientFor(node, KeyPair.generate(), clock);
    await expectCode(thief.claim('victim'), 'NAME_TAKEN', 409);
    await expectCode(
      thief.publishRoute({ name: 'victim', mode: 'direct', endpoint: 'https://evil.example.com' }),
      'NOT_OWNER',
      403,
    );
    await expectCode(thief.release('victim'), 'NOT_OWNER', 403);
    await expectCode(thief.transfer('victim', KeyPair.generate().id), 'NOT_OWNER', 403);
    await expectCode(thief.acceptTransfer('victim'), 'NO_PENDING_TRANSFER', 404);
    // a request claiming to be the owner (owner's kid) but signed by the thief
    // (well formed, for the owner's binding: only its signature is wrong)
    const boundAt = decodeJwsPayload<NameBinding>(before.binding).boundAt;
    const forged = await signRequest(
      { op: 'release', name: 'victim', seq: Date.now(), iat: clock.t, boundAt },
      thief.key,
    );
    const [, payload, sig] = forged.split('.');
    const ownerHeader = Buffer.from(
      JSON.stringify({ alg: 'EdDSA', kid: owner.key.id.toDid(), typ: 'pc2-request' }),
    ).toString('base64url');
    const res = await fetch(node.url + registryOpPaths.release('victim'), {
      method: 'POST',
      body: JSON.stringify({ request: `${ownerHeader}.${payload}.${sig}` }),
    });
    expect(res.status).toBe(401);
    // an offer made to someone else cannot be accepted by the thief
    const friend = clientFor(node, KeyPair.generate(), clock);
    await owner.transfer('victim', friend.key.id);
    await expectCode(thief.acceptTransfer('victim'), 'NO_PENDING_TRANSFER', 404);
    expect(await owner.resolve('victim')).toEqual(before);
  });
});

describe('release and transfer', () => {
  it('the owner releases a name; it stops resolving and anyone may claim it', async () => {
    const c = await owned('released');
    await c.publishRoute({ name: 'released', mode: 'relay', relays: [node.key.id.toString()] });
    expect(await c.release('released')).toEqual({ name: 'released', released: true });
    await expectCode(c.resolve('released'), 'NOT_FOUND', 404);
    await expectCode(c.release('released'), 'NOT_FOUND', 404);
    const next = clientFor(node, KeyPair.generate(), clock);
    expect((await next.claim('released')).created).toBe(true);
  });

  it('a transfer needs the owner offer and the new key acceptance; the old owner loses every right', async () => {
    const old = await owned('moving');
    await old.publishRoute({ name: 'moving', mode: 'relay', relays: [node.key.id.toString()] });
    const fresh = clientFor(node, KeyPair.generate(), clock);
    await expectCode(fresh.acceptTransfer('moving'), 'NO_PENDING_TRANSFER', 404);
    const offer = await old.transfer('moving', fresh.key.id);
    expect(offer).toEqual({
      name: 'moving',
      to: fresh.key.id.toString(),
      expiresAt: clock.t + 24 * 3600_000,
    });
    const accepted = await fresh.acceptTransfer('moving', old.key.id);
    const b = await verifyBinding(accepted.binding, [node.key.id]);
    expect(b.ok && b.value.owner.equals(fresh.key.id)).toBe(true);
    const resolved = await fresh.resolve('moving');
    expect(resolved.route).toBeNull();
    await expectCode(
      old.publishRoute({ name: 'moving', mode: 'relay', relays: [node.key.id.toString()] }),
      'NOT_OWNER',
      403,
    );
    await expectCode(old.release('moving'), 'NOT_OWNER', 403);
    await fresh.publishRoute({ name: 'moving', mode: 'relay', relays: [node.key.id.toString()] });
    await expectCode(fresh.acceptTransfer('moving'), 'NO_PENDING_TRANSFER', 404);
  });

  it('a transfer offer lapses', async () => {
    const old = await owned('lapsing');
    const fresh = clientFor(node, KeyPair.generate(), clock);
    await old.transfer('lapsing', fresh.key.id);
    clock.advance(24 * 3600_000);
    await expectCode(fresh.acceptTransfer('lapsing'), 'NO_PENDING_TRANSFER', 404);
  });
});
