/**
 * A Boson 3.0 DHT node: one DhtFamily per address family (IPv4 required, IPv6 when the host has it),
 * the storage it serves, write tokens, its own persistent items (republished before they expire) and
 * periodic maintenance (purge, liveness pings, bucket refresh, routing table persistence).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { randomBytes } from '../../shared/bytes.ts';
import { CONTEXT_OVERHEAD } from '../../shared/crypto/context.ts';
import {
  type DhtRequest,
  encodeMessage,
  ipToBytes,
  isGlobalAddress,
  K,
  Method,
  NodeInfo,
  OUR_VERSION,
  type PeerInfo,
  toWireMessage,
  type Value,
  Want,
} from '../../shared/dht/index.ts';
import { Id } from '../../shared/id.ts';
import { DhtCounters, type DhtCountersSnapshot } from './counters.ts';
import { DhtError } from './errors.ts';
import { DhtFamily } from './family.ts';
import { handleRequest, type HandlerContext } from './handlers.ts';
import type { LookupResult } from './lookup.ts';
import { type DhtNodeOptions, type ResolvedOptions, resolveOptions } from './options.ts';
import { loadRoutingTable, saveRoutingTable } from './routing-file.ts';
import { DhtStorage } from './storage.ts';
import { TokenManager } from './tokens.ts';
import { MAX_SEND_BYTES } from './transport.ts';
import { findPeersIn, findValueIn, writeTo } from './operations.ts';

/** 3.0 republishes items older than 1 h 50 min (they expire at 2 h). */
export const REPUBLISH_AFTER_MS = 110 * 60_000;
const BUCKET_REFRESH_MS = 15 * 60_000;
const RANDOM_LOOKUP_MS = 10 * 60_000;
const SELF_LOOKUP_MS = 30 * 60_000;
const PERSIST_MS = 10 * 60_000;

export interface NodeLookupResult extends LookupResult {
  nodes: NodeInfo[];
}

interface OwnItem {
  kind: 'value' | 'peer';
  item: Value | PeerInfo;
  publishedAt: number;
}

export class DhtNode {
  readonly id: Id;
  readonly #options: ResolvedOptions;
  readonly storage: DhtStorage;
  readonly #tokens: TokenManager;
  readonly #families: DhtFamily[] = [];
  readonly #own = new Map<string, OwnItem>();
  #timer?: ReturnType<typeof setInterval>;
  #state: 'new' | 'running' | 'stopped' = 'new';
  #maintaining = false;
  #last = { randomLookup: 0, selfLookup: 0, persist: 0 };
  #background: Promise<unknown>[] = [];

  constructor(options: DhtNodeOptions) {
    this.#options = resolveOptions(options);
    this.id = this.#options.key.id;
    this.storage = new DhtStorage(this.#options.clock);
    this.#tokens = new TokenManager(this.#options.clock);
  }

  get #v4(): DhtFamily {
    return this.#families[0];
  }

  get #v6(): DhtFamily | undefined {
    return this.#families[1];
  }

  #handlerContext(): HandlerContext {
    return {
      storage: this.storage,
      tokens: this.#tokens,
      developerMode: this.#options.developerMode,
      closest4: (target) => this.#v4.table.closest(target, K),
      closest6: (target) => this.#v6?.table.closest(target, K) ?? [],
    };
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new DhtError('ALREADY_STARTED', 'a DhtNode starts once');
    this.#state = 'running';
    const context = this.#handlerContext();
    const handler = (request: DhtRequest, from: Parameters<typeof handleRequest>[2]) =>
      handleRequest(context, request, from);
    this.#families.push(new DhtFamily(4, this.#options.host, this.#options, handler));
    const host6 = this.#options.host6 ?? (hasGlobalIPv6() ? '::' : false);
    if (host6) this.#families.push(new DhtFamily(6, host6, this.#options, handler));
    try {
      await this.#v4.transport.start();
    } catch (e) {
      await this.stop();
      throw e;
    }
    if (this.#v6) {
      try {
        await this.#v6.transport.start();
      } catch (e) {
        this.#options.logger.warn?.('dht: no IPv6 socket', { error: String(e) });
        await this.#v6.stop();
        this.#families.pop();
      }
    }
    this.#timer = setInterval(
      () => void this.runMaintenance(),
      this.#options.maintenanceIntervalMs,
    );
    this.#timer.unref?.();
    await this.#bootstrap();
  }

  async #bootstrap(): Promise<void> {
    const contacts: { family: DhtFamily; node: NodeInfo }[] = [];
    for (const family of this.#families) {
      if (this.#options.dataDir) {
        for (const node of await loadRoutingTable(this.#options.dataDir, family.family, this.id))
          contacts.push({ family, node });
      }
    }
    for (const b of this.#options.bootstrap) {
      for (const host of await resolveHost(b.host)) {
        const family = this.#families.find((f) => f.family === (host.includes(':') ? 6 : 4));
        if (family) contacts.push({ family, node: new NodeInfo(b.id, host, b.port) });
      }
    }
    // FIND_NODE(random) to every contact fills the table with whoever answers.
    await Promise.allSettled(
      contacts.map(({ family, node }) =>
        family.call(node, {
          method: Method.FIND_NODE,
          target: new Id(randomBytes(32)),
          want: family.family === 4 ? Want.IPV4 : Want.IPV6,
        }),
      ),
    );
    if (contacts.length === 0) return;
    await this.lookupNodes(this.id);
    this.#last.selfLookup = this.#options.clock();
    this.#background.push(
      this.refreshBuckets().catch((e) =>
        this.#options.logger.warn?.('dht bucket refresh failed', { error: String(e) }),
      ),
    );
  }

  /** A lookup of a random id in every bucket that is not full (what bootstrap ends with). */
  async refreshBuckets(onlyNotFull = true): Promise<void> {
    for (const family of this.#families) {
      for (const target of family.table.refreshTargets(BUCKET_REFRESH_MS, onlyNotFull)) {
        if (this.#state !== 'running') return;
        await this.#lookupIn(family, target, {
          method: Method.FIND_NODE,
          target,
          want: family.family === 4 ? Want.IPV4 : Want.IPV6,
        });
      }
    }
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'stopped';
    clearInterval(this.#timer);
    if (wasRunning && this.#options.dataDir) await this.#persist().catch(() => undefined);
    await Promise.all(this.#families.map((f) => f.stop()));
    await Promise.allSettled(this.#background);
  }

  #running(): void {
    if (this.#state !== 'running') throw new DhtError('NOT_RUNNING', 'the DHT node is not running');
  }

  address(): { host: string; port: number } {
    this.#running();
    return this.#v4.transport.address();
  }

  address6(): { host: string; port: number } | undefined {
    return this.#v6?.transport.address();
  }

  /** Routing table sizes (entries, verified entries) per family. */
  routingTableSize(): { v4: number; v6?: number; v4Usable: number } {
    return {
      v4: this.#v4.table.size,
      v4Usable: this.#v4.table.usableSize,
      v6: this.#v6?.table.size,
    };
  }

  counters(): DhtCountersSnapshot {
    return DhtCounters.sum(this.#families.map((f) => f.counters.snapshot()));
  }

  #lookupIn(
    family: DhtFamily,
    target: Id,
    request: DhtRequest,
    onResponse?: Parameters<DhtFamily['lookup']>[0]['onResponse'],
  ): Promise<LookupResult> {
    return family.lookup({ target, request, onResponse });
  }

  /** An iterative FIND_NODE with its statistics (IPv4 DHT). */
  async lookupNodes(target: Id, withTokens = false): Promise<NodeLookupResult> {
    this.#running();
    const want = Want.IPV4 | (withTokens ? Want.TOKEN : 0);
    const result = await this.#lookupIn(this.#v4, target, {
      method: Method.FIND_NODE,
      target,
      want,
    });
    return { ...result, nodes: result.closest.map((c) => c.node) };
  }

  /** The K closest nodes to `id` that answered, IPv4 first, then IPv6. */
  async findNode(id: Id): Promise<NodeInfo[]> {
    this.#running();
    const results = await Promise.all(
      this.#families.map((f) =>
        this.#lookupIn(f, id, {
          method: Method.FIND_NODE,
          target: id,
          want: f.family === 4 ? Want.IPV4 : Want.IPV6,
        }),
      ),
    );
    return results.flatMap((r) => r.closest.map((c) => c.node));
  }

  /** The value stored under `id` (the newest version of a mutable one), or null. */
  async findValue(id: Id, options: { cas?: number } = {}): Promise<Value | null> {
    this.#running();
    return findValueIn(this.#families, this.storage, id, options.cas);
  }

  /** Stores a value on the K closest nodes (and here); returns how many nodes accepted it. */
  async storeValue(
    value: Value,
    options: { persistent?: boolean; cas?: number } = {},
  ): Promise<number> {
    this.#running();
    if (!value.isValid())
      throw new DhtError('INVALID_VALUE', 'the value signature does not verify');
    checkFits({ method: Method.STORE_VALUE, token: -1, cas: options.cas, value });
    const local = this.storage.putValue(value, options.cas);
    if (local && options.cas !== undefined)
      throw new DhtError('REMOTE_ERROR', local.message, local.code);
    if (options.persistent)
      this.#own.set(`v:${value.id}`, {
        kind: 'value',
        item: value,
        publishedAt: this.#options.clock(),
      });
    return writeTo(this.#families, value.id, {
      method: Method.STORE_VALUE,
      token: 0,
      cas: options.cas,
      value,
    });
  }

  /** Up to `expected` instances of a peer id (default 16). */
  async findPeer(peerId: Id, expected = 16): Promise<PeerInfo[]> {
    this.#running();
    return findPeersIn(this.#families, this.storage, peerId, expected);
  }

  /** Announces a peer to the K closest nodes (and here); returns how many accepted it. */
  async announcePeer(
    peer: PeerInfo,
    options: { persistent?: boolean; cas?: number } = {},
  ): Promise<number> {
    this.#running();
    if (!peer.isValid()) throw new DhtError('INVALID_PEER', 'the peer signature does not verify');
    checkFits({ method: Method.ANNOUNCE_PEER, token: -1, cas: options.cas, peer });
    this.storage.putPeer(peer, options.cas);
    if (options.persistent)
      this.#own.set(`p:${peer.id}:${peer.fingerprint}`, {
        kind: 'peer',
        item: peer,
        publishedAt: this.#options.clock(),
      });
    return writeTo(this.#families, peer.id, {
      method: Method.ANNOUNCE_PEER,
      token: 0,
      cas: options.cas,
      peer,
    });
  }

  /** Stops republishing one of our persistent items. */
  forget(item: Value | PeerInfo): void {
    if ('data' in item) this.#own.delete(`v:${item.id}`);
    else this.#own.delete(`p:${item.id}:${item.fingerprint}`);
  }

  /** Purge, republish, liveness pings, bucket refresh, persistence. Runs on a timer; callable directly. */
  async runMaintenance(): Promise<void> {
    if (this.#state !== 'running' || this.#maintaining) return;
    this.#maintaining = true;
    try {
      const now = this.#options.clock();
      this.storage.purge();
      const due = [...this.#own.values()].filter((o) => now - o.publishedAt >= REPUBLISH_AFTER_MS);
      for (const own of due) {
        own.publishedAt = now;
        if (own.kind === 'value') await this.storeValue(own.item as Value).catch(() => 0);
        else await this.announcePeer(own.item as PeerInfo).catch(() => 0);
      }
      for (const family of this.#families) {
        for (const entry of family.table.needingPing().slice(0, 16)) {
          entry.lastPinged = now;
          void family.call(entry.node, { method: Method.PING }).catch(() => undefined);
        }
      }
      await this.refreshBuckets(false);
      if (now - this.#last.randomLookup >= RANDOM_LOOKUP_MS) {
        this.#last.randomLookup = now;
        await this.lookupNodes(new Id(randomBytes(32))).catch(() => undefined);
      }
      if (now - this.#last.selfLookup >= SELF_LOOKUP_MS) {
        this.#last.selfLookup = now;
        await this.lookupNodes(this.id).catch(() => undefined);
      }
      if (this.#options.dataDir && now - this.#last.persist >= PERSIST_MS) await this.#persist();
    } catch (e) {
      this.#options.logger.warn?.('dht maintenance failed', { error: String(e) });
    } finally {
      this.#maintaining = false;
    }
  }

  async #persist(): Promise<void> {
    this.#last.persist = this.#options.clock();
    for (const family of this.#families)
      await saveRoutingTable(this.#options.dataDir!, family.family, family.table);
  }
}

/** Refuses up front a write whose datagram would exceed the IPv6 cap (the smaller one). */
function checkFits(request: DhtRequest): void {
  const size =
    32 +
    CONTEXT_OVERHEAD +
    encodeMessage(
      toWireMessage({ kind: 'request', txid: 0xffffffff, version: OUR_VERSION, request }),
    ).length;
  if (size > MAX_SEND_BYTES[6])
    throw new DhtError(
      'MESSAGE_TOO_BIG',
      `a ${size}-byte datagram exceeds ${MAX_SEND_BYTES[6]} bytes`,
    );
}

function hasGlobalIPv6(): boolean {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (
        a.family === 'IPv6' &&
        !a.internal &&
        isGlobalAddress(ipToBytes(a.address) ?? new Uint8Array(0))
      )
        return true;
    }
  }
  return false;
}

async function resolveHost(host: string): Promise<string[]> {
  if (ipToBytes(host)) return [host];
  try {
    return (await dnsLookup(host, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}
