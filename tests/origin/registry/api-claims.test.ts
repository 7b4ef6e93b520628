import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../../shared/keys.ts';
import { registryOpPaths, registryPaths } from '../../../shared/records/api.ts';
import { verifyBinding } from '../../../shared/records/binding.ts';
import { signRequest } from '../../../shared/records/request.ts';
import { AgentError } from '../../../agent/errors.ts';
import { RegistryClient } from '../../../agent/registry-client.ts';
import { createRegistry } from '../../../origin/registry/index.ts';
import {
  clientFor,
  expectCode,
  ManualClock,
  removeTempDirs,
  startRegistry,
  tempDir,
} from './helpers.ts';

const clock = new ManualClock();
let node: Awaited<ReturnType<typeof startRegistry>>;

beforeAll(async () => {
  node = await startRegistry({
    clock,
    reservedNames: ['api', 'www', 'forbidden'],
    holdPeriodMs: 30 * 24 * 3600_000,
  });
});
afterAll(async () => {
  await node?.close();
  removeTempDirs();
});

async function post(
  path: string,
  body: unknown,
): Promise<{
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}> {
  const res = await fetch(node.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as never };
}

describe('claiming names', () => {
  it('binds a free name to the first key, signed by the registrar', async () => {
    const alice = clientFor(node, KeyPair.generate(), clock);
    const claimed = await alice.claim('alice');
    expect(claimed.created).toBe(true);
    const verified = await verifyBinding(claimed.binding, [node.key.id]);
    expect(verified.ok && verified.value.owner.equals(alice.key.id)).toBe(true);
    expect(verified.ok && verified.value.binding.boundAt).toBe(clock.t);
    // claiming again with the same key is idempotent
    const again = await alice.claim('alice');
    expect(again).toEqual({ name: 'alice', binding: claimed.binding, created: false });
  });

  it('refuses the name to every other key (first come, first served)', async () => {
    const owner = clientFor(node, KeyPair.generate(), clock);
    await owner.claim('first-come');
    for (let i = 0; i < 3; i++)
      await expectCode(
        clientFor(node, KeyPair.generate(), clock).claim('first-come'),
        'NAME_TAKEN',
        409,
      );
  });

  it('refuses bad and reserved names with 400 / 403', async () => {
    const c = clientFor(node, KeyPair.generate(), clock);
    for (const bad of [
      'ab',
      'a'.repeat(64),
      '-alice',
      'alice-',
      'Alice',
      'al_ice',
      'al.ice',
      'xn--abc',
      'a--b',
      'héllo',
    ]) {
      await expectCode(c.claim(bad), 'INVALID_NAME', 400);
    }
    await expectCode(c.claim('forbidden'), 'RESERVED_NAME', 403);
    expect(await c.available('forbidden')).toEqual({
      name: 'forbidden',
      available: false,
      reason: 'reserved',
    });
    expect(await c.available('Bad_Name')).toEqual({
      name: 'Bad_Name',
      available: false,
      reason: 'invalid',
    });
  });

  it('refuses a replayed request, a reused seq and a request for another name or op', async () => {
    const key = KeyPair.generate();
    const request = await signRequest(
      { op: 'claim', name: 'replayed', seq: 10, iat: clock.t, registrar: node.key.id.toString() },
      key,
    );
    expect((await post(registryOpPaths.claim('replayed'), { request })).status).toBe(201);
    const replay = await post(registryOpPaths.claim('replayed'), { request });
    expect(replay).toEqual({
      status: 409,
      body: { error: { code: 'REPLAYED', message: expect.any(String) } },
    });
    const sameSeq = await signRequest(
      { op: 'release', name: 'replayed', seq: 10, iat: clock.t, boundAt: clock.t },
      key,
    );
    expect(
      (await post(registryOpPaths.release('replayed'), { request: sameSeq })).body.error?.code,
    ).toBe('REPLAYED');
    const otherName = await signRequest(
      { op: 'claim', name: 'somewhere', seq: 11, iat: clock.t, registrar: node.key.id.toString() },
      key,
    );
    expect(
      (await post(registryOpPaths.claim('elsewhere'), { request: otherName })).body.error?.code,
    ).toBe('WRONG_NAME');
    const otherOp = await signRequest(
      { op: 'release', name: 'replayed', seq: 12, iat: clock.t, boundAt: clock.t },
      key,
    );
    expect((await post(registryOpPaths.claim('replayed'), { request: otherOp })).status).toBe(400);
  });

  it('refuses requests issued more than 60 s from the registrar clock, either way', async () => {
    const key = KeyPair.generate();
    for (const skew of [-60_001, 60_001]) {
      const request = await signRequest(
        {
          op: 'claim',
          name: 'skewed',
          seq: 1,
          iat: clock.t + skew,
          registrar: node.key.id.toString(),
        },
        key,
      );
      const res = await post(registryOpPaths.claim('skewed'), { request });
      expect(res.status).toBe(401);
      expect(res.body.error?.code).toBe('CLOCK_SKEW');
    }
    const within = await signRequest(
      {
        op: 'claim',
        name: 'skewed',
        seq: 2,
        iat: clock.t - 59_000,
        registrar: node.key.id.toString(),
      },
      key,
    );
    expect((await post(registryOpPaths.claim('skewed'), { request: within })).status).toBe(201);
  });

  it('refuses forged, tampered and malformed requests with JSON errors', async () => {
    const key = KeyPair.generate();
    const request = await signRequest(
      { op: 'claim', name: 'tampered', seq: 1, iat: clock.t, registrar: node.key.id.toString() },
      key,
    );
    const [h, p, s] = request.split('.');
    const otherPayload = Buffer.from(
      JSON.stringify({
        v: 1,
        op: 'claim',
        name: 'tampered',
        seq: 99,
        iat: clock.t,
        registrar: node.key.id.toString(),
      }),
    ).toString('base64url');
    expect(
      (await post(registryOpPaths.claim('tampered'), { request: `${h}.${otherPayload}.${s}` })).body
        .error?.code,
    ).toBe('INVALID_SIGNATURE');
    expect(
      (
        await post(registryOpPaths.claim('tampered'), {
          request: `${h}.${p}.${s.slice(0, -4)}AAAA`,
        })
      ).status,
    ).toBe(401);
    expect((await post(registryOpPaths.claim('tampered'), { request: 'garbage' })).status).toBe(
      401,
    );
    expect((await post(registryOpPaths.claim('tampered'), {})).status).toBe(401);
    const notJson = await fetch(node.url + registryOpPaths.claim('tampered'), {
      method: 'POST',
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    const tooBig = await fetch(node.url + registryOpPaths.claim('tampered'), {
      method: 'POST',
      body: 'x'.repeat(70_000),
    });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: { code: string } }).error.code).toBe(
      'BODY_TOO_LARGE',
    );
  });

  it('resolves only registered names and lists nothing', async () => {
    const c = clientFor(node, KeyPair.generate(), clock);
    await expectCode(c.resolve('nobody-here'), 'NOT_FOUND', 404);
    for (const path of ['/api/v1/names', '/api/v1/names/', '/api/v1/replication/changes']) {
      const res = await fetch(node.url + path);
      expect(res.status === 404 || res.status === 401).toBe(true);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toMatch(/NOT_FOUND|UNAUTHENTICATED/);
    }
  });

  it('the node:http fast path and the Hono routes answer alike', async () => {
    const c = clientFor(node, KeyPair.generate(), clock);
    await c.claim('same-answer');
    for (const name of ['same-answer', 'nobody-there', 'Bad_Name']) {
      const viaServer = await fetch(node.url + registryPaths.resolve(name));
      const viaApp = await node.registry.app.request(registryPaths.resolve(name));
      expect(viaServer.status).toBe(viaApp.status);
      expect(await viaServer.json()).toEqual(await viaApp.json());
      expect(viaServer.headers.get('content-type')).toContain('application/json');
    }
    // a signed write through the Hono app, its replay through node:http, and the reverse
    const key = KeyPair.generate();
    const first = await signRequest(
      { op: 'claim', name: 'via-hono', seq: 1, iat: clock.t, registrar: node.key.id.toString() },
      key,
    );
    const init = (request: string) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request }),
    });
    const created = await node.registry.app.request(registryOpPaths.claim('via-hono'), init(first));
    expect(created.status).toBe(201);
    expect(
      (
        (await (await fetch(node.url + registryOpPaths.claim('via-hono'), init(first))).json()) as {
          error: { code: string };
        }
      ).error.code,
    ).toBe('REPLAYED');
    const second = await signRequest(
      { op: 'release', name: 'via-hono', seq: 2, iat: clock.t, boundAt: clock.t },
      key,
    );
    expect((await fetch(node.url + registryOpPaths.release('via-hono'), init(second))).status).toBe(
      200,
    );
    const replayed = await node.registry.app.request(
      registryOpPaths.release('via-hono'),
      init(second),
    );
    expect(replayed.status).toBe(409);
    expect(
      await (
        await node.registry.app.request(registryOpPaths.claim('via-hono'), {
          method: 'POST',
          body: '[]',
        })
      ).json(),
    ).toEqual({
      error: { code: 'BAD_REQUEST', message: 'the body is a JSON object' },
    });
  });

  it('answers health and registrar with its id and trusted registrars', async () => {
    const c = clientFor(node, KeyPair.generate(), clock);
    expect(await c.health()).toEqual({
      ok: true,
      registrar: node.key.id.toString(),
      time: clock.t,
    });
    expect(await c.registrar()).toEqual({
      id: node.key.id.toString(),
      did: node.key.id.toDid(),
      trusted: [node.key.id.toString()],
    });
    const raw = await fetch(node.url + registryPaths.health);
    expect(raw.headers.get('content-type')).toContain('application/json');
  });

  it('throws AgentError with NETWORK when nothing listens', async () => {
    const c = clientFor({ url: 'http://127.0.0.1:1' }, KeyPair.generate());
    const e = await c.health().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AgentError);
    expect((e as AgentError).code).toBe('NETWORK');
  });

  it('rejects unknown options', () => {
    const key = KeyPair.generate();
    expect(() =>
      createRegistry({ key, trustedRegistrars: [], dataDir: tempDir(), holdPeriod: 5 } as never),
    ).toThrow(/registry options: unknown option\(s\) holdPeriod/);
    expect(() => new RegistryClient({ url: 'http://x', key, port: 1 } as never)).toThrow(
      /RegistryClient options: unknown option\(s\) port/,
    );
  });
});
