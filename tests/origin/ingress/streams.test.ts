/**
 * The ingress's streams of a node: requests past the node's pool wait for the first stream to come
 * free (never for a keep-alive timer), the wait is bounded (503 NODE_BUSY with Retry-After), a
 * kept-alive stream the node closed under a request is replaced, and malformed answers are refused.
 */
import type { Socket } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { TunnelClient } from '../../../agent/tunnel/index.ts';
import {
  type IngressOptions,
  type IngressServer,
  startIngressServer,
} from '../../../origin/ingress/index.ts';
import type { TunnelServer, TunnelServerOptions } from '../../../origin/tunnel/index.ts';
import { KeyPair } from '../../../shared/keys.ts';
import { INGRESS_HEADERS } from '../../../shared/records/api.ts';
import { signEdgeToken } from '../../../shared/records/edge-token.ts';
import { authenticated, newClient, startServer, tcpServer } from '../../tunnel/harness.ts';
import { startHttpUpstream } from '../../tunnel/http-upstream.ts';

const edge = KeyPair.generate();
const superNode = KeyPair.generate();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function relay(
  upstreamPort: number,
  server: Partial<TunnelServerOptions>,
  ingressOptions: Partial<IngressOptions> = {},
) {
  const tunnel: TunnelServer = await startServer(server);
  const client: TunnelClient = newClient(tunnel, upstreamPort);
  client.start();
  await authenticated(client);
  const ingress: IngressServer = await startIngressServer({
    tunnel,
    superNodeId: superNode.id,
    edgeKeys: [edge.id],
    host: '127.0.0.1',
    port: 0,
    ...ingressOptions,
  });
  closers.push(async () => {
    await ingress.close();
    await client.stop();
    await tunnel.stop();
  });
  const node = client.options.deviceKey.id;
  const token = await signEdgeToken(edge, node, superNode.id, Date.now());
  const get = (path: string) =>
    request(`http://127.0.0.1:${ingress.address().port}${path}`, {
      headers: { [INGRESS_HEADERS.nodeId]: node.toString(), [INGRESS_HEADERS.edgeToken]: token },
    });
  return { tunnel, ingress, get };
}

async function app() {
  const upstream = await startHttpUpstream();
  closers.push(() => upstream.close());
  return upstream.port;
}

describe('the ingress and the streams of a node', () => {
  it('requests past the pool take streams as they come free, not after a keep-alive timer', async () => {
    // Four connections at most, and a kept-alive stream would hold its connection for a minute:
    // a request that waited for a new stream instead of a freed one would wait that minute.
    const r = await relay(
      await app(),
      { maxConnections: 4, largePoolConnections: 0 },
      { keepAliveMs: 60_000 },
    );
    const bodies = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const res = await r.get('/');
        return [res.statusCode, await res.body.text()];
      }),
    );
    expect(bodies).toEqual(Array(40).fill([200, 'ok']));
    const stats = r.ingress.ingress.stats();
    expect(stats.opened).toBeLessThanOrEqual(4);
    expect(stats.reused).toBeGreaterThanOrEqual(36);
  });

  it('past the wait bound: 503 NODE_BUSY with Retry-After, counted; then served again', async () => {
    const r = await relay(
      await app(),
      { maxConnections: 1, largePoolConnections: 0 },
      { streamWaitMs: 100 },
    );
    const long = r.get('/ticks'); // holds the only connection for 500 ms
    await new Promise((resolve) => setTimeout(resolve, 50));
    const refused = await r.get('/');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers[INGRESS_HEADERS.relayError]).toBe('NODE_BUSY');
    await refused.body.dump();
    expect(r.ingress.ingress.stats().busy).toBe(1);
    expect(await (await long).body.text()).toContain('tick 4');
    const again = await r.get('/');
    expect([again.statusCode, await again.body.text()]).toEqual([200, 'ok']);
  });

  it('a kept-alive stream the node closes under a request: the request goes again on a new one', async () => {
    // Answers the first request of each connection, and closes the connection at the second.
    const seen = new WeakMap<Socket, number>();
    const upstream = await tcpServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        if (!chunk.includes('\r\n\r\n')) return;
        const n = (seen.get(socket) ?? 0) + 1;
        seen.set(socket, n);
        if (n > 1) socket.destroy();
        else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh');
      });
    });
    closers.push(() => upstream.close());
    const r = await relay(upstream.port, {}, { keepAliveMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      const res = await r.get('/');
      expect([res.statusCode, await res.body.text()]).toEqual([200, 'fresh']);
    }
    expect(r.ingress.ingress.stats().opened).toBe(3);
  });

  it.each([
    [
      'both Transfer-Encoding and Content-Length',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nok',
    ],
    ['no HTTP at all', 'SSH-2.0-nope\r\n\r\n'],
  ])(
    'a malformed answer (%s) is a 502 from the relay, and the stream is dropped',
    async (_, answer) => {
      const upstream = await tcpServer((socket) => socket.once('data', () => socket.write(answer)));
      closers.push(() => upstream.close());
      const r = await relay(upstream.port, {});
      const res = await r.get('/');
      expect(res.statusCode).toBe(502);
      expect(res.headers[INGRESS_HEADERS.relayError]).toBe('BAD_GATEWAY');
      expect(await res.body.text()).toMatch(/bad response from the node/);
    },
  );
});
