/**
 * Edge token: a short-lived JWT (EdDSA) the edge attaches to every relay-ingress request, so that a
 * super node serves only traffic that passed a configured edge's policy. It names the target node
 * and the super node it is for; lifetime is seconds.
 */
import { jwtVerify, SignJWT, decodeProtectedHeader, importJWK } from 'jose';
import { toBase64Url } from '../bytes.ts';
import { err, ok, type Result, SharedError } from '../errors.ts';
import { Id } from '../id.ts';
import type { KeyPair } from '../keys.ts';

export const EDGE_TOKEN_TYP = 'pc2-edge+jwt';
export const EDGE_TOKEN_AUDIENCE_PREFIX = 'pc2-relay:';
export const EDGE_TOKEN_TTL_S = 60;
/** Clock difference tolerated between an edge and a super node, s. */
const CLOCK_TOLERANCE_S = 5;

export interface EdgeTokenClaims {
  /** The edge's DID. */
  iss: string;
  /** The target node's id (Base58). */
  sub: string;
  /** `pc2-relay:<super node id>`. */
  aud: string;
  iat: number;
  exp: number;
}

const keys = new Map<string, CryptoKey>();

async function key(jwk: Record<string, string>, cacheKey: string): Promise<CryptoKey> {
  let k = keys.get(cacheKey);
  if (!k) {
    k = (await importJWK(jwk, 'EdDSA')) as CryptoKey;
    if (keys.size > 1024) keys.clear();
    keys.set(cacheKey, k);
  }
  return k;
}

export async function signEdgeToken(
  edge: KeyPair,
  nodeId: Id,
  superNodeId: Id,
  nowMs: number,
  ttlS = EDGE_TOKEN_TTL_S,
): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  const jwk = {
    kty: 'OKP',
    crv: 'Ed25519',
    x: toBase64Url(edge.publicKey),
    d: toBase64Url(edge.seed),
  };
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', kid: edge.id.toDid(), typ: EDGE_TOKEN_TYP })
    .setIssuer(edge.id.toDid())
    .setSubject(nodeId.toString())
    .setAudience(EDGE_TOKEN_AUDIENCE_PREFIX + superNodeId.toString())
    .setIssuedAt(now)
    .setExpirationTime(now + ttlS)
    .sign(await key(jwk, 'sk:' + edge.id.toString()));
}

export interface VerifiedEdgeToken {
  edge: Id;
  node: Id;
}

/**
 * Checks an edge token: signed by one of `edgeKeys`, for this super node, unexpired at `nowMs`
 * (5 s leeway), not issued later than `nowMs` plus the same leeway (a token dated ahead would
 * outlive its 60 s), naming a valid node id. Never throws.
 */
export async function verifyEdgeToken(
  token: unknown,
  edgeKeys: readonly Id[],
  superNodeId: Id,
  nowMs: number,
): Promise<Result<VerifiedEdgeToken>> {
  if (typeof token !== 'string' || token.length > 4096)
    return err(new SharedError('INVALID_TOKEN', 'missing edge token'));
  let edge: Id;
  try {
    const header = decodeProtectedHeader(token);
    if (header.typ !== EDGE_TOKEN_TYP) throw new Error('wrong typ');
    edge = Id.fromDid(String(header.kid));
  } catch (e) {
    return err(new SharedError('INVALID_TOKEN', `bad edge token header: ${(e as Error).message}`));
  }
  if (!edgeKeys.some((k) => k.equals(edge)))
    return err(new SharedError('WRONG_SIGNER', `edge ${edge} is not trusted`));
  try {
    const { payload } = await jwtVerify(
      token,
      await key({ kty: 'OKP', crv: 'Ed25519', x: toBase64Url(edge.bytes) }, 'pk:' + edge),
      {
        algorithms: ['EdDSA', 'Ed25519'],
        issuer: edge.toDid(),
        audience: EDGE_TOKEN_AUDIENCE_PREFIX + superNodeId.toString(),
        currentDate: new Date(nowMs),
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['sub', 'exp', 'iat'],
      },
    );
    if (
      typeof payload.exp !== 'number' ||
      typeof payload.iat !== 'number' ||
      payload.exp - payload.iat > 600
    ) {
      throw new Error('edge tokens live at most 10 minutes');
    }
    if (payload.iat > nowMs / 1000 + CLOCK_TOLERANCE_S)
      throw new Error('the edge token is issued in the future');
    return ok({ edge, node: Id.parse(String(payload.sub)) });
  } catch (e) {
    if (e instanceof SharedError) return err(e);
    return err(
      new SharedError('INVALID_TOKEN', `edge token does not verify: ${(e as Error).message}`),
    );
  }
}
