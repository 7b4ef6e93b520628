import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from '../../agent/node-agent.ts';
import { DhtNode, findActiveProxyService, resolveDidDocument } from '../../origin/dht/index.ts';
import { SuperNode } from '../../origin/supernode.ts';
import { KeyPair } from '../../shared/keys.ts';
import { CARD_SERVICES, nodeRoutePath } from '../../shared/records/api.ts';
import { verifyRoute } from '../../shared/records/route.ts';
import { startSuperNodes } from '../helpers/devnet-parts.ts';
import { tempDir } from '../helpers/processes.ts';
import { startUpstream } from '../helpers/upstream.ts';

const edge = KeyPair.generate();
const alice = KeyPair.generate();
let cluster: Awaited<ReturnType<typeof startSuperNodes>>;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let agent: NodeAgent;
let outsider: SuperNode;
let client: DhtNode;
const bootstrap = () =>
  cluster.nodes.map((n) => ({ id: n.key.id, host: '127.0.0.1', port: n.node.dht!.address().port }));

beforeAll(async () => {
  cluster = await startSuperNodes(2, [edge]);
  upstream = await startUpstream('alice');
  agent = new NodeAgent({
    key: alice,
    name: 'alice',
    upstream: upstream.url,
    superNodes: cluster.nodes.map((n) => n.url),
    mode: 'relay',
  });
  await agent.start();
  // A super node that is no replication peer of the others: it learns about alice only via the DHT.
  outsider = new SuperNode({
    key: KeyPair.generate(),
    dataDir: tempDir('pc2-outsider-'),
    zone: 'localhost',
    edgeKeys: [],
    host: '127.0.0.1',
    apiPort: 0,
    tunnelPort: 0,
    developerMode: true,
    rateLimits: false,
    dht: { port: 0, bootstrap: bootstrap() },
  });
  await outsider.start();
  client = new DhtNode({
    key: KeyPair.generate(),
    host: '127.0.0.1',
    port: 0,
    developerMode: true,
    bootstrap: bootstrap(),
  });
  await client.start();
}, 60_000);

afterAll(async () => {
  await client?.stop();
  await outsider?.stop();
  await agent?.stop();
  await cluster?.close();
  await upstream?.close();
});

describe('super nodes in the Boson DHT', () => {
  it('announce their Active Proxy service, found with FIND_PEER', async () => {
    const [primary] = cluster.nodes;
    await expect
      .poll(
        async () =>
          (await findActiveProxyService(client, primary.key.id)).map((s) => `${s.host}:${s.port}`),
        { timeout: 10_000 },
      )
      .toContain(`127.0.0.1:${primary.node.tunnel.address().port}`);
  });

  it("publish their own DID document, and the node's (with its route record)", async () => {
    const [primary] = cluster.nodes;
    await expect
      .poll(
        () =>
          resolveDidDocument(client, primary.key.id).then((c) => c?.services.map((s) => s.type)),
        { timeout: 10_000 },
      )
      .toEqual([CARD_SERVICES.activeProxy, CARD_SERVICES.registry]);
    await expect
      .poll(
        () =>
          resolveDidDocument(client, alice.id.toDid()).then((c) => c?.services.map((s) => s.type)),
        { timeout: 10_000 },
      )
      .toEqual([CARD_SERVICES.node, CARD_SERVICES.route]);
    const card = (await resolveDidDocument(client, alice.id))!;
    expect(card.services[0].endpoint).toBe('http://alice.localhost:8080');
    const route = await verifyRoute(card.services[1].endpoint);
    expect(route.ok && route.value.node.equals(alice.id)).toBe(true);
  });

  it("let a super node that never got alice's records by replication find her route through the DHT", async () => {
    const { apiUrl } = { apiUrl: `http://127.0.0.1:${outsider.apiPort}` };
    expect((await fetch(`${apiUrl}/api/v1/names/alice`)).status).toBe(404);
    const res = await fetch(apiUrl + nodeRoutePath(alice.id.toString()));
    expect(res.status).toBe(200);
    const body = await res.json();
    const route = await verifyRoute(body.route);
    expect(route.ok && route.value.route.name).toBe('alice');
  });

  it('refuse to store documents for ids that own no name, or forged ones', async () => {
    const [primary] = cluster.nodes;
    const stranger = KeyPair.generate();
    const { publishNodeCard } = await import('../../agent/supernode-api.ts');
    await expect(
      publishNodeCard(primary.url, stranger, [{ id: '#x', type: 'X', endpoint: 'y' }]),
    ).rejects.toThrow(/403/);
    const res = await fetch(`${primary.url}/api/v1/dht/values/${alice.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'AAAA' }),
    });
    expect(res.status).toBe(422);
  });
});
