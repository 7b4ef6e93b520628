import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSqlite, ownedCloud, raw, type TestCloud } from './helpers.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const hasTuspy = existsSync('/usr/lib/python3/dist-packages/tusclient');
if (!hasTuspy)
  console.warn(
    'tests/cloud/tus: python3-tuspy is not installed (apt-get install python3-tuspy; .ci/run does it): the tuspy resume test is skipped',
  );

const TUSPY = `
import sys, os, base64
from tusclient import client
url, auth, path, mode = sys.argv[1:5]
c = client.TusClient(url + '/tus/', headers={'Authorization': auth})
size = os.path.getsize(path)
if mode == 'start':
    up = c.uploader(path, chunk_size=256 * 1024, metadata={'filename': 'movie.bin', 'folder': '/videos'}, upload_checksum=True)
    up.upload(stop_at=size // 2)
    print(up.url, up.offset)
else:
    up = c.uploader(path, chunk_size=256 * 1024, url=mode, upload_checksum=True)
    print('resumed-at', up.offset)
    up.upload()
    print('done', up.offset)
`;

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe.skipIf(!hasSqlite)('cloud tus 1.0 uploads', () => {
  const clock = {
    t: Date.now(),
    now() {
      return this.t;
    },
  };
  let c: TestCloud;
  let basic: string;
  let work: string;
  const tus = (extra: Record<string, string> = {}) => ({
    authorization: basic,
    'tus-resumable': '1.0.0',
    ...extra,
  });
  const create = async (name: string, length: number) => {
    const r = await raw(
      c,
      'POST',
      '/tus/',
      tus({
        'upload-length': String(length),
        'upload-metadata': `filename ${b64(name)},folder ${b64('/up')}`,
      }),
    );
    expect(r.status).toBe(201);
    return new URL(String(r.headers.location)).pathname;
  };

  beforeAll(async () => {
    ({ c, basic } = await ownedCloud({ clock }));
    work = mkdtempSync(join(tmpdir(), 'pc2-tus-'));
  });
  afterAll(async () => {
    await c.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('announces its extensions and refuses requests without Tus-Resumable', async () => {
    const o = await raw(c, 'OPTIONS', '/tus/');
    expect(o.status).toBe(204);
    expect(String(o.headers['tus-extension']).split(',')).toEqual([
      'creation',
      'creation-with-upload',
      'expiration',
      'checksum',
      'termination',
    ]);
    expect(String(o.headers['tus-checksum-algorithm'])).toContain('sha1');
    expect(
      (await raw(c, 'POST', '/tus/', { authorization: basic, 'upload-length': '1' })).status,
    ).toBe(412);
    expect(
      (await raw(c, 'POST', '/tus/', { 'tus-resumable': '1.0.0', 'upload-length': '1' })).status,
    ).toBe(401);
  });

  it.skipIf(!hasTuspy)(
    'python3-tuspy resumes an upload cut at 50% from a new process, byte-exact',
    async () => {
      const file = join(work, 'movie.bin');
      const data = randomBytes(6 * 1024 * 1024 + 123);
      writeFileSync(file, data);
      writeFileSync(join(work, 'tus.py'), TUSPY);
      const first = (await run(PYTHON, [join(work, 'tus.py'), c.url, basic, file, 'start'])).stdout
        .trim()
        .split(' ');
      expect(Number(first[1])).toBeGreaterThanOrEqual(Math.floor(data.length / 2));
      const path = new URL(first[0]).pathname;
      const head = await raw(c, 'HEAD', path, tus());
      expect(Number(head.headers['upload-offset'])).toBe(Number(first[1]));
      expect(Number(head.headers['upload-offset'])).toBeLessThan(data.length);
      expect((await raw(c, 'GET', '/dav/videos/movie.bin', { authorization: basic })).status).toBe(
        404,
      );
      const second = (await run(PYTHON, [join(work, 'tus.py'), c.url, basic, file, first[0]]))
        .stdout;
      expect(second).toContain(`resumed-at ${first[1]}`);
      expect(second).toContain(`done ${data.length}`);
      const got = await fetch(`${c.url}/dav/videos/movie.bin`, {
        headers: { authorization: basic },
      });
      const bytes = Buffer.from(await got.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(
        createHash('sha256').update(data).digest('hex'),
      );
    },
  );

  it('keeps the bytes that arrived before a connection was cut, and resumes from there', async () => {
    const data = randomBytes(400_000);
    const path = await create('cut.bin', data.length);
    await new Promise<void>((resolve) => {
      const s = connect(c.port, '127.0.0.1', () => {
        s.write(
          `PATCH ${path} HTTP/1.1\r\nHost: 127.0.0.1:${c.port}\r\nAuthorization: ${basic}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: ${data.length}\r\n\r\n`,
        );
        s.write(data.subarray(0, 200_000), () => setTimeout(() => s.destroy(), 100));
      });
      s.on('error', () => {});
      s.on('close', () => resolve());
    });
    let offset = 0;
    for (let i = 0; i < 50 && offset === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      offset = Number((await raw(c, 'HEAD', path, tus())).headers['upload-offset']);
    }
    expect(offset).toBe(200_000);
    expect(
      (
        await raw(
          c,
          'PATCH',
          path,
          tus({ 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }),
          data,
        )
      ).status,
    ).toBe(409);
    const rest = await raw(
      c,
      'PATCH',
      path,
      tus({ 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }),
      data.subarray(offset),
    );
    expect(rest.status).toBe(204);
    expect(rest.headers['upload-offset']).toBe(String(data.length));
    const got = Buffer.from(
      await (
        await fetch(`${c.url}/dav/up/cut.bin`, { headers: { authorization: basic } })
      ).arrayBuffer(),
    );
    expect(got.equals(data)).toBe(true);
  });

  it('checks sha1 checksums (460 and the chunk dropped), supports creation-with-upload and termination', async () => {
    const path = await create('sum.bin', 10);
    const bad = await raw(
      c,
      'PATCH',
      path,
      tus({
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
        'upload-checksum': `sha1 ${createHash('sha1').update('other').digest('base64')}`,
      }),
      '01234',
    );
    expect(bad.status).toBe(460);
    expect((await raw(c, 'HEAD', path, tus())).headers['upload-offset']).toBe('0');
    const good = await raw(
      c,
      'PATCH',
      path,
      tus({
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
        'upload-checksum': `sha1 ${createHash('sha1').update('01234').digest('base64')}`,
      }),
      '01234',
    );
    expect(good.headers['upload-offset']).toBe('5');
    expect((await raw(c, 'DELETE', path, tus())).status).toBe(204);
    expect((await raw(c, 'HEAD', path, tus())).status).toBe(404);
    const oneShot = await raw(
      c,
      'POST',
      '/tus/',
      tus({
        'upload-length': '5',
        'upload-metadata': `path ${b64('/up/one shot.txt')}`,
        'content-type': 'application/offset+octet-stream',
      }),
      'hello',
    );
    expect(oneShot.status).toBe(201);
    expect(oneShot.headers['upload-offset']).toBe('5');
    expect((await raw(c, 'GET', '/dav/up/one%20shot.txt', { authorization: basic })).body).toBe(
      'hello',
    );
    const empty = await raw(
      c,
      'POST',
      '/tus/',
      tus({ 'upload-length': '0', 'upload-metadata': `path ${b64('/up/empty')}` }),
    );
    expect(empty.status).toBe(201);
    expect((await raw(c, 'GET', '/dav/up/empty', { authorization: basic })).status).toBe(200);
    expect(
      (
        await raw(
          c,
          'POST',
          '/tus/',
          tus({ 'upload-length': '5', 'upload-metadata': `path ${b64('/../x')}` }),
        )
      ).status,
    ).toBe(400);
  });

  it('deletes partial uploads once they expire (injected clock)', async () => {
    const path = await create('stale.bin', 100);
    await raw(
      c,
      'PATCH',
      path,
      tus({ 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }),
      'x'.repeat(50),
    );
    const head = await raw(c, 'HEAD', path, tus());
    expect(Date.parse(String(head.headers['upload-expires']))).toBeGreaterThan(clock.t);
    const id = path.split('/').pop()!;
    expect(readdirSync(join(c.dir, 'uploads'))).toContain(id);
    clock.t += 23 * 3600_000;
    await c.cloud.sweep();
    expect((await raw(c, 'HEAD', path, tus())).status).toBe(200);
    clock.t += 2 * 3600_000;
    const gone = await raw(c, 'HEAD', path, tus());
    expect(gone.status).toBe(410);
    expect((await c.cloud.sweep()).uploads).toBeGreaterThanOrEqual(1);
    expect(readdirSync(join(c.dir, 'uploads'))).not.toContain(id);
    expect((await raw(c, 'HEAD', path, tus())).status).toBe(404);
  });
});
