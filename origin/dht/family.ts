/**
 * One address family's DHT (IPv4 and IPv6 are separate DHTs): socket, RPC and routing table, and the
 * rules that feed the table from traffic (requests add unverified entries that get a verification
 * ping; answers verify; timeouts count failures; id flips are refused and strike the source).
 */
import {
  type DhtErrorBody,
  type DhtMessage,
  type DhtRequest,
  type DhtResponse,
  isGlobalAddress,
  Method,
  NodeInfo,
} from '../../shared/dht/index.ts';
import type { KeyPair } from '../../shared/keys.ts';
import { AbuseGuard } from './abuse.ts';
import { DhtCounters } from './counters.ts';
import { runLookup, type LookupParams, type LookupResult } from './lookup.ts';
import type { ResolvedOptions } from './options.ts';
import { Rpc, type RpcReply } from './rpc.ts';
import { RoutingTable } from './routing-table.ts';
import { type Remote, UdpTransport } from './transport.ts';

export type RequestHandler = (
  request: DhtRequest,
  from: Remote,
  family: DhtFamily,
) => DhtResponse | DhtErrorBody;

const CONTEXT_CACHE_SIZE = 4096;

export class DhtFamily {
  readonly family: 4 | 6;
  readonly counters = new DhtCounters();
  readonly table: RoutingTable;
  readonly transport: UdpTransport;
  readonly rpc: Rpc;
  readonly #options: ResolvedOptions;
  readonly #abuse: AbuseGuard;
  readonly #handler: RequestHandler;
  readonly #verifying = new Set<string>();

  constructor(family: 4 | 6, host: string, options: ResolvedOptions, handler: RequestHandler) {
    this.family = family;
    this.#options = options;
    this.#handler = handler;
    this.table = new RoutingTable(options.key.id, options.clock);
    this.#abuse = new AbuseGuard({
      ratePerSecond: options.rateLimitPerSecond,
      burst: options.rateLimitBurst,
      strikesToBan: 3,
      strikeWindowMs: 10 * 60_000,
      banMs: 10 * 60_000,
      clock: options.clock,
    });
    this.transport = new UdpTransport({
      key: options.key,
      family,
      host,
      port: options.port,
      maxPacketBytes: options.maxPacketBytes,
      contextCacheSize: CONTEXT_CACHE_SIZE,
      developerMode: options.developerMode,
      counters: this.counters,
      abuse: this.#abuse,
      logger: options.logger,
      onMessage: (message, from) => this.#onMessage(message, from),
    });
    this.rpc = new Rpc({
      transport: this.transport,
      counters: this.counters,
      maxInFlight: options.maxInFlight,
      requestTimeoutMs: options.requestTimeoutMs,
      minStallMs: options.minStallMs,
      onReply: (node) => this.#learn(node, true),
      onTimeout: (node) => this.table.failed(node.id),
      onIdMismatch: (expected, actual) => {
        this.table.remove(expected.id);
        this.#idFlip(actual);
      },
    });
  }

  get key(): KeyPair {
    return this.#options.key;
  }

  /** May this contact enter the routing table or a lookup? */
  admit(node: NodeInfo): boolean {
    if (
      node.port === 0 ||
      node.isIPv4 !== (this.family === 4) ||
      node.id.equals(this.#options.key.id)
    )
      return false;
    return this.#options.developerMode || isGlobalAddress(node.ip);
  }

  #idFlip(from: Remote): void {
    this.counters.drop('idFlip');
    if (this.#abuse.strike(this.transport.sourceOf(from.host, from.port))) {
      this.#options.logger.info?.('dht source banned', {
        host: from.host,
        port: from.port,
        reason: 'id flip',
      });
    }
  }

  #learn(node: NodeInfo, replied: boolean): void {
    if (!this.admit(node)) return;
    const outcome = this.table.seen(node, replied);
    if (outcome === 'idFlip') return this.#idFlip(node);
    if (!replied && (outcome === 'added' || outcome === 'pending')) this.#verify(node);
  }

  /** A contact that only called us is pinged once so it can be handed out to others. */
  #verify(node: NodeInfo): void {
    const key = node.id.toString();
    if (this.#verifying.has(key) || this.#verifying.size >= 4096) return;
    this.#verifying.add(key);
    this.rpc.call(node, { method: Method.PING }).then(
      () => this.#verifying.delete(key),
      () => this.#verifying.delete(key),
    );
  }

  #onMessage(message: DhtMessage, from: Remote): void {
    if (message.kind !== 'request') {
      if (!this.rpc.handleAnswer(message, from)) this.counters.drop('unexpected');
      return;
    }
    const method = message.request.method;
    this.counters.count(this.counters.requestsIn, method);
    let node: NodeInfo | undefined;
    try {
      node = new NodeInfo(from.id, from.host, from.port);
    } catch {
      node = undefined;
    }
    if (node) this.#learn(node, false);
    const answer = this.#handler(message.request, from, this);
    const reply: DhtMessage =
      'code' in answer
        ? { kind: 'error', txid: message.txid, method, error: answer }
        : { kind: 'response', txid: message.txid, response: answer };
    void this.transport.send(from, reply);
  }

  call(node: NodeInfo, request: DhtRequest, onStall?: () => void): Promise<RpcReply> {
    return this.rpc.call(node, request, onStall);
  }

  lookup(
    params: Omit<LookupParams, 'seeds' | 'concurrency' | 'call' | 'admit' | 'family'>,
  ): Promise<LookupResult> {
    return runLookup({
      ...params,
      family: this.family,
      seeds: this.table.closest(params.target, 8 * 2, true),
      concurrency: this.#options.lookupConcurrency,
      stallGraceMs: this.rpc.stallMs,
      call: (node, request, onStall) => this.call(node, request, onStall),
      admit: (node) => this.admit(node),
    });
  }

  async stop(): Promise<void> {
    this.rpc.stop();
    await this.transport.stop();
  }
}
