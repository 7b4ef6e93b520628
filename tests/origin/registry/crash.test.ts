/**
 * kill -9 in the middle of 1,000 concurrent registrations: every registration that was acknowledged
 * must still be there after a restart on the same data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../shared/bytes.ts';
import { KeyPair } from '../../../shared/keys.ts';
import { registryOpPaths, registryPaths } from '../../../shared/records/api.ts';
import { signRequest } from '../../../shared/records/request.ts';
import { removeTempDirs, tempDir } from './helpers.ts';

const CHILD = fileURLToPath(new URL('./fixtures/registry-child.ts', import.meta.url));
const TOTAL = 1000;
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  removeTempDirs();
});

async function startChild(
  dataDir: string,
  seed: Uint8Array,
): Promise<{ child: ChildProcess; url: string; size: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, PC2_DATA_DIR: dataDir, PC2_REGISTRAR_SEED: toHex(seed) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('registry child did not start')), 20_000);
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`registry child exited with ${code}`)));
  });
  const [, url, size] = line.split(' ');
  return { child, url, size: Number(size) };
}

describe('durability under kill -9', () => {
  it('loses no acknowledged registration', async () => {
    const dataDir = tempDir();
    const registrarKey = KeyPair.generate();
    const seed = registrarKey.seed;
    const registrar = registrarKey.id;
    const { child, url } = await startChild(dataDir, seed);
    const keys = Array.from({ length: 20 }, () => KeyPair.generate());
    const now = Date.now();
    const requests = await Promise.all(
      Array.from({ length: TOTAL }, (_, i) =>
        signRequest(
          { op: 'claim', name: `crash-${i}`, seq: 1, iat: now, registrar: registrar.toString() },
          keys[i % keys.length],
        ),
      ),
    );
    const pool = new Pool(url, { connections: 32 });
    const acked = new Map<string, string>();
    let refused = 0;
    let killed = false;
    await Promise.all(
      requests.map(async (request, i) => {
        const name = `crash-${i}`;
        try {
          const res = await pool.request({
            path: registryOpPaths.claim(name),
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ request }),
          });
          const body = (await res.body.json()) as { binding?: string };
          if (res.statusCode === 201 && body.binding) acked.set(name, body.binding);
          if (!killed && acked.size >= 250) {
            killed = true;
            child.kill('SIGKILL');
          }
        } catch {
          refused++; // the connection died with the process: never acknowledged
        }
      }),
    );
    await pool.destroy();
    expect(killed).toBe(true);
    expect(refused).toBeGreaterThan(0); // the kill really landed mid-run
    await new Promise((r) =>
      child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r),
    );

    const restarted = await startChild(dataDir, seed);
    try {
      expect(restarted.size).toBeGreaterThanOrEqual(acked.size);
      const check = new Pool(restarted.url, { connections: 16 });
      const lost: string[] = [];
      await Promise.all(
        [...acked].map(async ([name, binding]) => {
          const res = await check.request({ path: registryPaths.resolve(name), method: 'GET' });
          const body = (await res.body.json()) as { binding?: string };
          if (body.binding !== binding) lost.push(name);
        }),
      );
      await check.destroy();
      expect(lost).toEqual([]);
    } finally {
      restarted.child.kill('SIGTERM');
      await new Promise((r) => restarted.child.once('exit', r));
    }
  });
});
