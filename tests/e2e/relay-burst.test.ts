/**
 * 1,000 concurrent requests to one relayed node, through the whole path (gateway, super node
 * ingress, tunnel, node agent, app) on real sockets: every one answered, byte-exact. Before the
 * ingress shared one queue for its streams and the node's pool grew to demand, such a burst got
 * 503s and left the last requests waiting seconds on keep-alive timers (docs/tunnel.md, "Stalls").
 */
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../edge/runtime/node/server.ts';
import { NodeAgent } from '../../agent/node-agent.ts';
import { KeyPair } from '../../shared/keys.ts';
import { startSuperNodes } from '../helpers/devnet-parts.ts';
import { patternBytes, startUpstream } from '../helpers/upstream.ts';

const edgeKey = KeyPair.generate();
let cluster: Awaited<ReturnType<typeof startSuperNodes>>;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let agent: NodeAgent;
let gateway: Gateway;

beforeAll(async () => {
  cluster = await startSuperNodes(1, [edgeKey]);
  const [superNode] = cluster.nodes;
  upstream = await startUpstream('alice');
  agent = new NodeAgent({
    key: KeyPair.generate(),
    name: 'alice',
    upstream: upstream.url,
    superNodes: [superNode.url],
    mode: 'relay',
  });
  const online = new Promise<void>((resolve) =>
    agent.on('status', (s) => s.online && s.superNodes[0]?.tunnel === 'up' && resolve()),
  );
  await agent.start();
  await online;
  gateway = await startGateway({
    config: {
      zone: 'localhost',
      registrarKeys: [superNode.key.id.toString()],
      edgeKey: edgeKey.bosonPrivateKeyBase58(),
      superNodes: [{ id: superNode.key.id.toString(), url: superNode.url }],
    },
    hostname: '127.0.0.1',
    httpPort: 0,
  });
});

afterAll(async () => {
  await gateway?.close();
  await agent?.stop();
  await cluster?.close();
  await upstream?.close();
});

describe('a burst to one relayed node', () => {
  it('1,000 concurrent requests through gateway, ingress and tunnel: all answered, byte-exact', async () => {
    const base = `http://127.0.0.1:${gateway.ports.http}`;
    const dispatcher = new Agent({ connections: 1000 });
    const expected = patternBytes(0, 64 * 1024);
    try {
      const results = await Promise.all(
        Array.from({ length: 1000 }, async (_, i) => {
          const size = 1 + ((i * 7919) % (64 * 1024));
          const res = await request(`${base}/bytes/${size}`, {
            headers: { host: 'alice.localhost' },
            dispatcher,
          });
          const body = Buffer.from(await res.body.arrayBuffer());
          return res.statusCode === 200 && body.equals(expected.subarray(0, size));
        }),
      );
      expect(results.filter((ok) => !ok).length).toBe(0);
    } finally {
      await dispatcher.close();
    }
  });
});
