/**
 * Two `pc2 supernode` processes (peers, not in developer mode, default rate limits) under the attacks
 * an outsider made against them: a name owner locked out by junk, a claim replayed at the other
 * registrar, the probe as a port scanner, bodies of any size, edge tokens dated ahead.
 */
import http from 'node:http';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../agent/registry-client.ts';
import { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import {
  INGRESS_HEADERS,
  probePath,
  registryOpPaths,
  registryPaths,
} from '../../shared/records/api.ts';
import { signRequest } from '../../shared/records/request.ts';
import { signEdgeToken } from '../../shared/records/edge-token.ts';
import { signRoute } from '../../shared/records/route.ts';
import { type KeyFile, keyFile, type Proc, tempDir } from '../helpers/processes.ts';
import {
  type SuperNodeProc,
  startSuperNodeProc,
  superNodeProcs,
} from '../helpers/supernode-procs.ts';

let dir: string;
let sn1: SuperNodeProc;
let sn2: SuperNodeProc;
let edge: KeyFile;
const procs: Proc[] = [];

beforeAll(async () => {
  dir = tempDir('pc2-registry-attacks-');
  edge = await keyFile(dir, 'edge');
  [sn1, sn2] = await superNodeProcs(dir, ['sn1', 'sn2'], {
    edgeKeys: [edge.key.id.toString()],
    noDht: true,
  });
  procs.push(...(await Promise.all([startSuperNodeProc(sn1), startSuperNodeProc(sn2)])));
}, 90_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

/** One HTTP exchange from a chosen local address (127.0.0.x: another client, as far as limits go). */
function call(
  url: string,
  init: {
    method?: string;
    body?: string;
    from?: string;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: init.method ?? 'GET',
      localAddress: init.from ?? '127.0.0.1',
      agent: false,
      headers: { 'content-type': 'application/json', ...init.headers },
      timeout: init.timeoutMs ?? 10_000,
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in time`)));
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    if (init.body === undefined) req.end();
    else req.end(init.body);
  });
}

const owner = (url: string) => new RegistryClient({ url, key: KeyPair.generate() });

describe('registry attacks', () => {
  it('junk and foreign-signed renewals from another address do not lock the owner out', async () => {
    const alice = owner(sn1.url);
    await alice.claim('lockout');
    const route = { name: 'lockout', mode: 'relay' as const, relays: [sn1.key.key.id.toString()] };
    await alice.publishRoute(route);
    const stranger = KeyPair.generate();
    const url = sn1.url + registryOpPaths.route('lockout');
    // Far more than the name's budget (20, then 30/min), from another address.
    const statuses = new Set<number>();
    for (let i = 0; i < 40; i++) {
      const body =
        i % 2
          ? { route: 'not a JWS' }
          : {
              route: await signRoute(
                { ...route, seq: Date.now() + i, iat: Date.now(), exp: Date.now() + 60_000 },
                stranger,
              ),
            };
      statuses.add(
        (await call(url, { method: 'PUT', from: '127.0.0.2', body: JSON.stringify(body) })).status,
      );
    }
    expect([...statuses].sort()).toEqual([401, 403]);
    // The owner's renewals go through.
    for (let i = 0; i < 3; i++) expect((await alice.publishRoute(route)).name).toBe('lockout');
  });

  it('a captured claim cannot be replayed at the other registrar, nor after its signer released the name', async () => {
    const key = KeyPair.generate();
    const at1 = new RegistryClient({ url: sn1.url, key });
    const claim = await signRequest(
      {
        op: 'claim',
        name: 'replayed-claim',
        seq: Date.now(),
        iat: Date.now(),
        registrar: sn1.key.key.id.toString(),
      },
      key,
    );
    const post = (url: string) =>
      call(url + registryOpPaths.claim('replayed-claim'), {
        method: 'POST',
        body: JSON.stringify({ request: claim }),
      });
    expect((await post(sn1.url)).status).toBe(201);
    const resolveAt2 = () =>
      call(sn2.url + registryPaths.resolve('replayed-claim')).then((r) => r.status);
    await expect.poll(resolveAt2, { timeout: 15_000 }).toBe(200);
    await at1.release('replayed-claim');
    // The release reached sn2 (replication), then the captured claim is sent there, and back to sn1.
    await expect
      .poll(() => call(sn2.url + registryPaths.resolve('replayed-claim')).then((r) => r.status), {
        timeout: 15_000,
      })
      .toBe(404);
    const atOther = await post(sn2.url);
    expect(atOther.status).toBe(422);
    expect(atOther.body.error.code).toBe('WRONG_REGISTRAR');
    expect((await post(sn1.url)).body.error.code).toBe('REPLAYED');
    for (const url of [sn1.url, sn2.url])
      expect((await call(url + registryPaths.resolve('replayed-claim'))).status).toBe(404);

    // Claimed at sn1, released at sn2: sn1 keeps no seq of that release, the release's time counts.
    const other = KeyPair.generate();
    const claim2 = await signRequest(
      {
        op: 'claim',
        name: 'released-elsewhere',
        seq: Date.now(),
        iat: Date.now(),
        registrar: sn1.key.key.id.toString(),
      },
      other,
    );
    const post2 = () =>
      call(sn1.url + registryOpPaths.claim('released-elsewhere'), {
        method: 'POST',
        body: JSON.stringify({ request: claim2 }),
      });
    expect((await post2()).status).toBe(201);
    const at2 = new RegistryClient({ url: sn2.url, key: other });
    await expect
      .poll(() =>
        at2.resolve('released-elsewhere').then(
          () => true,
          () => false,
        ),
      )
      .toBe(true);
    await new Promise((r) => setTimeout(r, 5));
    await at2.release('released-elsewhere');
    await expect
      .poll(
        () => call(sn1.url + registryPaths.resolve('released-elsewhere')).then((r) => r.status),
        {
          timeout: 15_000,
        },
      )
      .toBe(404);
    expect((await post2()).body.error?.code).toBe('REPLAYED');
  });

  it('the probe is no port scanner: unsigned, foreign and private targets are refused; probes are limited', async () => {
    const unsigned = await call(sn1.url + probePath, {
      method: 'POST',
      body: JSON.stringify({ endpoint: `http://127.0.0.1:${sn2.proxyPort}/` }),
    });
    expect(unsigned.status).toBe(400);
    expect(unsigned.body.reachable).toBeUndefined();
    const carol = owner(sn1.url);
    await carol.claim('prober');
    const stranger = new RegistryClient({ url: sn1.url, key: KeyPair.generate() });
    const probe = async (client: RegistryClient, endpoint: string, from?: string) =>
      call(sn1.url + probePath, {
        method: 'POST',
        from,
        body: JSON.stringify({
          request: await client.signRequest('probe', 'prober', { endpoint }),
        }),
      });
    expect((await probe(stranger, 'https://example.org/')).body.error.code).toBe('NOT_OWNER');
    const inside = await probe(carol, `http://127.0.0.1:${sn2.apiPort}/`);
    expect(inside.status).toBe(422);
    expect(inside.body.error.code).toBe('INVALID_ENDPOINT');
    // Per address: 5 at once, then 10 a minute.
    const burst = [];
    for (let i = 0; i < 7; i++)
      burst.push((await probe(carol, 'http://10.0.0.1/', '127.0.0.3')).status);
    expect(burst.slice(0, 5)).toEqual([422, 422, 422, 422, 422]);
    expect(burst.slice(5)).toEqual([429, 429]);
  });

  it("refuses bodies over each route's limit with 413, before reading them", async () => {
    // 50 MB announced, a few bytes sent: the answer must not wait for the rest.
    const declared = { 'content-length': String(50 * 1024 * 1024) };
    const id = KeyPair.generate().id.toString();
    for (const [method, path] of [
      ['POST', probePath],
      ['PUT', `/api/v1/dht/values/${id}`],
      ['POST', registryOpPaths.claim('somebody')],
      ['PUT', registryOpPaths.route('somebody')],
      ['POST', registryOpPaths.replicationPush],
      ['POST', '/api/v1/zone/push'],
      ['GET', registryPaths.resolve('somebody')],
    ]) {
      const res = await call(sn1.url + path, {
        method,
        headers: declared,
        body: '{"x":',
        timeoutMs: 5000,
      }).catch((e: Error) => ({ status: 0, body: e.message }));
      expect(res.status, `${method} ${path}`).toBe(413);
      expect(res.body.error.code).toBe('BODY_TOO_LARGE');
    }
  });

  it('refuses an edge token issued in the future', async () => {
    const node = KeyPair.generate().id;
    const token = (aheadMs: number) =>
      signEdgeToken(edge.key, node, Id.parse(sn1.key.key.id.toString()), Date.now() + aheadMs);
    const relay = async (t: string) =>
      (
        await call(`${sn1.url}/`, {
          headers: { [INGRESS_HEADERS.nodeId]: node.toString(), [INGRESS_HEADERS.edgeToken]: t },
        })
      ).body.error.code;
    expect(await relay(await token(3_600_000))).toBe('BAD_EDGE_TOKEN');
    // A fresh one gets past the token to the missing tunnel.
    expect(await relay(await token(0))).toBe('NODE_UNAVAILABLE');
  });
});
