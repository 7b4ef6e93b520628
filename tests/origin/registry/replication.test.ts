import { afterAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../../shared/keys.ts';
import { registryOpPaths } from '../../../shared/records/api.ts';
import { signBinding, verifyBinding } from '../../../shared/records/binding.ts';
import { signRoute, verifyResolution } from '../../../shared/records/route.ts';
import { signRequest } from '../../../shared/records/request.ts';
import { peerAuthorization, pullQuery } from '../../../origin/registry/peer-auth.ts';
import type { NameState } from '../../../origin/registry/state.ts';
import {
  clientFor,
  eventually,
  expectCode,
  removeTempDirs,
  startRegistry,
  tempDir,
} from './helpers.ts';

afterAll(removeTempDirs);

type RunningRegistry = Awaited<ReturnType<typeof startRegistry>>;

/** Two registrars that trust each other; peered unless `partitioned`. */
async function pair(
  partitioned = false,
  extra: { dataDirA?: string } = {},
): Promise<[RunningRegistry, RunningRegistry]> {
  const ka = KeyPair.generate();
  const kb = KeyPair.generate();
  const trusted = [ka.id, kb.id];
  const a = await startRegistry({
    key: ka,
    trustedRegistrars: trusted,
    pullIntervalMs: 200,
    ...(extra.dataDirA ? { dataDir: extra.dataDirA } : {}),
  });
  const b = await startRegistry({ key: kb, trustedRegistrars: trusted, pullIntervalMs: 200 });
  if (!partitioned) connect(a, b);
  return [a, b];
}

function connect(a: RunningRegistry, b: RunningRegistry): void {
  a.registry.replication.addPeer({ id: b.key.id.toString(), url: b.url });
  b.registry.replication.addPeer({ id: a.key.id.toString(), url: a.url });
}

const ownerOf = async (binding: string, trusted: KeyPair[]) => {
  const v = await verifyBinding(
    binding,
    trusted.map((k) => k.id),
  );
  return v.ok ? v.value.owner.toString() : null;
};

describe('replication between two super nodes', () => {
  it('a claim and a route accepted by the primary resolve at the secondary', async () => {
    const [a, b] = await pair();
    try {
      const node = clientFor(a);
      const { binding } = await node.claim('replicated');
      await node.publishRoute({
        name: 'replicated',
        mode: 'relay',
        relays: [a.key.id.toString(), b.key.id.toString()],
      });
      const atB = clientFor(b);
      const resolved = await eventually(async () => {
        const r = await atB.resolve('replicated');
        return r.route ? r : undefined;
      });
      expect(resolved?.binding).toBe(binding);
      const v = await verifyResolution(resolved!, [a.key.id, b.key.id], Date.now());
      expect(v.ok && v.value.state).toBe('online');
      // ...and the owner's claim at the secondary returns the same binding, not a new one
      const again = await clientFor(b, node.key).claim('replicated');
      expect(again).toEqual({ name: 'replicated', binding, created: false });
      expect(b.registry.replication.stats.rejected).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('with the primary down the secondary takes renewals and new claims; the primary catches up on return', async () => {
    const dirA = tempDir();
    const [a, b] = await pair(false, { dataDirA: dirA });
    let a2: RunningRegistry | null = null;
    try {
      const node = clientFor(a);
      await node.claim('survivor');
      await node.publishRoute({
        name: 'survivor',
        mode: 'relay',
        relays: [a.key.id.toString()],
        seq: 1,
      });
      await eventually(async () =>
        (await clientFor(b).resolve('survivor')).route ? true : undefined,
      );
      await a.close();
      const atB = clientFor(b, node.key);
      await expectCode(clientFor(a, node.key).health(), 'NETWORK');
      expect(
        (
          await atB.publishRoute({
            name: 'survivor',
            mode: 'relay',
            relays: [b.key.id.toString()],
            seq: 2,
          })
        ).seq,
      ).toBe(2);
      const newcomer = clientFor(b);
      const fresh = await newcomer.claim('newcomer');
      expect(fresh.created).toBe(true);
      a2 = await startRegistry({
        key: a.key,
        trustedRegistrars: [a.key.id, b.key.id],
        dataDir: dirA,
        pullIntervalMs: 200,
      });
      connect(a2, b);
      await a2.registry.replication.pullAll();
      const atA = clientFor(a2);
      expect((await atA.resolve('newcomer')).binding).toBe(fresh.binding);
      const route = (await atA.resolve('survivor')).route!;
      expect(JSON.parse(Buffer.from(route.split('.')[1], 'base64url').toString()).seq).toBe(2);
    } finally {
      await a2?.close();
      await b.close();
    }
  });

  it('a partition heals to the same binding everywhere: the earliest bound-at wins', async () => {
    const [a, b] = await pair(true);
    try {
      const early = clientFor(a);
      const late = clientFor(b);
      await early.claim('contested');
      await new Promise((r) => setTimeout(r, 5));
      await late.claim('contested');
      await late.publishRoute({ name: 'contested', mode: 'relay', relays: [b.key.id.toString()] });
      await early.claim('only-at-a');
      await late.claim('only-at-b');
      connect(a, b);
      await Promise.all([a.registry.replication.pullAll(), b.registry.replication.pullAll()]);
      const keys = [a.key, b.key];
      for (const n of [a, b]) {
        const c = clientFor(n);
        const r = await c.resolve('contested');
        expect(await ownerOf(r.binding, keys)).toBe(early.key.id.toString());
        expect(r.route).toBeNull(); // the losing key's route is not served for the winner's name
        expect(await ownerOf((await c.resolve('only-at-a')).binding, keys)).toBe(
          early.key.id.toString(),
        );
        expect(await ownerOf((await c.resolve('only-at-b')).binding, keys)).toBe(
          late.key.id.toString(),
        );
      }
      await expectCode(
        late.publishRoute({ name: 'contested', mode: 'relay', relays: [b.key.id.toString()] }),
        'NOT_OWNER',
        403,
      );
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('replicates releases and transfers so the secondary enforces the new owner', async () => {
    const [a, b] = await pair();
    try {
      const old = clientFor(a);
      const fresh = clientFor(a);
      await old.claim('handover');
      await old.transfer('handover', fresh.key.id);
      await fresh.acceptTransfer('handover');
      await old.claim('dropped');
      await old.release('dropped');
      const atB = clientFor(b);
      const owner = await eventually(async () => {
        const o = await ownerOf((await atB.resolve('handover')).binding, [a.key, b.key]);
        return o === fresh.key.id.toString() ? o : undefined;
      });
      expect(owner).toBe(fresh.key.id.toString());
      expect(
        await eventually(async () =>
          (await atB.available('dropped')).available ? true : undefined,
        ),
      ).toBe(true);
      await expectCode(
        clientFor(b, old.key).publishRoute({
          name: 'handover',
          mode: 'relay',
          relays: [b.key.id.toString()],
        }),
        'NOT_OWNER',
        403,
      );
      await clientFor(b, fresh.key).publishRoute({
        name: 'handover',
        mode: 'relay',
        relays: [b.key.id.toString()],
      });
      // a new claim of the released name at B replaces the released line at A too
      const next = clientFor(b);
      const claimed = await next.claim('dropped');
      const atA = clientFor(a);
      expect(
        await eventually(async () =>
          (await atA.resolve('dropped')).binding === claimed.binding ? true : undefined,
        ),
      ).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('replays across registrars', () => {
  it('a release captured at one registrar cannot end a later binding of the name at another', async () => {
    const [a, b] = await pair();
    try {
      const key = KeyPair.generate();
      const owner = clientFor(a, key);
      const first = await owner.claim('reclaimed');
      const firstBoundAt = JSON.parse(
        Buffer.from(first.binding.split('.')[1], 'base64url').toString(),
      ).boundAt as number;
      const release = await signRequest(
        {
          op: 'release',
          name: 'reclaimed',
          seq: Date.now(),
          iat: Date.now(),
          boundAt: firstBoundAt,
        },
        key,
      );
      const post = (url: string) =>
        fetch(url + registryOpPaths.release('reclaimed'), {
          method: 'POST',
          body: JSON.stringify({ request: release }),
        });
      expect((await post(a.url)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 5));
      const second = await owner.claim('reclaimed');
      expect(
        await eventually(async () =>
          (await clientFor(b).resolve('reclaimed')).binding === second.binding ? true : undefined,
        ),
      ).toBe(true);
      const replayed = await post(b.url);
      expect(replayed.status).toBe(409);
      expect(((await replayed.json()) as { error: { code: string } }).error.code).toBe('REPLAYED');
      expect((await clientFor(b).resolve('reclaimed')).binding).toBe(second.binding);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('replication refuses what does not verify', () => {
  it('authenticates the peer and checks every item', async () => {
    const [a, b] = await pair(true);
    try {
      const victim = clientFor(a);
      const { binding } = await victim.claim('guarded');
      const thief = KeyPair.generate();
      const rogueRegistrar = KeyPair.generate();
      const push = async (signer: KeyPair, items: unknown[], bodyOverride?: string) => {
        const body = JSON.stringify({ items });
        const res = await fetch(a.url + registryOpPaths.replicationPush, {
          method: 'POST',
          headers: {
            authorization: await peerAuthorization(signer, a.key.id, 'push', body, Date.now()),
          },
          body: bodyOverride ?? body,
        });
        return {
          status: res.status,
          body: (await res.json()) as {
            stored?: number;
            rejected?: number;
            error?: { code: string };
          },
        };
      };
      const thiefBinding = await signBinding(
        { name: 'guarded', owner: thief.id.toString(), boundAt: 1 },
        rogueRegistrar,
      );
      const state = (bindingJws: string, route: string | null = null): NameState => ({
        name: 'guarded',
        binding: bindingJws,
        origin: bindingJws,
        transfers: [],
        route,
        released: null,
        offer: null,
        previous: null,
      });
      // not a trusted peer, or a body that is not the one signed
      expect((await push(rogueRegistrar, [state(thiefBinding)])).status).toBe(401);
      expect((await push(b.key, [state(thiefBinding)], JSON.stringify({ items: [] }))).status).toBe(
        401,
      );
      const noAuth = await fetch(a.url + registryOpPaths.replicationChanges + '?since=0');
      expect(noAuth.status).toBe(401);
      const pullAuth = await peerAuthorization(
        b.key,
        a.key.id,
        'pull',
        pullQuery(0, 10),
        Date.now(),
      );
      const pull = (query: string, authorization = pullAuth) =>
        fetch(`${a.url}${registryOpPaths.replicationChanges}?${query}`, {
          headers: { authorization },
        });
      expect((await pull('since=0&limit=10')).status).toBe(200);
      expect((await pull('since=5&limit=10')).status).toBe(401); // the signed query is another one
      const oldAuth = await peerAuthorization(
        b.key,
        a.key.id,
        'pull',
        pullQuery(0, 10),
        Date.now() - 120_000,
      );
      expect((await pull('since=0&limit=10', oldAuth)).status).toBe(401);
      const forOther = await peerAuthorization(
        b.key,
        b.key.id,
        'pull',
        pullQuery(0, 10),
        Date.now(),
      );
      expect((await pull('since=0&limit=10', forOther)).status).toBe(401);
      // a trusted peer relaying a binding from an untrusted registrar
      expect((await push(b.key, [state(thiefBinding)])).body).toEqual({ stored: 0, rejected: 1 });
      // the owner's binding with a route the thief signed
      const thiefRoute = await signRoute(
        {
          name: 'guarded',
          mode: 'direct',
          endpoint: 'https://evil.example.com',
          relays: [],
          seq: 99,
          iat: Date.now(),
          exp: Date.now() + 60_000,
        },
        thief,
      );
      expect((await push(b.key, [state(binding, thiefRoute)])).body).toEqual({
        stored: 0,
        rejected: 1,
      });
      // a later binding by the trusted peer loses against the earlier one (the partition rule)
      const laterAtB = await signBinding(
        { name: 'guarded', owner: thief.id.toString(), boundAt: Date.now() + 10 },
        b.key,
      );
      expect((await push(b.key, [state(laterAtB)])).body).toEqual({ stored: 0, rejected: 0 });
      expect((await push(b.key, ['junk', null, { name: 'guarded' }])).body).toEqual({
        stored: 0,
        rejected: 3,
      });
      expect((await clientFor(a).resolve('guarded')).binding).toBe(binding);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
