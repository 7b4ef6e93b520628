/**
 * Zone records replicate like registry records: every record this super node signs (or an owner
 * published here) is pushed to every peer at once (one call in flight per peer; what piles up meanwhile goes in the next call,
 * newest per key), and every peer is asked periodically for what changed since a cursor, so a lost
 * push or a partition heals. Calls carry `Authorization: PC2-Peer` (ops zone-push / zone-pull).
 * Records from peers are verified before they are stored and are not pushed on: their signer pushes
 * them to everyone itself.
 */
import { Id } from '../../shared/id.ts';
import { API_PREFIX, zoneChallengePath } from '../../shared/records/api.ts';
import { pullAllPages, pushItems } from '../registry/peer-calls.ts';
import type { ResolvedZoneOptions } from './options.ts';
import { unverifiedKey, type ZoneItem, type ZoneRecord, verifyItem } from './records.ts';
import type { ZoneStore } from './store.ts';

export const zonePaths = {
  push: `${API_PREFIX}/zone/push`,
  changes: `${API_PREFIX}/zone/changes`,
  challenge: zoneChallengePath,
  status: `${API_PREFIX}/zone`,
} as const;

export const MAX_ITEMS_PER_CALL = 200;
const MAX_PAGES_PER_ROUND = 50;

interface Peer {
  id: Id;
  url: string;
  cursor: number;
  queue: Map<string, ZoneItem>;
  sending: Promise<boolean> | null;
  /** Resolved with the outcome of the call that carries what is queued now. */
  waiters: ((ok: boolean) => void)[];
}

export interface ZoneReplicationStats {
  pushed: number;
  pushFailures: number;
  pulled: number;
  pullFailures: number;
  stored: number;
  rejected: number;
}

export class ZoneReplication {
  readonly stats: ZoneReplicationStats = {
    pushed: 0,
    pushFailures: 0,
    pulled: 0,
    pullFailures: 0,
    stored: 0,
    rejected: 0,
  };
  readonly #o: ResolvedZoneOptions;
  readonly #store: ZoneStore;
  readonly #peers: Peer[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;
  #pulling: Promise<void> | null = null;
  #closed = false;

  constructor(options: ResolvedZoneOptions, store: ZoneStore) {
    this.#o = options;
    this.#store = store;
    for (const p of options.peers) this.addPeer(p);
  }

  addPeer(peer: { id: string; url: string }): void {
    const id = Id.parse(peer.id);
    if (id.equals(this.#o.key.id)) return;
    const url = peer.url.replace(/\/+$/, '');
    const known = this.#peers.find((p) => p.id.equals(id));
    if (known) known.url = url;
    else this.#peers.push({ id, url, cursor: 0, queue: new Map(), sending: null, waiters: [] });
  }

  get peerIds(): string[] {
    return this.#peers.map((p) => p.id.toString());
  }

  /** Sends a record to every peer; resolves with the ids of the peers that took it (stored it or had it). */
  async push(record: ZoneRecord): Promise<string[]> {
    if (this.#closed) return [];
    const outcomes = await Promise.all(
      this.#peers.map(
        (peer) =>
          new Promise<boolean>((resolve) => {
            peer.queue.delete(record.key); // a newer record of the key replaces a queued one, and goes last
            peer.queue.set(record.key, record.item);
            peer.waiters.push(resolve);
            if (!peer.sending) this.#flush(peer);
          }),
      ),
    );
    return this.#peers.filter((_, i) => outcomes[i]).map((p) => p.id.toString());
  }

  #flush(peer: Peer): void {
    if (this.#closed || peer.queue.size === 0) return;
    const items = [...peer.queue.values()].slice(0, MAX_ITEMS_PER_CALL);
    const keys = [...peer.queue.keys()].slice(0, MAX_ITEMS_PER_CALL);
    for (const k of keys) peer.queue.delete(k);
    const waiters = peer.queue.size === 0 ? peer.waiters.splice(0) : [];
    peer.sending = this.#post(peer, items)
      .then(() => {
        this.stats.pushed += items.length;
        return true;
      })
      .catch((e: Error) => {
        this.stats.pushFailures++;
        this.#o.logger.debug('zone: push failed; the next pull heals it', {
          peer: peer.id.toString(),
          error: e.message,
        });
        return false;
      });
    void peer.sending.then((ok) => {
      peer.sending = null;
      for (const w of waiters) w(ok);
      if (peer.queue.size > 0) this.#flush(peer);
      else for (const w of peer.waiters.splice(0)) w(ok);
    });
  }

  #call(peer: Peer) {
    return {
      key: this.#o.key,
      peer,
      now: this.#o.clock.now(),
      timeoutMs: this.#o.replicationTimeoutMs,
    };
  }

  #post(peer: Peer, items: ZoneItem[]): Promise<void> {
    return pushItems(this.#call(peer), zonePaths.push, 'zone-push', items);
  }

  start(): void {
    const round = () => {
      this.#pulling = this.pullAll().finally(() => {
        this.#pulling = null;
        if (this.#closed || this.#o.pullIntervalMs === 0) return;
        this.#timer = setTimeout(round, this.#o.pullIntervalMs);
        this.#timer.unref?.();
      });
    };
    round();
  }

  async pullAll(): Promise<void> {
    await Promise.all(
      this.#peers.map((p) =>
        this.#pull(p).catch((e: Error) => {
          this.stats.pullFailures++;
          this.#o.logger.debug('zone: pull failed', { peer: p.id.toString(), error: e.message });
        }),
      ),
    );
  }

  async #pull(peer: Peer): Promise<void> {
    const page = {
      limit: MAX_ITEMS_PER_CALL,
      maxPages: MAX_PAGES_PER_ROUND,
      stopped: () => this.#closed,
    };
    await pullAllPages(
      () => this.#call(peer),
      zonePaths.changes,
      'zone-pull',
      peer,
      page,
      async (items) => {
        await this.receive(items);
        this.stats.pulled += items.length;
      },
    );
  }

  /** Verifies and stores items from a peer. */
  async receive(items: unknown[]): Promise<{ stored: number; rejected: number }> {
    let stored = 0;
    let rejected = 0;
    for (const item of items.slice(0, MAX_ITEMS_PER_CALL)) {
      const key = unverifiedKey(item);
      if (key !== null && this.#store.get(key)?.record.item.jws === (item as ZoneItem).jws)
        continue; // nothing new

      const checked = await verifyItem(item, { zone: this.#o.zone, trusted: this.#o.trusted });
      const problem = checked.ok
        ? this.acceptable(checked.record, this.#o.clock.now())
        : checked.reason;
      if (problem !== null || !checked.ok) {
        rejected++;
        this.#o.logger.debug('zone: refused a replicated record', { reason: problem });
        continue;
      }
      try {
        if (await this.#store.put(checked.record, this.#o.clock.now(), false)) stored++;
      } catch (e) {
        rejected++;
        this.#o.logger.warn('zone: cannot store a replicated record', {
          error: (e as Error).message,
        });
      }
    }
    this.stats.stored += stored;
    this.stats.rejected += rejected;
    return { stored, rejected };
  }

  /** Why a verified record from a peer is not taken (null: it is). */
  acceptable(record: ZoneRecord, now: number): string | null {
    if (record.kind === 'heartbeat') {
      if (record.payload.iat > now + this.#o.clockSkewMs) return 'heartbeat from the future';
    }
    if (record.kind === 'challenge') {
      if (record.payload.exp <= now) return 'expired challenge';
      const owner =
        record.payload.name === '' ? undefined : this.#o.registry.currentOwner(record.payload.name);
      if (owner !== undefined && owner !== record.signer.toString())
        return 'the signer does not own the name here';
    }
    if (record.kind === 'certificate' && record.payload.notAfter <= now)
      return 'expired certificate';
    return null;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await Promise.allSettled([this.#pulling, ...this.#peers.map((p) => p.sending)]);
    for (const p of this.#peers) for (const w of p.waiters.splice(0)) w(false);
  }
}
