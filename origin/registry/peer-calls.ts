/**
 * The two replication calls one super node makes to another, for registry records and zone records
 * alike: push `{items}`, and pull one page of changes since a cursor. Both carry the PC2-Peer
 * authorization of their op (peer-auth.ts) and time out.
 */
import type { Id } from '../../shared/id.ts';
import type { KeyPair } from '../../shared/keys.ts';
import { peerAuthorization, pullQuery } from './peer-auth.ts';

export interface PeerCall {
  key: KeyPair;
  peer: { id: Id; url: string };
  now: number;
  timeoutMs: number;
}

export async function pushItems(
  call: PeerCall,
  path: string,
  op: 'push' | 'zone-push',
  items: unknown[],
): Promise<void> {
  const body = JSON.stringify({ items });
  const res = await fetch(call.peer.url + path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: await peerAuthorization(call.key, call.peer.id, op, body, call.now),
    },
    body,
    signal: AbortSignal.timeout(call.timeoutMs),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`peer answered ${res.status}`);
}

export async function pullPage(
  call: PeerCall,
  path: string,
  op: 'pull' | 'zone-pull',
  cursor: number,
  limit: number,
): Promise<{ items: unknown[]; cursor: number; more: boolean }> {
  const query = pullQuery(cursor, limit);
  const res = await fetch(`${call.peer.url}${path}?${query}`, {
    headers: {
      authorization: await peerAuthorization(call.key, call.peer.id, op, query, call.now),
    },
    signal: AbortSignal.timeout(call.timeoutMs),
  });
  if (!res.ok) {
    await res.arrayBuffer();
    throw new Error(`peer answered ${res.status}`);
  }
  const changes = (await res.json()) as { items?: unknown; cursor?: unknown; more?: unknown };
  if (!Array.isArray(changes.items) || !Number.isSafeInteger(changes.cursor))
    throw new Error('malformed changes');
  return { items: changes.items, cursor: changes.cursor as number, more: changes.more === true };
}

/**
 * Pulls pages from `peer.cursor` on until the peer has no more (or `maxPages`), handing each to
 * `receive` before moving the cursor. True when it reached the peer's last change.
 */
export async function pullAllPages(
  call: () => PeerCall,
  path: string,
  op: 'pull' | 'zone-pull',
  peer: { cursor: number },
  page: { limit: number; maxPages: number; stopped(): boolean },
  receive: (items: unknown[]) => Promise<unknown>,
): Promise<boolean> {
  for (let n = 0; n < page.maxPages && !page.stopped(); n++) {
    const changes = await pullPage(call(), path, op, peer.cursor, page.limit);
    await receive(changes.items);
    peer.cursor = changes.cursor;
    if (!changes.more) return true;
  }
  return false;
}
