import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hasSqlite,
  sessionFor,
  signIn,
  siweMessage,
  startCloud,
  wallet,
  type TestCloud,
} from './helpers.ts';

async function nonceOf(c: TestCloud): Promise<{ nonce: string; domain: string; uri: string }> {
  return (await fetch(`${c.url}/api/auth/nonce`)).json() as never;
}

async function post(
  c: TestCloud,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${c.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: c.url, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any, headers: res.headers };
}

describe.skipIf(!hasSqlite)(
  'cloud sign-in with Ethereum, owner bootstrap, sessions, CSRF, app passwords',
  () => {
    let c: TestCloud;
    const owner = wallet(1);
    const member = wallet(2);
    const stranger = wallet(3);

    beforeAll(async () => {
      c = await startCloud({ origins: ['https://alice.ela.city', 'http://alice.localhost:8080'] });
    });
    afterAll(() => c.stop());

    it('refuses the first wallet without the owner code (403), and with a wrong one', async () => {
      for (const ownerCode of [undefined, 'WRONG-CODE']) {
        const n = await nonceOf(c);
        const message = siweMessage(owner, { domain: n.domain, uri: n.uri, nonce: n.nonce });
        const r = await post(c, '/api/auth/signin', {
          message,
          signature: owner.signMessage(message),
          ownerCode,
        });
        expect(r.status).toBe(403);
        expect(r.json.error.code).toBe('OWNER_CODE_REQUIRED');
      }
      expect((await (await fetch(`${c.url}/api/node`)).json()).claimed).toBe(false);
    });

    it('makes the wallet with the one-time code owner; the code is then spent', async () => {
      const code = c.cloud.ownerCode()!;
      expect(code).toMatch(/^[A-Z0-9]{5}(-[A-Z0-9]{5}){3}$/);
      const s = await signIn(c, owner, code);
      expect((await s.api('GET', '/api/me')).json).toMatchObject({
        address: owner.address,
        role: 'owner',
      });
      expect(c.cloud.ownerCode()).toBeNull();
      // The code cannot make a second owner.
      await expect(signIn(c, stranger, code)).rejects.toThrow(/403/);
    });

    it('sets an HttpOnly SameSite=Lax cookie, Secure (and __Host-) only over HTTPS from the trusted hop', async () => {
      const n = await nonceOf(c);
      const message = siweMessage(owner, { domain: n.domain, uri: n.uri, nonce: n.nonce });
      const r = await post(c, '/api/auth/signin', {
        message,
        signature: owner.signMessage(message),
      });
      const cookie = r.headers.get('set-cookie')!;
      expect(cookie).toMatch(
        /^pc2_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/,
      );
      // Through the gateway: X-Forwarded-Host/-Proto from loopback (trusted) decide the origin.
      const fwd = { 'x-forwarded-host': 'alice.ela.city', 'x-forwarded-proto': 'https' };
      const nr = await request(`${c.url}/api/auth/nonce`, { headers: fwd });
      const n2 = (await nr.body.json()) as { nonce: string; domain: string; uri: string };
      expect(n2.domain).toBe('alice.ela.city');
      expect(n2.uri).toBe('https://alice.ela.city/');
      const m2 = siweMessage(owner, { domain: n2.domain, uri: n2.uri, nonce: n2.nonce });
      const sr = await request(`${c.url}/api/auth/signin`, {
        method: 'POST',
        headers: { ...fwd, origin: 'https://alice.ela.city', 'content-type': 'application/json' },
        body: JSON.stringify({ message: m2, signature: owner.signMessage(m2) }),
      });
      await sr.body.text();
      expect(sr.statusCode).toBe(200);
      expect(String(sr.headers['set-cookie'])).toMatch(
        /^__Host-pc2_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/,
      );
    });

    it('binds the message to this node: other domain, other URI, replayed or unknown nonce, expiry, wrong signer', async () => {
      const cases: [
        string,
        (n: { nonce: string; domain: string; uri: string }) => {
          message: string;
          signature: string;
        },
      ][] = [
        [
          'other domain',
          (n) => {
            const m = siweMessage(owner, { ...n, domain: 'evil.example' });
            return { message: m, signature: owner.signMessage(m) };
          },
        ],
        [
          'other uri',
          (n) => {
            const m = siweMessage(owner, { ...n, uri: 'https://evil.example/' });
            return { message: m, signature: owner.signMessage(m) };
          },
        ],
        [
          'unknown nonce',
          (n) => {
            const m = siweMessage(owner, { ...n, nonce: 'abcdef0123456789' });
            return { message: m, signature: owner.signMessage(m) };
          },
        ],
        [
          'expired',
          (n) => {
            const m = siweMessage(owner, {
              ...n,
              issuedAt: new Date(Date.now() - 60_000),
              expirationTime: new Date(Date.now() - 1000),
            });
            return { message: m, signature: owner.signMessage(m) };
          },
        ],
        [
          'signed by another key',
          (n) => {
            const m = siweMessage(owner, n);
            return { message: m, signature: stranger.signMessage(m) };
          },
        ],
        [
          'tampered after signing',
          (n) => {
            const m = siweMessage(owner, n);
            return { message: m.replace('Sign in', 'Sign 1n'), signature: owner.signMessage(m) };
          },
        ],
      ];
      for (const [why, make] of cases) {
        const r = await post(c, '/api/auth/signin', make(await nonceOf(c)));
        expect(r.status, why).toBe(401);
        expect(r.json.error.code, why).toBe('INVALID_SIGNATURE');
      }
      // A good message works once; the same message and signature again is a replay.
      const n = await nonceOf(c);
      const m = siweMessage(owner, n);
      const body = { message: m, signature: owner.signMessage(m) };
      expect((await post(c, '/api/auth/signin', body)).status).toBe(200);
      const replay = await post(c, '/api/auth/signin', body);
      expect(replay.status).toBe(401);
      expect(replay.json.error.message).toMatch(/nonce/);
    });

    it('answers bad bodies with clear JSON errors', async () => {
      expect((await post(c, '/api/auth/signin', { message: 42 })).status).toBe(400);
      expect(
        (await post(c, '/api/auth/signin', { message: 'x', signature: '0x12' })).json.error.code,
      ).toBe('BAD_REQUEST');
      const notJson = await fetch(`${c.url}/api/auth/signin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: c.url },
        body: '{',
      });
      expect(notJson.status).toBe(400);
      expect((await notJson.json()).error.code).toBe('INVALID_JSON');
      const big = await fetch(`${c.url}/api/auth/signin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: c.url },
        body: JSON.stringify({ message: 'x'.repeat(100_000) }),
      });
      expect(big.status).toBe(413);
      const text = await fetch(`${c.url}/api/auth/signin`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin: c.url },
        body: '{}',
      });
      expect(text.status).toBe(415);
    });

    it('accepts a signature made by an independent secp256k1 implementation (noble, EIP-191 by hand)', async () => {
      const n = await nonceOf(c);
      const m = siweMessage(owner, n);
      const bytes = new TextEncoder().encode(m);
      const prefixed = new Uint8Array([
        ...new TextEncoder().encode(`\x19Ethereum Signed Message:\n${bytes.length}`),
        ...bytes,
      ]);
      const sig = secp256k1.sign(
        keccak_256(prefixed),
        Buffer.from(owner.privateKey.slice(2), 'hex'),
        { prehash: false, format: 'recovered' },
      );
      // noble's recovered format is recovery||r||s; Ethereum's is r||s||(27+recovery).
      const eth = Buffer.concat([Buffer.from(sig.slice(1)), Buffer.from([27 + sig[0]])]);
      const r = await post(c, '/api/auth/signin', {
        message: m,
        signature: '0x' + eth.toString('hex'),
      });
      expect(r.status).toBe(200);
      expect(r.json.address).toBe(owner.address);
    });

    it('refuses hosts that are not this node (421) and checks Origin on state-changing requests', async () => {
      const other = await request(`${c.url}/api/node`, { headers: { host: 'evil.example' } });
      await other.body.text();
      expect(other.statusCode).toBe(421);
      // X-Forwarded-Host from an untrusted peer would be ignored; from loopback it is believed, so it must be ours.
      const fwd = await request(`${c.url}/api/node`, {
        headers: { 'x-forwarded-host': 'evil.example' },
      });
      await fwd.body.text();
      expect(fwd.statusCode).toBe(421);
      const s = await signIn(c, owner);
      const noOrigin = await fetch(`${c.url}/api/files/mkdir`, {
        method: 'POST',
        headers: { cookie: s.cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ path: '/x' }),
      });
      expect(noOrigin.status).toBe(403);
      const evil = await fetch(`${c.url}/api/files/mkdir`, {
        method: 'POST',
        headers: {
          cookie: s.cookie,
          origin: 'https://evil.example',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ path: '/x' }),
      });
      expect(evil.status).toBe(403);
      expect((await evil.json()).error.code).toBe('BAD_ORIGIN');
      const cross = await fetch(`${c.url}/dav/x`, {
        method: 'PUT',
        headers: { cookie: s.cookie, origin: c.url, 'sec-fetch-site': 'cross-site' },
        body: 'x',
      });
      expect(cross.status).toBe(403);
      expect((await s.api('POST', '/api/files/mkdir', { path: '/x' })).status).toBe(201);
    });

    it('lets the owner add and remove members; members cannot manage members; strangers are refused', async () => {
      const o = await signIn(c, owner);
      await expect(signIn(c, member)).rejects.toThrow(/403/);
      expect(
        (await o.api('POST', '/api/members', { address: member.address.toLowerCase() })).status,
      ).toBe(201);
      expect((await o.api('POST', '/api/members', { address: member.address })).status).toBe(409);
      expect((await o.api('POST', '/api/members', { address: '0x1234' })).status).toBe(400);
      const m = await signIn(c, member);
      expect((await m.api('GET', '/api/me')).json.role).toBe('member');
      expect((await m.api('GET', '/api/members')).status).toBe(403);
      expect((await m.api('POST', '/api/members', { address: stranger.address })).status).toBe(403);
      const list = (await o.api('GET', '/api/members')).json.members.map(
        (x: { address: string; role: string }) => [x.address, x.role],
      );
      expect(list).toEqual([
        [owner.address, 'owner'],
        [member.address, 'member'],
      ]);
      expect((await o.api('DELETE', `/api/members/${owner.address}`)).status).toBe(403);
      expect((await o.api('DELETE', `/api/members/${member.address}`)).status).toBe(200);
      // The removed member's session ends with the membership.
      expect((await m.api('GET', '/api/me')).status).toBe(401);
    });

    it('app passwords: shown once, hashed, listed, usable over HTTP Basic, and a revoked one fails at the next request', async () => {
      const o = await signIn(c, owner);
      const created = (await o.api('POST', '/api/app-passwords', { label: 'laptop' })).json;
      expect(created.password).toMatch(/^pc2a[0-9a-f]{16}[A-Za-z0-9_-]{43}$/);
      const list = (await o.api('GET', '/api/app-passwords')).json.appPasswords;
      expect(list.find((p: { id: string }) => p.id === created.id)).toMatchObject({
        label: 'laptop',
      });
      expect(JSON.stringify(list)).not.toContain(created.password.slice(20));
      const basic = (user: string, pass: string) => ({
        authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64'),
      });
      expect(
        (await fetch(`${c.url}/api/me`, { headers: basic(owner.address, created.password) }))
          .status,
      ).toBe(200);
      expect(
        (
          await fetch(`${c.url}/dav/`, {
            method: 'PROPFIND',
            headers: { ...basic(owner.address, created.password), depth: '0' },
          })
        ).status,
      ).toBe(207);
      expect(
        (await fetch(`${c.url}/api/me`, { headers: basic(member.address, created.password) }))
          .status,
      ).toBe(401);
      const wrong = await fetch(`${c.url}/dav/`, {
        headers: basic(
          owner.address,
          created.password.slice(0, -1) + (created.password.endsWith('A') ? 'B' : 'A'),
        ),
      });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      // An app password cannot mint more app passwords.
      const viaBasic = await fetch(`${c.url}/api/app-passwords`, {
        method: 'POST',
        headers: { ...basic(owner.address, created.password), 'content-type': 'application/json' },
        body: '{"label":"x"}',
      });
      expect(viaBasic.status).toBe(403);
      // A browser that cached the Basic credentials still cannot be driven from another site.
      const forged = await fetch(`${c.url}/dav/forged.txt`, {
        method: 'PUT',
        headers: { ...basic(owner.address, created.password), origin: 'https://evil.example' },
        body: 'x',
      });
      expect(forged.status).toBe(403);
      expect(
        (
          await fetch(`${c.url}/dav/ok.txt`, {
            method: 'PUT',
            headers: basic(owner.address, created.password),
            body: 'x',
          })
        ).status,
      ).toBe(201);
      expect((await o.api('DELETE', `/api/app-passwords/${created.id}`)).status).toBe(200);
      expect(
        (await fetch(`${c.url}/api/me`, { headers: basic(owner.address, created.password) }))
          .status,
      ).toBe(401);
      expect((await o.api('DELETE', `/api/app-passwords/${created.id}`)).status).toBe(404);
    });

    it('signs out: the session cookie no longer works', async () => {
      const s = await signIn(c, owner);
      expect((await s.api('POST', '/api/auth/signout')).status).toBe(200);
      expect((await s.api('GET', '/api/me')).status).toBe(401);
      const forged = sessionFor(c, 'pc2_session=' + 'A'.repeat(43), owner.address);
      expect((await forged.api('GET', '/api/me')).status).toBe(401);
    });
  },
);
