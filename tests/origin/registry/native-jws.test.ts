import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base58Encode } from '../../../shared/base58.ts';
import { KeyPair } from '../../../shared/keys.ts';
import { signBinding } from '../../../shared/records/binding.ts';
import { signJws, verifyJws } from '../../../shared/records/jws.ts';
import { signRequest } from '../../../shared/records/request.ts';
import {
  jwsBackend,
  selectJwsBackend,
  signJwsNative,
  verifyJwsNative,
} from '../../../origin/registry/native-jws.ts';

const key = KeyPair.generate();
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe.each(['libsodium', 'node:crypto'] as const)(
  '%s JWS matches the shared jose JWS',
  (backend) => {
    beforeAll(() => selectJwsBackend(backend));
    afterAll(() => selectJwsBackend('libsodium'));

    it('is the backend in use', () => expect(jwsBackend()).toBe(backend));

    it('signs byte-identical tokens', async () => {
      const binding = {
        v: 1,
        name: 'alice',
        owner: KeyPair.generate().id.toString(),
        boundAt: 1_700_000_000_000,
        registrar: key.id.toString(),
      };
      expect(await signJwsNative(binding, key, 'pc2-binding')).toBe(
        await signBinding(
          { name: binding.name, owner: binding.owner, boundAt: binding.boundAt },
          key,
        ),
      );
      const payload = { any: 'thing', n: [1, 2], s: 'é✓' };
      expect(await signJwsNative(payload, key, 'x-typ')).toBe(await signJws(payload, key, 'x-typ'));
    });

    it('refuses the universal forgery under a small-order public key, like the shared verifier', async () => {
      // Key and R = the identity point, S = 0: the verification equation holds for every message,
      // and OpenSSL (node:crypto, WebCrypto) would accept it if the key were not refused first.
      const identity = Buffer.alloc(32);
      identity[0] = 1;
      const header = b64({
        alg: 'EdDSA',
        kid: `did:boson:${base58Encode(identity)}`,
        typ: 'pc2-request',
      });
      const token = `${header}.${b64({ v: 1, op: 'claim', name: 'alice', seq: 1, iat: 5 })}.${Buffer.concat([identity, Buffer.alloc(32)]).toString('base64url')}`;
      expect((await verifyJwsNative(token, 'pc2-request')).ok).toBe(false);
      expect((await verifyJws(token, 'pc2-request')).ok).toBe(false);
    });

    it('accepts and refuses exactly what the shared verifier does', async () => {
      const good = await signRequest({ op: 'claim', name: 'alice', seq: 1, iat: 5 }, key);
      const [h, p, s] = good.split('.');
      const other = KeyPair.generate();
      const tokens: unknown[] = [
        good,
        `${h}.${b64({ v: 1, op: 'claim', name: 'mallory', seq: 1, iat: 5 })}.${s}`,
        `${h}.${p}.${s.slice(0, -2)}AA`,
        `${b64({ alg: 'EdDSA', kid: other.id.toDid(), typ: 'pc2-request' })}.${p}.${s}`,
        `${b64({ alg: 'none', kid: key.id.toDid(), typ: 'pc2-request' })}.${p}.${s}`,
        `${b64({ alg: 'EdDSA', kid: key.id.toDid(), typ: 'pc2-route' })}.${p}.${s}`,
        `${b64({ alg: 'EdDSA', kid: 'did:web:x', typ: 'pc2-request' })}.${p}.${s}`,
        `${h}.${p}`,
        `${h}.${p}.${s}.x`,
        'a.b.c',
        '',
        42,
        null,
        'x'.repeat(20_000),
        await signJwsNative({ v: 1 }, key, 'pc2-request'),
        `${h}.${Buffer.from('not json').toString('base64url')}.${s}`,
      ];
      for (const token of tokens) {
        const viaJose = await verifyJws(token, 'pc2-request');
        const viaNative = await verifyJwsNative(token, 'pc2-request');
        expect({ token, ok: viaNative.ok }).toEqual({ token, ok: viaJose.ok });
        if (viaJose.ok && viaNative.ok) {
          expect(viaNative.value.signer.equals(viaJose.value.signer)).toBe(true);
          expect(viaNative.value.payload).toEqual(viaJose.value.payload);
        }
      }
    });
  },
);
