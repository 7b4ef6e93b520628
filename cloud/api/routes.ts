/**
 * The JSON API under /api/ (the file manager and scripts build on it; see docs/cloud.md). Every
 * error is `{ "error": { "code", "message" } }` with its HTTP status; bodies are JSON of bounded size.
 */
import type { Principal } from '../auth/accounts.ts';
import type { RequestContext } from '../app.ts';
import { CloudError } from '../errors.ts';
import { readJson, sendJson } from '../http/respond.ts';
import { authRoutes } from './auth-routes.ts';
import { fileRoutes } from './file-routes.ts';
import { adminRoutes } from './admin-routes.ts';
import { searchRoutes } from './search-routes.ts';
import { appRoutes } from './app-routes.ts';
import { backupRoutes } from './backup-routes.ts';
import { chatRoutes } from './chat-routes.ts';

export type Handler = (ctx: ApiContext) => Promise<unknown> | unknown;

export interface ApiContext extends RequestContext {
  params: string[];
  /** The parsed JSON body (empty object when none). */
  body: Record<string, unknown>;
  /** The signed-in wallet; routes marked public may run without one. */
  principal: Principal;
  status: number;
  headers: Record<string, string | string[]>;
}

export interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  /** Runs without a signed-in wallet. */
  public?: boolean;
  /** Only the owner may call it. */
  owner?: boolean;
  /** Writes its own response (content downloads). */
  raw?: boolean;
  /** Reads its own request body (not JSON: a backup archive). */
  rawBody?: boolean;
  /** A larger JSON body than limits.jsonBodyBytes (chat histories). */
  bodyBytes?: number;
}

const ROUTES: Route[] = [
  ...authRoutes,
  ...fileRoutes,
  ...adminRoutes,
  ...searchRoutes,
  ...appRoutes,
  ...backupRoutes,
  ...chatRoutes,
];

export async function handleApi(ctx: RequestContext, path: string): Promise<void> {
  const { req, res, cloud } = ctx;
  const matches = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).filter((x) => x.m);
  if (matches.length === 0) throw new CloudError('NOT_FOUND', `no API route ${path}`);
  const hit = matches.find((x) => x.r.method === req.method);
  if (!hit) {
    res.setHeader('allow', [...new Set(matches.map((x) => x.r.method))].join(', '));
    throw new CloudError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}`);
  }
  const principal = await cloud.principal(ctx);
  if (!principal && !hit.r.public) throw new CloudError('UNAUTHENTICATED', 'sign in first');
  if (hit.r.owner && principal?.role !== 'owner')
    throw new CloudError('FORBIDDEN', 'only the owner of this node can do that');
  const hasBody =
    !hit.r.rawBody &&
    (req.method === 'POST' ||
      req.method === 'PUT' ||
      req.method === 'PATCH' ||
      req.method === 'DELETE');
  const body = hasBody
    ? await readJson(req, Math.max(hit.r.bodyBytes ?? 0, cloud.options.limits.jsonBodyBytes))
    : {};
  let params: string[];
  try {
    params = hit.m!.slice(1).map((p) => decodeURIComponent(p));
  } catch {
    throw new CloudError('BAD_REQUEST', 'malformed percent-encoding');
  }
  const api: ApiContext = { ...ctx, params, body, principal: principal!, status: 200, headers: {} };
  const result = await hit.r.handler(api);
  if (hit.r.raw || res.headersSent) return;
  res.setHeader('cache-control', 'no-store');
  sendJson(res, api.status, result ?? { ok: true }, api.headers as Record<string, string>);
}

// ---- small validators shared by the route files ----

export function str(
  body: Record<string, unknown>,
  key: string,
  opts: { optional?: boolean; max?: number } = {},
): string {
  const v = body[key];
  if (v === undefined && opts.optional) return '';
  if (typeof v !== 'string') throw new CloudError('BAD_REQUEST', `"${key}" must be a string`);
  if (v.length > (opts.max ?? 4096)) throw new CloudError('BAD_REQUEST', `"${key}" is too long`);
  return v;
}

export function int(
  value: unknown,
  key: string,
  opts: { optional?: boolean; min?: number } = {},
): number | undefined {
  if (value === undefined || value === null || value === '') {
    if (opts.optional) return undefined;
    throw new CloudError('BAD_REQUEST', `"${key}" is required`);
  }
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < (opts.min ?? 0))
    throw new CloudError('BAD_REQUEST', `"${key}" must be an integer`);
  return n;
}

export function bool(body: Record<string, unknown>, key: string): boolean {
  const v = body[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new CloudError('BAD_REQUEST', `"${key}" must be true or false`);
  return v;
}
