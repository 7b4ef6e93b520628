/** PROPFIND and PROPPATCH: live properties from the tree, dead ones kept as XML in SQLite. */
import { CloudError } from '../errors.ts';
import { readBody } from '../http/respond.ts';
import { typeOf } from '../http/mime.ts';
import { isDir, type FileNode } from '../storage/nodes.ts';
import { checkIf, checkLocks, hrefOf, type DavContext } from './context.ts';
import { activeLock } from './lock-xml.ts';
import type { Lock } from './locks.ts';
import { multistatus } from './methods.ts';
import { elements, emptyElement, escapeXml, find, is, parseXml, serialize } from './xml.ts';

type PropKey = { ns: string; local: string };
interface DeadProp {
  node_id: number;
  ns: string;
  name: string;
  xml: string;
}

const MAX_DEAD_PROP_BYTES = 64 * 1024;
const ALLPROP_LIVE = [
  'creationdate',
  'displayname',
  'getcontentlength',
  'getcontenttype',
  'getetag',
  'getlastmodified',
  'resourcetype',
  'supportedlock',
  'lockdiscovery',
];
const PROTECTED = new Set([
  ...ALLPROP_LIVE.filter((p) => p !== 'displayname'),
  'quota-available-bytes',
  'quota-used-bytes',
]);
const SUPPORTED_LOCK =
  '<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>' +
  '<D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockentry>';

const status = (code: number): string =>
  `HTTP/1.1 ${code} ${({ 200: 'OK', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 424: 'Failed Dependency', 507: 'Insufficient Storage' } as Record<number, string>)[code]}`;

interface Live {
  node: FileNode;
  names: string[];
  locks: Lock[];
  quota: () => { used: number; available: number };
}

function liveValue(local: string, l: Live, ctx: DavContext): string | undefined {
  const n = l.node;
  switch (local) {
    case 'creationdate':
      return `<D:creationdate>${new Date(n.created).toISOString()}</D:creationdate>`;
    case 'displayname':
      return undefined; // dead unless set; clients show the last path segment
    case 'getcontentlength':
      return isDir(n) ? undefined : `<D:getcontentlength>${n.size}</D:getcontentlength>`;
    case 'getcontenttype':
      return isDir(n)
        ? undefined
        : `<D:getcontenttype>${escapeXml(typeOf(n.name, n.type))}</D:getcontenttype>`;
    case 'getetag':
      return `<D:getetag>${escapeXml(n.etag)}</D:getetag>`;
    case 'getlastmodified':
      return `<D:getlastmodified>${new Date(n.mtime).toUTCString()}</D:getlastmodified>`;
    case 'resourcetype':
      return isDir(n) ? '<D:resourcetype><D:collection/></D:resourcetype>' : '<D:resourcetype/>';
    case 'supportedlock':
      return `<D:supportedlock>${SUPPORTED_LOCK}</D:supportedlock>`;
    case 'lockdiscovery': {
      const path = '/' + l.names.join('/');
      const covering = ctx.deps.locks.covering(l.locks, path);
      return `<D:lockdiscovery>${covering.map((k) => activeLock(k, ctx.deps.clock.now())).join('')}</D:lockdiscovery>`;
    }
    case 'quota-available-bytes':
      return `<D:quota-available-bytes>${l.quota().available}</D:quota-available-bytes>`;
    case 'quota-used-bytes':
      return `<D:quota-used-bytes>${l.quota().used}</D:quota-used-bytes>`;
    default:
      return undefined;
  }
}

type Request =
  | { kind: 'allprop'; include: PropKey[] }
  | { kind: 'propname' }
  | { kind: 'prop'; props: PropKey[] };

function parsePropfind(body: Buffer): Request {
  if (body.length === 0) return { kind: 'allprop', include: [] };
  const root = parseXml(body.toString('utf8'));
  if (!is(root, 'propfind'))
    throw new CloudError('BAD_REQUEST', 'PROPFIND body must be a DAV:propfind element');
  const first = elements(root)[0];
  if (!first) throw new CloudError('BAD_REQUEST', 'empty DAV:propfind');
  if (is(first, 'propname')) return { kind: 'propname' };
  if (is(first, 'allprop')) {
    const inc = find(root, 'include');
    return {
      kind: 'allprop',
      include: inc ? elements(inc).map((e) => ({ ns: e.ns, local: e.local })) : [],
    };
  }
  if (is(first, 'prop'))
    return { kind: 'prop', props: elements(first).map((e) => ({ ns: e.ns, local: e.local })) };
  throw new CloudError('BAD_REQUEST', 'PROPFIND needs prop, allprop or propname');
}

function renderResponse(ctx: DavContext, l: Live, request: Request, dead: DeadProp[]): string {
  const found: string[] = [];
  const missing: string[] = [];
  if (request.kind === 'propname') {
    for (const p of ALLPROP_LIVE)
      if (p === 'displayname' ? false : liveValue(p, l, ctx) !== undefined) found.push(`<D:${p}/>`);
    for (const d of dead) found.push(emptyElement(d.ns, d.name));
  } else {
    const wanted =
      request.kind === 'allprop'
        ? [...ALLPROP_LIVE.map((local) => ({ ns: 'DAV:', local })), ...request.include]
        : request.props;
    const seen = new Set<string>();
    for (const p of wanted) {
      const key = `${p.ns}\u0000${p.local}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const deadValue = dead.find((d) => d.ns === p.ns && d.name === p.local);
      const value = deadValue
        ? deadValue.xml
        : p.ns === 'DAV:'
          ? liveValue(p.local, l, ctx)
          : undefined;
      if (value !== undefined) found.push(value);
      else if (request.kind === 'prop')
        missing.push(p.ns === 'DAV:' ? `<D:${p.local}/>` : emptyElement(p.ns, p.local));
    }
    if (request.kind === 'allprop') {
      for (const d of dead) if (!seen.has(`${d.ns}\u0000${d.name}`)) found.push(d.xml);
    }
  }
  let out = `<D:response><D:href>${escapeXml(hrefOf(l.names, isDir(l.node)))}</D:href>`;
  if (found.length > 0 || missing.length === 0)
    out += `<D:propstat><D:prop>${found.join('')}</D:prop><D:status>${status(200)}</D:status></D:propstat>`;
  if (missing.length > 0)
    out += `<D:propstat><D:prop>${missing.join('')}</D:prop><D:status>${status(404)}</D:status></D:propstat>`;
  return out + '</D:response>';
}

export async function propfind(ctx: DavContext): Promise<void> {
  const { store, locks, limits } = ctx.deps;
  const depth = String(ctx.req.headers.depth ?? 'infinity').toLowerCase();
  const request = parsePropfind(await readBody(ctx.req, limits.xmlBodyBytes));
  const node = store.resolve(ctx.wallet, ctx.names);
  if (!node) throw new CloudError('NOT_FOUND', `${ctx.path} does not exist`);
  if (depth !== '0' && depth !== '1') {
    if (depth === 'infinity') {
      ctx.res.writeHead(403, { 'content-type': 'application/xml; charset=utf-8' });
      ctx.res.end(
        '<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>',
      );
      return;
    }
    throw new CloudError('BAD_REQUEST', 'Depth is 0, 1 or infinity');
  }
  const all = locks.all(ctx.wallet);
  let q: { used: number; available: number } | undefined;
  const quota = (): { used: number; available: number } => (q ??= store.quota(ctx.wallet));
  const listing = depth === '1' && isDir(node);
  const wantsDead =
    request.kind !== 'prop' ||
    request.props.some((p) => p.ns !== 'DAV:' || !PROTECTED.has(p.local));
  const deadOf = new Map<number, DeadProp[]>();
  if (wantsDead) {
    const rows = ctx.deps.store.db.all<DeadProp>(
      'SELECT * FROM props WHERE node_id = ? UNION ALL SELECT p.* FROM props p JOIN nodes n ON n.id = p.node_id WHERE n.parent_id = ?',
      node.id,
      listing ? node.id : -1,
    );
    for (const r of rows) deadOf.set(r.node_id, [...(deadOf.get(r.node_id) ?? []), r]);
  }
  const res = ctx.res;
  const head = `<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">`;
  const self = renderResponse(
    ctx,
    { node, names: ctx.names, locks: all, quota },
    request,
    deadOf.get(node.id) ?? [],
  );
  if (!listing) {
    const body = `${head}${self}</D:multistatus>`;
    res.writeHead(207, {
      'content-type': 'application/xml; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    return;
  }
  // A folder's listing streams out a page of members at a time, so a huge folder never sits in memory.
  res.writeHead(207, { 'content-type': 'application/xml; charset=utf-8' });
  let out = head + self;
  for (const page of store.pages(node, 500)) {
    for (const m of page)
      out += renderResponse(
        ctx,
        { node: m, names: [...ctx.names, m.name], locks: all, quota },
        request,
        deadOf.get(m.id) ?? [],
      );
    if (!res.write(out))
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    out = '';
    if (res.destroyed) return;
  }
  res.end(out + '</D:multistatus>');
}

export async function proppatch(ctx: DavContext): Promise<void> {
  const { store, locks, limits } = ctx.deps;
  const body = await readBody(ctx.req, limits.xmlBodyBytes);
  const node = store.resolve(ctx.wallet, ctx.names);
  if (!node) throw new CloudError('NOT_FOUND', `${ctx.path} does not exist`);
  const all = locks.all(ctx.wallet);
  checkIf(ctx, all);
  checkLocks(ctx, all, ctx.path, false);
  const root = parseXml(body.toString('utf8'));
  if (!is(root, 'propertyupdate'))
    throw new CloudError('BAD_REQUEST', 'PROPPATCH body must be a DAV:propertyupdate element');
  const ops: { set: boolean; ns: string; local: string; xml: string }[] = [];
  for (const op of elements(root)) {
    if (!is(op, 'set') && !is(op, 'remove'))
      throw new CloudError('BAD_REQUEST', 'propertyupdate holds set and remove');
    const prop = find(op, 'prop');
    if (!prop) throw new CloudError('BAD_REQUEST', `${op.local} needs a DAV:prop`);
    for (const p of elements(prop))
      ops.push({ set: is(op, 'set'), ns: p.ns, local: p.local, xml: serialize(p) });
  }
  const refused = ops.filter((o) => o.ns === 'DAV:' && PROTECTED.has(o.local));
  const name = (o: { ns: string; local: string }): string =>
    o.ns === 'DAV:' ? `<D:${o.local}/>` : emptyElement(o.ns, o.local);
  let propstats: string;
  if (refused.length > 0) {
    const others = ops.filter((o) => !refused.includes(o));
    propstats = `<D:propstat><D:prop>${refused.map(name).join('')}</D:prop><D:status>${status(403)}</D:status></D:propstat>`;
    if (others.length > 0)
      propstats += `<D:propstat><D:prop>${others.map(name).join('')}</D:prop><D:status>${status(424)}</D:status></D:propstat>`;
  } else {
    store.db.tx(() => {
      for (const o of ops) {
        if (o.set)
          store.db.run(
            'INSERT INTO props (node_id, ns, name, xml) VALUES (?, ?, ?, ?) ON CONFLICT(node_id, ns, name) DO UPDATE SET xml = excluded.xml',
            node.id,
            o.ns,
            o.local,
            o.xml,
          );
        else
          store.db.run(
            'DELETE FROM props WHERE node_id = ? AND ns = ? AND name = ?',
            node.id,
            o.ns,
            o.local,
          );
      }
      // Dead properties are not charged to the quota, so their size per resource is bounded instead.
      const bytes =
        store.db.get<{ n: number | null }>(
          'SELECT SUM(LENGTH(ns) + LENGTH(name) + LENGTH(xml)) AS n FROM props WHERE node_id = ?',
          node.id,
        )!.n ?? 0;
      if (bytes > MAX_DEAD_PROP_BYTES)
        throw new CloudError(
          'QUOTA_EXCEEDED',
          `the properties of one resource are limited to ${MAX_DEAD_PROP_BYTES} bytes`,
        );
    });
    propstats = `<D:propstat><D:prop>${ops.map(name).join('')}</D:prop><D:status>${status(200)}</D:status></D:propstat>`;
  }
  const out = multistatus(
    `<D:response><D:href>${escapeXml(hrefOf(ctx.names, isDir(node)))}</D:href>${propstats}</D:response>`,
  );
  ctx.res.writeHead(207, {
    'content-type': 'application/xml; charset=utf-8',
    'content-length': Buffer.byteLength(out),
  });
  ctx.res.end(out);
}
