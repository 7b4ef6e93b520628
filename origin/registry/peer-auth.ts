/**
 * Replication requests between registrars carry `Authorization: PC2-Peer <JWS>`, signed by the
 * calling registrar's key, naming the callee (aud), the operation, the time and the SHA-256 of the
 * body, so a captured header is useless for another body, another registrar or later than the skew.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toBase64Url } from '../../shared/bytes.ts';
import type { Id } from '../../shared/id.ts';
import type { KeyPair } from '../../shared/keys.ts';
import { readUnverified, signJws, verifyJws } from '../../shared/records/jws.ts';
import { RegistryError } from './errors.ts';

export const PEER_TYP = 'pc2-peer';
export const PEER_AUTH_SCHEME = 'PC2-Peer ';

interface PeerClaims {
  op: 'push' | 'pull' | 'zone-push' | 'zone-pull';
  aud: string;
  iat: number;
  body: string;
}

/** The query of a pull; its digest stands in for the body in the authorization. */
export function pullQuery(since: number, limit: number): string {
  return `since=${since}&limit=${limit}`;
}

export function bodyDigest(body: string | Uint8Array): string {
  return toBase64Url(sha256(typeof body === 'string' ? new TextEncoder().encode(body) : body));
}

export async function peerAuthorization(
  key: KeyPair,
  audience: Id,
  op: PeerClaims['op'],
  body: string,
  now: number,
): Promise<string> {
  const claims: PeerClaims = { op, aud: audience.toString(), iat: now, body: bodyDigest(body) };
  return PEER_AUTH_SCHEME + (await signJws(claims, key, PEER_TYP));
}

/**
 * Checks the header (signer, audience, operation, time) before the body is read; returns the peer's
 * id and the body digest it signed, which the caller compares once it has the body. Throws
 * UNAUTHENTICATED / CLOCK_SKEW.
 */
export async function verifyPeerAuthorization(
  header: string | undefined,
  expected: { op: PeerClaims['op']; self: Id; trusted: readonly Id[]; now: number; skewMs: number },
): Promise<{ peer: Id; bodyDigest: string }> {
  if (!header?.startsWith(PEER_AUTH_SCHEME))
    throw new RegistryError('UNAUTHENTICATED', 'replication needs a PC2-Peer authorization');
  const token = header.slice(PEER_AUTH_SCHEME.length);
  // Who, what and when first, from the token as written: a stranger costs no verification.
  const written = readUnverified<PeerClaims>(token, PEER_TYP);
  if (!written.ok) throw new RegistryError('UNAUTHENTICATED', written.error.message);
  checkClaims(written.value.payload, written.value.signer, expected);
  const verified = await verifyJws<PeerClaims>(token, PEER_TYP);
  if (!verified.ok) throw new RegistryError('UNAUTHENTICATED', verified.error.message);
  const { payload, signer } = verified.value;
  checkClaims(payload, signer, expected);
  return { peer: signer, bodyDigest: payload.body };
}

function checkClaims(
  payload: PeerClaims,
  signer: Id,
  expected: { op: PeerClaims['op']; self: Id; trusted: readonly Id[]; now: number; skewMs: number },
): void {
  if (signer.equals(expected.self) || !expected.trusted.some((t) => t.equals(signer))) {
    throw new RegistryError('UNAUTHENTICATED', `${signer} is not a peer registrar`);
  }
  if (payload?.op !== expected.op || payload.aud !== expected.self.toString())
    throw new RegistryError('UNAUTHENTICATED', 'authorization is for another call');
  if (typeof payload.iat !== 'number' || Math.abs(payload.iat - expected.now) > expected.skewMs) {
    throw new RegistryError('CLOCK_SKEW', 'peer authorization is too old or too new');
  }
  if (typeof payload.body !== 'string')
    throw new RegistryError('UNAUTHENTICATED', 'authorization lacks the body digest');
}
