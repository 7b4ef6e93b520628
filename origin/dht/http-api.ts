/**
 * The super node's DHT surface over HTTP. Nodes behind NAT need run no DHT node of their own: they
 * sign their DID document (a Card listing their public URL and current route record) and the super
 * node stores it in the DHT for them. Any super node can then find a node's route through the DHT,
 * even one that never received it by replication.
 */
import { Hono } from 'hono';
import { fromBase64Url, toBase64Url } from '../../shared/bytes.ts';
import { decodeCard, decodeValue, encodeValue } from '../../shared/dht/card.ts';
import { Id } from '../../shared/id.ts';
import { API_PREFIX, CARD_SERVICES, type DhtValueBody } from '../../shared/records/api.ts';
import { verifyRoute } from '../../shared/records/route.ts';
import { limitBody } from '../body-limit.ts';
import type { DhtNode } from './dht-node.ts';

export interface DhtApiOptions {
  dht: DhtNode;
  /** Only owners of a name here may have their documents stored (the DHT is not a free store). */
  isKnownOwner: (id: Id) => boolean;
  /** Largest value accepted, bytes. Default 1000 (it must fit a datagram). */
  maxValueBytes?: number;
}

const error = (code: string, message: string) => ({ error: { code, message } });

/** A PUT body is `{value: base64url}` of a value of at most maxValueBytes (default 1000): 4 KiB holds it. */
export const MAX_DHT_BODY_BYTES = 4 * 1024;

function parseId(text: string): Id | null {
  try {
    return text.startsWith('did:') ? Id.fromDid(text) : Id.parse(text);
  } catch {
    return null;
  }
}

export function createDhtApi(options: DhtApiOptions): Hono {
  const { dht } = options;
  const maxBytes = options.maxValueBytes ?? 1000;
  const app = new Hono();
  // Whatever escapes a handler is still answered in JSON (decoders return errors; this is the net).
  app.onError((e, c) => c.json(error('INTERNAL', (e as Error).message), 500));

  const bodyBytes = Math.max(MAX_DHT_BODY_BYTES, Math.ceil((maxBytes * 4) / 3) + 64);
  app.put(`${API_PREFIX}/dht/values/:id`, limitBody(bodyBytes), async (c) => {
    const id = parseId(c.req.param('id') ?? '');
    if (!id) return c.json(error('INVALID_ID', 'not an id or did:boson DID'), 400);
    const body = (await c.req.json().catch(() => null)) as Partial<DhtValueBody> | null;
    if (typeof body?.value !== 'string' || body.value.length > maxBytes * 2)
      return c.json(error('BAD_REQUEST', 'body is {value: base64url}'), 400);
    let bytes: Uint8Array;
    try {
      bytes = fromBase64Url(body.value);
    } catch {
      return c.json(error('BAD_REQUEST', 'value is not base64url'), 400);
    }
    if (bytes.length > maxBytes)
      return c.json(error('TOO_BIG', `a value is at most ${maxBytes} bytes`), 413);
    const value = decodeValue(bytes);
    if (!value.ok) return c.json(error('INVALID_VALUE', value.error.message), 422);
    const v = value.value;
    if (!v.isMutable || v.recipient || !v.publicKey?.equals(id) || !v.isValid()) {
      return c.json(
        error('INVALID_SIGNATURE', 'a signed value by the id it is stored under is needed'),
        422,
      );
    }
    const card = decodeCard(v.data);
    if (!card || !card.id.equals(id))
      return c.json(error('INVALID_VALUE', 'the value is not a Card signed by its holder'), 422);
    if (!options.isKnownOwner(id))
      return c.json(error('NOT_FOUND', 'no name here is bound to this id'), 403);
    const stored = await dht.storeValue(v, { persistent: true }).catch((e: Error) => e);
    if (stored instanceof Error) return c.json(error('DHT_ERROR', stored.message), 502);
    return c.json({ id: id.toString(), seq: v.sequenceNumber, storedAt: stored });
  });

  app.get(`${API_PREFIX}/dht/values/:id`, limitBody(0), async (c) => {
    const id = parseId(c.req.param('id') ?? '');
    if (!id) return c.json(error('INVALID_ID', 'not an id or did:boson DID'), 400);
    const value = await dht.findValue(id).catch(() => null);
    if (!value) return c.json(error('NOT_FOUND', 'no value under this id'), 404);
    return c.json({ value: toBase64Url(encodeValue(value)) } satisfies DhtValueBody);
  });

  app.get(`${API_PREFIX}/nodes/:id/route`, limitBody(0), async (c) => {
    const id = parseId(c.req.param('id') ?? '');
    if (!id) return c.json(error('INVALID_ID', 'not an id or did:boson DID'), 400);
    const value = await dht.findValue(id).catch(() => null);
    const card = value?.isMutable && value.publicKey?.equals(id) ? decodeCard(value.data) : null;
    const jws = card?.services.find((s) => s.type === CARD_SERVICES.route)?.endpoint;
    const route = jws ? await verifyRoute(jws) : null;
    if (!route?.ok || !route.value.node.equals(id))
      return c.json(error('NOT_FOUND', 'no route for this node in the DHT'), 404);
    return c.json({
      id: id.toString(),
      route: jws,
      card: { services: card!.services, signedAt: card!.signedAt },
    });
  });

  return app;
}
