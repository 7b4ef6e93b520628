/**
 * kill -9 in the middle of a stream of acknowledged writes (PUTs, overwrites, moves, tus chunks):
 * after a restart on the same data directory every acknowledged write is there, byte for byte.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../cloud/runtime/sqlite.ts';
import { hasSqlite, signIn, wallet } from './helpers.ts';

const CHILD = fileURLToPath(new URL('./fixtures/cloud-child.ts', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function startChild(
  dir: string,
): Promise<{ child: ChildProcess; url: string; code: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, PC2_CLOUD_DIR: dir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('cloud child did not start')), 20_000);
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`cloud child exited with ${code}`)));
  });
  const [url, code] = line.split(' ');
  return { child, url, code };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.skipIf(!hasSqlite)('cloud durability under kill -9', () => {
  it('loses no acknowledged write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc2-cloud-crash-'));
    dirs.push(dir);
    const first = await startChild(dir);
    const owner = await signIn({ url: first.url }, wallet(7), first.code);
    const password = (await owner.api('POST', '/api/app-passwords', { label: 'crash' })).json
      .password;
    const auth = 'Basic ' + Buffer.from(`${owner.address}:${password}`).toString('base64');
    const expected = new Map<string, string>();
    const gone = new Set<string>();
    let tusPath = '';
    let tusAcked = 0;
    const tusData = randomBytes(16 * 1024 * 1024);
    {
      const r = await request(`${first.url}/tus/`, {
        method: 'POST',
        headers: {
          authorization: auth,
          'tus-resumable': '1.0.0',
          'upload-length': String(tusData.length),
          'upload-metadata': 'filename ' + Buffer.from('t.bin').toString('base64'),
        },
      });
      await r.body.text();
      tusPath = new URL(String(r.headers.location)).pathname;
    }
    let stop = false;
    let acked = 0;
    const writer = async (lane: number) => {
      for (let i = 0; !stop; i++) {
        const name = `/dav/f${lane}-${i % 40}.bin`;
        const body = randomBytes(1 + Math.floor(Math.random() * 200_000));
        try {
          if (i % 7 === 6 && expected.has(`/dav/f${lane}-${(i - 1) % 40}.bin`)) {
            const from = `/dav/f${lane}-${(i - 1) % 40}.bin`;
            const to = `/dav/m${lane}-${i}.bin`;
            const r = await request(`${first.url}${from}`, {
              method: 'MOVE',
              headers: { authorization: auth, destination: to },
            });
            await r.body.text();
            if (r.statusCode === 201) {
              expected.set(to, expected.get(from)!);
              expected.delete(from);
              gone.add(from);
              acked++;
            }
            continue;
          }
          const r = await request(`${first.url}${name}`, {
            method: 'PUT',
            headers: { authorization: auth },
            body,
          });
          await r.body.text();
          if (r.statusCode === 201 || r.statusCode === 204) {
            expected.set(name, sha(body));
            gone.delete(name);
            acked++;
          }
        } catch {
          return; // the server died mid-request: that write was never acknowledged
        }
      }
    };
    const tusWriter = async () => {
      for (let off = 0; off < tusData.length && !stop; off += 64 * 1024) {
        try {
          const r = await request(`${first.url}${tusPath}`, {
            method: 'PATCH',
            headers: {
              authorization: auth,
              'tus-resumable': '1.0.0',
              'upload-offset': String(off),
              'content-type': 'application/offset+octet-stream',
            },
            body: tusData.subarray(off, off + 64 * 1024),
          });
          await r.body.text();
          if (r.statusCode === 204) tusAcked = Number(r.headers['upload-offset']);
        } catch {
          return;
        }
      }
    };
    const lanes = [writer(0), writer(1), writer(2), writer(3), tusWriter()];
    // Kill while writes are in flight, after a good number were acknowledged.
    while (acked < 150) await new Promise((r) => setTimeout(r, 5));
    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    stop = true;
    await Promise.all(lanes);
    await exited;

    const second = await startChild(dir);
    expect(second.code).toBe('-');
    for (const [path, hash] of expected) {
      const r = await request(`${second.url}${path}`, { headers: { authorization: auth } });
      const body = Buffer.from(await r.body.arrayBuffer());
      expect(r.statusCode, path).toBe(200);
      expect(sha(body), path).toBe(hash);
    }
    for (const path of gone) {
      const r = await request(`${second.url}${path}`, { headers: { authorization: auth } });
      await r.body.text();
      // A moved-away name may have been written again by an unacknowledged PUT; it is never the old content.
      if (r.statusCode === 200) expect(expected.has(path)).toBe(false);
    }
    // The tus upload resumes from at least its last acknowledged offset, and completes byte-exact.
    const head = await request(`${second.url}${tusPath}`, {
      method: 'HEAD',
      headers: { authorization: auth, 'tus-resumable': '1.0.0' },
    });
    await head.body.text();
    if (head.statusCode === 200) {
      const offset = Number(head.headers['upload-offset']);
      expect(offset).toBeGreaterThanOrEqual(tusAcked);
      const r = await request(`${second.url}${tusPath}`, {
        method: 'PATCH',
        headers: {
          authorization: auth,
          'tus-resumable': '1.0.0',
          'upload-offset': String(offset),
          'content-type': 'application/offset+octet-stream',
        },
        body: tusData.subarray(offset),
      });
      await r.body.text();
      expect(r.statusCode).toBe(204);
    } else {
      expect(tusAcked).toBe(tusData.length);
    }
    const t = await request(`${second.url}/dav/t.bin`, { headers: { authorization: auth } });
    expect(sha(Buffer.from(await t.body.arrayBuffer()))).toBe(sha(tusData));
    // Blobs left by the kill between a rename and its commit are collected at start: every blob file
    // on disk is then referenced by a row.
    const db = openDatabase(join(dir, 'cloud.db'));
    const unreferenced = () => {
      const rows = new Set(
        db
          .prepare('SELECT id FROM blobs')
          .all()
          .map((r) => r.id as string),
      );
      return readdirSync(join(dir, 'blobs'))
        .flatMap((shard) => readdirSync(join(dir, 'blobs', shard)))
        .filter((f) => !rows.has(f));
    };
    for (let i = 0; i < 100 && unreferenced().length > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(unreferenced()).toEqual([]);
    const onDisk = new Set(
      readdirSync(join(dir, 'blobs')).flatMap((shard) => readdirSync(join(dir, 'blobs', shard))),
    );
    expect(
      db
        .prepare('SELECT id FROM blobs')
        .all()
        .filter((r) => !onDisk.has(r.id as string)),
    ).toEqual([]);
    db.close();
    second.child.kill('SIGKILL');
    expect(expected.size).toBeGreaterThan(50);
  }, 60_000);
});
