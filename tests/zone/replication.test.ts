import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../agent/registry-client.ts';
import { SuperNode } from '../../origin/supernode.ts';
import { KeyPair } from '../../shared/keys.ts';
import { signChallenge } from '../../shared/records/challenge.ts';
import { peerAuthorization } from '../../origin/registry/peer-auth.ts';
import { queryServer, txtValues } from '../../origin/zone/dns-client.ts';
import { heartbeatRecord, ZONE } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'pc2-zone-repl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const running: SuperNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop().catch(() => {})));
});

async function superNodes(
  keys: KeyPair[],
  sub: string,
  gateways = (i: number) => [`192.0.2.${i + 1}`],
) {
  const nodes: SuperNode[] = [];
  for (const [i, key] of keys.entries()) {
    const node = new SuperNode({
      key,
      dataDir: join(dir, sub, `sn${i}`),
      zone: ZONE,
      edgeKeys: [],
      host: '127.0.0.1',
      apiPort: 0,
      tunnelPort: 0,
      dht: false,
      trustedRegistrars: keys.map((k) => k.id),
      developerMode: true,
      rateLimits: false,
      zoneDns: {
        dns: { host: '127.0.0.1', port: 0 },
        ttlS: 3,
        gatewayAddresses: gateways(i),
        rateLimit: false,
        pullIntervalMs: 200,
      },
    });
    await node.start();
    nodes.push(node);
    running.push(node);
  }
  const url = (n: SuperNode) => `http://127.0.0.1:${n.apiPort}`;
  for (const a of nodes)
    for (const [j, b] of nodes.entries())
      if (a !== b) {
        a.registry.replication.addPeer({ id: keys[j].id.toString(), url: url(b) });
        a.zone!.replication.addPeer({ id: keys[j].id.toString(), url: url(b) });
      }
  return { nodes, url };
}

const publish = async (url: string, challenge: string, name = 'alice') =>
  fetch(`${url}/api/v1/zone/challenges/${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ challenge }),
  });

async function until<T>(
  probe: () => T | Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await probe();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    v = await probe();
  }
  return v;
}

describe('zone records between super nodes', () => {
  it('heartbeats cross, and a pull brings what a push missed', async () => {
    const keys = [KeyPair.generate(), KeyPair.generate()];
    const { nodes } = await superNodes(keys, 'heartbeats');
    // peers were added after start: the first pushes went nowhere, the pulls heal it
    const live = await until(
      () => nodes[0].zone!.liveSuperNodes().map((s) => s.id),
      (ids) => ids.length === 2,
    );
    expect(live.sort()).toEqual(keys.map((k) => k.id.toString()).sort());
    expect(
      await until(
        () => nodes[1].zone!.view().gateways.a,
        (a) => a.length === 2,
      ),
    ).toEqual(['192.0.2.1', '192.0.2.2']);
  });

  it("an owner's publication is durable: served again after a restart with no peer to pull from", async () => {
    const key = KeyPair.generate();
    const { nodes, url } = await superNodes([key], 'durable');
    const owner = KeyPair.generate();
    await new RegistryClient({ url: url(nodes[0]), key: owner }).claim('alice');
    const now = Date.now();
    const challenge = await signChallenge(
      { zone: ZONE, name: 'alice', values: ['kept'], seq: 1, iat: now, exp: now + 60_000 },
      owner,
    );
    expect((await publish(url(nodes[0]), challenge)).status).toBe(200);
    await nodes[0].stop();
    running.length = 0;
    const again = await superNodes([key], 'durable');
    const port = again.nodes[0].zone!.dnsPort!;
    expect(
      txtValues(await queryServer('127.0.0.1', port, `_acme-challenge.alice.${ZONE}`, 'TXT')),
    ).toEqual(['kept']);
  });

  it('refuses publications that are malformed, late, for another zone or name, and pushes without a peer signature', async () => {
    const key = KeyPair.generate();
    const { nodes, url } = await superNodes([key], 'refusals');
    const base = url(nodes[0]);
    const owner = KeyPair.generate();
    await new RegistryClient({ url: base, key: owner }).claim('alice');
    const now = Date.now();
    const sign = (over: object) =>
      signChallenge(
        { zone: ZONE, name: 'alice', values: ['v'], seq: 5, iat: now, exp: now + 60_000, ...over },
        owner,
      );
    const code = async (res: Response) =>
      ((await res.json()) as { error?: { code: string } }).error?.code;
    expect(
      await code(await publish(base, await sign({ iat: now - 120_000, exp: now + 60_000 }))),
    ).toBe('CLOCK_SKEW');
    expect(await code(await publish(base, await sign({ zone: 'other.test' })))).toBe(
      'INVALID_RECORD',
    );
    expect(await code(await publish(base, await sign({}), 'bob'))).toBe('INVALID_RECORD');
    expect(await code(await publish(base, await sign({ values: ['bad value with spaces'] })))).toBe(
      'INVALID_RECORD',
    );
    expect(await code(await publish(base, 'garbage'))).toBe('INVALID_SIGNATURE');
    const notJson = await fetch(`${base}/api/v1/zone/challenges/alice`, {
      method: 'PUT',
      body: '{',
    });
    expect([notJson.status, await code(notJson)]).toEqual([400, 'BAD_REQUEST']);
    const huge = await fetch(`${base}/api/v1/zone/challenges/alice`, {
      method: 'PUT',
      body: 'x'.repeat(20_000),
    });
    expect([huge.status, await code(huge)]).toEqual([413, 'BODY_TOO_LARGE']);

    // replication is for trusted super nodes only, and the signed body must be the one sent
    const stranger = KeyPair.generate();
    const items = JSON.stringify({ items: [{ jws: 'x' }] });
    const unsigned = await fetch(`${base}/api/v1/zone/push`, { method: 'POST', body: items });
    expect(await code(unsigned)).toBe('UNAUTHENTICATED');
    const byStranger = await fetch(`${base}/api/v1/zone/push`, {
      method: 'POST',
      body: items,
      headers: {
        authorization: await peerAuthorization(stranger, key.id, 'zone-push', items, Date.now()),
      },
    });
    expect(await code(byStranger)).toBe('UNAUTHENTICATED');
    // a registry push authorization does not open the zone push
    const registryOp = await fetch(`${base}/api/v1/zone/push`, {
      method: 'POST',
      body: items,
      headers: { authorization: await peerAuthorization(key, key.id, 'push', items, Date.now()) },
    });
    expect(registryOp.status).toBe(401);
  });

  it("takes a peer's records only when they verify: a heartbeat signed by a key that is not a super node is refused", async () => {
    const keys = [KeyPair.generate(), KeyPair.generate()];
    const { nodes } = await superNodes(keys, 'verify');
    const forged = await heartbeatRecord(KeyPair.generate(), { gateways: ['203.0.113.66'] });
    const result = await nodes[0].zone!.replication.receive([
      forged.item,
      { jws: 'not-a-jws' },
      42,
    ]);
    expect(result).toEqual({ stored: 0, rejected: 3 });
    expect(nodes[0].zone!.view().gateways.a).not.toContain('203.0.113.66');
  });
});
