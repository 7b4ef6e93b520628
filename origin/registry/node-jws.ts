/**
 * The registry's hot-path JWS on node:crypto. WebCrypto Ed25519 through jose costs several hundred
 * µs of main-thread time per operation on Node 20 (measured in docs/registry.md); node:crypto's
 * sign/verify with a callback run on the libuv threadpool, so the other cores share the signature
 * work while the main thread serves HTTP. The output is byte-identical to shared/records/jws.ts
 * (Ed25519 is deterministic and the header is written in the same order), which a test checks; the
 * payload checks stay in shared/.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { err, ok, type Result, SharedError } from '../../shared/errors.ts';
import { Id } from '../../shared/id.ts';
import type { KeyPair } from '../../shared/keys.ts';
import type { VerifiedJws } from '../../shared/records/jws.ts';

const privateKeys = new WeakMap<KeyPair, KeyObject>();
const publicKeys = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 10_000;

function privateKey(pair: KeyPair): KeyObject {
  let key = privateKeys.get(pair);
  if (!key) {
    const x = Buffer.from(pair.publicKey).toString('base64url');
    const d = Buffer.from(pair.seed).toString('base64url');
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x, d }, format: 'jwk' });
    privateKeys.set(pair, key);
  }
  return key;
}

function publicKey(id: Id): KeyObject {
  const cacheKey = id.toString();
  let key = publicKeys.get(cacheKey);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(id.bytes).toString('base64url') }, format: 'jwk' });
    if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.delete(publicKeys.keys().next().value!);
    publicKeys.set(cacheKey, key);
  }
  return key;
}

/** Same output as shared `signJws(payload, signer, typ)`. */
export function signJwsNode(payload: object, signer: KeyPair, typ: string): Promise<string> {
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: signer.id.toDid(), typ })).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const input = `${header}.${body}`;
  return new Promise((resolve, reject) => {
    sign(null, Buffer.from(input), privateKey(signer), (e, signature) => (e ? reject(e) : resolve(`${input}.${signature.toString('base64url')}`)));
  });
}

function verifyAsync(data: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve) => verify(null, data, key, signature, (e, valid) => resolve(!e && valid)));
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Same checks and result as shared `verifyJws(token, typ)`; never throws. */
export async function verifyJwsNode<T = unknown>(token: unknown, typ: string): Promise<Result<VerifiedJws<T>>> {
  if (typeof token !== 'string' || token.length > 16_384) {
    return err(new SharedError('INVALID_SIGNATURE', 'a signed record is a compact JWS string'));
  }
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return err(new SharedError('INVALID_SIGNATURE', 'not a compact JWS'));
  let signer: Id;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>;
    if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519') throw new Error(`alg ${String(header.alg)} is not allowed`);
    if (header.typ !== typ) throw new Error(`expected typ ${typ}, got ${String(header.typ)}`);
    if (header.crit !== undefined || header.b64 !== undefined) throw new Error('unsupported header parameter');
    signer = Id.fromDid(String(header.kid));
  } catch (e) {
    return err(new SharedError('INVALID_SIGNATURE', `bad JWS header: ${(e as Error).message}`));
  }
  try {
    const signature = Buffer.from(parts[2], 'base64url');
    if (signature.length !== 64 || !(await verifyAsync(Buffer.from(`${parts[0]}.${parts[1]}`), publicKey(signer), signature))) {
      throw new Error('signature verification failed');
    }
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as T;
    return ok({ payload, signer, typ });
  } catch (e) {
    return err(new SharedError('INVALID_SIGNATURE', `JWS does not verify: ${(e as Error).message}`));
  }
}
