/**
 * The replicated state of one name and what is derived from it. Every field is a JWS some key signed,
 * so a peer can check the whole state before storing it (see merge.ts).
 */
import type { NameBinding } from '../../shared/records/binding.ts';
import type { RegistryRequest } from '../../shared/records/request.ts';
import { decodeJwsPayload } from '../../shared/records/request.ts';
import type { RouteRecord } from '../../shared/records/route.ts';

/** One completed transfer: the old owner's offer and the new owner's acceptance. */
export interface TransferStep {
  offer: string;
  accept: string;
}

export interface NameState {
  name: string;
  /** Current binding JWS (registrar-signed). */
  binding: string;
  /** The binding this ownership line started with; transfers keep its boundAt. */
  origin: string;
  /** Transfers since `origin`, oldest first. */
  transfers: TransferStep[];
  /** Current route record JWS (owner-signed), if any. */
  route: string | null;
  /** The owner's signed release request once the name was released (a tombstone). */
  released: string | null;
  /** A pending transfer offer signed by the owner. */
  offer: string | null;
  /** The released line this one replaced, so a peer that missed the release can verify it. */
  previous: { binding: string; released: string } | null;
}

/** A state plus the facts read from its (already verified) JWS parts. */
export interface NameEntry {
  state: NameState;
  /** Local change counter: replication cursors refer to it. */
  version: number;
  binding: NameBinding;
  route: RouteRecord | null;
  /** When the current owner got the name (bound, or accepted a transfer), ms. */
  ownedSince: number;
  releasedAt: number | null;
  offer: RegistryRequest | null;
}

export function describeState(state: NameState, version: number): NameEntry {
  const binding = decodeJwsPayload<NameBinding>(state.binding);
  const route = state.route ? decodeJwsPayload<RouteRecord>(state.route) : null;
  const last = state.transfers.at(-1);
  const ownedSince = last
    ? Math.max(binding.boundAt, decodeJwsPayload<RegistryRequest>(last.accept).iat)
    : binding.boundAt;
  const releasedAt = state.released ? decodeJwsPayload<RegistryRequest>(state.released).iat : null;
  const offer = state.offer ? decodeJwsPayload<RegistryRequest>(state.offer) : null;
  return { state, version, binding, route, ownedSince, releasedAt, offer };
}

/** When the current owner was last known to be alive: its latest lease end or ownership start. */
export function leaseEnd(entry: NameEntry): number {
  return Math.max(entry.ownedSince, entry.route?.exp ?? 0);
}

export type NameStatus = 'free' | 'online' | 'offline' | 'bound' | 'lapsed';

/**
 * free: never bound or released; online: lease current; offline: lease expired, within the hold
 * period; bound: no route published yet, within the hold period; lapsed: hold period over, anyone
 * may claim.
 */
export function nameStatus(
  entry: NameEntry | undefined,
  now: number,
  holdPeriodMs: number,
): NameStatus {
  if (!entry || entry.state.released) return 'free';
  if (entry.route && entry.route.exp > now) return 'online';
  if (now >= leaseEnd(entry) + holdPeriodMs) return 'lapsed';
  return entry.route ? 'offline' : 'bound';
}
