import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send } from '../edge/client.ts';
import { startWranglerDev, type WranglerDev } from '../edge/runtime/wrangler-dev.ts';
import { type ProcessNetwork, startProcessNetwork } from '../helpers/process-network.ts';
import { KeyPair } from '../../shared/keys.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The edge in workerd (`wrangler dev`), routing to super node processes that hold alice's tunnels.
let net: ProcessNetwork;
let worker: WranglerDev;

beforeAll(async () => {
  net = await startProcessNetwork();
  const edgeKey = KeyPair.fromBosonPrivateKey(
    readFileSync(join(net.dir, 'edge.key'), 'utf8').trim(),
  );
  worker = await startWranglerDev(
    {
      PC2_EDGE_ZONE: 'localhost',
      PC2_EDGE_REGISTRAR_KEYS: [net.primary, net.secondary]
        .map((s) => s.key.key.id.toString())
        .join(','),
      PC2_EDGE_KEY: edgeKey.bosonPrivateKeyBase58(),
      PC2_EDGE_SUPER_NODES: [net.primary, net.secondary]
        .map((s) => `${s.key.key.id}=${s.url}`)
        .join(','),
    },
    'localhost',
  );
}, 180_000);

afterAll(async () => {
  await worker?.close();
  await net?.close();
});

describe('edge in workerd (wrangler dev) with real super node processes', () => {
  it('serves alice through the relay', async () => {
    const res = await send(worker.baseUrl, 'alice.localhost', '/');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain('hello from alice');
  });

  it('gives the 404 page for an unknown name', async () => {
    const res = await send(worker.baseUrl, 'nobody.localhost', '/');
    expect(res.status).toBe(404);
    expect(res.body.toString()).toContain('<html');
  });
});
