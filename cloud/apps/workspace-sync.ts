/**
 * After a write-enabled run: what the module changed in its directory goes back into the wallet.
 * New and changed regular files become new content (the old one stays a version), new folders are
 * created, files and folders it deleted go to the trash (restorable). Symlinks and other special
 * files are never followed nor imported; names the cloud does not accept are skipped and reported.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CloudError } from '../errors.ts';
import { LimitExceeded, type BlobStore } from '../storage/blobs.ts';
import { checkName, joinPath } from '../storage/paths.ts';
import type { FileStore } from '../storage/store.ts';
import type { Workspace } from './workspace.ts';

export interface Changes {
  written: string[];
  created: string[];
  trashed: string[];
  skipped: { path: string; reason: string }[];
}

interface Seen {
  rel: string;
  names: string[];
  dir: boolean;
  size: number;
  mtimeMs: number;
  host: string;
}

async function scan(ws: Workspace, skipped: Changes['skipped']): Promise<Seen[]> {
  const out: Seen[] = [];
  const walk = async (host: string, rel: string, names: string[]): Promise<void> => {
    for (const e of await readdir(host, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      let name: string;
      try {
        name = checkName(e.name);
        if (name !== e.name) throw new CloudError('INVALID_PATH', 'not in NFC form');
      } catch (err) {
        skipped.push({ path: '/' + r, reason: (err as Error).message });
        continue;
      }
      const p = join(host, e.name);
      const st = await lstat(p);
      if (st.isDirectory()) {
        out.push({ rel: r, names: [...names, name], dir: true, size: -1, mtimeMs: 0, host: p });
        await walk(p, r, [...names, name]);
      } else if (st.isFile()) {
        out.push({
          rel: r,
          names: [...names, name],
          dir: false,
          size: st.size,
          mtimeMs: st.mtimeMs,
          host: p,
        });
      } else {
        skipped.push({ path: '/' + r, reason: 'not a regular file or folder' });
      }
    }
  };
  await walk(ws.root, '', []);
  return out;
}

export async function importChanges(
  store: FileStore,
  blobs: BlobStore,
  wallet: string,
  folder: readonly string[],
  ws: Workspace,
): Promise<Changes> {
  const changes: Changes = { written: [], created: [], trashed: [], skipped: [] };
  const seen = await scan(ws, changes.skipped);
  const present = new Set(seen.map((s) => s.rel));
  for (const s of seen) {
    const was = ws.snapshot.entries.get(s.rel);
    const target = [...folder, ...s.names];
    try {
      if (s.dir) {
        if (!was) {
          store.mkdirp(wallet, target);
          changes.created.push(joinPath(target));
        }
        continue;
      }
      if (was && was.size === s.size && was.mtimeMs === s.mtimeMs) continue;
      store.mkdirp(wallet, target.slice(0, -1));
      const blob = await blobs.write(createReadStream(s.host), store.room(wallet));
      try {
        store.commitFile(wallet, target, blob, { mtime: Math.floor(s.mtimeMs) });
      } catch (e) {
        await blobs.remove(blob.id);
        throw e;
      }
      changes.written.push(joinPath(target));
    } catch (e) {
      const reason =
        e instanceof LimitExceeded
          ? 'the wallet is out of space'
          : e instanceof CloudError
            ? e.message
            : String(e);
      changes.skipped.push({ path: joinPath(target), reason });
    }
  }
  // Deleted: the shallowest missing paths (a deleted folder takes its members with it).
  const gone = [...ws.snapshot.entries.keys()].filter((rel) => !present.has(rel)).sort();
  const trashed: string[] = [];
  for (const rel of gone) {
    if (trashed.some((t) => rel.startsWith(t + '/'))) continue;
    const target = [...folder, ...rel.split('/')];
    try {
      store.trash(wallet, target);
      changes.trashed.push(joinPath(target));
    } catch (e) {
      if (!(e instanceof CloudError && e.code === 'NOT_FOUND'))
        changes.skipped.push({ path: joinPath(target), reason: String((e as Error).message) });
    }
    trashed.push(rel);
  }
  return changes;
}
