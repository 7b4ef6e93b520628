/**
 * The zone's HTTP API on the super node's API port: replication between super nodes (peer
 * authorization), owners' challenge publications, and a status report. Errors are
 * `{error: {code, message}}` with the status of the code (errors.ts).
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { limitBody } from '../body-limit.ts';
import { RegistryError } from '../registry/errors.ts';
import { bodyDigest, pullQuery, verifyPeerAuthorization } from '../registry/peer-auth.ts';
import { RateLimiter } from '../registry/rate-limit.ts';
import type { Challenges } from './challenges.ts';
import { ZoneError } from './errors.ts';
import type { ResolvedZoneOptions } from './options.ts';
import { MAX_ITEMS_PER_CALL, type ZoneReplication, zonePaths } from './replication.ts';
import type { ZoneStore } from './store.ts';

export const MAX_PUSH_BYTES = 4 * 1024 * 1024;
export const MAX_PUBLISH_BYTES = 16 * 1024;

export interface ZoneApiDeps {
  options: ResolvedZoneOptions;
  store: ZoneStore;
  replication: ZoneReplication;
  challenges: Challenges;
  status(): object;
}

const errorJson = (code: string, message: string) => ({ error: { code, message } });

function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? '';
  } catch {
    return '';
  }
}

export function createZoneApp({
  options: o,
  store,
  replication,
  challenges,
  status,
}: ZoneApiDeps): Hono {
  const app = new Hono();
  const perIp = new RateLimiter(1, 20);
  app.onError((e, c) => {
    if (e instanceof ZoneError) return c.json(errorJson(e.code, e.message), e.status);
    if (e instanceof RegistryError) return c.json(errorJson(e.code, e.message), e.status);
    o.logger.error('zone API: unexpected error', { error: (e as Error).message });
    return c.json(errorJson('INTERNAL', 'internal error'), 500);
  });
  const peer = (c: Context, op: 'zone-push' | 'zone-pull') =>
    verifyPeerAuthorization(c.req.header('authorization'), {
      op,
      self: o.key.id,
      trusted: o.trusted,
      now: o.clock.now(),
      skewMs: o.clockSkewMs,
    });

  // The authorization is checked before the body is read (a chunked one is buffered).
  const pushAuth = new WeakMap<Context, { bodyDigest: string }>();
  const authorizePush: MiddlewareHandler = async (c, next) => {
    pushAuth.set(c, await peer(c, 'zone-push'));
    return next();
  };
  app.post(zonePaths.push, authorizePush, limitBody(MAX_PUSH_BYTES), async (c) => {
    const auth = pushAuth.get(c)!;
    const text = await c.req.text();
    if (bodyDigest(text) !== auth.bodyDigest)
      throw new ZoneError('UNAUTHENTICATED', 'body does not match the authorization');
    const items = parseJson(text)?.items;
    if (!Array.isArray(items) || items.length > MAX_ITEMS_PER_CALL)
      throw new ZoneError(
        'BAD_REQUEST',
        `a push is {items: ZoneItem[]} of at most ${MAX_ITEMS_PER_CALL}`,
      );
    return c.json(await replication.receive(items));
  });

  app.get(zonePaths.changes, limitBody(0), async (c) => {
    const auth = await peer(c, 'zone-pull');
    const since = Number(c.req.query('since') ?? '0');
    const limit = Number(c.req.query('limit') ?? String(MAX_ITEMS_PER_CALL));
    if (!Number.isSafeInteger(since) || since < 0 || !Number.isSafeInteger(limit) || limit < 1)
      throw new ZoneError('BAD_REQUEST', 'since and limit are non-negative integers');
    if (auth.bodyDigest !== bodyDigest(pullQuery(since, limit)))
      throw new ZoneError('UNAUTHENTICATED', 'query does not match the authorization');
    return c.json(store.changesSince(since, Math.min(limit, MAX_ITEMS_PER_CALL)));
  });

  app.put(`${zonePaths.status}/challenges/:name`, limitBody(MAX_PUBLISH_BYTES), async (c) => {
    if (!perIp.take(clientAddress(c), o.clock.now()))
      throw new ZoneError('RATE_LIMITED', 'too many publications from this address');
    const body = parseJson(await c.req.text());
    if (typeof body?.challenge !== 'string')
      throw new ZoneError('BAD_REQUEST', 'the body is {"challenge": "<JWS>"}');
    return c.json(await challenges.publishSigned(c.req.param('name'), body.challenge));
  });

  app.get(zonePaths.status, limitBody(0), (c) =>
    c.json(status(), 200, { 'cache-control': 'no-store' }),
  );
  return app;
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
