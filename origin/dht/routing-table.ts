/**
 * Kademlia routing table: buckets of K entries plus a replacement cache of K each. Only the bucket
 * that covers our own id splits, and only when it is full and the newcomer has answered us. Entries
 * are handed out only when they have answered and have fewer than 3 failures.
 */
import { randomBytes } from '../../shared/bytes.ts';
import { K, NodeInfo } from '../../shared/dht/index.ts';
import { Id } from '../../shared/id.ts';

export const MAX_FAILURES = 3;
const ID_BITS = 256;

export interface RoutingEntry {
  node: NodeInfo;
  created: number;
  lastSeen: number;
  /** When it last answered one of our requests; 0 = never (not yet verified). */
  lastReply: number;
  lastPinged: number;
  failures: number;
}

interface Bucket {
  entries: RoutingEntry[];
  replacements: RoutingEntry[];
  lastRefreshed: number;
}

/** 'pending': kept as a replacement, but it would split our own bucket once it answers: worth a ping. */
export type InsertOutcome = 'added' | 'updated' | 'replacement' | 'pending' | 'ignored' | 'idFlip';

const usable = (e: RoutingEntry): boolean => e.lastReply > 0 && e.failures < MAX_FAILURES;

export class RoutingTable {
  readonly localId: Id;
  readonly #clock: () => number;
  readonly #buckets: Bucket[];
  /** address -> id of the entry there, to notice a node that changes its id. */
  readonly #byAddress = new Map<string, string>();

  constructor(localId: Id, clock: () => number) {
    this.localId = localId;
    this.#clock = clock;
    this.#buckets = [{ entries: [], replacements: [], lastRefreshed: clock() }];
  }

  get bucketCount(): number {
    return this.#buckets.length;
  }

  get size(): number {
    return this.#buckets.reduce((n, b) => n + b.entries.length, 0);
  }

  /** Entries that have answered and are handed out. */
  get usableSize(): number {
    return this.#buckets.reduce((n, b) => n + b.entries.filter(usable).length, 0);
  }

  #index(id: Id): number {
    const commonPrefix = ID_BITS - 1 - this.localId.bucketIndex(id);
    return Math.min(commonPrefix, this.#buckets.length - 1);
  }

  #find(id: Id): { bucket: Bucket; entry?: RoutingEntry; replacement?: RoutingEntry } {
    const bucket = this.#buckets[this.#index(id)];
    return {
      bucket,
      entry: bucket.entries.find((e) => e.node.id.equals(id)),
      replacement: bucket.replacements.find((e) => e.node.id.equals(id)),
    };
  }

  get(id: Id): RoutingEntry | undefined {
    return this.#find(id).entry;
  }

  /** A node was heard from; `replied` = it answered a request of ours. */
  seen(node: NodeInfo, replied: boolean): InsertOutcome {
    if (node.id.equals(this.localId)) return 'ignored';
    const now = this.#clock();
    const known = this.#byAddress.get(node.address);
    if (known !== undefined && known !== node.id.toString()) {
      const other = this.#find(Id.parse(known)).entry;
      // A live entry keeps its address; a newcomer claiming it under another id is refused.
      if (other && usable(other) && now - other.lastSeen < 15 * 60_000) return 'idFlip';
      if (other) this.remove(other.node.id);
    }
    const { bucket, entry, replacement } = this.#find(node.id);
    const existing = entry ?? replacement;
    if (existing) {
      if (existing.node.address !== node.address) {
        // A live entry keeps its address until it fails (a moved node is not an id flip, just unproven).
        if (usable(existing)) return 'ignored';
        this.#byAddress.delete(existing.node.address);
        existing.node = node;
        this.#byAddress.set(node.address, node.id.toString());
      }
      existing.lastSeen = now;
      if (replied) {
        existing.lastReply = now;
        existing.failures = 0;
        if (replacement && !entry) {
          // Verified now: it may take a bad entry's place or split our own bucket.
          bucket.replacements.splice(bucket.replacements.indexOf(replacement), 1);
          const outcome = this.#insert(replacement);
          return outcome === 'replacement' || outcome === 'pending' ? 'updated' : outcome;
        }
      }
      return 'updated';
    }
    const fresh: RoutingEntry = {
      node,
      created: now,
      lastSeen: now,
      lastReply: replied ? now : 0,
      lastPinged: 0,
      failures: 0,
    };
    return this.#insert(fresh);
  }

  #insert(fresh: RoutingEntry): InsertOutcome {
    for (;;) {
      const index = this.#index(fresh.node.id);
      const bucket = this.#buckets[index];
      if (bucket.entries.length < K) {
        bucket.entries.push(fresh);
        this.#byAddress.set(fresh.node.address, fresh.node.id.toString());
        return 'added';
      }
      const isLast = index === this.#buckets.length - 1;
      if (fresh.lastReply > 0 && isLast && this.#buckets.length < ID_BITS) {
        this.#split();
        continue;
      }
      // A verified newcomer takes the place of an entry that never answered or keeps failing.
      const bad =
        bucket.entries.find((e) => e.failures >= MAX_FAILURES) ??
        (fresh.lastReply > 0 ? bucket.entries.find((e) => e.lastReply === 0) : undefined);
      if (bad) {
        this.#drop(bucket, bad);
        bucket.entries.push(fresh);
        this.#byAddress.set(fresh.node.address, fresh.node.id.toString());
        return 'added';
      }
      bucket.replacements.push(fresh);
      this.#byAddress.set(fresh.node.address, fresh.node.id.toString());
      if (bucket.replacements.length > K) this.#forget(bucket.replacements.shift()!);
      return isLast && this.#buckets.length < ID_BITS ? 'pending' : 'replacement';
    }
  }

  #split(): void {
    const last = this.#buckets[this.#buckets.length - 1];
    const next: Bucket = { entries: [], replacements: [], lastRefreshed: last.lastRefreshed };
    this.#buckets.push(next);
    const depth = this.#buckets.length - 1;
    const moves = (e: RoutingEntry) => ID_BITS - 1 - this.localId.bucketIndex(e.node.id) >= depth;
    next.entries = last.entries.filter(moves);
    last.entries = last.entries.filter((e) => !moves(e));
    next.replacements = last.replacements.filter(moves);
    last.replacements = last.replacements.filter((e) => !moves(e));
  }

  #forget(e: RoutingEntry): void {
    if (this.#byAddress.get(e.node.address) === e.node.id.toString())
      this.#byAddress.delete(e.node.address);
  }

  #drop(bucket: Bucket, e: RoutingEntry): void {
    bucket.entries.splice(bucket.entries.indexOf(e), 1);
    this.#forget(e);
  }

  /** Our request to `id` went unanswered. Past MAX_FAILURES the entry leaves for its best replacement. */
  failed(id: Id): void {
    const { bucket, entry, replacement } = this.#find(id);
    if (replacement) {
      bucket.replacements.splice(bucket.replacements.indexOf(replacement), 1);
      this.#forget(replacement);
      return;
    }
    if (!entry) return;
    entry.failures++;
    const candidate =
      [...bucket.replacements].reverse().find((r) => r.lastReply > 0) ??
      bucket.replacements[bucket.replacements.length - 1];
    if (entry.failures >= MAX_FAILURES || (entry.lastReply === 0 && candidate)) {
      this.#drop(bucket, entry);
      if (candidate) {
        bucket.replacements.splice(bucket.replacements.indexOf(candidate), 1);
        bucket.entries.push(candidate);
      }
    }
  }

  remove(id: Id): void {
    const { bucket, entry, replacement } = this.#find(id);
    if (entry) this.#drop(bucket, entry);
    if (replacement) {
      bucket.replacements.splice(bucket.replacements.indexOf(replacement), 1);
      this.#forget(replacement);
    }
  }

  /** The n closest entries to target; only verified ones unless `includeUnverified`. */
  closest(target: Id, n: number = K, includeUnverified = false): NodeInfo[] {
    const all: NodeInfo[] = [];
    for (const b of this.#buckets) {
      for (const e of b.entries)
        if (includeUnverified ? e.failures < MAX_FAILURES : usable(e)) all.push(e.node);
    }
    all.sort((a, b) => target.threeWayCompare(a.id, b.id));
    return all.slice(0, n);
  }

  /** Entries due a liveness ping: unseen for 30 s and failing, never verified, or older than 15 min; backing off 60 s. */
  needingPing(): RoutingEntry[] {
    const now = this.#clock();
    const out: RoutingEntry[] = [];
    for (const b of this.#buckets) {
      for (const e of b.entries) {
        if (now - e.lastPinged < 60_000) continue;
        const stale =
          now - e.lastSeen >= 30_000 && (e.failures > 0 || now - e.created >= 15 * 60_000);
        if (stale || e.lastReply === 0) out.push(e);
      }
    }
    return out;
  }

  /** Random ids inside each bucket not refreshed for `ageMs` (or not full, if `onlyNotFull`). */
  refreshTargets(ageMs: number, onlyNotFull: boolean): Id[] {
    const now = this.#clock();
    const out: Id[] = [];
    this.#buckets.forEach((b, i) => {
      if (onlyNotFull ? b.entries.length >= K : now - b.lastRefreshed < ageMs) return;
      b.lastRefreshed = now;
      out.push(this.randomIdInBucket(i));
    });
    return out;
  }

  /** A random id sharing exactly `index` leading bits with ours (the last bucket: at least that many). */
  randomIdInBucket(index: number): Id {
    const bytes = randomBytes(32);
    const own = this.localId.bytes;
    for (let bit = 0; bit < index; bit++) setBit(bytes, bit, getBit(own, bit));
    if (index < this.#buckets.length - 1) setBit(bytes, index, getBit(own, index) ^ 1);
    return new Id(bytes);
  }

  all(): RoutingEntry[] {
    return this.#buckets.flatMap((b) => b.entries);
  }
}

const getBit = (bytes: Uint8Array, bit: number): number => (bytes[bit >> 3] >> (7 - (bit & 7))) & 1;
const setBit = (bytes: Uint8Array, bit: number, value: number): void => {
  const mask = 1 << (7 - (bit & 7));
  bytes[bit >> 3] = value ? bytes[bit >> 3] | mask : bytes[bit >> 3] & ~mask;
};
