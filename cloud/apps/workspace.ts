/**
 * A run's filesystem: the wallet folder it asked for is materialised into a fresh temporary
 * directory (content copied out of the immutable blobs; the store's own files are never exposed),
 * which is the only directory the module gets. Read-only runs get it with files 0444 and folders
 * 0555 (WASI has no chmod, so nothing can be created, changed, renamed or deleted; a node running
 * as root runs the module as `nobody`, which root's override does not cover). Write-enabled runs
 * get it writable, and what changed is imported back into the wallet afterwards (workspace-sync.ts).
 */
import {
  chmod,
  chown,
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  rm,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudError } from '../errors.ts';
import type { BlobStore } from '../storage/blobs.ts';
import { isDir, type FileNode } from '../storage/nodes.ts';
import type { FileStore } from '../storage/store.ts';

/** The unprivileged user a run drops to when the node runs as root. */
export const NOBODY = 65534;

export interface Snapshot {
  /** Relative path ("a/b.txt") → size and mtime as materialised; folders have size -1. */
  entries: Map<string, { size: number; mtimeMs: number }>;
}

export interface WorkspaceLimits {
  maxBytes: number;
  maxFiles: number;
}

export class Workspace {
  readonly root: string;
  readonly modulePath: string;
  readonly snapshot: Snapshot = { entries: new Map() };

  private constructor(
    readonly dir: string,
    readonly write: boolean,
    readonly uid: number | undefined,
  ) {
    this.root = join(dir, 'root');
    this.modulePath = join(dir, 'module.wasm');
  }

  /** Copies the module and (if `folder` is given) the folder's subtree into a new directory. */
  static async create(
    store: FileStore,
    blobs: BlobStore,
    module: FileNode,
    folder: FileNode | undefined,
    write: boolean,
    limits: WorkspaceLimits,
  ): Promise<Workspace> {
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const ws = new Workspace(
      await mkdtemp(join(tmpdir(), 'pc2-run-')),
      write,
      asRoot ? NOBODY : undefined,
    );
    try {
      await chmod(ws.dir, 0o711);
      await copyFile(blobs.path(module.blob!), ws.modulePath);
      await chmod(ws.modulePath, 0o444);
      if (folder) {
        await mkdir(ws.root);
        await ws.materialise(store, blobs, folder, limits);
      }
      return ws;
    } catch (e) {
      await ws.dispose();
      throw e;
    }
  }

  private async materialise(
    store: FileStore,
    blobs: BlobStore,
    folder: FileNode,
    limits: WorkspaceLimits,
  ): Promise<void> {
    let bytes = 0;
    let files = 0;
    const dirs: string[] = [this.root];
    const walk = async (dir: FileNode, host: string, rel: string): Promise<void> => {
      for (const n of store.list(dir)) {
        const path = join(host, n.name);
        const r = rel ? `${rel}/${n.name}` : n.name;
        if (++files > limits.maxFiles)
          throw new CloudError(
            'TOO_LARGE',
            `the run's folder holds more than ${limits.maxFiles} files and folders`,
          );
        if (isDir(n)) {
          await mkdir(path);
          dirs.push(path);
          this.snapshot.entries.set(r, { size: -1, mtimeMs: 0 });
          await walk(n, path, r);
          continue;
        }
        bytes += n.size;
        if (bytes > limits.maxBytes)
          throw new CloudError(
            'TOO_LARGE',
            `the run's folder holds more than ${limits.maxBytes} bytes`,
          );
        if (n.blob) await copyFile(blobs.path(n.blob), path);
        else await writeFile(path, '');
        await utimes(path, n.mtime / 1000, n.mtime / 1000);
        if (!this.write) await chmod(path, 0o444);
        else if (this.uid !== undefined) await chown(path, this.uid, this.uid);
        const st = await lstat(path);
        this.snapshot.entries.set(r, { size: st.size, mtimeMs: st.mtimeMs });
      }
    };
    await walk(folder, this.root, '');
    // Folders last, deepest first: a read-only folder can no longer be filled.
    for (const d of dirs.reverse()) {
      if (!this.write) await chmod(d, 0o555);
      else if (this.uid !== undefined) await chown(d, this.uid, this.uid);
    }
  }

  /** Bytes of the files as materialised. */
  snapshotBytes(): number {
    let n = 0;
    for (const e of this.snapshot.entries.values()) if (e.size > 0) n += e.size;
    return n;
  }

  /** Bytes of regular files under the root now (a write-enabled run is stopped past its limit). */
  async bytes(): Promise<number> {
    let total = 0;
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile()) total += (await lstat(p).catch(() => ({ size: 0 }))).size;
      }
    };
    if (this.write) await walk(this.root);
    return total;
  }

  async dispose(): Promise<void> {
    // Read-only folders (0555) must become writable again before their members can be removed.
    const unlock = async (dir: string): Promise<void> => {
      await chmod(dir, 0o700).catch(() => {});
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => []))
        if (e.isDirectory()) await unlock(join(dir, e.name));
    };
    await unlock(this.dir);
    await rm(this.dir, { recursive: true, force: true }).catch(() => {});
  }
}
