import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hasSqlite,
  ownedCloud,
  raw,
  signIn,
  wallet,
  type Session,
  type TestCloud,
} from './helpers.ts';

const B_SECRET = 'B-SECRET-CONTENT-7f3a';
const HOST_SECRET = 'HOST-SECRET-CONTENT-91c2';

/** A small deterministic generator, so a failing fuzz case can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const PIECES = [
  '..',
  '%2e%2e',
  '%2E%2E',
  '.%2e',
  '%2e.',
  '..%2f',
  '%2f..',
  '%2F',
  '%5c..',
  '..%5c',
  '\\..',
  '..\\',
  '%00',
  'a%00b',
  '%c0%ae%c0%ae',
  '%252e%252e',
  '%u002e',
  '．．',
  '...',
  '.',
  '%2e',
  '',
  'secret',
  'b.txt',
  'a.txt',
  'blobs',
  'cloud.db',
  'e\u0301',
  '%C3%A9',
  'e%CC%81',
  'x'.repeat(256),
  '%e2%80%ae',
  '%ff',
  '%',
  '%zz',
  '~',
  '$HOME',
  '..;',
  ';',
  '?',
  '#',
];

function fuzzPaths(count: number, seed: number, bAddress: string): string[] {
  const next = rng(seed);
  const pieces = [...PIECES, bAddress, bAddress.toLowerCase(), encodeURIComponent('/' + bAddress)];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(next() * 6);
    const parts = Array.from({ length: n }, () => pieces[Math.floor(next() * pieces.length)]);
    const sep = next() < 0.15 ? '\\' : next() < 0.1 ? '//' : '/';
    out.push('/' + parts.join(sep));
  }
  return out;
}

describe.skipIf(!hasSqlite)('cloud isolation: no path leaves a wallet', () => {
  let c: TestCloud;
  let a: Session;
  let b: Session;
  let basicA: string;
  let bIds: { share: string; trash: number; appPassword: string; upload: string };

  beforeAll(async () => {
    const owned = await ownedCloud();
    c = owned.c;
    a = owned.owner;
    basicA = owned.basic;
    expect((await a.api('POST', '/api/members', { address: wallet(2).address })).status).toBe(201);
    b = await signIn(c, wallet(2));
    expect((await b.api('POST', '/api/files/mkdir', { path: '/secret' })).status).toBe(201);
    expect((await b.fetch('/dav/secret/b.txt', { method: 'PUT', body: B_SECRET })).status).toBe(
      201,
    );
    expect((await b.fetch('/dav/gone.txt', { method: 'PUT', body: B_SECRET })).status).toBe(201);
    const trash = (await b.api('POST', '/api/files/delete', { path: '/gone.txt' })).json.trashId;
    const share = (await b.api('POST', '/api/shares', { path: '/secret' })).json.id;
    const appPassword = (await b.api('POST', '/api/app-passwords', { label: 'b' })).json.id;
    const up = await b.fetch('/tus/', {
      method: 'POST',
      headers: {
        'tus-resumable': '1.0.0',
        'upload-length': '10',
        'upload-metadata': 'filename ' + Buffer.from('u.bin').toString('base64'),
      },
    });
    bIds = { share, trash, appPassword, upload: up.headers.get('location')!.split('/').pop()! };
    expect((await a.fetch('/dav/a.txt', { method: 'PUT', body: 'mine' })).status).toBe(201);
    // Host files next to and inside the data directory, and a symlink planted in the blob store.
    writeFileSync(join(dirname(c.dir), 'host-secret.txt'), HOST_SECRET);
    writeFileSync(join(c.dir, 'host-secret.txt'), HOST_SECRET);
    mkdirSync(join(c.dir, 'blobs', 'ee'), { recursive: true });
    symlinkSync('/etc/passwd', join(c.dir, 'blobs', 'ee', 'e'.repeat(32)));
  });
  afterAll(() => c.stop());

  it("from A's session every path of B's is 404 (API, WebDAV, trash, versions, shares, uploads, app passwords)", async () => {
    for (const path of ['/dav/secret/b.txt', '/dav/secret/', `/dav/${b.address}/secret/b.txt`]) {
      expect((await a.fetch(path)).status, path).toBe(404);
      expect(
        (await a.fetch(path, { method: 'PROPFIND', headers: { depth: '0' } })).status,
        path,
      ).toBe(404);
      expect((await a.fetch(path, { method: 'DELETE' })).status, path).toBe(404);
    }
    expect((await a.api('GET', '/api/files?path=/secret')).status).toBe(404);
    expect((await a.api('GET', '/api/files/content?path=/secret/b.txt')).status).toBe(404);
    expect((await a.api('GET', '/api/versions?path=/secret/b.txt')).status).toBe(404);
    expect(
      (await a.api('POST', '/api/files/move', { from: '/secret/b.txt', to: '/stolen.txt' })).status,
    ).toBe(404);
    expect(
      (await a.api('POST', '/api/files/copy', { from: '/secret/b.txt', to: '/stolen.txt' })).status,
    ).toBe(404);
    expect((await a.api('POST', '/api/shares', { path: '/secret' })).status).toBe(404);
    expect((await a.api('POST', `/api/trash/${bIds.trash}/restore`)).status).toBe(404);
    expect((await a.api('DELETE', `/api/trash/${bIds.trash}`)).status).toBe(404);
    expect((await a.api('DELETE', `/api/shares/${bIds.share}`)).status).toBe(404);
    expect((await a.api('DELETE', `/api/app-passwords/${bIds.appPassword}`)).status).toBe(404);
    expect(
      (
        await a.fetch(`/tus/${bIds.upload}`, {
          method: 'HEAD',
          headers: { 'tus-resumable': '1.0.0' },
        })
      ).status,
    ).toBe(404);
    const copy = await a.fetch('/dav/a.txt', {
      method: 'COPY',
      headers: { destination: `${c.url}/dav/../${b.address}/secret/x.txt` },
    });
    // The URL parser resolves ".." to a path outside /dav/: another server as far as WebDAV goes.
    expect([400, 404, 502]).toContain(copy.status);
    // B still has everything, untouched.
    expect(await (await b.fetch('/dav/secret/b.txt')).text()).toBe(B_SECRET);
    expect((await b.api('GET', '/api/trash')).json.items).toHaveLength(1);
  });

  it('fuzzed paths (.., %2e%2e, %2f, backslashes, NUL, overlong UTF-8, long names, NFD) never reach B or the host, over WebDAV and the API', async () => {
    const paths = fuzzPaths(250, 0xc10d, b.address);
    const bStore = c.cloud.store;
    const bEtags = [
      bStore.resolve(b.address, ['secret'])!.etag,
      bStore.resolve(b.address, ['secret', 'b.txt'])!.etag,
    ];
    const statuses = new Map<number, number>();
    for (const p of paths) {
      const probes = [
        raw(c, 'GET', `/dav${p}`, { authorization: basicA }),
        raw(c, 'PROPFIND', `/dav${p}`, { authorization: basicA, depth: '1' }),
        raw(c, 'GET', `/api/files?path=${encodeURIComponent(decodeSafe(p))}`, { cookie: a.cookie }),
        raw(c, 'GET', `/api/files/content?path=${encodeURIComponent(decodeSafe(p))}`, {
          cookie: a.cookie,
        }),
      ];
      for (const r of await Promise.all(probes)) {
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        expect(r.status, p).toBeLessThan(500);
        expect(r.body, p).not.toContain(B_SECRET);
        expect(r.body, p).not.toContain(HOST_SECRET);
        expect(r.body, p).not.toContain('root:x:0:0');
        for (const etag of bEtags) expect(r.body, p).not.toContain(etag.slice(1, -1));
      }
    }
    // Writes with the same paths land inside A's space or are refused.
    for (const p of paths.slice(0, 120)) {
      expect(
        (await raw(c, 'PUT', `/dav${p}`, { authorization: basicA }, 'fuzz')).status,
        p,
      ).toBeLessThan(500);
      expect((await raw(c, 'MKCOL', `/dav${p}`, { authorization: basicA })).status, p).toBeLessThan(
        500,
      );
    }
    expect(statuses.get(400)).toBeGreaterThan(0);
    expect(statuses.get(404)).toBeGreaterThan(0);
    // Nothing of B's changed, and every node A made hangs below A's own root.
    const store = c.cloud.store;
    const bRoot = store.root(b.address);
    expect(store.list(bRoot).map((n) => n.name)).toEqual(['secret']);
    expect(store.list(store.resolve(b.address, ['secret'])!).map((n) => n.name)).toEqual(['b.txt']);
    const aNodes = store.db.all<{ id: number; parent_id: number | null }>(
      'SELECT id, parent_id FROM nodes WHERE wallet = ?',
      a.address,
    );
    for (const n of aNodes) {
      if (n.parent_id === null) continue;
      const node = store.byId(a.address, n.id)!;
      expect(store.pathOf(node), `node ${n.id}`).not.toBeNull();
    }
    // The host directory beside the data directory gained nothing.
    expect(readdirSync(dirname(c.dir)).filter((f) => f.startsWith('host-secret'))).toEqual([
      'host-secret.txt',
    ]);
  });

  it('treats NFC and NFD spellings of a name as one file, and refuses encoded separators and dot segments', async () => {
    expect((await a.fetch('/dav/caf%C3%A9.txt', { method: 'PUT', body: 'nfc' })).status).toBe(201);
    const nfd = await a.fetch('/dav/cafe%CC%81.txt');
    expect(nfd.status).toBe(200);
    expect(await nfd.text()).toBe('nfc');
    expect((await a.fetch('/dav/cafe%CC%81.txt', { method: 'PUT', body: 'nfd' })).status).toBe(204);
    for (const bad of [
      '/dav/a%2fb',
      '/dav/a%5cb',
      '/dav/%2e%2e/x',
      '/dav/x/%2E%2E',
      '/dav/../x',
      '/dav/a%00b',
      '/dav/a\\b',
      `/dav/${'x'.repeat(256)}`,
    ]) {
      const r = await raw(c, 'PUT', bad, { authorization: basicA }, 'x');
      expect(r.status, bad).toBe(400);
      expect(JSON.parse(r.body).error.code, bad).toBe('INVALID_PATH');
    }
    expect((await a.api('POST', '/api/files/mkdir', { path: '/../x' })).status).toBe(400);
    expect((await a.api('POST', '/api/files/mkdir', { path: '/a\\b' })).status).toBe(400);
  });
});

function decodeSafe(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}
