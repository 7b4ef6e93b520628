/**
 * The edge app's own answers (no upstream involved), in every runtime: Node.js, workerd (the Workers
 * adapter's default export included) and Deno. Web APIs only.
 */
import { describe, expect, it } from 'vitest';
import { createEdgeApp } from '../../edge/app.ts';
import { edgeConfigFromEnv, ENV_KEYS } from '../../edge/env-config.ts';
import { statusOf } from '../../edge/errors.ts';
import worker from '../../edge/runtime/workers.ts';
import { KeyPair } from '../../shared/keys.ts';
import { signBinding } from '../../shared/records/binding.ts';
import { signRoute } from '../../shared/records/route.ts';

const registrar = KeyPair.generate();
const superNode = KeyPair.generate();
const edgeKey = KeyPair.generate();
// Port 9 (discard) on loopback: nothing listens there, so every registry look-up is refused.
const DEAD = 'http://127.0.0.1:9';
const env = {
  [ENV_KEYS.zone]: 'ela.city',
  [ENV_KEYS.registrarKeys]: registrar.id.toString(),
  [ENV_KEYS.edgeKey]: edgeKey.bosonPrivateKeyBase58(),
  [ENV_KEYS.superNodes]: `${superNode.id}=${DEAD}`,
};

describe('edge app, on its own', () => {
  const app = createEdgeApp(edgeConfigFromEnv(env));

  it('serves the landing page on the apex and a 404 page elsewhere on it', async () => {
    const landing = await app.fetch(new Request('https://ela.city/'));
    expect(landing.status).toBe(200);
    expect(await landing.text()).toContain('ela.city');
    const other = await app.fetch(new Request('https://ela.city/nope'));
    expect(other.status).toBe(404);
  });

  it('answers 400 for hosts it does not serve', async () => {
    for (const url of [
      'https://a.b.ela.city/',
      'https://evil.example/',
      'https://a_b.ela.city/',
      'https://xela.city/',
    ]) {
      const res = await app.fetch(new Request(url));
      expect(res.status, url).toBe(400);
      expect(res.headers.get('x-pc2-error')).toBe('MALFORMED_HOST');
    }
  });

  it('answers 502 when no registry can be reached: HTML for a node, JSON under the apex API', async () => {
    const page = await app.fetch(new Request('https://alice.ela.city/'));
    expect(page.status).toBe(502);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const api = await app.fetch(new Request('https://ela.city/api/v1/names/alice'));
    expect(api.status).toBe(502);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe(
      'REGISTRY_UNAVAILABLE',
    );
  });

  it('answers 421 for a private name (its node terminates TLS) and never forwards to it: what a Workers-only deployment does', async () => {
    const owner = KeyPair.generate();
    const now = Date.now();
    const body = JSON.stringify({
      name: 'alice',
      binding: await signBinding(
        { name: 'alice', owner: owner.id.toString(), boundAt: now - 1000 },
        registrar,
      ),
      route: await signRoute(
        {
          name: 'alice',
          mode: 'direct',
          endpoint: 'https://203.0.113.5:8443',
          relays: [],
          tls: 'node',
          seq: 1,
          iat: now - 1000,
          exp: now + 60_000,
        },
        owner,
      ),
    });
    const asked: string[] = [];
    const privateApp = createEdgeApp({
      ...edgeConfigFromEnv(env),
      fetch: async (input) => {
        asked.push(String(input));
        return new Response(body, { headers: { 'content-type': 'application/json' } });
      },
    });
    const res = await privateApp.fetch(new Request('https://alice.ela.city/secret'));
    expect(res.status).toBe(421);
    expect(res.headers.get('x-pc2-error')).toBe('PRIVATE_NAME');
    expect(asked).toEqual([`${DEAD}/api/v1/names/alice`]);
  });

  it('maps every error code to one status', () => {
    expect([
      statusOf('MALFORMED_HOST'),
      statusOf('UNKNOWN_NAME'),
      statusOf('NODE_OFFLINE'),
      statusOf('UNVERIFIED_ROUTE'),
      statusOf('PRIVATE_NAME'),
    ]).toEqual([400, 404, 503, 502, 421]);
  });
});

describe('edge configuration', () => {
  it('refuses unknown PC2_EDGE_ variables and bad values, naming them', () => {
    expect(() => edgeConfigFromEnv({ ...env, PC2_EDGE_ZOEN: 'x' })).toThrow(/PC2_EDGE_ZOEN/);
    expect(() => createEdgeApp(edgeConfigFromEnv({ ...env, [ENV_KEYS.edgeKey]: 'short' }))).toThrow(
      /edgeKey/,
    );
    expect(() =>
      createEdgeApp(
        edgeConfigFromEnv({ ...env, [ENV_KEYS.superNodes]: `${superNode.id}=ftp://x` }),
      ),
    ).toThrow(/http/);
    const parsed = edgeConfigFromEnv({
      ...env,
      [ENV_KEYS.superNodes]: JSON.stringify([{ id: superNode.id.toString(), url: DEAD }]),
    });
    expect(parsed.superNodes).toEqual([{ id: superNode.id.toString(), url: DEAD }]);
  });

  it('the Workers entry serves from its env, and shows a config error as a 500 page', async () => {
    const ok = await worker.fetch(new Request('https://ela.city/'), env);
    expect(ok.status).toBe(200);
    const bad = await worker.fetch(new Request('https://ela.city/'), {
      ...env,
      PC2_EDGE_TYPO: '1',
    });
    expect(bad.status).toBe(500);
    expect(bad.headers.get('x-pc2-error')).toBe('INVALID_CONFIG');
  });
});
