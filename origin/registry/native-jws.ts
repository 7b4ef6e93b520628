/**
 * The registry's hot-path JWS on native Ed25519. WebCrypto Ed25519 through jose costs several hundred
 * µs of main-thread time per operation on Node.js 20 (measured in docs/registry.md). OpenSSL through
 * node:crypto, with its callbacks on the libuv threadpool, is the default: ~28 µs to sign and ~76 µs
 * to verify. libsodium signs in ~16 µs and verifies in ~45 µs on the main thread (docs/benchmarks.md,
 * Registry): the process's composition root hands it over with `useSodiumSigning` (cli/native-crypto.ts
 * loads sodium-native once for the whole process). Keys of small order are refused on every path
 * (shared `isWeakKey`; libsodium refuses them itself). The output is byte-identical to
 * shared/records/jws.ts (Ed25519 is deterministic and the header is written in the same order), which
 * a test checks; the payload checks stay in shared/.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { SodiumEd25519 } from '../../shared/crypto/ed25519.ts';
import { err, ok, type Result, SharedError } from '../../shared/errors.ts';
import { Id } from '../../shared/id.ts';
import { isWeakKey, type KeyPair } from '../../shared/keys.ts';
import type { VerifiedJws } from '../../shared/records/jws.ts';

/** The two libsodium calls used here: the same as the tunnel handshakes'. */
export type SodiumSign = SodiumEd25519;

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
    if (isWeakKey(id)) throw new Error('the signer key is not a point of large order');
    key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(id.bytes).toString('base64url') },
      format: 'jwk',
    });
    if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.delete(publicKeys.keys().next().value!);
    publicKeys.set(cacheKey, key);
  }
  return key;
}

const sodiumSecretKeys = new WeakMap<KeyPair, Buffer>();

function opensslSign(input: Buffer, signer: KeyPair): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    sign(null, input, privateKey(signer), (e, signature) => (e ? reject(e) : resolve(signature))),
  );
}

function opensslVerify(data: Buffer, signer: Id, signature: Buffer): Promise<boolean> {
  return new Promise((resolve) =>
    verify(null, data, publicKey(signer), signature, (e, valid) => resolve(!e && valid)),
  );
}

/** Whether `sodium` produces and accepts exactly what node:crypto does. */
function agreesWithOpenSsl(sodium: SodiumSign): boolean {
  try {
    const seed = Buffer.alloc(32, 7);
    const probe = createPrivateKey({
      key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
      format: 'der',
      type: 'pkcs8',
    });
    const pub = createPublicKey(probe).export({ format: 'der', type: 'spki' }).subarray(-32);
    const message = Buffer.from('pc2 ed25519 self-check');
    const signature = Buffer.alloc(64);
    sodium.crypto_sign_detached(signature, message, Buffer.concat([seed, pub]));
    const same =
      signature.equals(sign(null, message, probe)) &&
      sodium.crypto_sign_verify_detached(signature, message, pub);
    signature[0] ^= 1;
    return same && !sodium.crypto_sign_verify_detached(signature, message, pub);
  } catch {
    return false;
  }
}

/** libsodium once handed over and checked; the backend in use (null: node:crypto). */
let available: SodiumSign | null = null;
let sodium: SodiumSign | null = null;

/** Signs and verifies with libsodium from now on, if it agrees with node:crypto; returns the backend in use. */
export function useSodiumSigning(candidate: SodiumSign): JwsBackend {
  if (!available && agreesWithOpenSsl(candidate)) available = sodium = candidate;
  return jwsBackend();
}

export type JwsBackend = 'libsodium' | 'node:crypto';

/** Which Ed25519 implementation this process uses for registry JWS. */
export const jwsBackend = (): JwsBackend => (sodium ? 'libsodium' : 'node:crypto');

/** Switches implementation (both are always correct; tests run each). Throws when libsodium was not handed over. */
export function selectJwsBackend(backend: JwsBackend): void {
  if (backend === 'libsodium' && !available)
    throw new Error('libsodium (sodium-native) is not available');
  sodium = backend === 'libsodium' ? available : null;
}

function sodiumSign(input: Buffer, signer: KeyPair, s: SodiumSign): Buffer {
  let secretKey = sodiumSecretKeys.get(signer);
  if (!secretKey) {
    secretKey = Buffer.concat([signer.seed, signer.publicKey]);
    sodiumSecretKeys.set(signer, secretKey);
  }
  const signature = Buffer.alloc(64);
  s.crypto_sign_detached(signature, input, secretKey);
  return signature;
}

/** Same output as shared `signJws(payload, signer, typ)`. */
export async function signJwsNative(
  payload: object,
  signer: KeyPair,
  typ: string,
): Promise<string> {
  const header = Buffer.from(
    JSON.stringify({ alg: 'EdDSA', kid: signer.id.toDid(), typ }),
  ).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const input = `${header}.${body}`;
  const signature = sodium
    ? sodiumSign(Buffer.from(input), signer, sodium)
    : await opensslSign(Buffer.from(input), signer);
  return `${input}.${signature.toString('base64url')}`;
}

function verifySignature(data: Buffer, signer: Id, signature: Buffer): boolean | Promise<boolean> {
  return sodium
    ? sodium.crypto_sign_verify_detached(signature, data, signer.bytes)
    : opensslVerify(data, signer, signature);
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Same checks and result as shared `verifyJws(token, typ)`; never throws. */
export async function verifyJwsNative<T = unknown>(
  token: unknown,
  typ: string,
): Promise<Result<VerifiedJws<T>>> {
  if (typeof token !== 'string' || token.length > 16_384) {
    return err(new SharedError('INVALID_SIGNATURE', 'a signed record is a compact JWS string'));
  }
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)))
    return err(new SharedError('INVALID_SIGNATURE', 'not a compact JWS'));
  let signer: Id;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    if (header.alg !== 'EdDSA' && header.alg !== 'Ed25519')
      throw new Error(`alg ${String(header.alg)} is not allowed`);
    if (header.typ !== typ) throw new Error(`expected typ ${typ}, got ${String(header.typ)}`);
    if (header.crit !== undefined || header.b64 !== undefined)
      throw new Error('unsupported header parameter');
    signer = Id.fromDid(String(header.kid));
  } catch (e) {
    return err(new SharedError('INVALID_SIGNATURE', `bad JWS header: ${(e as Error).message}`));
  }
  try {
    const signature = Buffer.from(parts[2], 'base64url');
    if (
      signature.length !== 64 ||
      !(await verifySignature(Buffer.from(`${parts[0]}.${parts[1]}`), signer, signature))
    ) {
      throw new Error('signature verification failed');
    }
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as T;
    return ok({ payload, signer, typ });
  } catch (e) {
    return err(
      new SharedError('INVALID_SIGNATURE', `JWS does not verify: ${(e as Error).message}`),
    );
  }
}
