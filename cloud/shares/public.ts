/**
 * What a visitor with a share link can do, under /s/<token>[/<path>]:
 * read links: GET/HEAD of the file, or of files inside the folder (`?meta=1` gives JSON details and a
 * folder's listing); upload links: PUT /s/<token>/<name> adds a new file to the folder (no reads,
 * no overwrites). POST /s/<token> {"password"} unlocks a password-protected link with a cookie.
 */
import type { RequestContext } from '../app.ts';
import { CloudError } from '../errors.ts';
import { serveContent } from '../http/content.ts';
import { checkOrigin } from '../http/csrf.ts';
import { parseCookies, readJson, sendJson } from '../http/respond.ts';
import { LimitExceeded } from '../storage/blobs.ts';
import { isDir } from '../storage/nodes.ts';
import { joinPath, splitUrlPath } from '../storage/paths.ts';

export const SHARE_PREFIX = '/s';
const GRANT_COOKIE = 'pc2_share';

export async function handleShare(ctx: RequestContext, rest: string): Promise<void> {
  const { req, res, cloud } = ctx;
  const slash = rest.indexOf('/');
  const token = slash < 0 ? rest : rest.slice(0, slash);
  const sub = splitUrlPath(slash < 0 ? '' : rest.slice(slash));
  const { row, node } = cloud.shares.open(token);
  const cookies = parseCookies(req.headers.cookie);
  const grant = cookies.get(GRANT_COOKIE);
  checkOrigin(req, ctx.origin, grant !== undefined);
  const secure = ctx.origin.protocol === 'https:';
  const grantCookie = (value: string): string =>
    `${GRANT_COOKIE}=${value}; Path=${SHARE_PREFIX}/${token}; HttpOnly; SameSite=Lax; Max-Age=3600${secure ? '; Secure' : ''}`;

  if (req.method === 'POST' && sub.length === 0) {
    const body = await readJson(req, cloud.options.limits.jsonBodyBytes);
    const password = typeof body.password === 'string' ? body.password : undefined;
    const issued = await cloud.shares.unlock(row, ctx.client, password, undefined);
    sendJson(res, 200, { ok: true }, issued ? { 'set-cookie': grantCookie(issued) } : {});
    return;
  }
  const basic = req.headers.authorization?.toLowerCase().startsWith('basic ')
    ? Buffer.from(req.headers.authorization.slice(6).trim(), 'base64')
        .toString('utf8')
        .split(':')
        .slice(1)
        .join(':')
    : undefined;
  const header = req.headers['x-share-password'];
  const issued = await cloud.shares.unlock(
    row,
    ctx.client,
    typeof header === 'string' ? header : basic,
    grant,
  );
  if (issued) res.setHeader('set-cookie', grantCookie(issued));

  const wantsMeta = ctx.url.searchParams.has('meta');
  if (row.mode === 'upload') {
    if ((req.method === 'GET' || req.method === 'HEAD') && sub.length === 0 && wantsMeta) {
      sendJson(res, 200, { name: node.name, dir: true, mode: 'upload' });
      return;
    }
    if (req.method !== 'PUT')
      throw new CloudError('FORBIDDEN', 'this is an upload-only link: PUT /s/<token>/<file name>');
    if (sub.length !== 1)
      throw new CloudError('BAD_REQUEST', 'upload one file name directly into the shared folder');
    const folder = cloud.store.pathOf(node)!;
    const target = [...folder, sub[0]];
    if (cloud.store.resolve(row.wallet, target))
      throw new CloudError('ALREADY_EXISTS', 'a file of that name was already uploaded');
    const room = cloud.store.room(row.wallet);
    if (Number(req.headers['content-length'] ?? 0) > room)
      throw new CloudError('QUOTA_EXCEEDED', 'the owner of this folder is out of space');
    let blob;
    try {
      blob = await cloud.blobs.write(req, room);
    } catch (e) {
      throw e instanceof LimitExceeded
        ? new CloudError('QUOTA_EXCEEDED', 'the owner of this folder is out of space')
        : e;
    }
    try {
      if (cloud.store.resolve(row.wallet, target))
        throw new CloudError('ALREADY_EXISTS', 'a file of that name was already uploaded');
      cloud.store.commitFile(row.wallet, target, blob);
    } catch (e) {
      await cloud.blobs.remove(blob.id);
      throw e;
    }
    sendJson(res, 201, { name: sub[0], size: blob.size });
    return;
  }

  if (req.method !== 'GET' && req.method !== 'HEAD')
    throw new CloudError('METHOD_NOT_ALLOWED', 'this is a read-only link');
  let target = node;
  if (sub.length > 0) {
    if (!isDir(node)) throw new CloudError('NOT_FOUND', 'a shared file has no members');
    const base = cloud.store.pathOf(node)!;
    const found = cloud.store.resolve(row.wallet, [...base, ...sub]);
    if (!found) throw new CloudError('NOT_FOUND', `${joinPath(sub)} is not in this share`);
    target = found;
  }
  if (isDir(target) || wantsMeta) {
    const entries = isDir(target)
      ? cloud.store
          .list(target)
          .map((n) => ({ name: n.name, dir: isDir(n), size: n.size, mtime: n.mtime, etag: n.etag }))
      : undefined;
    sendJson(res, 200, {
      name: target.name,
      dir: isDir(target),
      size: target.size,
      mtime: target.mtime,
      mode: 'read',
      expiresAt: row.expires,
      entries,
    });
    return;
  }
  await serveContent(req, res, cloud.blobs, target, {
    extraHeaders: { 'referrer-policy': 'no-referrer', 'x-robots-tag': 'noindex' },
  });
}
