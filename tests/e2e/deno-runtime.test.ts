import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessNetwork, startProcessNetwork } from '../helpers/process-network.ts';

const DENO = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));

// `pc2 supernode` and `pc2 gateway` under Deno (`deno run`), the node agent under Node.
let net: ProcessNetwork;
beforeAll(async () => {
  net = await startProcessNetwork({
    runner: [DENO, 'run', '--allow-all', '--quiet'],
    env: { DENO_NO_UPDATE_CHECK: '1' },
  });
}, 150_000);
afterAll(() => net?.close());

describe('super nodes and gateway running under Deno', () => {
  it('really are Deno processes', () => {
    for (const p of [net.primary.proc, net.secondary.proc, net.gateway])
      expect(p.child.spawnargs[0]).toBe(DENO);
  });

  it('serve alice through the relay', async () => {
    const res = await net.get('/');
    expect(res.status).toBe(200);
    expect(res.body).toContain('hello from alice');
  });

  it('answer the registry API', async () => {
    const info = await fetch(`${net.primary.url}/api/v1/supernode`).then((r) => r.json());
    expect(info.id).toBe(net.primary.key.key.id.toString());
    const resolved = await fetch(`${net.secondary.url}/api/v1/names/alice`).then((r) => r.json());
    expect(resolved.name).toBe('alice');
    expect(typeof resolved.route).toBe('string');
  });
});
