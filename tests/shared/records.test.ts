import { describe, expect, it } from 'vitest';
import { KeyPair } from '../../shared/keys.ts';
import { compareBindings, signBinding, verifyBinding } from '../../shared/records/binding.ts';
import { signEdgeToken, verifyEdgeToken } from '../../shared/records/edge-token.ts';
import { signJws } from '../../shared/records/jws.ts';
import { checkName, nameFromHost } from '../../shared/records/names.ts';
import { signRoute, verifyResolution, verifyRoute } from '../../shared/records/route.ts';

const registrar = KeyPair.generate();
const otherRegistrar = KeyPair.generate();
const owner = KeyPair.generate();
const thief = KeyPair.generate();
const relay = KeyPair.generate();
const NOW = 1_800_000_000_000;

const route = (name: string, key: KeyPair, exp = NOW + 60_000) =>
  signRoute(
    { name, mode: 'relay', relays: [relay.id.toString()], seq: 1, iat: exp - 60_000, exp },
    key,
  );

describe('names', () => {
  it('accepts DNS labels and refuses everything else with a stable code', () => {
    for (const good of ['alice', 'a-b', 'abc', '123', 'x'.repeat(63)])
      expect(checkName(good).ok).toBe(true);
    for (const bad of [
      'ab',
      '-abc',
      'abc-',
      'Alice',
      'a_b',
      'a.b',
      'x'.repeat(64),
      'xn--abc',
      'a--b',
      '',
      42,
    ]) {
      const result = checkName(bad);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.error.code).toBe('INVALID_NAME');
    }
    const reserved = checkName('www');
    expect(!reserved.ok && reserved.error.code).toBe('RESERVED_NAME');
    expect(checkName('www', []).ok).toBe(true);
  });

  it('finds the name in a host under the zone', () => {
    expect(nameFromHost('alice.ela.city', 'ela.city')).toBe('alice');
    expect(nameFromHost('Alice.ELA.city:443', 'ela.city')).toBe('alice');
    expect(nameFromHost('ela.city', 'ela.city')).toBe('');
    expect(nameFromHost('a.b.ela.city', 'ela.city')).toBeNull();
    expect(nameFromHost('evil.com', 'ela.city')).toBeNull();
    expect(nameFromHost('xela.city', 'ela.city')).toBeNull();
    expect(nameFromHost('alice.localhost:8080', 'localhost')).toBe('alice');
  });
});

describe('bindings and route records', () => {
  it('verifies the full chain: trusted registrar -> owner -> live route', async () => {
    const binding = await signBinding(
      { name: 'alice', owner: owner.id.toString(), boundAt: NOW },
      registrar,
    );
    const result = await verifyResolution(
      { name: 'alice', binding, route: await route('alice', owner) },
      [registrar.id],
      NOW,
    );
    expect(result.ok).toBe(true);
    if (result.ok && result.value.state === 'online') {
      expect(result.value.route.relays[0].equals(relay.id)).toBe(true);
    } else {
      throw new Error('expected online');
    }
  });

  it('refuses an untrusted registrar, a route by another key, another name, and forgeries', async () => {
    const binding = await signBinding(
      { name: 'alice', owner: owner.id.toString(), boundAt: NOW },
      registrar,
    );
    const untrusted = await verifyResolution(
      { name: 'alice', binding, route: null },
      [otherRegistrar.id],
      NOW,
    );
    expect(!untrusted.ok && untrusted.error.code).toBe('WRONG_SIGNER');
    const hijack = await verifyResolution(
      { name: 'alice', binding, route: await route('alice', thief) },
      [registrar.id],
      NOW,
    );
    expect(!hijack.ok && hijack.error.code).toBe('WRONG_SIGNER');
    const otherName = await verifyResolution(
      { name: 'bob', binding, route: null },
      [registrar.id],
      NOW,
    );
    expect(!otherName.ok && otherName.error.code).toBe('INVALID_RECORD');
    const [h, p, s] = binding.split('.');
    const tampered = `${h}.${p.slice(0, -2)}AA.${s}`;
    expect((await verifyBinding(tampered, [registrar.id])).ok).toBe(false);
    expect((await verifyBinding('not a jws', [registrar.id])).ok).toBe(false);
    const wrongTyp = await signJws(
      {
        v: 1,
        name: 'alice',
        owner: owner.id.toString(),
        boundAt: NOW,
        registrar: registrar.id.toString(),
      },
      registrar,
      'pc2-route',
    );
    expect((await verifyBinding(wrongTyp, [registrar.id])).ok).toBe(false);
  });

  it('reports an expired or missing route as offline, not as an error', async () => {
    const binding = await signBinding(
      { name: 'alice', owner: owner.id.toString(), boundAt: NOW },
      registrar,
    );
    const expired = await verifyResolution(
      { name: 'alice', binding, route: await route('alice', owner, NOW - 1) },
      [registrar.id],
      NOW,
    );
    expect(expired.ok && expired.value.state).toBe('offline');
    const none = await verifyResolution(
      { name: 'alice', binding, route: null },
      [registrar.id],
      NOW,
    );
    expect(none.ok && none.value.state === 'offline' && none.value.reason).toBe('no-route');
  });

  it('checks route shape: direct needs an http(s) endpoint, relay needs relays, lease at most 24 h', async () => {
    const direct = await signRoute(
      {
        name: 'alice',
        mode: 'direct',
        endpoint: 'https://203.0.113.5:4200',
        relays: [],
        seq: 2,
        iat: NOW,
        exp: NOW + 1000,
      },
      owner,
    );
    expect((await verifyRoute(direct)).ok).toBe(true);
    const noEndpoint = await signRoute(
      { name: 'alice', mode: 'direct', relays: [], seq: 2, iat: NOW, exp: NOW + 1000 },
      owner,
    );
    expect((await verifyRoute(noEndpoint)).ok).toBe(false);
    const noRelays = await signRoute(
      { name: 'alice', mode: 'relay', relays: [], seq: 2, iat: NOW, exp: NOW + 1000 },
      owner,
    );
    expect((await verifyRoute(noRelays)).ok).toBe(false);
    const long = await signRoute(
      {
        name: 'alice',
        mode: 'relay',
        relays: [relay.id.toString()],
        seq: 2,
        iat: NOW,
        exp: NOW + 25 * 3600_000,
      },
      owner,
    );
    expect((await verifyRoute(long)).ok).toBe(false);
  });

  it('carries the optional map listing as a signed boolean', async () => {
    const base = { name: 'alice', mode: 'relay' as const, relays: [relay.id.toString()], seq: 3 };
    const listed = await signRoute({ ...base, iat: NOW, exp: NOW + 1000, listed: true }, owner);
    const checked = await verifyRoute(listed);
    expect(checked.ok && checked.value.route.listed).toBe(true);
    const unlisted = await verifyRoute(
      await signRoute({ ...base, iat: NOW, exp: NOW + 1000 }, owner),
    );
    expect(unlisted.ok && unlisted.value.route.listed).toBe(undefined);
    const odd = await signRoute(
      { ...base, iat: NOW, exp: NOW + 1000, listed: 'yes' as unknown as boolean },
      owner,
    );
    expect((await verifyRoute(odd)).ok).toBe(false);
  });

  it('carries tls "node" for a private name: optional, checked, an https endpoint when direct', async () => {
    const base = { name: 'alice', seq: 3, iat: NOW, exp: NOW + 1000 };
    const relayed = await signRoute(
      { ...base, mode: 'relay', relays: [relay.id.toString()], tls: 'node' },
      owner,
    );
    const ok1 = await verifyRoute(relayed);
    expect(ok1.ok && ok1.value.route.tls).toBe('node');
    const direct = await signRoute(
      { ...base, mode: 'direct', endpoint: 'https://203.0.113.5:8443', relays: [], tls: 'node' },
      owner,
    );
    expect((await verifyRoute(direct)).ok).toBe(true);
    // A gateway would splice TLS to a plain HTTP port: refused.
    const plainEndpoint = await signRoute(
      { ...base, mode: 'direct', endpoint: 'http://203.0.113.5:8080', relays: [], tls: 'node' },
      owner,
    );
    const refused = await verifyRoute(plainEndpoint);
    expect(!refused.ok && refused.error.message).toMatch(/https endpoint/);
    // Any other value is not silently taken for "the gateway terminates".
    const other = await signJws(
      {
        v: 1,
        ...base,
        mode: 'relay',
        relays: [relay.id.toString()],
        tls: 'edge',
        node: owner.id.toString(),
      },
      owner,
      'pc2-route',
    );
    const wrong = await verifyRoute(other);
    expect(!wrong.ok && wrong.error.message).toMatch(/tls is "node"/);
    // Records without the field (every record made before private names) are unchanged and valid.
    const old = await signRoute({ ...base, mode: 'relay', relays: [relay.id.toString()] }, owner);
    const oldPayload = JSON.parse(Buffer.from(old.split('.')[1], 'base64url').toString());
    expect('tls' in oldPayload).toBe(false);
    const verifiedOld = await verifyRoute(old);
    expect(verifiedOld.ok && verifiedOld.value.route.tls).toBeUndefined();
  });

  it('resolves partitions deterministically: earliest bind wins, then the smaller registrar id', () => {
    const a = {
      v: 1 as const,
      name: 'alice',
      owner: owner.id.toString(),
      boundAt: NOW,
      registrar: registrar.id.toString(),
    };
    const b = {
      ...a,
      owner: thief.id.toString(),
      boundAt: NOW + 1,
      registrar: otherRegistrar.id.toString(),
    };
    expect(compareBindings(a, b)).toBeLessThan(0);
    expect(compareBindings(b, a)).toBeGreaterThan(0);
    const tie = { ...b, boundAt: NOW };
    const smaller = registrar.id.compareTo(otherRegistrar.id) < 0 ? a : tie;
    expect(compareBindings(smaller, smaller === a ? tie : a)).toBeLessThan(0);
  });
});

describe('edge tokens', () => {
  const edge = KeyPair.generate();
  const node = KeyPair.generate().id;

  it('is accepted by the super node it names, from a configured edge, while fresh', async () => {
    const token = await signEdgeToken(edge, node, relay.id, NOW);
    const result = await verifyEdgeToken(token, [edge.id], relay.id, NOW + 1000);
    expect(result.ok && result.value.node.equals(node)).toBe(true);
  });

  it('is refused from an unknown edge, for another super node, expired, or missing', async () => {
    const token = await signEdgeToken(edge, node, relay.id, NOW);
    const stranger = await verifyEdgeToken(token, [KeyPair.generate().id], relay.id, NOW);
    expect(!stranger.ok && stranger.error.code).toBe('WRONG_SIGNER');
    const elsewhere = await verifyEdgeToken(token, [edge.id], registrar.id, NOW);
    expect(!elsewhere.ok && elsewhere.error.code).toBe('INVALID_TOKEN');
    const late = await verifyEdgeToken(token, [edge.id], relay.id, NOW + 120_000);
    expect(!late.ok && late.error.code).toBe('INVALID_TOKEN');
    expect((await verifyEdgeToken(undefined, [edge.id], relay.id, NOW)).ok).toBe(false);
  });

  it('is refused when issued in the future beyond the 5 s tolerance (it would outlive its 60 s)', async () => {
    const ahead = await signEdgeToken(edge, node, relay.id, NOW + 3_600_000);
    const refused = await verifyEdgeToken(ahead, [edge.id], relay.id, NOW);
    expect(!refused.ok && refused.error.message).toMatch(/issued in the future/);
    const skewed = await signEdgeToken(edge, node, relay.id, NOW + 3_000);
    expect((await verifyEdgeToken(skewed, [edge.id], relay.id, NOW)).ok).toBe(true);
  });
});
