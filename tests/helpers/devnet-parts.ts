/** In-process super nodes and agents on loopback (port 0), wired as peers, for integration tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyPair } from '../../shared/keys.ts';
import { SuperNode } from '../../origin/supernode.ts';

export interface RunningSuperNode {
  node: SuperNode;
  key: KeyPair;
  url: string;
}

/** Starts `count` super nodes that replicate to each other and trust each other's bindings. */
export async function startSuperNodes(count: number, edgeKeys: KeyPair[], zone = 'localhost'): Promise<{ nodes: RunningSuperNode[]; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'pc2-sn-'));
  const keys = Array.from({ length: count }, () => KeyPair.generate());
  const nodes: RunningSuperNode[] = [];
  for (const [i, key] of keys.entries()) {
    const node = new SuperNode({
      key,
      dataDir: join(dir, `sn${i}`),
      zone,
      publicUrlTemplate: `http://{name}.${zone}:8080`,
      edgeKeys: edgeKeys.map((k) => k.id),
      host: '127.0.0.1',
      apiPort: 0,
      proxyPort: 0,
      trustedRegistrars: keys.map((k) => k.id),
      developerMode: true,
      rateLimits: false,
      dht: { port: 0, bootstrap: nodes.map((n) => ({ id: n.key.id, host: '127.0.0.1', port: n.node.dht!.address().port })) },
    });
    const { apiUrl } = await node.start();
    nodes.push({ node, key, url: apiUrl });
  }
  for (const a of nodes) {
    for (const b of nodes) if (a !== b) a.node.registry.replication.addPeer({ id: b.key.id.toString(), url: b.url });
  }
  return {
    nodes,
    async close() {
      await Promise.all(nodes.map((n) => n.node.stop().catch(() => {})));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
