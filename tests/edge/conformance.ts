/**
 * The edge conformance suite: one set of tests, run against the edge in workerd, Deno and Node.
 * It talks to a base URL only, with an explicit Host per request, so any runtime can be behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type World, createWorld, ZONE } from './world.ts';
import { clientFor, nextChunk, readAll } from './client.ts';
import { abandoned, FILE, GZIPPED } from './upstream.ts';
import { webSocketRoundTrip } from '../helpers/websocket.ts';
import { gunzipSync } from 'node:zlib';
import { rawExchange } from './raw.ts';

export interface RunningEdge {
  /** Where the edge listens, e.g. http://127.0.0.1:8787 (requests carry Host: <name>.localhost). */
  baseUrl: string;
  close(): Promise<void>;
}

export interface ConformanceOptions {
  runtime: string;
  start(world: World): Promise<RunningEdge>;
  /**
   * Whether the app sees the client's Connection header. workerd removes it before the Worker runs
   * (the front proxy owns connection-level headers there), so headers it lists cannot be told apart.
   */
  seesConnectionHeader?: boolean;
  /**
   * Whether a client that disconnects mid-response makes the edge close the upstream response.
   * Under `wrangler dev` the upstream response stayed open after the client left (not known for
   * deployed Workers), so that run does not check it.
   */
  closesUpstreamWhenClientLeaves?: boolean;
  /**
   * Names whose gzip bodies the runtime serves decoded, without Content-Encoding: on Deno the relayed
   * ones (Deno's own fetch always decodes; direct endpoints go through undici, which does not).
   */
  decodesContentEncoding?: string[];
  /**
   * The status a request with two Host headers gets: 400 from the edge (Node.js) or the runtime
   * (Deno.serve); under `wrangler dev` the local front proxy answers 500 before the Worker runs.
   */
  twoHostsStatus?: number;
  /** The protocol the suite's client speaks (WebSockets stay on HTTP/1.1). Default http/1.1. */
  protocol?: 'http/1.1' | 'h2';
}

export function edgeConformanceSuite(options: ConformanceOptions): void {
  const { open, send } = clientFor(options.protocol ?? 'http/1.1');
  describe(`edge conformance (${options.runtime})`, () => {
    let world: World;
    let edge: RunningEdge;
    const host = (name: string) => (name ? `${name}.${ZONE}` : ZONE);
    const get = (name: string, path: string, headers?: Record<string, string>) =>
      send(edge.baseUrl, host(name), path, { headers });
    const json = (body: Buffer) => JSON.parse(body.toString()) as Record<string, any>;

    beforeAll(async () => {
      world = await createWorld();
      edge = await options.start(world);
    }, 90_000);

    afterAll(async () => {
      await edge?.close();
      await world?.close();
    }, 60_000);

    it('serves a landing page on the apex and proxies /api/v1 to a registry, failing over from a dead super node', async () => {
      const landing = await get('', '/');
      expect(landing.status).toBe(200);
      expect(landing.headers['content-type']).toMatch(/text\/html/);
      expect(landing.body.toString()).toContain(ZONE);
      const health = await get('', '/api/v1/health');
      expect(health.status).toBe(200);
      expect(json(health.body)).toEqual({ ok: true, superNode: 'A' });
      const resolved = await get('', '/api/v1/names/alice');
      expect(resolved.status).toBe(200);
      expect(json(resolved.body).name).toBe('alice');
      const unknown = await get('', '/api/v1/names/nobody');
      expect(unknown.status).toBe(404);
      expect(json(unknown.body).error.code).toBe('UNKNOWN_NAME');
    });

    it('routes a direct node by its subdomain, with X-Forwarded-* set and hop-by-hop headers dropped', async () => {
      const res = await get('alice', '/some/path?q=1', {
        connection: 'x-private-hop',
        'x-private-hop': 'secret',
        'keep-alive': 'timeout=5',
        'x-pc2-edge-token': 'forged',
        'x-forwarded-host': 'evil.example',
        'x-custom': 'kept',
      });
      expect(res.status).toBe(200);
      const seen = json(res.body);
      expect(seen.servedBy).toBe('direct');
      expect(seen.url).toBe('/some/path?q=1');
      expect(seen.headers['x-custom']).toBe('kept');
      expect(seen.headers['x-forwarded-host']).toBe(host('alice'));
      expect(seen.headers['x-forwarded-proto']).toBe(new URL(edge.baseUrl).protocol.slice(0, -1));
      expect(seen.headers['x-forwarded-for']).toMatch(/\S/);
      if (options.seesConnectionHeader !== false)
        expect(seen.headers['x-private-hop']).toBeUndefined();
      expect(seen.headers['keep-alive']).toBeUndefined();
      expect(seen.headers['x-pc2-edge-token']).toBeUndefined();
    });

    it('routes a relayed node through its super node with a valid edge token', async () => {
      const res = await get('bob', '/whoami');
      expect(res.status).toBe(200);
      expect(json(res.body).servedBy).toBe('relay:A');
    });

    it('shadows no path on a user subdomain', async () => {
      for (const path of [
        '/',
        '/api/v1/names/bob',
        '/api/v1/health',
        '/favicon.ico',
        '/robots.txt',
      ]) {
        const res = await get('bob', path);
        expect(res.status, path).toBe(200);
        expect(json(res.body)).toMatchObject({ servedBy: 'relay:A', url: path });
      }
    });

    it('fails over between relays: a refused connection, then a 502 from a relay without the tunnel', async () => {
      const carol = await get('carol', '/whoami');
      expect(carol.status).toBe(200);
      expect(json(carol.body).servedBy).toBe('relay:A');
      const ingressBefore = world.b.ingressCount;
      const erin = await get('erin', '/whoami');
      expect(erin.status).toBe(200);
      expect(json(erin.body).servedBy).toBe('relay:A');
      expect(world.b.ingressCount).toBe(ingressBefore + 1);
    });

    it('fails over a request with a body when the first relay refuses the connection', async () => {
      const res = await send(edge.baseUrl, host('carol'), '/echo', {
        method: 'POST',
        body: 'payload-after-failover',
      });
      expect(res.status).toBe(200);
      expect(res.headers['x-served-by']).toBe('relay:A');
      expect(res.body.toString()).toBe('payload-after-failover');
    });

    it('answers 404 with an HTML page for an unknown name', async () => {
      const res = await get('ghost', '/');
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.body.toString()).toContain('ghost.localhost');
    });

    it('answers 503 with an "offline" page for an expired route, no route, and every relay down', async () => {
      for (const name of ['frank', 'gina', 'kim']) {
        const res = await get(name, '/');
        expect(res.status, name).toBe(503);
        expect(res.headers['content-type'], name).toMatch(/text\/html/);
        expect(res.body.toString(), name).toMatch(/offline/);
      }
    });

    it('answers 502 "online, but its app is not answering" when the node says so, relayed and direct', async () => {
      for (const name of ['lena', 'otto']) {
        for (const path of ['/', '/with/body']) {
          const res =
            path === '/'
              ? await get(name, path)
              : await send(edge.baseUrl, host(name), path, { method: 'POST', body: 'x' });
          expect(res.status, name).toBe(502);
          expect(res.headers['content-type'], name).toMatch(/text\/html/);
          expect(res.headers['x-pc2-error'], name).toBe('APP_NOT_ANSWERING');
          expect(res.headers['x-pc2-node-error'], name).toBeUndefined();
          expect(res.body.toString(), name).toMatch(/online but its app is not answering/);
        }
      }
    });

    it('refuses routes that do not verify: bad signature, unknown registrar, name bound to another key', async () => {
      const ingressBefore = world.a.ingressCount;
      for (const name of ['mallory', 'ivan', 'judy']) {
        const res = await get(name, '/whoami');
        expect(res.status, name).toBe(502);
        expect(res.headers['content-type'], name).toMatch(/text\/html/);
        expect(res.body.toString(), name).toMatch(/did not verify/);
      }
      expect(world.a.ingressCount).toBe(ingressBefore);
    });

    it('answers 400 for a malformed host', async () => {
      for (const bad of ['a_b.localhost', 'x.y.localhost', 'elsewhere.example', 'ab.localhost']) {
        const res = await send(edge.baseUrl, bad, '/');
        expect(res.status, bad).toBe(400);
      }
    });

    it('refuses a request with two Host headers (400), never serving it from the first', async () => {
      const head = await rawExchange(
        edge.baseUrl,
        `GET / HTTP/1.1\r\nHost: ${host('alice')}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
      );
      expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${options.twoHostsStatus ?? 400} `));
      expect(head).not.toContain('direct');
    });

    it('refuses a registry call whose body is over 64 KiB with 413, before reading it', async () => {
      const { req, res } = open(edge.baseUrl, host(''), '/api/v1/names/alice/claim', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) },
      });
      req.on('error', () => {});
      req.write('{"request":"');
      const answer = await res;
      expect(answer.statusCode).toBe(413);
      expect(json(await readAll(answer)).error.code).toBe('BODY_TOO_LARGE');
      req.destroy();
    });

    it('streams a response: the first chunk arrives while the node still holds the rest', async () => {
      for (const name of ['alice', 'bob']) {
        const key = `${name}-${Math.random()}`;
        const { req, res } = open(edge.baseUrl, host(name), `/hold?key=${key}`);
        req.end();
        const response = await res;
        expect(response.statusCode).toBe(200);
        expect((await nextChunk(response)).toString()).toBe('first\n');
        const released = await get(name, `/release?key=${key}`);
        expect(json(released.body).released).toBe(true);
        expect((await readAll(response)).toString()).toBe('last\n');
      }
    });

    // Not registered at all where it is known not to hold, so no run counts an empty test.
    if (options.closesUpstreamWhenClientLeaves !== false)
      it('closes a long-lived upstream response when the client goes away', async () => {
        for (const name of ['alice', 'bob']) {
          const key = `gone-${name}-${Math.random()}`;
          const { req, res } = open(edge.baseUrl, host(name), `/hold?key=${key}`);
          req.end();
          const response = await res;
          expect((await nextChunk(response)).toString()).toBe('first\n');
          response.destroy();
          req.destroy();
          for (let i = 0; i < 200 && !abandoned.has(key); i++)
            await new Promise((r) => setTimeout(r, 50));
          expect(abandoned.has(key), name).toBe(true);
        }
      });

    it('streams a request body: the echo of the first part returns before the rest is sent', async () => {
      const { req, res } = open(edge.baseUrl, host('bob'), '/echo', {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
      });
      req.write('part-one;');
      const response = await res;
      expect(response.statusCode).toBe(200);
      expect((await nextChunk(response)).toString()).toBe('part-one;');
      req.end('part-two');
      expect((await readAll(response)).toString()).toBe('part-two');
    });

    it('passes Range requests and framing headers through untouched', async () => {
      for (const name of ['alice', 'bob']) {
        const part = await get(name, '/file', { range: 'bytes=100-299' });
        expect(part.status).toBe(206);
        expect(part.headers['content-range']).toBe(`bytes 100-299/${FILE.length}`);
        expect(part.headers['content-length']).toBe('200');
        expect(part.body.equals(FILE.subarray(100, 300))).toBe(true);
        const gz = await get(name, '/gzip', { 'accept-encoding': 'gzip' });
        if (options.decodesContentEncoding?.includes(name)) {
          expect(gz.headers['content-encoding']).toBeUndefined();
          expect(gz.body.equals(gunzipSync(GZIPPED))).toBe(true);
        } else {
          expect(gz.headers['content-encoding']).toBe('gzip');
          expect(gz.headers['content-length']).toBe(String(GZIPPED.length));
          expect(gz.body.equals(GZIPPED)).toBe(true);
        }
        const cookies = await get(name, '/cookies');
        expect(cookies.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
      }
    });

    it('bridges WebSockets to a direct node, a relayed node and across a relay failover', async () => {
      const u = new URL(edge.baseUrl);
      const wsBase = `${u.protocol === 'https:' ? 'https' : 'http'}://${u.host}/ws`;
      expect(await webSocketRoundTrip(wsBase, host('alice'), ['one', 'two'])).toEqual({
        status: 101,
        replies: ['direct:one', 'direct:two'],
      });
      expect(await webSocketRoundTrip(wsBase, host('bob'), ['hi'])).toEqual({
        status: 101,
        replies: ['relay:A:hi'],
      });
      expect(await webSocketRoundTrip(wsBase, host('carol'), ['x'])).toEqual({
        status: 101,
        replies: ['relay:A:x'],
      });
    });
  });
}
