/**
 * What the rest of the system publishes in the DHT: a super node's Active Proxy service (a PeerInfo
 * with endpoint tcp://host:port, authenticated by the node) and DID documents (did:boson:<id> -> a
 * signed mutable value whose data is a CBOR Card).
 */
import { type Card, decodeCard, encodeCard } from '../../shared/dht/card.ts';
import { PeerInfo, Value } from '../../shared/dht/index.ts';
import { Id } from '../../shared/id.ts';
import type { KeyPair } from '../../shared/keys.ts';
import type { DhtNode } from './dht-node.ts';

export const activeProxyEndpoint = (host: string, port: number): string =>
  host.includes(':') ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`;

/** Announces (persistently) the Active Proxy service key at tcp://host:port, signed by the node too. */
export async function announceActiveProxyService(
  node: DhtNode,
  serviceKey: KeyPair,
  host: string,
  port: number,
  nodeKey?: KeyPair,
): Promise<PeerInfo> {
  const peer = PeerInfo.create(serviceKey, activeProxyEndpoint(host, port), { node: nodeKey });
  await node.announcePeer(peer, { persistent: true });
  return peer;
}

/** The Active Proxy endpoints announced under a service id, as {host, port}. */
export async function findActiveProxyService(
  node: DhtNode,
  serviceId: Id,
): Promise<{ peer: PeerInfo; host: string; port: number }[]> {
  const out: { peer: PeerInfo; host: string; port: number }[] = [];
  for (const peer of await node.findPeer(serviceId)) {
    const match = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(peer.endpoint);
    if (!match) continue;
    const port = Number(match[2]);
    if (port < 1 || port > 65535) continue;
    out.push({ peer, host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  return out;
}

/** Publishes (persistently) the holder's DID document: a signed value whose id is the holder's id. */
export async function publishDidDocument(node: DhtNode, key: KeyPair, card: Card): Promise<Value> {
  if (!card.id.equals(key.id)) throw new RangeError('a DID document is published by its own key');
  const previous = await node.findValue(key.id).catch(() => null);
  const data = encodeCard(card);
  const value = previous?.isMutable ? previous.update(key, data) : Value.createSigned(key, data);
  await node.storeValue(value, { persistent: true });
  return value;
}

/** Resolves `did:boson:<id>` (or an Id) to its verified Card, or null. */
export async function resolveDidDocument(node: DhtNode, id: Id | string): Promise<Card | null> {
  const target =
    typeof id === 'string' ? (id.startsWith('did:') ? Id.fromDid(id) : Id.parse(id)) : id;
  const value = await node.findValue(target);
  if (!value || !value.isMutable || !value.publicKey?.equals(target)) return null;
  const card = decodeCard(value.data);
  return card && card.id.equals(target) ? card : null;
}
