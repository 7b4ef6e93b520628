import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { createCloud } from '../../cloud/index.ts';
import { parseIf } from '../../cloud/dav/if-header.ts';
import { checkName, splitUrlPath } from '../../cloud/storage/paths.ts';
import { hasSqlite, ownedCloud, raw, startCloud } from './helpers.ts';

describe('cloud options, names and the If header', () => {
  it('rejects unknown options, missing origins and bad limits with clear messages', () => {
    expect(() =>
      createCloud({ dataDir: '/tmp/x', origins: ['https://a.example'], colour: 'red' } as never),
    ).toThrow(/unknown cloud option\(s\): colour/);
    expect(() => createCloud({ dataDir: '/tmp/x', origins: [] })).toThrow(
      /at least one public origin/,
    );
    expect(() => createCloud({ dataDir: '/tmp/x', origins: ['https://a.example/path'] })).toThrow(
      /scheme:\/\/host/,
    );
    expect(() => createCloud({ dataDir: '/tmp/x', origins: ['ftp://a.example'] })).toThrow(
      /http or https/,
    );
    expect(() => createCloud({ dataDir: '', origins: ['https://a.example'] })).toThrow(/dataDir/);
    expect(() =>
      createCloud({
        dataDir: '/tmp/x',
        origins: ['https://a.example'],
        limits: { quotaBytes: -1 },
      }),
    ).toThrow(/non-negative/);
    expect(() =>
      createCloud({
        dataDir: '/tmp/x',
        origins: ['https://a.example'],
        limits: { speed: 1 } as never,
      }),
    ).toThrow(/unknown cloud limit: speed/);
  });

  it('checks names: NFC, no separators or control characters, at most 255 bytes', () => {
    expect(checkName('e\u0301')).toBe('\u00e9');
    for (const bad of ['', '.', '..', 'a/b', 'a\\b', 'a\u0000b', 'a\nb', 'x'.repeat(256), '\ud800'])
      expect(() => checkName(bad), JSON.stringify(bad)).toThrow();
    expect(checkName('ü'.repeat(127))).toHaveLength(127);
    expect(splitUrlPath('/a%20b//c/')).toEqual(['a b', 'c']);
    expect(() => splitUrlPath('/a%2Fb')).toThrow(/may not contain/);
    expect(() => splitUrlPath('/%E0%A4%A')).toThrow(/percent-encoding/);
  });

  it('parses If headers with tagged lists, Not, tokens and entity tags, and refuses malformed ones', () => {
    expect(parseIf('<http://h/dav/a> (<opaquelocktoken:1> ["e1"]) (Not <DAV:no-lock>)')).toEqual([
      {
        resource: 'http://h/dav/a',
        conditions: [
          { not: false, token: 'opaquelocktoken:1' },
          { not: false, etag: '"e1"' },
        ],
      },
      { resource: 'http://h/dav/a', conditions: [{ not: true, token: 'DAV:no-lock' }] },
    ]);
    for (const bad of ['', '(', '()', '(<x>', 'junk', '(Not)'])
      expect(() => parseIf(bad), bad).toThrow(/If header/);
  });
});

describe.skipIf(!hasSqlite)('cloud data directory', () => {
  it('refuses a second cloud on the same data directory until the first closes', async () => {
    const c = await startCloud();
    try {
      expect(() => createCloud({ dataDir: c.dir, origins: ['https://a.example'] })).toThrow(
        /in use by process/,
      );
    } finally {
      await c.stop();
    }
  });
});

describe.skipIf(!hasSqlite)('cloud origin decision', () => {
  it('ignores X-Forwarded-Host from a peer that is not a trusted proxy', async () => {
    const c = await startCloud({ origins: ['https://alice.ela.city'], trustedProxies: [] });
    try {
      const r = await request(`${c.url}/api/node`, {
        headers: { 'x-forwarded-host': 'alice.ela.city', 'x-forwarded-proto': 'https' },
      });
      expect(((await r.body.json()) as { origin: string }).origin).toBe(c.url);
    } finally {
      await c.stop();
    }
  });
});

describe.skipIf(!hasSqlite)('cloud bounds on unauthenticated and parallel work', () => {
  it('rate-limits sign-in nonces per client address (60 a minute)', async () => {
    const clock = {
      t: Date.now(),
      now() {
        return this.t;
      },
    };
    const c = await startCloud({ clock });
    try {
      for (let i = 0; i < 60; i++)
        expect((await raw(c, 'GET', '/api/auth/nonce')).status).toBe(200);
      const limited = await raw(c, 'GET', '/api/auth/nonce');
      expect(limited.status).toBe(429);
      expect(JSON.parse(limited.body).error.code).toBe('RATE_LIMITED');
      clock.t += 61_000;
      expect((await raw(c, 'GET', '/api/auth/nonce')).status).toBe(200);
    } finally {
      await c.stop();
    }
  });

  it('counts unfinished tus uploads against the quota, so parallel uploads cannot overrun it', async () => {
    const { c, basic } = await ownedCloud({ limits: { quotaBytes: 1000 } });
    try {
      const create = (name: string, length: number) =>
        raw(c, 'POST', '/tus/', {
          authorization: basic,
          'tus-resumable': '1.0.0',
          'upload-length': String(length),
          'upload-metadata': 'filename ' + Buffer.from(name).toString('base64'),
        });
      expect((await create('a', 600)).status).toBe(201);
      expect((await create('b', 600)).status).toBe(507);
      expect((await create('c', 400)).status).toBe(201);
    } finally {
      await c.stop();
    }
  });
});
