/**
 * Replication between super nodes: every local write is pushed to every peer at once (batched for
 * pushDelayMs), and every peer is asked periodically for everything changed since a cursor, so a
 * lost push or a partition heals. Items from peers are verified (merge.ts) before they are stored;
 * they are not pushed on again, since every registrar pushes its own writes to all peers.
 */
import { Id } from '../../shared/id.ts';
import { registryOpPaths } from '../../shared/records/api.ts';
import type { ResolvedOptions } from './options.ts';
import { mergeStates, verifyState } from './merge.ts';
import { pullAllPages, pushItems } from './peer-calls.ts';
import type { RegistryService } from './service.ts';
import type { NameEntry, NameState } from './state.ts';
import type { RegistryStore } from './store.ts';

export const MAX_ITEMS_PER_CALL = 500;
const MAX_PAGES_PER_ROUND = 200;

export interface ReplicationStats {
  pushed: number;
  pushFailures: number;
  pulled: number;
  pullFailures: number;
  stored: number;
  rejected: number;
}

/** One peer's replication as this registrar sees it (health and metrics). */
export interface PeerReplicationState {
  id: string;
  url: string;
  /** Local changes waiting to be pushed to it. */
  pending: number;
  /** Clock time of the last push it acknowledged, and of the last full pull from it (0: never). */
  lastPushAt: number;
  lastPullAt: number;
  pushFailures: number;
  pullFailures: number;
  /** Its change cursor: how far this registrar has read its log. */
  cursor: number;
  lastError: string | null;
}

export interface ChangesResponse {
  items: NameState[];
  cursor: number;
  more: boolean;
}

interface Peer {
  id: Id;
  url: string;
  queue: Map<string, NameState>;
  timer: ReturnType<typeof setTimeout> | null;
  sending: Promise<void> | null;
  cursor: number;
  health: {
    lastPushAt: number;
    lastPullAt: number;
    pushFailures: number;
    pullFailures: number;
    lastError: string | null;
  };
}

function sameState(a: NameState, b: NameState): boolean {
  return (
    a.binding === b.binding &&
    a.route === b.route &&
    a.released === b.released &&
    a.offer === b.offer &&
    a.origin === b.origin &&
    Array.isArray(b.transfers) &&
    a.transfers.length === b.transfers.length &&
    a.transfers.at(-1)?.accept === b.transfers.at(-1)?.accept &&
    a.previous?.binding === b.previous?.binding
  );
}

export class Replication {
  readonly stats: ReplicationStats = {
    pushed: 0,
    pushFailures: 0,
    pulled: 0,
    pullFailures: 0,
    stored: 0,
    rejected: 0,
  };
  readonly #o: ResolvedOptions;
  readonly #store: RegistryStore;
  readonly #service: RegistryService;
  readonly #peers: Peer[];
  #pullTimer: ReturnType<typeof setTimeout> | null = null;
  #pulling: Promise<void> | null = null;
  #closed = false;

  constructor(options: ResolvedOptions, store: RegistryStore, service: RegistryService) {
    this.#o = options;
    this.#store = store;
    this.#service = service;
    this.#peers = [];
    for (const p of options.peers) this.addPeer(p);
    service.onLocalCommit = (entries) => this.enqueue(entries);
  }

  /** Adds a peer, or moves a known one to a new URL (its cursor is kept). */
  addPeer(peer: { id: string; url: string }): void {
    const id = Id.parse(peer.id);
    if (!this.#o.trustedRegistrars.some((t) => t.equals(id)))
      throw new TypeError(`peer ${peer.id} is not among trustedRegistrars`);
    if (id.equals(this.#o.key.id)) throw new TypeError('a registrar is not its own peer');
    const url = peer.url.replace(/\/+$/, '');
    const known = this.#peers.find((p) => p.id.equals(id));
    if (known) known.url = url;
    else
      this.#peers.push({
        id,
        url,
        queue: new Map(),
        timer: null,
        sending: null,
        cursor: 0,
        health: { lastPushAt: 0, lastPullAt: 0, pushFailures: 0, pullFailures: 0, lastError: null },
      });
  }

  start(): void {
    if (this.#o.pullIntervalMs === 0) return;
    const tick = (): void => {
      this.#pullTimer = setTimeout(() => {
        this.#pulling = this.pullAll().finally(() => {
          this.#pulling = null;
          if (!this.#closed) tick();
        });
      }, this.#o.pullIntervalMs);
      this.#pullTimer.unref?.();
    };
    this.#pulling = this.pullAll().finally(() => {
      this.#pulling = null;
      if (!this.#closed) tick();
    });
  }

  enqueue(entries: NameEntry[]): void {
    if (this.#closed) return;
    for (const peer of this.#peers) {
      for (const e of entries) peer.queue.set(e.state.name, e.state);
      if (!peer.timer && !peer.sending)
        peer.timer = setTimeout(() => this.#flush(peer), this.#o.pushDelayMs);
    }
  }

  #flush(peer: Peer): void {
    peer.timer = null;
    if (peer.queue.size === 0 || this.#closed) return;
    const items = [...peer.queue.values()].slice(0, MAX_ITEMS_PER_CALL);
    for (const item of items) peer.queue.delete(item.name);
    peer.sending = this.#post(peer, items)
      .then(() => {
        this.stats.pushed += items.length;
        peer.health.lastPushAt = this.#o.clock.now();
      })
      .catch((e: Error) => {
        this.stats.pushFailures++;
        peer.health.pushFailures++;
        peer.health.lastError = e.message;
        this.#o.logger.warn('replication push failed; the next pull heals it', {
          peer: peer.id.toString(),
          error: e.message,
        });
      })
      .finally(() => {
        peer.sending = null;
        if (peer.queue.size > 0 && !this.#closed)
          peer.timer = setTimeout(() => this.#flush(peer), this.#o.pushDelayMs);
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

  #post(peer: Peer, items: NameState[]): Promise<void> {
    return pushItems(this.#call(peer), registryOpPaths.replicationPush, 'push', items);
  }

  /** Pulls every peer's changes since its cursor until none are left. */
  async pullAll(): Promise<void> {
    await Promise.all(
      this.#peers.map((p) =>
        this.#pullPeer(p).catch((e: Error) => {
          this.stats.pullFailures++;
          p.health.pullFailures++;
          p.health.lastError = e.message;
          this.#o.logger.warn('replication pull failed', {
            peer: p.id.toString(),
            error: e.message,
          });
        }),
      ),
    );
  }

  /** Every peer's replication state, for health and metrics. */
  peerStates(): PeerReplicationState[] {
    return this.#peers.map((p) => ({
      id: p.id.toString(),
      url: p.url,
      pending: p.queue.size,
      cursor: p.cursor,
      ...p.health,
    }));
  }

  async #pullPeer(peer: Peer): Promise<void> {
    const page = {
      limit: MAX_ITEMS_PER_CALL,
      maxPages: MAX_PAGES_PER_ROUND,
      stopped: () => this.#closed,
    };
    // A peer's cursor starts at 0 in every process: the first complete round brings back every name
    // the peer holds, among them those of damaged log records (store.ts).
    const complete = await pullAllPages(
      () => this.#call(peer),
      registryOpPaths.replicationChanges,
      'pull',
      peer,
      page,
      async (items) => {
        await this.receive(items);
        this.stats.pulled += items.length;
      },
    );
    peer.health.lastPullAt = this.#o.clock.now();
    if (complete && this.#store.damage) this.#store.recoveredFrom(peer.id.toString());
  }

  /** Verifies and merges items from a peer; returns how many changed the local store. */
  async receive(items: unknown[]): Promise<{ stored: number; rejected: number }> {
    let stored = 0;
    let rejected = 0;
    await Promise.all(
      items.slice(0, MAX_ITEMS_PER_CALL).map(async (item) => {
        const known =
          item && typeof item === 'object'
            ? this.#store.get(String((item as NameState).name))
            : undefined;
        if (known && sameState(known.state, item as NameState)) return; // nothing new: no need to verify
        const checked = await verifyState(item, this.#o.trustedRegistrars);
        if (!checked.ok) {
          rejected++;
          this.#o.logger.warn('replication: refused an item', { reason: checked.reason });
          return;
        }
        const state = checked.state;
        await this.#service.lock.run(state.name, async () => {
          const merged = mergeStates(this.#store.get(state.name), state, this.#o.holdPeriodMs);
          if (merged) {
            await this.#store.commit({ states: [merged] });
            stored++;
          }
        });
      }),
    );
    this.stats.stored += stored;
    this.stats.rejected += rejected;
    return { stored, rejected };
  }

  changes(since: number, limit: number): ChangesResponse {
    const n = Math.max(1, Math.min(MAX_ITEMS_PER_CALL, limit));
    const { entries, cursor } = this.#store.changesSince(since, n + 1);
    const page = entries.slice(0, n);
    return {
      items: page.map((e) => e.state),
      cursor: page.at(-1)?.version ?? cursor,
      more: entries.length > n,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#pullTimer) clearTimeout(this.#pullTimer);
    for (const p of this.#peers) if (p.timer) clearTimeout(p.timer);
    await Promise.allSettled([this.#pulling, ...this.#peers.map((p) => p.sending)]);
  }
}
