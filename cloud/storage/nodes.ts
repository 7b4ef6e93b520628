/** Rows of the file tree and the small queries every storage module shares. */
import type { Db } from './db.ts';

export interface FileNode {
  id: number;
  wallet: string;
  parent_id: number | null;
  name: string;
  dir: number;
  blob: string | null;
  size: number;
  mtime: number;
  created: number;
  type: string | null;
  etag: string;
}

export const isDir = (n: FileNode): boolean => n.dir === 1;

export function child(db: Db, parentId: number, name: string): FileNode | undefined {
  return db.get<FileNode>('SELECT * FROM nodes WHERE parent_id = ? AND name = ?', parentId, name);
}

export function children(db: Db, parentId: number): FileNode[] {
  return db.all<FileNode>('SELECT * FROM nodes WHERE parent_id = ? ORDER BY name', parentId);
}

export function byId(db: Db, id: number): FileNode | undefined {
  return db.get<FileNode>('SELECT * FROM nodes WHERE id = ?', id);
}

/** The node and every descendant, parents before children. */
export function subtree(db: Db, root: FileNode): FileNode[] {
  const out: FileNode[] = [root];
  for (let i = 0; i < out.length; i++) if (isDir(out[i])) out.push(...children(db, out[i].id));
  return out;
}

/** Names from the wallet root down to the node, or null when the node is in the trash. */
export function pathOf(db: Db, node: FileNode): string[] | null {
  const names: string[] = [];
  let cur: FileNode | undefined = node;
  while (cur && cur.parent_id !== 0) {
    if (cur.parent_id === null) return null;
    names.unshift(cur.name);
    cur = byId(db, cur.parent_id);
  }
  return cur ? names : null;
}

export const fileEtag = (blob: string): string => `"${blob.slice(0, 24)}"`;
export const dirEtag = (id: number, mtime: number): string =>
  `"d${id.toString(36)}-${mtime.toString(36)}"`;
