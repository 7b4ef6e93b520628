/**
 * Outgoing requests: transaction ids, matching of answers (txid AND address AND port AND method),
 * a hard timeout, an adaptive "stalled" signal that lets a lookup move on before the timeout, and a
 * bound on requests in flight (the rest wait in a queue).
 */
import {
  type DhtMessage,
  type DhtRequest,
  type DhtResponse,
  methodName,
  methodOf,
  type NodeInfo,
  type WireInt,
} from '../../shared/dht/index.ts';
import type { DhtCounters } from './counters.ts';
import { DhtError } from './errors.ts';
import type { Remote, UdpTransport } from './transport.ts';

export interface RpcOptions {
  transport: UdpTransport;
  counters: DhtCounters;
  maxInFlight: number;
  requestTimeoutMs: number;
  minStallMs: number;
  /** Called for every answer and every timeout: the routing table learns liveness from it. */
  onReply: (node: NodeInfo, rttMs: number) => void;
  onTimeout: (node: NodeInfo) => void;
  /** An answer from the right address but under another id. */
  onIdMismatch: (expected: NodeInfo, actual: Remote) => void;
}

export interface RpcReply {
  response: DhtResponse;
  rttMs: number;
}

interface Pending {
  node: NodeInfo;
  method: number;
  sentAt: number;
  stallTimer?: ReturnType<typeof setTimeout>;
  timeoutTimer?: ReturnType<typeof setTimeout>;
  onStall?: () => void;
  resolve: (reply: RpcReply) => void;
  reject: (error: DhtError) => void;
}

const RTT_SAMPLES = 64;
const INITIAL_STALL_MS = 1000;

export class Rpc {
  readonly #options: RpcOptions;
  readonly #pending = new Map<string, Pending>();
  readonly #queue: { node: NodeInfo; request: DhtRequest; pending: Pending }[] = [];
  readonly #rtts: number[] = [];
  #nextTxid = (crypto.getRandomValues(new Uint32Array(1))[0] & 0x7fffffff) | 1;
  #stopped = false;

  constructor(options: RpcOptions) {
    this.#options = options;
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  /** The current stall delay: twice the 90th percentile of recent round trips, at least minStallMs. */
  get stallMs(): number {
    const { minStallMs, requestTimeoutMs } = this.#options;
    if (this.#rtts.length < 8)
      return Math.max(minStallMs, Math.min(INITIAL_STALL_MS, requestTimeoutMs));
    const sorted = [...this.#rtts].sort((a, b) => a - b);
    const p90 = sorted[Math.floor(sorted.length * 0.9)];
    return Math.max(minStallMs, Math.min(Math.ceil(p90 * 2), requestTimeoutMs));
  }

  /** Sends a request; resolves with the answer, rejects with TIMEOUT, REMOTE_ERROR or SEND_FAILED. */
  call(node: NodeInfo, request: DhtRequest, onStall?: () => void): Promise<RpcReply> {
    if (this.#stopped) return Promise.reject(new DhtError('STOPPED', 'the DHT node is stopped'));
    return new Promise<RpcReply>((resolve, reject) => {
      const pending: Pending = {
        node,
        method: request.method,
        sentAt: 0,
        onStall,
        resolve,
        reject,
      };
      if (this.#pending.size >= this.#options.maxInFlight)
        this.#queue.push({ node, request, pending });
      else this.#send(node, request, pending);
    });
  }

  #txid(): number {
    const txid = this.#nextTxid;
    this.#nextTxid = (this.#nextTxid + 1) & 0x7fffffff || 1;
    return txid;
  }

  #send(node: NodeInfo, request: DhtRequest, pending: Pending): void {
    let txid = this.#txid();
    while (this.#pending.has(String(txid))) txid = this.#txid();
    const key = String(txid);
    pending.sentAt = performance.now();
    this.#pending.set(key, pending);
    const stallMs = this.stallMs;
    if (pending.onStall && stallMs < this.#options.requestTimeoutMs) {
      pending.stallTimer = setTimeout(() => pending.onStall?.(), stallMs);
    }
    pending.timeoutTimer = setTimeout(() => {
      if (!this.#finish(key)) return;
      this.#options.counters.count(this.#options.counters.timeouts, pending.method);
      this.#options.onTimeout(node);
      pending.reject(new DhtError('TIMEOUT', `${methodName(pending.method)} to ${node} timed out`));
    }, this.#options.requestTimeoutMs);
    const message: DhtMessage = { kind: 'request', txid, request };
    this.#options.transport.send(node, message).then((sent) => {
      if (sent || !this.#finish(key)) return;
      pending.reject(
        new DhtError('SEND_FAILED', `could not send ${methodName(pending.method)} to ${node}`),
      );
    });
  }

  /** Forgets a pending call and frees its slot; false if it was already finished. */
  #finish(key: string): boolean {
    const pending = this.#pending.get(key);
    if (!pending) return false;
    this.#pending.delete(key);
    clearTimeout(pending.stallTimer);
    clearTimeout(pending.timeoutTimer);
    const next = this.#queue.shift();
    if (next && !this.#stopped) this.#send(next.node, next.request, next.pending);
    return true;
  }

  /** An answer or an error from `from`; false if it matches no call of ours (the caller counts it). */
  handleAnswer(message: DhtMessage, from: Remote): boolean {
    const key = keyOf(message.txid);
    const pending = key === undefined ? undefined : this.#pending.get(key);
    if (!pending || !key) return false;
    if (
      pending.node.host !== from.host ||
      pending.node.port !== from.port ||
      methodOf(message) !== pending.method
    )
      return false;
    this.#finish(key);
    if (!pending.node.id.equals(from.id)) {
      this.#options.onIdMismatch(pending.node, from);
      pending.reject(new DhtError('ID_MISMATCH', `${pending.node} answered as ${from.id}`));
      return true;
    }
    const rttMs = performance.now() - pending.sentAt;
    this.#rtts.push(rttMs);
    if (this.#rtts.length > RTT_SAMPLES) this.#rtts.shift();
    this.#options.onReply(pending.node, rttMs);
    if (message.kind === 'error') {
      this.#options.counters.count(this.#options.counters.errorsIn, pending.method);
      pending.reject(
        new DhtError(
          'REMOTE_ERROR',
          `${methodName(pending.method)}: ${message.error.message ?? 'error'} (${message.error.code})`,
          message.error.code,
        ),
      );
    } else if (message.kind === 'response') {
      pending.resolve({ response: message.response, rttMs });
    }
    return true;
  }

  stop(): void {
    this.#stopped = true;
    const stopped = new DhtError('STOPPED', 'the DHT node stopped');
    for (const item of this.#queue.splice(0)) item.pending.reject(stopped);
    for (const [key, pending] of [...this.#pending]) {
      this.#pending.delete(key);
      clearTimeout(pending.stallTimer);
      clearTimeout(pending.timeoutTimer);
      pending.reject(stopped);
    }
  }
}

const keyOf = (txid: WireInt): string | undefined =>
  typeof txid === 'number' ? String(txid) : undefined;
