/** The registry HTTP API (Hono), under /api/v1. Errors are `{error:{code,message}}` with a fixed status per code. */
import { Hono, type Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { bodyLimit } from 'hono/body-limit';
import {
  API_PREFIX,
  type ErrorBody,
  type HealthResponse,
  type OwnerNamesResponse,
  type RegistrarResponse,
} from '../../shared/records/api.ts';
import { RegistryError } from './errors.ts';
import type { ResolvedOptions } from './options.ts';
import { bodyDigest, pullQuery, verifyPeerAuthorization } from './peer-auth.ts';
import type { RegistryLimits } from './limits.ts';
import type { Replication } from './replication.ts';
import type { RegistryService } from './service.ts';
import { MAX_WRITE_BODY_BYTES, WRITE_OPS, writeBodyField } from './write-ops.ts';

const MAX_PUSH_BODY_BYTES = 16 * 1024 * 1024;

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

function remoteAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // not running on @hono/node-server (app.request in a test)
  }
}

async function readBody(c: Context, max: number): Promise<string> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > max) throw new RegistryError('BAD_REQUEST', `body larger than ${max} bytes`);
  const text = await c.req.text();
  if (text.length > max) throw new RegistryError('BAD_REQUEST', `body larger than ${max} bytes`);
  return text;
}

export function createRegistryApp(
  o: ResolvedOptions,
  service: RegistryService,
  replication: Replication,
  limits: RegistryLimits,
): Hono {
  const app = new Hono();
  const limit = (c: Context, kind: 'read' | 'write', name?: string): void =>
    limits.charge(kind, remoteAddress(c), c.req.header('x-forwarded-for'), name);

  app.onError((e, c) => {
    if (e instanceof RegistryError) return c.json(errorBody(e.code, e.message), e.status);
    o.logger.error('registry: unexpected error', { error: (e as Error).message });
    return c.json(errorBody('INTERNAL', 'internal error'), 500);
  });
  app.notFound((c) => c.json(errorBody('NOT_FOUND', 'no such endpoint'), 404));

  const api = new Hono();
  // Enforced while the body streams in, so a chunked upload cannot grow past it either.
  const tooLarge = (max: number) =>
    bodyLimit({
      maxSize: max,
      onError: (c) => c.json(errorBody('BAD_REQUEST', `body larger than ${max} bytes`), 400),
    });
  api.use('/names/*', tooLarge(MAX_WRITE_BODY_BYTES));
  api.use('/replication/*', tooLarge(MAX_PUSH_BODY_BYTES));
  api.get('/health', (c) =>
    c.json({
      ok: true,
      registrar: o.key.id.toString(),
      time: o.clock.now(),
    } satisfies HealthResponse),
  );
  api.get('/registrar', (c) =>
    c.json({
      id: o.key.id.toString(),
      did: o.key.id.toDid(),
      trusted: o.trustedRegistrars.map((t) => t.toString()),
    } satisfies RegistrarResponse),
  );

  api.get('/names/:name', (c) => {
    limit(c, 'read');
    return c.body(service.resolveJson(c.req.param('name')), 200, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
  });
  api.get('/owners/:id/names', (c) => {
    limit(c, 'read');
    const owner = c.req.param('id');
    return c.json({ owner, names: service.namesOf(owner) } satisfies OwnerNamesResponse);
  });
  api.get('/names/:name/available', (c) => {
    limit(c, 'read');
    return c.json(service.available(c.req.param('name')));
  });

  for (const op of WRITE_OPS) {
    api.on(op.method, `/names/:name/${op.action}`, async (c) => {
      const name = c.req.param('name');
      limit(c, 'write', name);
      const jws = writeBodyField(await readBody(c, MAX_WRITE_BODY_BYTES), op.field);
      const { status, body } = await op.run(service, name, jws);
      return c.json(body as object, status);
    });
  }

  const peerAuth = (c: Context, op: 'push' | 'pull') =>
    verifyPeerAuthorization(c.req.header('authorization'), {
      op,
      self: o.key.id,
      trusted: o.trustedRegistrars,
      now: o.clock.now(),
      skewMs: o.clockSkewMs,
    });

  api.post('/replication/push', async (c) => {
    const auth = await peerAuth(c, 'push');
    const text = await readBody(c, MAX_PUSH_BODY_BYTES);
    if (bodyDigest(text) !== auth.bodyDigest)
      throw new RegistryError('UNAUTHENTICATED', 'body does not match the authorization');
    let items: unknown;
    try {
      items = (JSON.parse(text) as { items?: unknown }).items;
    } catch {
      items = undefined;
    }
    if (!Array.isArray(items))
      throw new RegistryError('BAD_REQUEST', 'a push is {items: NameState[]}');
    return c.json(await replication.receive(items));
  });
  api.get('/replication/changes', async (c) => {
    const auth = await peerAuth(c, 'pull');
    const since = Number(c.req.query('since') ?? '0');
    const limitItems = Number(c.req.query('limit') ?? '500');
    if (!Number.isSafeInteger(since) || since < 0 || !Number.isSafeInteger(limitItems)) {
      throw new RegistryError('BAD_REQUEST', 'since and limit are non-negative integers');
    }
    // A pull signs its query, so a captured authorization cannot fetch another range.
    if (auth.bodyDigest !== bodyDigest(pullQuery(since, limitItems)))
      throw new RegistryError('UNAUTHENTICATED', 'query does not match the authorization');
    return c.json(replication.changes(since, limitItems));
  });

  app.route(API_PREFIX, api);
  return app;
}
