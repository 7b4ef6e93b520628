/** The registry HTTP API (Hono), under /api/v1. Errors are `{error:{code,message}}` with a fixed status per code. */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import {
  API_PREFIX,
  type ErrorBody,
  type HealthResponse,
  type OwnerNamesResponse,
  type RegistrarResponse,
} from '../../shared/records/api.ts';
import { limitBody } from '../body-limit.ts';
import { RegistryError } from './errors.ts';
import type { ResolvedOptions } from './options.ts';
import { bodyDigest, pullQuery, verifyPeerAuthorization } from './peer-auth.ts';
import type { RegistryLimits } from './limits.ts';
import type { Replication } from './replication.ts';
import type { RegistryService } from './service.ts';
import type { RegistryStore } from './store.ts';
import { MAX_WRITE_BODY_BYTES, WRITE_OPS, writeBodyField } from './write-ops.ts';

export const MAX_PUSH_BODY_BYTES = 16 * 1024 * 1024;

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

export function createRegistryApp(
  o: ResolvedOptions,
  service: RegistryService,
  replication: Replication,
  limits: RegistryLimits,
  store: RegistryStore,
): Hono {
  const app = new Hono();
  const limit = (c: Context, kind: 'read' | 'write'): void =>
    limits.charge(kind, remoteAddress(c), c.req.header('x-forwarded-for'));

  app.onError((e, c) => {
    if (e instanceof RegistryError) return c.json(errorBody(e.code, e.message), e.status);
    o.logger.error('registry: unexpected error', { error: (e as Error).message });
    return c.json(errorBody('INTERNAL', 'internal error'), 500);
  });
  app.notFound((c) => c.json(errorBody('NOT_FOUND', 'no such endpoint'), 404));

  const api = new Hono();
  // Every route's body limit, enforced while the body streams in (origin/body-limit.ts).
  const none = limitBody(0);
  api.get('/health', none, (c) =>
    c.json({
      ok: true,
      registrar: o.key.id.toString(),
      time: o.clock.now(),
      ...(store.damage ? { damage: store.damage } : {}),
    } satisfies HealthResponse),
  );
  api.get('/registrar', none, (c) =>
    c.json({
      id: o.key.id.toString(),
      did: o.key.id.toDid(),
      trusted: o.trustedRegistrars.map((t) => t.toString()),
    } satisfies RegistrarResponse),
  );

  api.get('/names/:name', none, (c) => {
    limit(c, 'read');
    return c.body(service.resolveJson(c.req.param('name')), 200, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
    });
  });
  api.get('/owners/:id/names', none, (c) => {
    limit(c, 'read');
    const owner = c.req.param('id');
    return c.json({ owner, names: service.namesOf(owner) } satisfies OwnerNamesResponse);
  });
  api.get('/names/:name/available', none, (c) => {
    limit(c, 'read');
    return c.json(service.available(c.req.param('name')));
  });

  // The request budget is charged before a byte of the body is read.
  const chargeWrite: MiddlewareHandler = (c, next) => {
    limit(c, 'write');
    return next();
  };
  for (const op of WRITE_OPS) {
    const limited = limitBody(MAX_WRITE_BODY_BYTES);
    api.on(op.method, `/names/:name/${op.action}`, chargeWrite, limited, async (c) => {
      const name = c.req.param('name');
      const jws = writeBodyField(await c.req.text(), op.field);
      const budget = limits.budget(remoteAddress(c), c.req.header('x-forwarded-for'));
      const { status, body } = await op.run(service, name, jws, budget);
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

  // A push's authorization is checked before its body is read (a chunked one is buffered).
  const pushAuth = new WeakMap<Context, { bodyDigest: string }>();
  const authorizePush: MiddlewareHandler = async (c, next) => {
    pushAuth.set(c, await peerAuth(c, 'push'));
    return next();
  };
  api.post('/replication/push', authorizePush, limitBody(MAX_PUSH_BODY_BYTES), async (c) => {
    const auth = pushAuth.get(c)!;
    const text = await c.req.text();
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
  api.get('/replication/changes', none, async (c) => {
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
