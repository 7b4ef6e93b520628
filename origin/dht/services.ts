/**
 * What the rest of the system publishes in the DHT: a super node's Active Proxy service (a PeerInfo
 * with endpoint tcp://host:port, authenticated by the node) and DID documents (did:boson:<id> -> a
 * signed mutable value whose data is a CBOR Card).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { type CborValue, decodeCbor, encodeCbor } from '../../shared/cbor/index.ts';
import { PeerInfo, Value } from '../../shared/dht/index.ts';
import { Id } from '../../shared/id.ts';
import { type KeyPair, verifySignature } from '../../shared/keys.ts';
import type { DhtNode } from './node.ts';

export const activeProxyEndpoint = (host: string, port: number): string => (host.includes(':') ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`);

/** Announces (persistently) the Active Proxy service key at tcp://host:port, signed by the node too. */
export async function announceActiveProxyService(node: DhtNode, serviceKey: KeyPair, host: string, port: number, nodeKey?: KeyPair): Promise<PeerInfo> {
  const peer = PeerInfo.create(serviceKey, activeProxyEndpoint(host, port), { node: nodeKey });
  await node.announcePeer(peer, { persistent: true });
  return peer;
}

/** The Active Proxy endpoints announced under a service id, as {host, port}. */
export async function findActiveProxyService(node: DhtNode, serviceId: Id): Promise<{ peer: PeerInfo; host: string; port: number }[]> {
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

/** A DID document: `{id, c: credentials, s: services, sat: signed-at (ms), sig}`. */
export interface Card {
  id: Id;
  credentials: CborValue[];
  services: { id: string; type: string; endpoint: string }[];
  signedAt: number;
  signature: Uint8Array;
}

function cardBody(id: Id, credentials: CborValue[], services: Card['services'], signedAt: number): { [k: string]: CborValue } {
  return { id: id.bytes, c: credentials, s: services.map((s) => ({ id: s.id, t: s.type, e: s.endpoint })), sat: signedAt };
}

/** Signs a Card for `key`: the signature covers SHA-256 of the CBOR of {id, c, s, sat}. */
export function createCard(key: KeyPair, services: Card['services'], credentials: CborValue[] = [], signedAt = Date.now()): Card {
  const digest = sha256(encodeCbor(cardBody(key.id, credentials, services, signedAt)));
  return { id: key.id, credentials, services, signedAt, signature: key.sign(digest) };
}

export function encodeCard(card: Card): Uint8Array {
  return encodeCbor({ ...cardBody(card.id, card.credentials, card.services, card.signedAt), sig: card.signature });
}

/** The Card in `bytes`, or null if it is malformed or its signature fails. */
export function decodeCard(bytes: Uint8Array): Card | null {
  const decoded = decodeCbor(bytes);
  if (!decoded.ok) return null;
  const m = decoded.value as Record<string, CborValue>;
  if (typeof m !== 'object' || m === null || !(m.id instanceof Uint8Array) || m.id.length !== 32 || !Array.isArray(m.c) || !Array.isArray(m.s)) return null;
  if (typeof m.sat !== 'number' || !(m.sig instanceof Uint8Array)) return null;
  const services: Card['services'] = [];
  for (const s of m.s) {
    const svc = s as Record<string, CborValue>;
    if (typeof svc?.id !== 'string' || typeof svc.t !== 'string' || typeof svc.e !== 'string') return null;
    services.push({ id: svc.id, type: svc.t, endpoint: svc.e });
  }
  const id = new Id(m.id);
  const card: Card = { id, credentials: m.c, services, signedAt: m.sat, signature: m.sig };
  const digest = sha256(encodeCbor(cardBody(id, card.credentials, services, card.signedAt)));
  return verifySignature(id, digest, card.signature) ? card : null;
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
  const target = typeof id === 'string' ? (id.startsWith('did:') ? Id.fromDid(id) : Id.parse(id)) : id;
  const value = await node.findValue(target);
  if (!value || !value.isMutable || !value.publicKey?.equals(target)) return null;
  const card = decodeCard(value.data);
  return card && card.id.equals(target) ? card : null;
}
