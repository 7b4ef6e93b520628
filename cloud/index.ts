/**
 * The personal cloud a node serves: `createCloud(options)` returns a node:http request listener
 * (bodies stream both ways) plus the few calls the CLI needs. See docs/cloud.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloudApp } from './app.ts';
import type { AppsService } from './apps/service.ts';
import { backupStream } from './backup/backup.ts';
import { stageBackup, stagingPath, swapIn, type RestoreSummary } from './backup/restore.ts';
import type { ChatService } from './chat/service.ts';
import { CloudError } from './errors.ts';
import { sendError } from './http/respond.ts';
import { resolveOptions, type CloudOptions, type ResolvedOptions } from './options.ts';
import type { SearchService } from './search/service.ts';
import type { FileStore } from './storage/store.ts';

export type { CloudOptions, CloudLimits, Clock } from './options.ts';
export type { ChangeEvent, ChangeKind } from './storage/events.ts';
export type { RestoreSummary } from './backup/restore.ts';
export { CloudError, type CloudErrorCode } from './errors.ts';

export interface Cloud {
  /** The node:http request listener: `http.createServer(cloud.handle)`. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The one-time code that makes the first wallet owner; null once the node has an owner. */
  ownerCode(): string | null;
  /** Purges expired trash, partial uploads and sessions now (also done on a timer). */
  sweep(): Promise<{ trash: number; uploads: number; sessions: number }>;
  /** The wallet-scoped store (tree, versions, trash) for tools such as search and backup. */
  readonly store: FileStore;
  /** Filename and full-text search, kept current by the store's changes. */
  readonly search: SearchService;
  /** WASM runs (queue and slots) of wallets' own modules. */
  readonly apps: AppsService;
  /** AI chat: conversations and the OpenAI-compatible endpoint's backend. */
  readonly chat: ChatService;
  readonly options: ResolvedOptions;
  /** A streamed backup archive of every wallet's files, versions, trash and metadata (docs/cloud.md). */
  backup(): AsyncGenerator<Uint8Array>;
  /**
   * Restores an archive: checked whole in a staging directory first, then swapped in while the
   * node pauses (503) for a moment. A node that has wallets is replaced only with `replace: true`.
   */
  restore(source: AsyncIterable<Uint8Array>, opts?: { replace?: boolean }): Promise<RestoreSummary>;
  close(): void;
}

export function createCloud(options: CloudOptions): Cloud {
  const resolved = resolveOptions(options);
  let app = new CloudApp(resolved);
  let swapping = false;
  let restoring = false;

  async function restore(
    source: AsyncIterable<Uint8Array>,
    opts: { replace?: boolean } = {},
  ): Promise<RestoreSummary> {
    if (restoring) throw new CloudError('CONFLICT', 'a restore is already running');
    if (!opts.replace && app.store.wallets().length > 0) {
      throw new CloudError(
        'CONFLICT',
        'this node already has wallets: restore onto a fresh node, or pass replace to replace everything',
      );
    }
    restoring = true;
    try {
      const staging = stagingPath(resolved.dataDir, 'restore');
      const summary = await stageBackup(source, staging);
      swapping = true;
      app.close();
      try {
        await swapIn(staging, resolved.dataDir);
      } finally {
        app = new CloudApp(resolved);
        app.restoreHook = restore;
        swapping = false;
      }
      return summary;
    } finally {
      restoring = false;
    }
  }
  app.restoreHook = restore;

  return {
    handle: (req, res) => {
      if (!swapping) return app.handle(req, res);
      res.setHeader('retry-after', '5');
      sendError(
        res,
        new CloudError('UNAVAILABLE', 'the node is restoring a backup; try again in a moment'),
        resolved.logger,
      );
    },
    ownerCode: () => app.accounts.ownerCode(),
    sweep: () => app.sweep(),
    get store() {
      return app.store;
    },
    get search() {
      return app.search;
    },
    get apps() {
      return app.apps;
    },
    get chat() {
      return app.chat;
    },
    options: resolved,
    backup: () =>
      backupStream({
        db: app.db,
        blobs: app.blobs,
        dataDir: resolved.dataDir,
        clock: resolved.clock,
      }),
    restore,
    close: () => app.close(),
  };
}
