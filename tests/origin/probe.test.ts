/**
 * The reachability probe (origin/probe.ts) on a real super node: only a name's owner may ask, with a
 * signed request naming the endpoint it is registering; the super node connects only to public
 * addresses (developer mode: loopback too), checked on the one lookup it connects with.
 */
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../agent/registry-client.ts';
import { SuperNode } from '../../origin/supernode.ts';
import { probeEndpoint } from '../../origin/probe.ts';
import { guardLookup, type Lookup } from '../../shared/endpoint.ts';
import { KeyPair } from '../../shared/keys.ts';
import { probePath } from '../../shared/records/api.ts';
import { tempDir } from '../helpers/processes.ts';
import { startUpstream } from '../helpers/upstream.ts';

let site: Awaited<ReturnType<typeof startUpstream>>;
let closedPort: number;
let connections = 0;
const silent = createServer(() => {
  connections++; // accepts, never answers
});
const nodes: SuperNode[] = [];

async function superNode(developerMode: boolean, rateLimits?: object | false): Promise<string> {
  const node = new SuperNode({
    key: KeyPair.generate(),
    dataDir: tempDir('pc2-probe-'),
    zone: 'localhost',
    edgeKeys: [],
    host: '127.0.0.1',
    apiPort: 0,
    tunnelPort: 0,
    dht: false,
    developerMode,
    rateLimits: rateLimits ?? false,
  });
  nodes.push(node);
  return (await node.start()).apiUrl;
}

let dev: string;
let strict: string;

beforeAll(async () => {
  site = await startUpstream('alice');
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  dev = await superNode(true);
  strict = await superNode(false);
});
afterAll(async () => {
  await site.close();
  silent.close();
  await Promise.all(nodes.map((n) => n.stop()));
});

async function owner(url: string, name: string): Promise<RegistryClient> {
  const client = new RegistryClient({ url, key: KeyPair.generate() });
  await client.claim(name);
  return client;
}

async function probe(
  url: string,
  client: RegistryClient,
  name: string,
  endpoint: string,
): Promise<{ status: number; body: any }> {
  const request = await client.signRequest('probe', name, { endpoint });
  const res = await fetch(url + probePath, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ request }),
  });
  return { status: res.status, body: await res.json() };
}

describe('reachability probe', () => {
  it("reports the owner's live endpoint as reachable, with its status", async () => {
    const alice = await owner(dev, 'alice');
    expect(await probe(dev, alice, 'alice', site.url)).toEqual({
      status: 200,
      body: { reachable: true, status: 200 },
    });
  });

  it('reports refused and silent endpoints as unreachable', async () => {
    const bob = await owner(dev, 'bob-probe');
    expect((await probe(dev, bob, 'bob-probe', `http://127.0.0.1:${closedPort}/`)).body).toEqual({
      reachable: false,
      error: 'ECONNREFUSED',
    });
    const port = (silent.address() as AddressInfo).port;
    const slow = await probe(dev, bob, 'bob-probe', `http://127.0.0.1:${port}/`);
    expect(slow.body).toEqual({ reachable: false, error: 'timeout' });
  });

  it('refuses unsigned requests, non-owners and names not bound here, connecting nowhere', async () => {
    const before = connections;
    const port = (silent.address() as AddressInfo).port;
    const target = `http://127.0.0.1:${port}/`;
    const unsigned = await fetch(dev + probePath, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: target }),
    });
    expect(unsigned.status).toBe(400);
    await owner(dev, 'carol-probe');
    const stranger = new RegistryClient({ url: dev, key: KeyPair.generate() });
    const notOwner = await probe(dev, stranger, 'carol-probe', target);
    expect(notOwner.status).toBe(403);
    expect(notOwner.body.error.code).toBe('NOT_OWNER');
    const unbound = await probe(dev, stranger, 'nobody-probe', target);
    expect(unbound.status).toBe(404);
    // signed for one name, presented as another's: the signed name is the one checked
    const forged = await stranger.signRequest('probe', 'carol-probe', { endpoint: target });
    const [h, , s] = forged.split('.');
    const p = Buffer.from(
      JSON.stringify({ v: 1, op: 'probe', name: 'carol-probe', seq: 1, iat: Date.now() }),
    ).toString('base64url');
    const tampered = await fetch(dev + probePath, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request: `${h}.${p}.${s}` }),
    });
    expect(tampered.status).toBe(400);
    expect(connections).toBe(before);
  });

  it('without developer mode, refuses loopback, private and metadata endpoints as written', async () => {
    const dave = await owner(strict, 'dave-probe');
    for (const endpoint of [
      site.url,
      'http://localhost:4200/',
      'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:127.0.0.1]/',
      'ftp://example.com/',
    ]) {
      const res = await probe(strict, dave, 'dave-probe', endpoint);
      expect(res.status, endpoint).toBe(422);
      expect(res.body.error.code).toBe('INVALID_ENDPOINT');
    }
  });

  it('connects to a name only through the checked address: a name resolving to loopback is refused', async () => {
    const before = connections;
    const port = (silent.address() as AddressInfo).port;
    let lookups = 0;
    // A resolver that says 127.0.0.1, as a DNS name an attacker controls would.
    const attacker: Lookup = (_host, options, callback) => {
      lookups++;
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    };
    const answer = await probeEndpoint(new URL(`http://inside.example.com:${port}/`), {
      lookup: guardLookup(attacker, false),
      timeoutMs: 1000,
    });
    expect(answer).toEqual({ reachable: false, error: 'ADDRESS_NOT_PUBLIC' });
    expect(lookups).toBe(1);
    expect(connections).toBe(before);
  });

  it('limits probes per address and per name (429)', async () => {
    const limited = await superNode(true, {});
    const erin = await owner(limited, 'erin-probe');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await probe(limited, erin, 'erin-probe', site.url)).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toContain(429);
  });
});
