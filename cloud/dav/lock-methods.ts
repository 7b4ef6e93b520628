/** LOCK (create, refresh, lock an unmapped URL) and UNLOCK. */
import { CloudError } from '../errors.ts';
import { readBody } from '../http/respond.ts';
import { checkIf, checkLocks, type DavContext } from './context.ts';
import { activeLock } from './lock-xml.ts';
import { davError } from './methods.ts';
import { escapeXml, find, is, parseXml, serialize } from './xml.ts';

function timeoutSeconds(header: string | string[] | undefined, max: number): number {
  for (const part of String(header ?? '').split(',')) {
    const t = part.trim();
    if (/^infinite$/i.test(t)) return max;
    const m = /^Second-(\d+)$/i.exec(t);
    if (m) return Math.max(1, Math.min(max, Number(m[1])));
  }
  return max;
}

function respond(ctx: DavContext, code: number, lockXml: string, token?: string): void {
  const body = `<?xml version="1.0" encoding="utf-8"?>\n<D:prop xmlns:D="DAV:"><D:lockdiscovery>${lockXml}</D:lockdiscovery></D:prop>`;
  const headers: Record<string, string | number> = {
    'content-type': 'application/xml; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  };
  if (token) headers['lock-token'] = `<${token}>`;
  ctx.res.writeHead(code, headers);
  ctx.res.end(body);
}

export async function lock(ctx: DavContext): Promise<void> {
  const { store, locks, limits, clock, blobs } = ctx.deps;
  const body = await readBody(ctx.req, limits.xmlBodyBytes);
  const timeoutS = timeoutSeconds(ctx.req.headers.timeout, limits.maxLockSeconds);
  const all = locks.all(ctx.wallet);
  if (body.length === 0) {
    // A refresh: the If header names the lock.
    if (!ctx.ifLists)
      throw new CloudError(
        'BAD_REQUEST',
        'a LOCK without body refreshes a lock named in the If header',
      );
    const mine = locks.covering(all, ctx.path).filter((l) => ctx.tokens.has(l.token));
    if (mine.length === 0)
      throw new CloudError(
        'PRECONDITION_FAILED',
        'no lock of this resource is named in the If header',
      );
    const refreshed = locks.refresh(mine[0], timeoutS);
    respond(ctx, 200, activeLock(refreshed, clock.now()));
    return;
  }
  const root = parseXml(body.toString('utf8'));
  if (!is(root, 'lockinfo'))
    throw new CloudError('BAD_REQUEST', 'LOCK body must be a DAV:lockinfo element');
  const scope = find(root, 'lockscope');
  const type = find(root, 'locktype');
  const exclusive = !!scope && !!find(scope, 'exclusive');
  if (!scope || (!exclusive && !find(scope, 'shared')) || !type || !find(type, 'write')) {
    throw new CloudError(
      'BAD_REQUEST',
      'lockinfo needs lockscope (exclusive or shared) and locktype write',
    );
  }
  const ownerEl = find(root, 'owner');
  const owner = ownerEl
    ? ownerEl.children.map((c) => (typeof c === 'string' ? escapeXml(c) : serialize(c))).join('')
    : '';
  const depthHeader = String(ctx.req.headers.depth ?? 'infinity').toLowerCase();
  if (depthHeader !== '0' && depthHeader !== 'infinity')
    throw new CloudError('BAD_REQUEST', 'LOCK Depth is 0 or infinity');
  const infinite = depthHeader === 'infinity';
  checkIf(ctx, all);
  const conflicts = [
    ...locks.covering(all, ctx.path),
    ...(infinite ? locks.below(all, ctx.path) : all.filter((l) => l.path === ctx.path)),
  ];
  if (conflicts.some((l) => exclusive || l.exclusive)) {
    const body423 = davError('no-conflicting-lock');
    ctx.res.writeHead(423, {
      'content-type': 'application/xml; charset=utf-8',
      'content-length': Buffer.byteLength(body423),
    });
    ctx.res.end(body423);
    return;
  }
  let node = store.resolve(ctx.wallet, ctx.names);
  let code = 200;
  if (!node) {
    // Locking an unmapped URL creates an empty resource there (RFC 4918 §7.3).
    if (ctx.names.length === 0) throw new CloudError('FORBIDDEN', 'the root folder always exists');
    store.parentOf(ctx.wallet, ctx.names);
    checkLocks(ctx, all, ctx.path, false);
    const blob = await blobs.write((async function* () {})(), 0);
    node = store.commitFile(ctx.wallet, ctx.names, blob).node;
    code = 201;
  }
  const created = locks.create(ctx.wallet, ctx.path, {
    infinite,
    exclusive,
    owner,
    principal: ctx.principal.address,
    timeoutS,
  });
  respond(ctx, code, activeLock(created, clock.now()), created.token);
}

export function unlock(ctx: DavContext): void {
  const { locks } = ctx.deps;
  const header = String(ctx.req.headers['lock-token'] ?? '').trim();
  const m = /^<([^>]+)>$/.exec(header);
  if (!m) throw new CloudError('BAD_REQUEST', 'UNLOCK needs a Lock-Token header: <token>');
  const target = locks.covering(locks.all(ctx.wallet), ctx.path).find((l) => l.token === m[1]);
  if (!target) {
    const body = davError('lock-token-matches-request-uri');
    ctx.res.writeHead(409, {
      'content-type': 'application/xml; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    ctx.res.end(body);
    return;
  }
  locks.remove(target.token);
  ctx.res.writeHead(204);
  ctx.res.end();
}
