/** WebDAV class 1 methods on the wallet's tree: GET/HEAD, PUT, DELETE, MKCOL, COPY, MOVE, OPTIONS. */
import { CloudError } from '../errors.ts';
import { serveContent } from '../http/content.ts';
import { LimitExceeded } from '../storage/blobs.ts';
import { isDir } from '../storage/nodes.ts';
import { escapeXml } from './xml.ts';
import {
  checkConditional,
  checkIf,
  checkLocks,
  davNamesOf,
  noBody,
  type DavContext,
} from './context.ts';
import { joinPath } from '../storage/paths.ts';

export const DAV_METHODS =
  'OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK';

export function options(ctx: DavContext): void {
  ctx.res.writeHead(200, {
    dav: '1, 2',
    allow: DAV_METHODS,
    'ms-author-via': 'DAV',
    'accept-ranges': 'bytes',
    'content-length': 0,
  });
  ctx.res.end();
}

export async function get(ctx: DavContext): Promise<void> {
  const node = ctx.deps.store.resolve(ctx.wallet, ctx.names);
  if (!node) throw new CloudError('NOT_FOUND', `${ctx.path} does not exist`);
  if (isDir(node)) {
    // A folder read by a browser: a plain list of names, never HTML made of user input.
    const body =
      ctx.deps.store
        .list(node)
        .map((n) => n.name + (isDir(n) ? '/' : ''))
        .join('\n') + '\n';
    ctx.res.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      etag: node.etag,
      'x-content-type-options': 'nosniff',
    });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : body);
    return;
  }
  await serveContent(ctx.req, ctx.res, ctx.deps.blobs, { ...node, name: node.name });
}

export async function put(ctx: DavContext): Promise<void> {
  const { store, blobs, locks } = ctx.deps;
  if (ctx.names.length === 0)
    throw new CloudError('METHOD_NOT_ALLOWED', 'cannot PUT the root folder');
  if (ctx.req.headers['content-range'] !== undefined)
    throw new CloudError(
      'BAD_REQUEST',
      'partial PUT (Content-Range) is not supported; use tus for resumable uploads',
    );
  const existing = store.resolve(ctx.wallet, ctx.names);
  if (existing && isDir(existing))
    throw new CloudError('METHOD_NOT_ALLOWED', `${ctx.path} is a folder`);
  store.parentOf(ctx.wallet, ctx.names);
  const all = locks.all(ctx.wallet);
  checkIf(ctx, all);
  checkLocks(ctx, all, ctx.path, false);
  checkConditional(ctx, existing);
  const room = store.room(ctx.wallet);
  const declared = Number(ctx.req.headers['content-length'] ?? NaN);
  if (declared > room) throw new CloudError('QUOTA_EXCEEDED', 'the wallet is out of space');
  let blob;
  try {
    blob = await blobs.write(ctx.req, room);
  } catch (e) {
    if (e instanceof LimitExceeded)
      throw new CloudError('QUOTA_EXCEEDED', 'the wallet is out of space');
    throw e;
  }
  let result;
  try {
    const mtime = parseOcMtime(ctx.req.headers['x-oc-mtime']);
    result = store.commitFile(ctx.wallet, ctx.names, blob, { mtime, type: null });
  } catch (e) {
    await blobs.remove(blob.id);
    throw e;
  }
  const headers: Record<string, string | number> = { etag: result.node.etag, 'content-length': 0 };
  if (ctx.req.headers['x-oc-mtime'] !== undefined) headers['x-oc-mtime'] = 'accepted';
  ctx.res.writeHead(result.created ? 201 : 204, headers);
  ctx.res.end();
}

function parseOcMtime(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,12}$/.test(value)) return undefined;
  return Number(value) * 1000;
}

export function remove(ctx: DavContext): void {
  const { store, locks } = ctx.deps;
  if (ctx.names.length === 0)
    throw new CloudError('FORBIDDEN', 'the root folder cannot be deleted');
  const node = store.resolve(ctx.wallet, ctx.names);
  if (!node) throw new CloudError('NOT_FOUND', `${ctx.path} does not exist`);
  const all = locks.all(ctx.wallet);
  checkIf(ctx, all);
  checkLocks(ctx, all, ctx.path, true);
  checkConditional(ctx, node);
  store.trash(ctx.wallet, ctx.names);
  locks.removeBelow(ctx.wallet, ctx.path);
  ctx.res.writeHead(204);
  ctx.res.end();
}

export function mkcol(ctx: DavContext): void {
  const { store, locks } = ctx.deps;
  if (!noBody(ctx.req)) {
    ctx.req.resume();
    throw new CloudError('UNSUPPORTED_MEDIA_TYPE', 'MKCOL with a body is not supported');
  }
  if (ctx.names.length === 0 || store.resolve(ctx.wallet, ctx.names))
    throw new CloudError('METHOD_NOT_ALLOWED', `${ctx.path} already exists`);
  store.parentOf(ctx.wallet, ctx.names);
  const all = locks.all(ctx.wallet);
  checkIf(ctx, all);
  checkLocks(ctx, all, ctx.path, false);
  store.mkdir(ctx.wallet, ctx.names);
  ctx.res.writeHead(201, { 'content-length': 0 });
  ctx.res.end();
}

export function copyOrMove(ctx: DavContext, move: boolean): void {
  const { store, locks } = ctx.deps;
  const dest = ctx.req.headers.destination;
  if (typeof dest !== 'string' || dest === '')
    throw new CloudError('BAD_REQUEST', 'a Destination header is required');
  const to = davNamesOf(dest, ctx.origin);
  const overwriteHeader = String(ctx.req.headers.overwrite ?? 'T').toUpperCase();
  if (overwriteHeader !== 'T' && overwriteHeader !== 'F')
    throw new CloudError('BAD_REQUEST', 'Overwrite is T or F');
  const depth = String(ctx.req.headers.depth ?? 'infinity').toLowerCase();
  if (depth !== 'infinity' && depth !== '0')
    throw new CloudError('BAD_REQUEST', 'Depth is 0 or infinity');
  const node = store.resolve(ctx.wallet, ctx.names);
  if (!node) throw new CloudError('NOT_FOUND', `${ctx.path} does not exist`);
  if (move && depth === '0' && isDir(node))
    throw new CloudError('BAD_REQUEST', 'a folder is moved with Depth infinity');
  const toPath = joinPath(to);
  const all = locks.all(ctx.wallet);
  checkIf(ctx, all);
  if (move) checkLocks(ctx, all, ctx.path, true);
  checkLocks(ctx, all, toPath, true);
  const overwrite = overwriteHeader === 'T';
  const result = move
    ? store.move(ctx.wallet, ctx.names, to, overwrite)
    : store.copy(ctx.wallet, ctx.names, to, overwrite, depth === '0');
  if (move) locks.removeBelow(ctx.wallet, ctx.path);
  if (result.replaced) locks.removeBelow(ctx.wallet, toPath);
  ctx.res.writeHead(result.replaced ? 204 : 201, { 'content-length': 0 });
  ctx.res.end();
}

/** A multistatus body from already-rendered <D:response> elements. */
export function multistatus(responses: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">${responses}</D:multistatus>`;
}

export const davError = (condition: string): string =>
  `<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:${escapeXml(condition)}/></D:error>`;
