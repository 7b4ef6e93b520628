/**
 * The personal cloud a node serves: `createCloud(options)` returns a node:http request listener
 * (bodies stream both ways) plus the few calls the CLI needs. See docs/cloud.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloudApp } from './app.ts';
import { resolveOptions, type CloudOptions, type ResolvedOptions } from './options.ts';
import type { AppsService } from './apps/service.ts';
import type { SearchService } from './search/service.ts';
import type { FileStore } from './storage/store.ts';

export type { CloudOptions, CloudLimits, Clock } from './options.ts';
export type { ChangeEvent, ChangeKind } from './storage/events.ts';
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
  readonly options: ResolvedOptions;
  close(): void;
}

export function createCloud(options: CloudOptions): Cloud {
  const app = new CloudApp(resolveOptions(options));
  return {
    handle: app.handle,
    ownerCode: () => app.accounts.ownerCode(),
    sweep: () => app.sweep(),
    store: app.store,
    search: app.search,
    apps: app.apps,
    options: app.options,
    close: () => app.close(),
  };
}
