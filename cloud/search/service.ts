/** Search over one wallet's files: index hits mapped to live paths (trashed and purged nodes skipped). */
import { join } from 'node:path';
import type { Logger } from '../options.ts';
import type { FileStore } from '../storage/store.ts';
import { isDir } from '../storage/nodes.ts';
import { joinPath } from '../storage/paths.ts';
import type { ChangeEvent } from '../storage/events.ts';
import { SearchDb } from './index-db.ts';
import { SearchIndexer } from './indexer.ts';

export interface SearchResult {
  path: string;
  name: string;
  dir: boolean;
  size: number;
  mtime: number;
  match: 'name' | 'content';
  snippet?: string;
}

export class SearchService {
  readonly indexer: SearchIndexer;
  private readonly db: SearchDb;

  constructor(
    dataDir: string,
    private readonly store: FileStore,
    logger: Logger,
    maxTextBytes: number,
  ) {
    this.db = new SearchDb(join(dataDir, 'search.db'));
    this.indexer = new SearchIndexer(this.db, store.db, store.blobs, logger, { maxTextBytes });
    void this.indexer.reconcile();
  }

  onChange = (e: ChangeEvent): void => this.indexer.onChange(e);

  async search(wallet: string, q: string, limit: number): Promise<SearchResult[]> {
    await this.indexer.idle(2000);
    const out: SearchResult[] = [];
    // Some hits may be in the trash: ask for a few more than needed.
    for (const hit of this.db.query(wallet, q, limit + 20)) {
      const node = this.store.byId(wallet, hit.nodeId);
      const names = node && this.store.pathOf(node);
      if (!node || !names) continue;
      out.push({
        path: joinPath(names),
        name: node.name,
        dir: isDir(node),
        size: node.size,
        mtime: node.mtime,
        match: hit.match,
        snippet: hit.snippet,
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  close(): void {
    this.indexer.close();
    this.db.close();
  }
}
