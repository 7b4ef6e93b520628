/**
 * Replicated states: every part is verified before a state is stored (bindings signed by a trusted
 * registrar, routes and releases by the bound owner, transfers by the old and the new owner), then
 * merged with the local state by rules every super node applies the same way.
 */
import type { Id } from '../../shared/id.ts';
import { compareBindings, verifyBinding } from '../../shared/records/binding.ts';
import { type RegistryOp, verifyRequest } from '../../shared/records/request.ts';
import { verifyRoute } from '../../shared/records/route.ts';
import { NAME_PATTERN } from '../../shared/records/names.ts';
import { describeState, leaseEnd, type NameEntry, type NameState } from './state.ts';

export type Checked = { ok: true; state: NameState } | { ok: false; reason: string };

const fail = (reason: string): Checked => ({ ok: false, reason });

async function signedRequest(
  jws: unknown,
  op: RegistryOp,
  name: string,
): Promise<{ signer: string; to?: string; boundAt?: number } | null> {
  const r = await verifyRequest(jws);
  if (!r.ok || r.value.request.op !== op || r.value.request.name !== name) return null;
  return {
    signer: r.value.signer.toString(),
    to: r.value.request.to,
    boundAt: r.value.request.boundAt,
  };
}

/** Checks every signature and link of a state received from a peer. Never throws. */
export async function verifyState(input: unknown, trusted: readonly Id[]): Promise<Checked> {
  if (!input || typeof input !== 'object') return fail('a state is an object');
  const s = input as NameState;
  if (typeof s.name !== 'string' || !NAME_PATTERN.test(s.name)) return fail('bad name');
  if (!Array.isArray(s.transfers) || s.transfers.length > 64) return fail('bad transfers');
  const binding = await verifyBinding(s.binding, trusted);
  if (!binding.ok || binding.value.binding.name !== s.name)
    return fail(`binding: ${binding.ok ? 'other name' : binding.error.message}`);
  const origin = s.origin === s.binding ? binding : await verifyBinding(s.origin, trusted);
  if (!origin.ok || origin.value.binding.name !== s.name)
    return fail('origin binding does not verify');
  if (origin.value.binding.boundAt !== binding.value.binding.boundAt)
    return fail('a line keeps the boundAt of its origin');
  if (s.transfers.length === 0 && s.origin !== s.binding)
    return fail('binding differs from origin without a transfer');
  let owner = origin.value.owner.toString();
  for (const step of s.transfers) {
    const offer = await signedRequest(step?.offer, 'transfer', s.name);
    const accept = await signedRequest(step?.accept, 'accept-transfer', s.name);
    if (
      !offer ||
      !accept ||
      offer.signer !== owner ||
      offer.to !== accept.signer ||
      offer.boundAt !== origin.value.binding.boundAt
    ) {
      return fail('broken transfer chain');
    }
    owner = accept.signer;
  }
  if (owner !== binding.value.owner.toString())
    return fail('binding owner is not the end of the transfer chain');
  if (s.route !== null) {
    const route = await verifyRoute(s.route);
    if (!route.ok || route.value.route.name !== s.name || route.value.node.toString() !== owner)
      return fail("route is not the owner's");
  }
  if (s.released !== null) {
    const released = await signedRequest(s.released, 'release', s.name);
    if (
      !released ||
      released.signer !== owner ||
      released.boundAt !== binding.value.binding.boundAt
    )
      return fail("release is not the owner's");
  }
  if (s.offer !== null) {
    const offer = await signedRequest(s.offer, 'transfer', s.name);
    if (!offer || offer.signer !== owner || offer.boundAt !== binding.value.binding.boundAt)
      return fail("offer is not the owner's");
  }
  if (s.previous !== null) {
    const prev = await verifyBinding(s.previous?.binding, trusted);
    const released = await signedRequest(s.previous?.released, 'release', s.name);
    if (
      !prev.ok ||
      prev.value.binding.name !== s.name ||
      !released ||
      released.signer !== prev.value.owner.toString() ||
      released.boundAt !== prev.value.binding.boundAt
    ) {
      return fail('previous line is not a verified release');
    }
  }
  const clean: NameState = {
    name: s.name,
    binding: s.binding,
    origin: s.origin,
    transfers: s.transfers.map((t) => ({ offer: t.offer, accept: t.accept })),
    route: s.route,
    released: s.released,
    offer: s.offer,
    previous: s.previous ? { binding: s.previous.binding, released: s.previous.released } : null,
  };
  return { ok: true, state: clean };
}

/** True when line `a` is known dead by the time line `b` was bound (released, or lapsed after the hold period). */
function supersededBy(a: NameEntry, b: NameEntry, holdPeriodMs: number): boolean {
  if (b.state.previous?.binding === a.state.binding) return true;
  if (a.releasedAt !== null && b.binding.boundAt >= a.releasedAt) return true;
  return b.binding.boundAt >= leaseEnd(a) + holdPeriodMs;
}

/**
 * The state to keep for a name given the local one and a verified incoming one; null when the
 * local state already is (or beats) the result.
 */
export function mergeStates(
  local: NameEntry | undefined,
  incomingState: NameState,
  holdPeriodMs: number,
): NameState | null {
  if (!local) return incomingState;
  const incoming = describeState(incomingState, 0);
  const l = local.state;
  const i = incomingState;
  if (l.origin !== i.origin) {
    if (supersededBy(local, incoming, holdPeriodMs)) return i;
    if (supersededBy(incoming, local, holdPeriodMs)) return null;
    return compareBindings(incoming.binding, local.binding) < 0 ? i : null;
  }
  // One line: the longer transfer chain is the later owner; equal chains merge field by field.
  if (i.transfers.length !== l.transfers.length)
    return i.transfers.length > l.transfers.length ? i : null;
  const lastL = l.transfers.at(-1)?.accept ?? '';
  const lastI = i.transfers.at(-1)?.accept ?? '';
  if (lastL !== lastI) return lastI < lastL ? i : null;
  const merged: NameState = { ...l };
  if (i.route && (!local.route || incoming.route!.seq > local.route.seq)) merged.route = i.route;
  if (i.released && !l.released) merged.released = i.released;
  if (i.offer && (!local.offer || incoming.offer!.iat > local.offer.iat)) merged.offer = i.offer;
  if (merged.released) {
    merged.route = null;
    merged.offer = null;
  }
  const changed =
    merged.route !== l.route || merged.released !== l.released || merged.offer !== l.offer;
  return changed ? merged : null;
}
