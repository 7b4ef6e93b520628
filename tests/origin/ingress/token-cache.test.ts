import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../../shared/keys.ts';
import { INGRESS_HEADERS } from '../../../shared/records/api.ts';
import { signEdgeToken } from '../../../shared/records/edge-token.ts';
import { type IngressServer, startIngressServer } from '../../../origin/ingress/index.ts';
import type { TunnelServer } from '../../../origin/tunnel/index.ts';
import { startServer } from '../../tunnel/harness.ts';

// The node has no tunnel: an accepted token gets 503 NODE_UNAVAILABLE, a refused one 401.
const edge = KeyPair.generate();
const superNode = KeyPair.generate();
const node = KeyPair.generate().id;
let now = Date.now();
let tunnel: TunnelServer;
let ingress: IngressServer;

beforeAll(async () => {
  tunnel = await startServer();
  ingress = await startIngressServer({
    tunnel,
    superNodeId: superNode.id,
    edgeKeys: [edge.id],
    host: '127.0.0.1',
    port: 0,
    clock: { now: () => now },
  });
});
afterAll(async () => {
  await ingress.close();
  await tunnel.stop();
});

async function statusWith(token: string, nodeId = node): Promise<number> {
  const res = await request(`http://127.0.0.1:${ingress.address().port}/`, {
    headers: { [INGRESS_HEADERS.nodeId]: nodeId.toString(), [INGRESS_HEADERS.edgeToken]: token },
  });
  await res.body.dump();
  return res.statusCode;
}

describe('ingress edge-token cache', () => {
  // The verifier allows 5 s of clock skew past exp; the cache itself stops at exp, so past exp + 5 s
  // a cached token must be refused like any other.
  it('reuses a verified token until it expires, never after', async () => {
    const issued = now;
    const token = await signEdgeToken(edge, node, superNode.id, issued, 60);
    expect(await statusWith(token)).toBe(503);
    now = issued + 59_000;
    expect(await statusWith(token)).toBe(503);
    now = issued + 66_000;
    expect(await statusWith(token)).toBe(401);
    now = issued + 120_000;
    expect(await statusWith(token)).toBe(401);
  });

  it('a cached token still names one node only', async () => {
    now = Date.now();
    const token = await signEdgeToken(edge, node, superNode.id, now, 60);
    expect(await statusWith(token)).toBe(503);
    expect(await statusWith(token, KeyPair.generate().id)).toBe(401);
  });
});
