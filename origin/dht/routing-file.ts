/** The routing table on disk: verified contacts, reused as bootstrap contacts after a restart. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeInfo } from '../../shared/dht/index.ts';
import { Id } from '../../shared/id.ts';
import type { RoutingTable } from './routing-table.ts';

interface RoutingFile {
  version: 1;
  id: string;
  nodes: { id: string; host: string; port: number }[];
}

export const routingFilePath = (dataDir: string, family: 4 | 6): string =>
  join(dataDir, `dht-routing-v${family}.json`);

export async function saveRoutingTable(
  dataDir: string,
  family: 4 | 6,
  table: RoutingTable,
): Promise<void> {
  const file: RoutingFile = {
    version: 1,
    id: table.localId.toString(),
    nodes: table
      .all()
      .filter((e) => e.lastReply > 0)
      .map((e) => ({ id: e.node.id.toString(), host: e.node.host, port: e.node.port })),
  };
  await mkdir(dataDir, { recursive: true });
  const path = routingFilePath(dataDir, family);
  // Write then rename, so a crash never leaves half a file.
  await writeFile(`${path}.tmp`, JSON.stringify(file), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** The saved contacts; none if the file is missing, unreadable or belongs to another node id. */
export async function loadRoutingTable(
  dataDir: string,
  family: 4 | 6,
  localId: Id,
): Promise<NodeInfo[]> {
  let file: RoutingFile;
  try {
    file = JSON.parse(await readFile(routingFilePath(dataDir, family), 'utf8')) as RoutingFile;
  } catch {
    return [];
  }
  if (file?.version !== 1 || file.id !== localId.toString() || !Array.isArray(file.nodes))
    return [];
  const out: NodeInfo[] = [];
  for (const n of file.nodes) {
    try {
      out.push(new NodeInfo(Id.parse(n.id), n.host, n.port));
    } catch {
      // A damaged line loses one contact, not the table.
    }
  }
  return out;
}
