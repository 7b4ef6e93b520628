import { describe, expect, it } from 'vitest';
import { KeyPair } from '../../shared/keys.ts';
import { signChallenge } from '../../shared/records/challenge.ts';
import { signBinding } from '../../shared/records/binding.ts';
import { verifyItem } from '../../origin/zone/records.ts';
import { buildView } from '../../origin/zone/view.ts';
import { heartbeatRecord, stored, viewOptions, ZONE } from './helpers.ts';

describe('the zone view', () => {
  it('lists a super node while its heartbeat is younger than the TTL, and drops it after', async () => {
    const now = Date.now();
    const [a, b] = [KeyPair.generate(), KeyPair.generate()];
    const records = [
      stored(await heartbeatRecord(a, { gateways: ['192.0.2.1'], iat: now }), now),
      stored(
        await heartbeatRecord(b, { gateways: ['192.0.2.2'], iat: now - 20_000 }),
        now - 20_000,
      ),
    ];
    const fresh = buildView(records, now, viewOptions());
    expect(fresh.gateways.a).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(fresh.live).toEqual(new Set([a.id.toString(), b.id.toString()]));
    // b's heartbeat reaches 30 s at now + 10 s: the view says to look again by then
    expect(fresh.validUntil).toBeLessThanOrEqual(now + 10_001);
    const later = buildView(records, now + 10_002, viewOptions());
    expect(later.gateways.a).toEqual(['192.0.2.1']);
    expect(later.live).toEqual(new Set([a.id.toString()]));
  });

  it('measures age from arrival, and refuses to revive a heartbeat signed long ago', async () => {
    const now = Date.now();
    const a = KeyPair.generate();
    const old = await heartbeatRecord(a, { gateways: ['192.0.2.1'], iat: now - 120_000 });
    // arrived just now (a late pull), but signed two minutes ago: beyond TTL + clock skew
    expect(buildView([stored(old, now)], now, viewOptions()).live.size).toBe(0);
  });

  it('lists a super node without DNS among the live ones and its gateways, not among the name servers', async () => {
    const now = Date.now();
    const [dns, noDns] = [KeyPair.generate(), KeyPair.generate()];
    const view = buildView(
      [
        stored(await heartbeatRecord(dns, { gateways: ['192.0.2.1'], iat: now }), now),
        stored(await heartbeatRecord(noDns, { gateways: ['192.0.2.2'], ns: null, iat: now }), now),
      ],
      now,
      viewOptions(),
    );
    expect(view.live.size).toBe(2);
    expect(view.gateways.a).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(view.nameServers.map((n) => n.id)).toEqual([dns.id.toString()]);
  });

  it('answers with the last known gateways rather than none when no super node is live', async () => {
    const now = Date.now();
    const a = KeyPair.generate();
    const view = buildView(
      [
        stored(
          await heartbeatRecord(a, { gateways: ['192.0.2.9'], iat: now - 100_000 }),
          now - 100_000,
        ),
      ],
      now,
      viewOptions(),
    );
    expect(view.live.size).toBe(0);
    expect(view.gateways.a).toEqual(['192.0.2.9']);
  });

  it("serves an owner's challenge only while the registry says the signer owns the name", async () => {
    const now = Date.now();
    const registrar = KeyPair.generate();
    const owner = KeyPair.generate();
    const binding = await signBinding(
      { name: 'alice', owner: owner.id.toString(), boundAt: now - 1000 },
      registrar,
    );
    const jws = await signChallenge(
      { zone: ZONE, name: 'alice', values: ['v1'], seq: 1, iat: now, exp: now + 60_000 },
      owner,
    );
    const checked = await verifyItem({ jws, binding }, { zone: ZONE, trusted: [registrar.id] });
    if (!checked.ok) throw new Error(checked.reason);
    const records = [stored(checked.record, now)];
    const txt = (currentOwner: () => string | null | undefined) =>
      buildView(records, now, viewOptions({ currentOwner })).txt.get(
        `_acme-challenge.alice.${ZONE}`,
      );
    expect(txt(() => owner.id.toString())).toEqual(['v1']);
    expect(txt(() => undefined)).toEqual(['v1']); // not replicated here yet: the binding it came with counts
    expect(txt(() => KeyPair.generate().id.toString())).toBeUndefined(); // transferred since
    expect(txt(() => null)).toBeUndefined(); // released
    expect(
      buildView(records, now + 60_000, viewOptions({ currentOwner: () => owner.id.toString() })).txt
        .size,
    ).toBe(0); // expired
  });
});

describe('zone records', () => {
  it('refuse a heartbeat of an untrusted key, another zone, a challenge without the binding that makes its signer the owner', async () => {
    const now = Date.now();
    const trusted = KeyPair.generate();
    const stranger = KeyPair.generate();
    await expect(heartbeatRecord(stranger, {}, [trusted.id])).rejects.toThrow(/not a super node/);
    const otherZone = await signChallenge(
      { zone: 'other.test', name: '', values: ['v'], seq: 1, iat: now, exp: now + 1000 },
      trusted,
    );
    expect(
      await verifyItem({ jws: otherZone }, { zone: ZONE, trusted: [trusted.id] }),
    ).toMatchObject({ ok: false, reason: 'challenge for another zone' });
    const apexByStranger = await signChallenge(
      { zone: ZONE, name: '', values: ['v'], seq: 1, iat: now, exp: now + 1000 },
      stranger,
    );
    expect(
      await verifyItem({ jws: apexByStranger }, { zone: ZONE, trusted: [trusted.id] }),
    ).toMatchObject({ ok: false });
    const ownerChallenge = await signChallenge(
      { zone: ZONE, name: 'alice', values: ['v'], seq: 1, iat: now, exp: now + 1000 },
      stranger,
    );
    expect(
      await verifyItem({ jws: ownerChallenge }, { zone: ZONE, trusted: [trusted.id] }),
    ).toMatchObject({ ok: false });
    const someoneElses = await signBinding(
      { name: 'alice', owner: KeyPair.generate().id.toString(), boundAt: now },
      trusted,
    );
    expect(
      await verifyItem(
        { jws: ownerChallenge, binding: someoneElses },
        { zone: ZONE, trusted: [trusted.id] },
      ),
    ).toMatchObject({ ok: false, reason: 'the binding does not make the signer the owner' });
    const tampered =
      ownerChallenge.slice(0, -4) + (ownerChallenge.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(
      (
        await verifyItem(
          { jws: tampered, binding: someoneElses },
          { zone: ZONE, trusted: [trusted.id] },
        )
      ).ok,
    ).toBe(false);
    expect(
      await verifyItem({ jws: 'not.a.jws' }, { zone: ZONE, trusted: [trusted.id] }),
    ).toMatchObject({ ok: false });
    expect(await verifyItem(null, { zone: ZONE, trusted: [trusted.id] })).toMatchObject({
      ok: false,
    });
  });
});
