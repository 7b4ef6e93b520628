/** Files, trash, versions, shares and quota for the signed-in wallet. */
import { CloudError } from '../errors.ts';
import { serveContent } from '../http/content.ts';
import { typeOf } from '../http/mime.ts';
import { isDir, type FileNode } from '../storage/nodes.ts';
import { joinPath, splitPath } from '../storage/paths.ts';
import { bool, int, str, type ApiContext, type Route } from './routes.ts';

export function entry(names: readonly string[], n: FileNode): Record<string, unknown> {
  return {
    id: n.id,
    name: n.parent_id === 0 ? '' : n.name,
    path: joinPath(names),
    dir: isDir(n),
    size: n.size,
    mtime: n.mtime,
    created: n.created,
    etag: n.etag,
    type: isDir(n) ? null : typeOf(n.name, n.type),
  };
}

const pathParam = (ctx: ApiContext, key = 'path'): string[] =>
  splitPath(ctx.url.searchParams.get(key) ?? '/');
const bodyPath = (ctx: ApiContext, key: string): string[] => splitPath(str(ctx.body, key));

function mustResolve(ctx: ApiContext, names: string[]): FileNode {
  const node = ctx.cloud.store.resolve(ctx.principal.address, names);
  if (!node) throw new CloudError('NOT_FOUND', `${joinPath(names)} does not exist`);
  return node;
}

/** A WebDAV lock on or below a path blocks changes from the API (it has no lock tokens to show). */
function unlocked(ctx: ApiContext, ...paths: string[][]): void {
  const { locks } = ctx.cloud;
  const all = locks.all(ctx.principal.address);
  for (const p of paths) {
    const path = joinPath(p);
    if (locks.covering(all, path).length > 0 || locks.below(all, path).length > 0)
      throw new CloudError('LOCKED', `${path} is locked by a WebDAV client`);
  }
}

export const fileRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/files$/,
    handler: (ctx) => {
      const names = pathParam(ctx);
      const node = mustResolve(ctx, names);
      const entries = isDir(node)
        ? ctx.cloud.store.list(node).map((c) => entry([...names, c.name], c))
        : undefined;
      return { ...entry(names, node), entries };
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/files\/content$/,
    raw: true,
    handler: async (ctx) => {
      const node = mustResolve(ctx, pathParam(ctx));
      if (isDir(node)) throw new CloudError('BAD_REQUEST', 'that is a folder');
      await serveContent(ctx.req, ctx.res, ctx.cloud.blobs, node, {
        forceAttachment: ctx.url.searchParams.has('download'),
      });
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/files\/mkdir$/,
    handler: (ctx) => {
      const names = bodyPath(ctx, 'path');
      unlocked(ctx, names);
      ctx.status = 201;
      return entry(names, ctx.cloud.store.mkdir(ctx.principal.address, names));
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/files\/(move|copy)$/,
    handler: (ctx) => {
      const from = bodyPath(ctx, 'from');
      const to = bodyPath(ctx, 'to');
      const overwrite = bool(ctx.body, 'overwrite');
      if (ctx.params[0] === 'move') unlocked(ctx, from, to);
      else unlocked(ctx, to);
      const store = ctx.cloud.store;
      const result =
        ctx.params[0] === 'move'
          ? store.move(ctx.principal.address, from, to, overwrite)
          : store.copy(ctx.principal.address, from, to, overwrite);
      return { ...entry(to, result.node), replaced: result.replaced };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/files\/delete$/,
    handler: (ctx) => {
      const names = bodyPath(ctx, 'path');
      unlocked(ctx, names);
      return { trashId: ctx.cloud.store.trash(ctx.principal.address, names) };
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/quota$/,
    handler: (ctx) => ctx.cloud.store.quota(ctx.principal.address),
  },
  // ---- trash ----
  {
    method: 'GET',
    pattern: /^\/api\/trash$/,
    handler: (ctx) => ({
      items: ctx.cloud.store.listTrash(ctx.principal.address),
      retentionMs: ctx.cloud.options.limits.trashRetentionMs,
    }),
  },
  {
    method: 'POST',
    pattern: /^\/api\/trash\/(\d{1,15})\/restore$/,
    handler: (ctx) => ({
      path: joinPath(ctx.cloud.store.restore(ctx.principal.address, Number(ctx.params[0]))),
    }),
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/trash\/(\d{1,15})$/,
    handler: (ctx) => {
      ctx.cloud.store.purge(ctx.principal.address, Number(ctx.params[0]));
      return { ok: true };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/trash\/empty$/,
    handler: (ctx) => {
      const items = ctx.cloud.store.listTrash(ctx.principal.address);
      for (const i of items) ctx.cloud.store.purge(ctx.principal.address, i.id);
      return { purged: items.length };
    },
  },
  // ---- versions ----
  {
    method: 'GET',
    pattern: /^\/api\/versions$/,
    handler: (ctx) => {
      const node = mustResolve(ctx, pathParam(ctx));
      if (isDir(node)) throw new CloudError('BAD_REQUEST', 'folders have no versions');
      return {
        current: { size: node.size, mtime: node.mtime, etag: node.etag },
        versions: ctx.cloud.store.versions(node),
      };
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/versions\/content$/,
    raw: true,
    handler: async (ctx) => {
      const node = mustResolve(ctx, pathParam(ctx));
      const v = ctx.cloud.store.versionBlob(node, int(ctx.url.searchParams.get('id'), 'id')!);
      if (!v) throw new CloudError('NOT_FOUND', 'no such version');
      await serveContent(
        ctx.req,
        ctx.res,
        ctx.cloud.blobs,
        { ...v, name: node.name, type: node.type },
        { forceAttachment: ctx.url.searchParams.has('download') },
      );
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/versions\/restore$/,
    handler: (ctx) => {
      const names = bodyPath(ctx, 'path');
      unlocked(ctx, names);
      const node = mustResolve(ctx, names);
      return entry(
        names,
        ctx.cloud.store.restoreVersion(ctx.principal.address, node, int(ctx.body.id, 'id')!),
      );
    },
  },
  // ---- shares ----
  {
    method: 'GET',
    pattern: /^\/api\/shares$/,
    handler: (ctx) => ({ shares: ctx.cloud.shares.list(ctx.principal.address) }),
  },
  {
    method: 'POST',
    pattern: /^\/api\/shares$/,
    handler: async (ctx) => {
      const node = mustResolve(ctx, bodyPath(ctx, 'path'));
      const mode = ctx.body.mode ?? 'read';
      if (mode !== 'read' && mode !== 'upload')
        throw new CloudError('BAD_REQUEST', '"mode" is "read" or "upload"');
      const password = str(ctx.body, 'password', { optional: true, max: 1024 }) || undefined;
      const expiresAt = int(ctx.body.expiresAt, 'expiresAt', { optional: true }) ?? null;
      const { id, token } = await ctx.cloud.shares.create(ctx.principal.address, node, {
        mode,
        password,
        expiresAt,
      });
      ctx.status = 201;
      return {
        id,
        token,
        url: `${ctx.origin.origin}/s/${token}`,
        mode,
        expiresAt,
        hasPassword: !!password,
      };
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/shares\/([0-9a-f]{16})$/,
    handler: (ctx) => {
      ctx.cloud.shares.revoke(ctx.principal.address, ctx.params[0]);
      return { ok: true };
    },
  },
];
