/**
 * Signed registry requests: a compact JWS made with the node's key (`kid` = its DID). Every request
 * names its operation and name and carries a seq (strictly increasing per signer and name) and an
 * issued-at, so a captured request can neither be replayed nor reused for another name or operation.
 */
import { fromBase64Url, utf8Decode } from '../bytes.ts';
import { err, ok, type Result, SharedError } from '../errors.ts';
import type { Id } from '../id.ts';
import type { KeyPair } from '../keys.ts';
import { signJws, type VerifiedJws, verifyJws } from './jws.ts';
import { NAME_PATTERN } from './names.ts';

export const REQUEST_TYP = 'pc2-request';

export type RegistryOp = 'claim' | 'release' | 'transfer' | 'accept-transfer' | 'probe';
export const REGISTRY_OPS: readonly RegistryOp[] = [
  'claim',
  'release',
  'transfer',
  'accept-transfer',
  'probe',
];

export interface RegistryRequest {
  v: 1;
  op: RegistryOp;
  name: string;
  seq: number;
  /** Issued-at, ms since the epoch. */
  iat: number;
  /** transfer: the new owner's id; accept-transfer: the current owner's id. */
  to?: string;
  from?: string;
  /**
   * release and transfer: the boundAt of the binding they act on, so that a captured request cannot
   * be replayed (at another registrar) against a later binding of the same name.
   */
  boundAt?: number;
  /**
   * claim: the id of the registrar the claim is addressed to. Seqs are kept per registrar, so a
   * claim that any registrar accepted could be replayed at another one after a release there.
   */
  registrar?: string;
  /** probe: the endpoint the owner is about to publish, which the super node connects back to. */
  endpoint?: string;
}

export interface VerifiedRequest {
  request: RegistryRequest;
  signer: Id;
  jws: string;
}

export function signRequest(request: Omit<RegistryRequest, 'v'>, signer: KeyPair): Promise<string> {
  return signJws({ v: 1, ...request }, signer, REQUEST_TYP);
}

function invalid(message: string): Result<never> {
  return err(new SharedError('INVALID_RECORD', `registry request: ${message}`));
}

/** Checks signature and shape (not freshness, not ownership). Never throws. */
export async function verifyRequest(jws: unknown): Promise<Result<VerifiedRequest>> {
  return checkRequest(await verifyJws<RegistryRequest>(jws, REQUEST_TYP), jws);
}

/** The shape checks of {@link verifyRequest}, for a JWS whose signature a runtime-specific verifier checked. */
export function checkRequest(
  verified: Result<VerifiedJws<RegistryRequest>>,
  jws: unknown,
): Result<VerifiedRequest> {
  if (!verified.ok) return verified;
  const { payload: r, signer } = verified.value;
  if (!r || typeof r !== 'object' || r.v !== 1) return invalid('unknown version');
  if (!REGISTRY_OPS.includes(r.op)) return invalid('unknown op');
  if (typeof r.name !== 'string' || !NAME_PATTERN.test(r.name)) return invalid('bad name');
  if (!Number.isSafeInteger(r.seq) || r.seq < 0) return invalid('bad seq');
  if (!Number.isSafeInteger(r.iat) || r.iat <= 0) return invalid('bad iat');
  if (r.to !== undefined && typeof r.to !== 'string') return invalid('bad to');
  if (r.from !== undefined && typeof r.from !== 'string') return invalid('bad from');
  if (
    (r.op === 'release' || r.op === 'transfer') &&
    (!Number.isSafeInteger(r.boundAt) || (r.boundAt as number) <= 0)
  ) {
    return invalid(`${r.op} names the boundAt of the binding it acts on`);
  }
  if (r.op === 'claim' && typeof r.registrar !== 'string')
    return invalid('a claim names the registrar it is for ("registrar": its id)');
  if (r.op === 'probe' && (typeof r.endpoint !== 'string' || r.endpoint.length > 2048))
    return invalid('a probe names the endpoint to probe');
  return ok({ request: r, signer, jws: jws as string });
}

/** Reads a JWS payload without verifying it: only for records this process verified before. */
export function decodeJwsPayload<T>(jws: string): T {
  return JSON.parse(utf8Decode(fromBase64Url(jws.split('.')[1] ?? ''))) as T;
}
