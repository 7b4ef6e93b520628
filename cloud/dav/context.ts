/** What every WebDAV method handler gets, and the precondition checks they share. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/accounts.ts';
import { CloudError } from '../errors.ts';
import type { CloudLimits, Clock, Logger } from '../options.ts';
import type { BlobStore } from '../storage/blobs.ts';
import { encodePath, joinPath, splitUrlPath } from '../storage/paths.ts';
import type { FileNode, FileStore } from '../storage/store.ts';
import { parseIf, submittedTokens, type IfList } from './if-header.ts';
import type { Lock, LockTable } from './locks.ts';

export const DAV_PREFIX = '/dav';

export interface DavDeps {
  store: FileStore;
  blobs: BlobStore;
  locks: LockTable;
  limits: CloudLimits;
  clock: Clock;
  logger: Logger;
}

export interface DavContext {
  req: IncomingMessage;
  res: ServerResponse;
  deps: DavDeps;
  principal: Principal;
  wallet: string;
  origin: URL;
  names: string[];
  path: string;
  ifLists: IfList[] | undefined;
  tokens: Set<string>;
}

export function makeContext(
  req: IncomingMessage,
  res: ServerResponse,
  deps: DavDeps,
  principal: Principal,
  origin: URL,
  encodedPath: string,
): DavContext {
  const names = splitUrlPath(encodedPath);
  const ifLists = parseIf(req.headers.if as string | undefined);
  return {
    req,
    res,
    deps,
    principal,
    wallet: principal.address,
    origin,
    names,
    path: joinPath(names),
    ifLists,
    tokens: submittedTokens(ifLists),
  };
}

export const hrefOf = (names: readonly string[], dir: boolean): string => {
  const p = DAV_PREFIX + encodePath(names);
  return dir && !p.endsWith('/') ? p + '/' : p;
};

/** Maps a Destination header or a tagged If resource to names inside /dav/ of this origin. */
export function davNamesOf(url: string, origin: URL): string[] {
  let u: URL;
  try {
    u = new URL(url, origin);
  } catch {
    throw new CloudError('BAD_REQUEST', 'malformed URL');
  }
  if (u.host !== origin.host)
    throw new CloudError('BAD_GATEWAY', 'the destination is on another server');
  const p = u.pathname;
  if (p !== DAV_PREFIX && !p.startsWith(DAV_PREFIX + '/'))
    throw new CloudError('BAD_GATEWAY', 'the destination is outside /dav/');
  return splitUrlPath(p.slice(DAV_PREFIX.length));
}

/** Evaluates the If header (RFC 4918 §10.4): 412 unless one of its lists holds. */
export function checkIf(ctx: DavContext, locks: Lock[]): void {
  if (!ctx.ifLists) return;
  const { store, locks: table } = ctx.deps;
  const holds = ctx.ifLists.some((list) => {
    let names = ctx.names;
    if (list.resource !== undefined) {
      try {
        names = davNamesOf(list.resource, ctx.origin);
      } catch {
        return false;
      }
    }
    const path = joinPath(names);
    const node = store.resolve(ctx.wallet, names);
    return list.conditions.every((c) => {
      const match =
        c.token !== undefined
          ? table.covering(locks, path).some((l) => l.token === c.token)
          : !!node && node.etag === c.etag;
      return c.not ? !match : match;
    });
  });
  if (!holds) throw new CloudError('PRECONDITION_FAILED', 'the If header does not match');
}

/**
 * 423 unless, for every locked resource the request touches, one of its lock tokens was submitted.
 * `deep` also considers locks below the path (DELETE and MOVE of a folder).
 */
export function checkLocks(ctx: DavContext, locks: Lock[], path: string, deep: boolean): void {
  const { locks: table } = ctx.deps;
  const relevant = deep
    ? [...table.covering(locks, path), ...table.below(locks, path)]
    : table.covering(locks, path);
  const byRoot = new Map<string, Lock[]>();
  for (const l of relevant) byRoot.set(l.path, [...(byRoot.get(l.path) ?? []), l]);
  for (const group of byRoot.values()) {
    if (!group.some((l) => ctx.tokens.has(l.token)))
      throw new CloudError(
        'LOCKED',
        'the resource is locked; submit its lock token in an If header',
      );
  }
}

/** If-Match / If-None-Match / If-Unmodified-Since on a state-changing request (412). */
export function checkConditional(ctx: DavContext, node: FileNode | undefined): void {
  const h = ctx.req.headers;
  const ifMatch = h['if-match'];
  if (ifMatch !== undefined) {
    const ok =
      !!node && (ifMatch.trim() === '*' || ifMatch.split(',').some((t) => t.trim() === node.etag));
    if (!ok) throw new CloudError('PRECONDITION_FAILED', 'If-Match does not match');
  }
  const ifNone = h['if-none-match'];
  if (
    ifNone !== undefined &&
    node &&
    (ifNone.trim() === '*' ||
      ifNone.split(',').some((t) => t.trim().replace(/^W\//, '') === node.etag))
  ) {
    throw new CloudError('PRECONDITION_FAILED', 'If-None-Match matches');
  }
  const ius = h['if-unmodified-since'];
  if (
    ius !== undefined &&
    node &&
    !Number.isNaN(Date.parse(ius)) &&
    Math.floor(node.mtime / 1000) > Math.floor(Date.parse(ius) / 1000)
  ) {
    throw new CloudError('PRECONDITION_FAILED', 'modified since If-Unmodified-Since');
  }
}

export function noBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len === undefined || len === '0') && req.headers['transfer-encoding'] === undefined;
}
