/**
 * One flipped byte in the middle of a super node's log (media damage, a stray write). Records after
 * it must survive, the damage must be reported (log and health), and the lost record must come back
 * from a peer. Real `pc2 supernode` processes; the byte is flipped while they are stopped.
 */
import http from 'node:http';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../shared/keys.ts';
import { registryOpPaths, registryPaths } from '../../shared/records/api.ts';
import { signRequest } from '../../shared/records/request.ts';
import { type Proc, tempDir } from '../helpers/processes.ts';
import {
  type SuperNodeProc,
  startSuperNodeProc,
  superNodeProcs,
} from '../helpers/supernode-procs.ts';

const NAMES = Array.from({ length: 501 }, (_, i) => `name-${String(i).padStart(3, '0')}`);

let dir: string;
let sn1: SuperNodeProc;
let sn2: SuperNodeProc;
const procs: Proc[] = [];

beforeAll(async () => {
  dir = tempDir('pc2-log-damage-');
  [sn1, sn2] = await superNodeProcs(dir, ['sn1', 'sn2'], { edgeKeys: [], noDht: true });
}, 30_000);

afterAll(async () => {
  for (const a of agents) a.destroy();
  await Promise.all([sn1?.proc, sn2?.proc, ...procs].map((p) => p?.kill('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

/** Kept-alive connections from 127.0.0.1..6 (the claims are spread over addresses: each has its own budget). */
const agents = Array.from(
  { length: 7 },
  (_, i) => new http.Agent({ keepAlive: true, localAddress: `127.0.0.${i || 1}` }),
);

function call(url: string, method = 'GET', body?: string, from = 1): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method,
      agent: agents[from],
      headers: { 'content-type': 'application/json' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.end(body);
  });
}

async function resolvable(sn: SuperNodeProc): Promise<number> {
  const statuses = await Promise.all(NAMES.map((n) => call(sn.url + registryPaths.resolve(n))));
  return statuses.filter((s) => s === 200).length;
}

const health = async (sn: SuperNodeProc) => (await fetch(`${sn.url}/api/v1/health`)).json();

describe('a damaged log', () => {
  it('keeps every record after a flipped byte, reports it, and recovers the lost one from a peer', async () => {
    procs.push(...(await Promise.all([startSuperNodeProc(sn1), startSuperNodeProc(sn2)])));
    const registrar = sn1.key.key.id.toString();
    const key = KeyPair.generate();
    const claims = await Promise.all(
      NAMES.map(async (name, i) => {
        const request = await signRequest(
          { op: 'claim', name, seq: 1, iat: Date.now(), registrar },
          key,
        );
        const body = JSON.stringify({ request });
        return call(sn1.url + registryOpPaths.claim(name), 'POST', body, 1 + (i % 6));
      }),
    );
    expect(claims.filter((s) => s === 201).length).toBe(501);
    await expect.poll(() => resolvable(sn2), { timeout: 30_000, interval: 500 }).toBe(501);
    await Promise.all([sn1.proc.kill('SIGTERM'), sn2.proc.kill('SIGTERM')]);

    const log = join(sn1.dataDir, 'registry', 'registry.log');
    const bytes = readFileSync(log);
    bytes[Math.floor(bytes.length / 2)] ^= 0x20;
    writeFileSync(log, bytes);

    // Alone (its peer is down): every record but the damaged one, and the damage reported.
    procs.push(await startSuperNodeProc(sn1));
    expect(sn1.proc.output()).toMatch(/damaged log records skipped/);
    expect(await resolvable(sn1)).toBeGreaterThanOrEqual(500);
    const damaged = await health(sn1);
    expect(damaged.damage.ranges.length).toBe(1);
    expect(damaged.damage.recoveredFrom).toEqual([]);

    // With its peer back: the lost name too.
    procs.push(await startSuperNodeProc(sn2));
    await expect
      .poll(async () => (await health(sn1)).damage.recoveredFrom, {
        timeout: 30_000,
        interval: 500,
      })
      .toEqual([sn2.key.key.id.toString()]);
    expect(await resolvable(sn1)).toBe(501);
  }, 180_000);
});
