/**
 * A super node's health on real sockets: fit while every part runs, 503 and `unfit` naming the check
 * once one stops, and `pc2 status --health` exiting 1 on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SuperNode } from '../../origin/supernode.ts';
import { KeyPair } from '../../shared/keys.ts';
import type { SuperNodeHealth } from '../../shared/records/health.ts';
import { runCli } from '../helpers/cli.ts';

describe('super node health', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc2-health-'));
  let node: SuperNode;
  let url: string;

  beforeAll(async () => {
    node = new SuperNode({
      key: KeyPair.generate(),
      dataDir: dir,
      zone: 'localhost',
      edgeKeys: [],
      host: '127.0.0.1',
      apiPort: 0,
      tunnelPort: 0,
      dht: false,
      version: 'pc2 test',
      label: 'health-test',
      region: 'nowhere',
    });
    ({ apiUrl: url } = await node.start());
  });
  afterAll(async () => {
    await node.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  const health = async () => {
    const res = await fetch(`${url}/api/v1/health`);
    return { status: res.status, body: (await res.json()) as SuperNodeHealth };
  };

  it('is fit while its parts run, unfit (503) once the tunnel server stops', async () => {
    const fit = await health();
    expect(fit.status).toBe(200);
    expect(fit.body).toMatchObject({
      ok: true,
      status: 'ok',
      version: 'pc2 test',
      label: 'health-test',
      region: 'nowhere',
      dht: null,
      certificate: null,
      peers: [],
    });
    const ok = await runCli(['status', '--health', '--supernode', url]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('health-test  OK  pc2 test');

    await node.tunnel.stop();
    const unfit = await health();
    expect(unfit.status).toBe(503);
    expect(unfit.body.status).toBe('unfit');
    expect(unfit.body.checks).toContainEqual({
      name: 'tunnel',
      status: 'fail',
      detail: 'not listening',
    });
    const bad = await runCli(['status', '--health', '--supernode', url]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('FAIL  tunnel');
    const json = await runCli(['status', '--health', '--supernode', url, '--json']);
    expect(JSON.parse(json.stdout).status).toBe('unfit');
  });
});
