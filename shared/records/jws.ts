/**
 * Compact JWS (EdDSA over Ed25519) via jose, the `kid` being the signer's DID. Ids are public keys,
 * so a JWS is self-certifying: the verifier derives the key from the kid, then decides whether that
 * signer is the one it expected.
 */
import { CompactSign, compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { fromBase64Url, toBase64Url, utf8Decode, utf8Encode } from '../bytes.ts';
import { err, ok, type Result, SharedError } from '../errors.ts';
import { Id } from '../id.ts';
import { isWeakKey, type KeyPair } from '../keys.ts';

export interface VerifiedJws<T> {
  payload: T;
  signer: Id;
  typ: string;
}

const signingKeys = new WeakMap<KeyPair, CryptoKey>();
const verifyingKeys = new Map<string, CryptoKey>();
const MAX_CACHED_KEYS = 10_000;

async function signingKey(pair: KeyPair): Promise<CryptoKey> {
  let key = signingKeys.get(pair);
  if (!key) {
    const jwk = {
      kty: 'OKP',
      crv: 'Ed25519',
      x: toBase64Url(pair.publicKey),
      d: toBase64Url(pair.seed),
    };
    key = (await importJWK(jwk, 'EdDSA')) as CryptoKey;
    signingKeys.set(pair, key);
  }
  return key;
}

async function verifyingKey(id: Id): Promise<CryptoKey> {
  const cacheKey = id.toString();
  let key = verifyingKeys.get(cacheKey);
  if (!key) {
    if (isWeakKey(id)) throw new Error('the signer key is not a point of large order');
    key = (await importJWK(
      { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(id.bytes) },
      'EdDSA',
    )) as CryptoKey;
    if (verifyingKeys.size >= MAX_CACHED_KEYS)
      verifyingKeys.delete(verifyingKeys.keys().next().value!);
    verifyingKeys.set(cacheKey, key);
  }
  return key;
}

export async function signJws(payload: object, signer: KeyPair, typ: string): Promise<string> {
  return new CompactSign(utf8Encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'EdDSA', kid: signer.id.toDid(), typ })
    .sign(await signingKey(signer));
}

/**
 * A compact JWS's `typ`, signer (from its `kid`) and payload, WITHOUT checking the signature: for
 * the cheap checks a server makes before it spends a signature verification on a request (a request
 * that fails them could not succeed signed or not). Never throws; never trust what it returns.
 */
export function readUnverified<T = unknown>(token: unknown, typ: string): Result<VerifiedJws<T>> {
  if (typeof token !== 'string' || token.length > 16_384)
    return err(new SharedError('INVALID_SIGNATURE', 'a signed record is a compact JWS string'));
  try {
    const parts = token.split('.');
    if (parts.length !== 3) throw new Error('not a compact JWS');
    const header = JSON.parse(utf8Decode(fromBase64Url(parts[0]))) as Record<string, unknown>;
    if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519')
      throw new Error(`alg ${String(header.alg)} is not allowed`);
    if (header.typ !== typ) throw new Error(`expected typ ${typ}, got ${String(header.typ)}`);
    const signer = Id.fromDid(String(header.kid));
    const payload = JSON.parse(utf8Decode(fromBase64Url(parts[1]))) as T;
    return ok({ payload, signer, typ });
  } catch (e) {
    return err(new SharedError('INVALID_SIGNATURE', `bad JWS: ${(e as Error).message}`));
  }
}

/** Verifies signature and `typ`; never throws. The payload is parsed JSON, not yet validated. */
export async function verifyJws<T = unknown>(
  token: unknown,
  typ: string,
): Promise<Result<VerifiedJws<T>>> {
  if (typeof token !== 'string' || token.length > 16_384) {
    return err(new SharedError('INVALID_SIGNATURE', 'a signed record is a compact JWS string'));
  }
  let signer: Id;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519')
      throw new Error(`alg ${header.alg} is not allowed`);
    if (header.typ !== typ) throw new Error(`expected typ ${typ}, got ${header.typ}`);
    signer = Id.fromDid(String(header.kid));
  } catch (e) {
    return err(new SharedError('INVALID_SIGNATURE', `bad JWS header: ${(e as Error).message}`));
  }
  try {
    const { payload } = await compactVerify(token, await verifyingKey(signer), {
      algorithms: ['EdDSA', 'Ed25519'],
    });
    return ok({ payload: JSON.parse(utf8Decode(payload)) as T, signer, typ });
  } catch (e) {
    return err(
      new SharedError('INVALID_SIGNATURE', `JWS does not verify: ${(e as Error).message}`),
    );
  }
}
