/** The multi-step operations: value and peer lookups, and the write flow (tokens, then STORE/ANNOUNCE). */
import {
  type DhtRequest,
  K,
  Method,
  type PeerInfo,
  type Value,
  Want,
} from '../../shared/dht/index.ts';
import type { Id } from '../../shared/id.ts';
import type { DhtFamily } from './family.ts';
import type { DhtStorage } from './storage.ts';

const familyWant = (f: DhtFamily): number => (f.family === 4 ? Want.IPV4 : Want.IPV6);

/** Is `value` a genuine value for `id`? (Signed by the key it names, or hashing to the id.) */
export const valueMatches = (value: Value, id: Id): boolean =>
  value.id.equals(id) && value.isValid();

export async function findValueIn(
  families: DhtFamily[],
  storage: DhtStorage,
  id: Id,
  cas?: number,
): Promise<Value | null> {
  let best: Value | null = storage.getValue(id, cas) ?? null;
  if (best && !best.isMutable) return best;
  const consider = (value: Value | undefined): boolean => {
    if (!value || !valueMatches(value, id)) return false;
    if (!best || value.sequenceNumber > best.sequenceNumber) best = value;
    // An immutable value cannot get any newer; a mutable one may exist in a newer version elsewhere.
    return !value.isMutable;
  };
  await Promise.all(
    families.map((f) =>
      f.lookup({
        target: id,
        request: { method: Method.FIND_VALUE, target: id, want: familyWant(f), cas },
        onResponse: (_from, response) =>
          response.method === Method.FIND_VALUE && consider(response.value),
      }),
    ),
  );
  return best;
}

export async function findPeersIn(
  families: DhtFamily[],
  storage: DhtStorage,
  peerId: Id,
  expected: number,
): Promise<PeerInfo[]> {
  const found = new Map<bigint, PeerInfo>();
  const add = (peer: PeerInfo) => {
    if (!peer.id.equals(peerId) || !peer.isValid()) return;
    const old = found.get(peer.fingerprint);
    if (!old || peer.sequenceNumber > old.sequenceNumber) found.set(peer.fingerprint, peer);
  };
  for (const p of storage.getPeers(peerId, expected)) add(p);
  if (found.size < expected) {
    await Promise.all(
      families.map((f) =>
        f.lookup({
          target: peerId,
          request: { method: Method.FIND_PEER, target: peerId, want: familyWant(f), expected },
          onResponse: (_from, response) => {
            if (response.method !== Method.FIND_PEER) return false;
            for (const p of response.peers) add(p);
            return found.size >= expected;
          },
        }),
      ),
    );
  }
  return [...found.values()].slice(0, expected);
}

/**
 * The write flow: an iterative FIND_NODE with the token bit, then the write to each of the K closest
 * with the token it gave. Returns how many nodes accepted.
 */
export async function writeTo(
  families: DhtFamily[],
  target: Id,
  request: Extract<DhtRequest, { token: number }>,
): Promise<number> {
  const counts = await Promise.all(
    families.map(async (f) => {
      const lookup = await f.lookup({
        target,
        request: { method: Method.FIND_NODE, target, want: familyWant(f) | Want.TOKEN },
      });
      const writes = lookup.closest
        .filter((c) => c.token !== undefined)
        .slice(0, K)
        .map((c) =>
          f.call(c.node, { ...request, token: c.token! } as DhtRequest).then(
            () => 1,
            () => 0,
          ),
        );
      return (await Promise.all(writes)).reduce((a: number, b: number) => a + b, 0);
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}
