/**
 * Values and peers this node stores for the network. Everything expires 2 h after its last (re)store;
 * a re-store with the same sequence number refreshes the age. Sequence and CAS rules of section 5.
 */
import { ErrorCode, type PeerInfo, type Value } from '../../shared/dht/index.ts';
import type { Id } from '../../shared/id.ts';

export const STORAGE_EXPIRY_MS = 2 * 60 * 60_000;

export interface StorageLimits {
  maxValues: number;
  maxPeerIds: number;
  maxPeersPerId: number;
}

const DEFAULT_LIMITS: StorageLimits = { maxValues: 65536, maxPeerIds: 65536, maxPeersPerId: 64 };

interface Stored<T> {
  item: T;
  storedAt: number;
}

/** null when accepted, else the protocol error code to answer with. */
export type StoreOutcome = null | { code: number; message: string };

export class DhtStorage {
  readonly #clock: () => number;
  readonly #limits: StorageLimits;
  readonly #values = new Map<string, Stored<Value>>();
  readonly #peers = new Map<string, Map<bigint, Stored<PeerInfo>>>();

  constructor(clock: () => number, limits: Partial<StorageLimits> = {}) {
    this.#clock = clock;
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
  }

  #fresh<T>(s: Stored<T> | undefined): Stored<T> | undefined {
    return s && this.#clock() - s.storedAt < STORAGE_EXPIRY_MS ? s : undefined;
  }

  putValue(value: Value, cas?: number): StoreOutcome {
    if (!value.isValid())
      return { code: ErrorCode.INVALID_SIGNATURE, message: 'value signature does not verify' };
    const key = value.id.toString();
    const old = this.#fresh(this.#values.get(key))?.item;
    if (old) {
      if (old.isMutable !== value.isMutable)
        return {
          code: ErrorCode.IMMUTABLE_SUBSTITUTION,
          message: 'cannot replace a value of the other kind',
        };
      if (old.isMutable) {
        if (cas !== undefined && old.sequenceNumber > cas)
          return {
            code: ErrorCode.CAS_FAIL,
            message: `stored seq ${old.sequenceNumber} > cas ${cas}`,
          };
        if (value.sequenceNumber < old.sequenceNumber) {
          return {
            code: ErrorCode.SEQUENCE_NOT_MONOTONIC,
            message: `seq ${value.sequenceNumber} < stored ${old.sequenceNumber}`,
          };
        }
      }
    } else if (this.#values.size >= this.#limits.maxValues) {
      this.purge();
      if (this.#values.size >= this.#limits.maxValues)
        return { code: ErrorCode.SERVER, message: 'value storage is full' };
    }
    this.#values.set(key, { item: value, storedAt: this.#clock() });
    return null;
  }

  /** The stored value, if any and (with cas) only when its seq >= cas. */
  getValue(id: Id, cas?: number): Value | undefined {
    const value = this.#fresh(this.#values.get(id.toString()))?.item;
    if (!value || (cas !== undefined && value.isMutable && value.sequenceNumber < cas))
      return undefined;
    return value;
  }

  putPeer(peer: PeerInfo, cas?: number): StoreOutcome {
    if (!peer.isValid())
      return { code: ErrorCode.INVALID_SIGNATURE, message: 'peer signature does not verify' };
    const key = peer.id.toString();
    let instances = this.#peers.get(key);
    const old = this.#fresh(instances?.get(peer.fingerprint))?.item;
    if (old) {
      if (cas !== undefined && old.sequenceNumber > cas)
        return {
          code: ErrorCode.CAS_FAIL,
          message: `stored seq ${old.sequenceNumber} > cas ${cas}`,
        };
      if (peer.sequenceNumber < old.sequenceNumber) {
        return {
          code: ErrorCode.SEQUENCE_NOT_MONOTONIC,
          message: `seq ${peer.sequenceNumber} < stored ${old.sequenceNumber}`,
        };
      }
    }
    if (!instances) {
      if (this.#peers.size >= this.#limits.maxPeerIds) {
        this.purge();
        if (this.#peers.size >= this.#limits.maxPeerIds)
          return { code: ErrorCode.SERVER, message: 'peer storage is full' };
      }
      instances = new Map();
      this.#peers.set(key, instances);
    }
    if (!instances.has(peer.fingerprint) && instances.size >= this.#limits.maxPeersPerId) {
      return { code: ErrorCode.SERVER, message: 'too many instances of this peer' };
    }
    instances.set(peer.fingerprint, { item: peer, storedAt: this.#clock() });
    return null;
  }

  /** Up to `max` fresh instances of a peer id, most recently announced first. */
  getPeers(id: Id, max: number, cas?: number): PeerInfo[] {
    const instances = this.#peers.get(id.toString());
    if (!instances) return [];
    return [...instances.values()]
      .filter((s) => this.#fresh(s) && (cas === undefined || s.item.sequenceNumber >= cas))
      .sort((a, b) => b.storedAt - a.storedAt)
      .slice(0, Math.max(0, max))
      .map((s) => s.item);
  }

  /** Drops everything past its expiry; returns how many items went. */
  purge(): number {
    let removed = 0;
    for (const [key, s] of this.#values) {
      if (!this.#fresh(s)) {
        this.#values.delete(key);
        removed++;
      }
    }
    for (const [key, instances] of this.#peers) {
      for (const [f, s] of instances) {
        if (!this.#fresh(s)) {
          instances.delete(f);
          removed++;
        }
      }
      if (instances.size === 0) this.#peers.delete(key);
    }
    return removed;
  }

  get valueCount(): number {
    return this.#values.size;
  }

  get peerCount(): number {
    let n = 0;
    for (const instances of this.#peers.values()) n += instances.size;
    return n;
  }
}
