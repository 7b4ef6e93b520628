/**
 * ACME DNS-01 challenge publications: the TXT values `_acme-challenge.<name>.<zone>` should carry,
 * signed by the name's owner (or, for the zone apex, by a super node). Every super node serves the
 * values of every valid publication, so whoever proves control of a name to a CA needs no access to
 * the zone beyond its own key. `seq` increases per signer and name, `exp` bounds how long a value is
 * served, and `zone` ties the publication to one zone.
 */
import { err, ok, type Result, SharedError } from '../errors.ts';
import type { Id } from '../id.ts';
import type { KeyPair } from '../keys.ts';
import { signJws, verifyJws } from './jws.ts';
import { NAME_PATTERN } from './names.ts';

export const CHALLENGE_TYP = 'pc2-acme-challenge';
/** Values one publication may carry (a name and its wildcard need two; renewals overlap). */
export const MAX_CHALLENGE_VALUES = 4;
/** The longest a publication is served after it was issued. */
export const MAX_CHALLENGE_LIFETIME_MS = 60 * 60_000;
/** A TXT value: printable, no quote or backslash (an ACME value is 43 base64url characters). */
export const CHALLENGE_VALUE_PATTERN = /^[A-Za-z0-9._~+/=-]{1,255}$/;
export const ZONE_PATTERN =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface ChallengePublication {
  v: 1;
  zone: string;
  /** The name under the zone (`alice`), or "" for the zone apex (super nodes only). */
  name: string;
  /** TXT values to serve; empty withdraws the publication. */
  values: string[];
  seq: number;
  /** Issued-at and expiry, ms since the epoch. */
  iat: number;
  exp: number;
}

export interface VerifiedChallenge {
  publication: ChallengePublication;
  signer: Id;
  jws: string;
}

export function signChallenge(
  publication: Omit<ChallengePublication, 'v'>,
  signer: KeyPair,
): Promise<string> {
  return signJws({ v: 1, ...publication }, signer, CHALLENGE_TYP);
}

function invalid(message: string): Result<never> {
  return err(new SharedError('INVALID_RECORD', `challenge publication: ${message}`));
}

/** Checks signature and shape (not who may sign, not freshness). Never throws. */
export async function verifyChallenge(jws: unknown): Promise<Result<VerifiedChallenge>> {
  const verified = await verifyJws<ChallengePublication>(jws, CHALLENGE_TYP);
  if (!verified.ok) return verified;
  const { payload: p, signer } = verified.value;
  if (!p || typeof p !== 'object' || p.v !== 1) return invalid('unknown version');
  if (typeof p.zone !== 'string' || !ZONE_PATTERN.test(p.zone)) return invalid('bad zone');
  if (typeof p.name !== 'string' || (p.name !== '' && !NAME_PATTERN.test(p.name)))
    return invalid('bad name');
  if (!Array.isArray(p.values) || p.values.length > MAX_CHALLENGE_VALUES)
    return invalid(`at most ${MAX_CHALLENGE_VALUES} values`);
  if (!p.values.every((v) => typeof v === 'string' && CHALLENGE_VALUE_PATTERN.test(v)))
    return invalid('bad value');
  if (!Number.isSafeInteger(p.seq) || p.seq < 0) return invalid('bad seq');
  if (!Number.isSafeInteger(p.iat) || p.iat <= 0) return invalid('bad iat');
  if (!Number.isSafeInteger(p.exp) || p.exp <= p.iat || p.exp - p.iat > MAX_CHALLENGE_LIFETIME_MS) {
    return invalid(`exp must follow iat by at most ${MAX_CHALLENGE_LIFETIME_MS} ms`);
  }
  return ok({ publication: p, signer, jws: jws as string });
}
