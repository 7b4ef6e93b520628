/** In-process super nodes and agents on loopback (port 0), wired as peers, for integration tests. */
import { rmSync } from 'node:fs';
import { startSuperNodes as startDevSuperNodes } from '../../cli/devnet.ts';
import { KeyPair } from '../../shared/keys.ts';
import type { SuperNode } from '../../origin/supernode.ts';
import { tempDir } from './processes.ts';

export interface RunningSuperNode {
  node: SuperNode;
  key: KeyPair;
  url: string;
}

/** Starts `count` super nodes that replicate to each other and trust each other's bindings. */
export async function startSuperNodes(
  count: number,
  edgeKeys: KeyPair[],
): Promise<{ nodes: RunningSuperNode[]; close(): Promise<void> }> {
  const dir = tempDir('pc2-sn-');
  const keys = Array.from({ length: count }, () => KeyPair.generate());
  const started = await startDevSuperNodes(keys, edgeKeys[0], {
    dir,
    publicUrlTemplate: 'http://{name}.localhost:8080',
  });
  const nodes = started.map((s, i) => ({ node: s.node, key: keys[i], url: s.url }));
  return {
    nodes,
    async close() {
      await Promise.all(nodes.map((n) => n.node.stop().catch(() => {})));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
