/**
 * `pc2 node --mode direct` must keep running and renewing its lease: it used to exit 0 right after
 * going online (its renewal timer was the only thing left and was unref'd), so its name went offline
 * when the first lease ran out. From the outside: a real super node and a real `pc2 node`, a short
 * lease, and the route record watched past its renewal points.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwsPayload } from '../../shared/records/request.ts';
import type { RouteRecord } from '../../shared/records/route.ts';
import { registryPaths } from '../../shared/records/api.ts';
import { keyFile, type Proc, pc2, tempDir } from '../helpers/processes.ts';
import {
  type SuperNodeProc,
  startSuperNodeProc,
  superNodeProcs,
} from '../helpers/supernode-procs.ts';
import { startUpstream } from '../helpers/upstream.ts';

let dir: string;
let sn: SuperNodeProc;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
const procs: Proc[] = [];

beforeAll(async () => {
  dir = tempDir('pc2-direct-');
  [sn] = await superNodeProcs(dir, ['sn'], { edgeKeys: [], developerMode: true, noDht: true });
  procs.push(await startSuperNodeProc(sn));
  upstream = await startUpstream('dan');
}, 60_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function route(): Promise<RouteRecord | null> {
  const res = await fetch(sn.url + registryPaths.resolve('dan'));
  if (!res.ok) return null;
  const body = (await res.json()) as { route: string | null };
  return body.route ? decodeJwsPayload<RouteRecord>(body.route) : null;
}

describe('pc2 node --mode direct', () => {
  it('keeps running and renewing its lease past its first renewal point', async () => {
    const key = await keyFile(dir, 'dan');
    const node = pc2([
      'node',
      '--name',
      'dan',
      '--supernode',
      sn.url,
      '--upstream',
      upstream.url,
      '--public-url',
      upstream.url,
      '--mode',
      'direct',
      '--lease-seconds',
      '10',
      '--key',
      key.path,
    ]);
    procs.push(node);
    await expect.poll(route, { timeout: 30_000 }).not.toBeNull();
    const first = (await route())!;
    expect(first.mode).toBe('direct');
    // Renewals come at half the lease (5 s): past two of them, and past the first lease's end.
    await new Promise((r) => setTimeout(r, 11_000));
    expect(node.child.exitCode).toBeNull();
    expect(node.child.signalCode).toBeNull();
    const later = (await route())!;
    expect(later.seq).toBeGreaterThan(first.seq);
    expect(later.exp).toBeGreaterThan(first.exp);
    expect(later.exp).toBeGreaterThan(Date.now());
  }, 60_000);
});
