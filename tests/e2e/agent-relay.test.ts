import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent, type AgentStatus } from '../../agent/node-agent.ts';
import { TunnelClient } from '../../agent/tunnel/client.ts';
import { RegistryClient } from '../../agent/registry-client.ts';
import { KeyPair } from '../../shared/keys.ts';
import { INGRESS_HEADERS } from '../../shared/records/api.ts';
import { signEdgeToken } from '../../shared/records/edge-token.ts';
import { verifyResolution } from '../../shared/records/route.ts';
import { startSuperNodes, type RunningSuperNode } from '../helpers/devnet-parts.ts';
import { startUpstream } from '../helpers/upstream.ts';

const edge = KeyPair.generate();
const aliceKey = KeyPair.generate();
let cluster: Awaited<ReturnType<typeof startSuperNodes>>;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let agent: NodeAgent;

function until(check: (s: AgentStatus) => boolean, timeoutMs = 15_000): Promise<AgentStatus> {
  return new Promise((resolve, reject) => {
    if (check(agent.status())) return resolve(agent.status());
    const timer = setTimeout(
      () => reject(new Error(`timed out: ${JSON.stringify(agent.status())}`)),
      timeoutMs,
    );
    const on = (s: AgentStatus) => {
      if (!check(s)) return;
      clearTimeout(timer);
      agent.off('status', on);
      resolve(s);
    };
    agent.on('status', on);
  });
}

/** What the edge does for a relayed node: the request, with the node id and a token for this super node. */
async function viaRelay(sn: RunningSuperNode, path: string) {
  const token = await signEdgeToken(edge, aliceKey.id, sn.key.id, Date.now());
  return request(sn.url + path, {
    headers: {
      host: 'alice.localhost:8080',
      [INGRESS_HEADERS.nodeId]: aliceKey.id.toString(),
      [INGRESS_HEADERS.edgeToken]: token,
    },
  });
}

async function resolvedRelays(sn: RunningSuperNode): Promise<string[]> {
  const resolved = await new RegistryClient({ url: sn.url, key: KeyPair.generate() }).resolve(
    'alice',
  );
  const result = await verifyResolution(
    resolved,
    cluster.nodes.map((n) => n.key.id),
    Date.now(),
  );
  if (!result.ok || result.value.state !== 'online') throw new Error('alice is not online');
  return result.value.route.route.relays;
}

beforeAll(async () => {
  cluster = await startSuperNodes(2, [edge]);
  upstream = await startUpstream('alice');
  agent = new NodeAgent({
    key: aliceKey,
    name: 'alice',
    upstream: upstream.url,
    superNodes: cluster.nodes.map((n) => n.url),
    mode: 'relay',
  });
});

afterAll(async () => {
  await agent?.stop();
  await cluster?.close();
  await upstream?.close();
});

describe('node agent with two super nodes (in-process, real sockets)', () => {
  it('claims its name, holds a tunnel to each super node and lists both as relays', async () => {
    await agent.start();
    const status = await until((s) => s.online && s.superNodes.every((l) => l.tunnel === 'up'));
    expect(status.mode).toBe('relay');
    expect(status.publicUrl).toBe('http://alice.localhost:8080');
    const [primary, secondary] = cluster.nodes;
    await expect
      .poll(() => resolvedRelays(secondary), { timeout: 5000 })
      .toEqual([primary.key.id.toString(), secondary.key.id.toString()]);
  });

  it('serves the upstream through either super node, with the x-pc2 headers stripped', async () => {
    for (const sn of cluster.nodes) {
      const res = await viaRelay(sn, '/');
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toContain('hello from alice');
    }
    const headers = (await (await viaRelay(cluster.nodes[1], '/headers')).body.json()) as Record<
      string,
      string
    >;
    expect(headers[INGRESS_HEADERS.nodeId]).toBeUndefined();
    expect(headers[INGRESS_HEADERS.edgeToken]).toBeUndefined();
  });

  it("marks the relay's own errors, never the node app's", async () => {
    const fromApp = await viaRelay(cluster.nodes[0], '/status/503');
    expect(fromApp.statusCode).toBe(503);
    expect(fromApp.headers[INGRESS_HEADERS.relayError]).toBeUndefined();
    expect(await fromApp.body.text()).toContain('from the app');
    const ghost = KeyPair.generate().id;
    const token = await signEdgeToken(edge, ghost, cluster.nodes[0].key.id, Date.now());
    const noTunnel = await request(cluster.nodes[0].url + '/', {
      headers: { [INGRESS_HEADERS.nodeId]: ghost.toString(), [INGRESS_HEADERS.edgeToken]: token },
    });
    expect(noTunnel.statusCode).toBe(503);
    expect(noTunnel.headers[INGRESS_HEADERS.relayError]).toBe('NODE_UNAVAILABLE');
    await noTunnel.body.dump();
  });

  it('refuses a tunnel to a key that owns no name here (the relay is no open proxy)', async () => {
    const [primary] = cluster.nodes;
    const stranger = new TunnelClient({
      serverHost: '127.0.0.1',
      serverPort: primary.node.tunnel.address().port,
      servicePeerId: primary.key.id,
      deviceKey: KeyPair.generate(),
      upstream: { host: '127.0.0.1', port: 9 },
    });
    const failed = new Promise<Error | null>((resolve) =>
      stranger.once('failed', (e: Error) => resolve(e)),
    );
    stranger.start();
    const error = await failed;
    stranger.stop();
    expect(stranger.state).toBe('stopped');
    expect(error).toBeInstanceOf(Error);
    expect((error as Error & { fatal?: boolean }).fatal).toBe(true);
    expect(primary.node.tunnel.sessions().length).toBe(1);
  });

  it('drops a super node that goes away from its route at once', async () => {
    const [primary, secondary] = cluster.nodes;
    await primary.node.stop();
    await until((s) => s.superNodes[0].tunnel !== 'up');
    await expect
      .poll(() => resolvedRelays(secondary), { timeout: 10_000 })
      .toEqual([secondary.key.id.toString()]);
    const res = await viaRelay(secondary, '/');
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });
});
