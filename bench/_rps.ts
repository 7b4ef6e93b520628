import { Agent, request } from 'undici';
import { startIngressServer } from '../origin/ingress/index.ts';
import { KeyPair } from '../shared/keys.ts';
import { INGRESS_HEADERS } from '../shared/records/api.ts';
import { signEdgeToken } from '../shared/records/edge-token.ts';
import { authenticated, newClient, startServer } from '../tests/proxy/harness.ts';
import { startHttpUpstream } from '../tests/proxy/http-upstream.ts';
const edge = KeyPair.generate(), sn = KeyPair.generate();
const app = await startHttpUpstream();
const proxy = await startServer({ maxConnections: 64 });
const client = newClient(proxy, app.port); client.start(); await authenticated(client);
const ing = await startIngressServer({ proxy, superNodeId: sn.id, edgeKeys: [edge.id], host: '127.0.0.1', port: 0 });
const node = client.options.deviceKey.id;
const token = await signEdgeToken(edge, node, sn.id, Date.now());
const d = new Agent({ connections: 64 });
const h = { [INGRESS_HEADERS.nodeId]: node.toString(), [INGRESS_HEADERS.edgeToken]: token };
for (const url of [`http://127.0.0.1:${app.port}/`, `http://127.0.0.1:${ing.address().port}/`]) {
  const t = performance.now(); let n = 0;
  await Promise.all(Array.from({ length: 16 }, async () => { while (performance.now() - t < 4000) { const r = await request(url, { headers: h, dispatcher: d }); await r.body.text(); n++; } }));
  console.log(url, 'req/s', (n / 4).toFixed(0), 'streams', proxy.stats().streamsOpened);
}
process.exit(0);
