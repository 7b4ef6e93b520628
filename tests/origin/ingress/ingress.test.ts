import { request as httpRequest } from 'node:http';
import { request, WebSocket } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelClient } from '../../../agent/tunnel/index.ts';
import { KeyPair } from '../../../shared/keys.ts';
import { INGRESS_HEADERS } from '../../../shared/records/api.ts';
import { signEdgeToken } from '../../../shared/records/edge-token.ts';
import { type IngressServer, startIngressServer } from '../../../origin/ingress/index.ts';
import type { TunnelServer } from '../../../origin/tunnel/index.ts';
import { authenticated, newClient, startServer } from '../../tunnel/harness.ts';
import { FILE, startHttpUpstream } from '../../tunnel/http-upstream.ts';

const edge = KeyPair.generate();
const superNode = KeyPair.generate();
let app: Awaited<ReturnType<typeof startHttpUpstream>>;
let tunnel: TunnelServer;
let client: TunnelClient;
let ingress: IngressServer;
let base: string;

const node = () => client.options.deviceKey.id;
async function edgeHeaders(nodeId = node(), signer = edge): Promise<Record<string, string>> {
  return {
    [INGRESS_HEADERS.nodeId]: nodeId.toString(),
    [INGRESS_HEADERS.edgeToken]: await signEdgeToken(signer, nodeId, superNode.id, Date.now()),
    'x-forwarded-for': '198.51.100.7',
    'x-forwarded-host': 'alice.ela.city',
    'x-forwarded-proto': 'https',
  };
}

beforeAll(async () => {
  app = await startHttpUpstream();
  tunnel = await startServer();
  client = newClient(tunnel, app.port);
  client.start();
  await authenticated(client);
  ingress = await startIngressServer({
    tunnel,
    superNodeId: superNode.id,
    edgeKeys: [edge.id],
    host: '127.0.0.1',
    port: 0,
  });
  base = `http://127.0.0.1:${ingress.address().port}`;
});
afterAll(async () => {
  await ingress.close();
  await client.stop();
  await tunnel.stop();
  await app.close();
});

describe('relay ingress', () => {
  it('carries a request; the node sees X-Forwarded-* from the edge and no x-pc2-* headers', async () => {
    const res = await request(`${base}/headers`, { headers: await edgeHeaders() });
    expect(res.statusCode).toBe(200);
    const seen = (await res.body.json()) as Record<string, string>;
    expect(seen['x-forwarded-for']).toBe('198.51.100.7');
    expect(seen['x-forwarded-host']).toBe('alice.ela.city');
    expect(seen['x-forwarded-proto']).toBe('https');
    expect(Object.keys(seen).filter((k) => k.startsWith('x-pc2-'))).toEqual([]);
  });

  it('streams a chunked long-lived response as it is produced', async () => {
    const res = await request(`${base}/ticks`, { headers: await edgeHeaders() });
    const arrivals: number[] = [];
    let text = '';
    for await (const chunk of res.body) {
      arrivals.push(Date.now());
      text += chunk.toString();
    }
    expect(text).toBe('tick 0\ntick 1\ntick 2\ntick 3\ntick 4\n');
    expect(arrivals.length).toBeGreaterThan(1);
  });

  it('streams a request body both ways (POST echo, 5 MiB)', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 3);
    const res = await request(`${base}/echo`, {
      method: 'POST',
      body,
      headers: await edgeHeaders(),
    });
    const got = Buffer.from(await res.body.arrayBuffer());
    expect(got.equals(body)).toBe(true);
  });

  it('passes Range requests through (206 + Content-Range)', async () => {
    const res = await request(`${base}/file`, {
      headers: { ...(await edgeHeaders()), range: 'bytes=1000-1999' },
    });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 1000-1999/${FILE.length}`);
    expect(Buffer.from(await res.body.arrayBuffer()).equals(FILE.subarray(1000, 2000))).toBe(true);
  });

  it('relays 100-continue from the node', async () => {
    const headers = { ...(await edgeHeaders()), expect: '100-continue', 'content-length': '5' };
    const { port } = ingress.address();
    const result = await new Promise<{ continued: boolean; body: string }>((resolve, reject) => {
      let continued = false;
      const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/echo', headers });
      req.on('continue', () => {
        continued = true;
        req.end('hello');
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ continued, body }));
      });
      req.on('error', reject);
    });
    expect(result).toEqual({ continued: true, body: 'hello' });
  });

  it('carries a WebSocket (101, then frames both ways)', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, { headers: await edgeHeaders() });
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => {
        ws.send('one');
        ws.send('two');
      });
      ws.addEventListener('message', (e) => {
        messages.push(String(e.data));
        if (messages.length === 2) resolve();
      });
      ws.addEventListener('error', () => reject(new Error('websocket error')));
    });
    ws.close();
    expect(messages).toEqual(['one', 'two']);
  });

  it('missing or foreign edge token -> 401 JSON; unknown node -> 503 JSON; bad node id -> 400', async () => {
    const missing = await request(`${base}/headers`, {
      headers: { [INGRESS_HEADERS.nodeId]: node().toString() },
    });
    expect(missing.statusCode).toBe(401);
    expect(((await missing.body.json()) as { error: { code: string } }).error.code).toBe(
      'BAD_EDGE_TOKEN',
    );
    const foreign = await request(`${base}/headers`, {
      headers: await edgeHeaders(node(), KeyPair.generate()),
    });
    expect(foreign.statusCode).toBe(401);
    await foreign.body.dump();
    const otherNode = KeyPair.generate().id;
    const wrongNode = await request(`${base}/headers`, {
      headers: { ...(await edgeHeaders(otherNode)), [INGRESS_HEADERS.nodeId]: node().toString() },
    });
    expect(wrongNode.statusCode).toBe(401);
    await wrongNode.body.dump();
    const offline = await request(`${base}/headers`, { headers: await edgeHeaders(otherNode) });
    expect(offline.statusCode).toBe(503);
    expect(((await offline.body.json()) as { error: { code: string } }).error.code).toBe(
      'NODE_UNAVAILABLE',
    );
    const bad = await request(`${base}/headers`, { headers: { [INGRESS_HEADERS.nodeId]: 'nope' } });
    expect(bad.statusCode).toBe(400);
    await bad.body.dump();
  });
});
