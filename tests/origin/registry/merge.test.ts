import { describe, expect, it } from 'vitest';
import { KeyPair } from '../../../shared/keys.ts';
import { signBinding } from '../../../shared/records/binding.ts';
import { signRequest } from '../../../shared/records/request.ts';
import { signRoute } from '../../../shared/records/route.ts';
import { mergeStates, verifyState } from '../../../origin/registry/merge.ts';
import { describeState, type NameState } from '../../../origin/registry/state.ts';

const HOLD = 30 * 24 * 3600_000;
const r1 = KeyPair.generate();
const r2 = KeyPair.generate();
const trusted = [r1.id, r2.id];
const T = Date.UTC(2026, 0, 1);

async function line(owner: KeyPair, registrar: KeyPair, boundAt: number): Promise<NameState> {
  const binding = await signBinding(
    { name: 'merged', owner: owner.id.toString(), boundAt },
    registrar,
  );
  return {
    name: 'merged',
    binding,
    origin: binding,
    transfers: [],
    route: null,
    released: null,
    offer: null,
    previous: null,
  };
}
const route = (owner: KeyPair, seq: number, iat: number) =>
  signRoute(
    { name: 'merged', mode: 'relay', relays: [r1.id.toString()], seq, iat, exp: iat + 60_000 },
    owner,
  );

describe('verifying replicated states', () => {
  it('accepts a transfer chain signed by the old and the new owner, refuses a forged one', async () => {
    const alice = KeyPair.generate();
    const bob = KeyPair.generate();
    const mallory = KeyPair.generate();
    const base = await line(alice, r1, T);
    const offer = await signRequest(
      { op: 'transfer', name: 'merged', seq: 1, iat: T + 10, to: bob.id.toString(), boundAt: T },
      alice,
    );
    const accept = await signRequest(
      { op: 'accept-transfer', name: 'merged', seq: 1, iat: T + 20 },
      bob,
    );
    const bobBinding = await signBinding(
      { name: 'merged', owner: bob.id.toString(), boundAt: T },
      r2,
    );
    const moved: NameState = { ...base, binding: bobBinding, transfers: [{ offer, accept }] };
    expect((await verifyState(moved, trusted)).ok).toBe(true);
    // mallory accepts an offer made to bob
    const stolenAccept = await signRequest(
      { op: 'accept-transfer', name: 'merged', seq: 1, iat: T + 20 },
      mallory,
    );
    const malloryBinding = await signBinding(
      { name: 'merged', owner: mallory.id.toString(), boundAt: T },
      r2,
    );
    expect(
      (
        await verifyState(
          { ...base, binding: malloryBinding, transfers: [{ offer, accept: stolenAccept }] },
          trusted,
        )
      ).ok,
    ).toBe(false);
    // a binding that changes owner without any transfer
    expect((await verifyState({ ...base, binding: malloryBinding }, trusted)).ok).toBe(false);
    // a route or a release signed by someone else
    expect((await verifyState({ ...base, route: await route(mallory, 1, T) }, trusted)).ok).toBe(
      false,
    );
    const release = await signRequest(
      { op: 'release', name: 'merged', seq: 2, iat: T, boundAt: T },
      mallory,
    );
    expect((await verifyState({ ...base, released: release }, trusted)).ok).toBe(false);
  });
});

describe('merging replicated states', () => {
  it('the earliest bound-at wins between two independent lines, ties to the smaller registrar id', async () => {
    const early = await line(KeyPair.generate(), r2, T);
    const late = await line(KeyPair.generate(), r1, T + 1);
    expect(mergeStates(describeState(late, 1), early, HOLD)).toBe(early);
    expect(mergeStates(describeState(early, 1), late, HOLD)).toBeNull();
    const a = await line(KeyPair.generate(), r1, T);
    const b = await line(KeyPair.generate(), r2, T);
    const smaller = r1.id.compareTo(r2.id) < 0 ? a : b;
    const larger = smaller === a ? b : a;
    expect(mergeStates(describeState(larger, 1), smaller, HOLD)).toBe(smaller);
    expect(mergeStates(describeState(smaller, 1), larger, HOLD)).toBeNull();
  });

  it('a line claimed after the old one lapsed (hold period over) or was released wins', async () => {
    const oldOwner = KeyPair.generate();
    const old = { ...(await line(oldOwner, r1, T)), route: await route(oldOwner, 1, T) };
    const tooEarly = await line(KeyPair.generate(), r2, T + 60_000 + HOLD - 1);
    const afterHold = await line(KeyPair.generate(), r2, T + 60_000 + HOLD);
    expect(mergeStates(describeState(old, 1), tooEarly, HOLD)).toBeNull();
    expect(mergeStates(describeState(old, 1), afterHold, HOLD)).toBe(afterHold);
    const release = await signRequest(
      { op: 'release', name: 'merged', seq: 3, iat: T + 5_000, boundAt: T },
      oldOwner,
    );
    const next = {
      ...(await line(KeyPair.generate(), r2, T + 6_000)),
      previous: { binding: old.binding, released: release },
    };
    expect(mergeStates(describeState(old, 1), next, HOLD)).toBe(next);
    expect(mergeStates(describeState(next, 2), old, HOLD)).toBeNull();
  });

  it('within one line the higher route seq and a release are taken, nothing else changes', async () => {
    const owner = KeyPair.generate();
    const base = await line(owner, r1, T);
    const v1 = { ...base, route: await route(owner, 1, T) };
    const v2 = { ...base, route: await route(owner, 2, T + 1) };
    expect(mergeStates(describeState(v1, 1), v2, HOLD)?.route).toBe(v2.route);
    expect(mergeStates(describeState(v2, 1), v1, HOLD)).toBeNull();
    expect(mergeStates(describeState(v2, 1), v2, HOLD)).toBeNull();
    const released = {
      ...base,
      released: await signRequest(
        { op: 'release', name: 'merged', seq: 9, iat: T + 2, boundAt: T },
        owner,
      ),
    };
    const forOtherLine = {
      ...base,
      released: await signRequest(
        { op: 'release', name: 'merged', seq: 9, iat: T + 2, boundAt: T - 1 },
        owner,
      ),
    };
    expect((await verifyState(released, trusted)).ok).toBe(true);
    expect((await verifyState(forOtherLine, trusted)).ok).toBe(false);
    const merged = mergeStates(describeState(v2, 1), released, HOLD);
    expect(merged?.released).toBe(released.released);
    expect(merged?.route).toBeNull();
  });
});
