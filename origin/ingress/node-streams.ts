/**
 * The tunnel streams the ingress holds for one node, and the one queue of requests waiting for one.
 *
 * A request takes a kept-alive stream if there is one (the most recently used: the likeliest to be
 * alive), else it waits for whichever comes first: a stream another request gives back, or a new
 * stream (openStream, which itself waits for an idle tunnel connection while the node grows its
 * pool). One open is asked for per waiting request; when given-back streams serve the waiters first,
 * the surplus opens still queued at the tunnel server are withdrawn. Earlier the ingress used
 * node:http's Agent over openStream: a request waited in the tunnel server's queue for a tunnel
 * connection while the Agent's kept-alive streams, which held exactly those connections, sat idle
 * for lack of a request in the Agent's own queue, until their keep-alive timer closed them: two
 * queues, and a lost wake-up between them (docs/tunnel.md, "Stalls").
 *
 * The wait is bounded in time (`waitMs`) and size (`maxWaiting`); past either the request fails with
 * BUSY (503 with Retry-After at the ingress).
 */
import type { Id } from '../../shared/id.ts';
import { TunnelError } from '../tunnel/errors.ts';
import type { TunnelServer } from '../tunnel/server.ts';
import type { StreamAddress, StreamReader, TunnelStream } from '../tunnel/stream.ts';

/** Who waits for a stream: called once, with the stream (and whether it served a request before) or an error. */
export interface StreamTaker {
  take(error: Error | null, stream?: TunnelStream, reused?: boolean): void;
}

export interface StreamCounters {
  /** New tunnel streams opened. */
  opened: number;
  /** Requests served by a kept-alive stream. */
  reused: number;
  /** Requests that found no free stream and waited. */
  waited: number;
  /** Requests refused with BUSY (wait bound reached in time or size). */
  busy: number;
}

export interface NodeStreamsOptions {
  tunnel: TunnelServer;
  node: Id;
  /** How long a free stream is kept for the next request, ms; 0: closed at once. */
  keepAliveMs: number;
  /** How long a request waits for a stream, ms. */
  waitMs: number;
  /** Requests that may wait at once. */
  maxWaiting: number;
  counters: StreamCounters;
  /** Called when this pool holds nothing and nobody waits: the ingress forgets it. */
  empty(pool: NodeStreams): void;
}

interface Waiter {
  taker: StreamTaker;
  timer: NodeJS.Timeout;
}

/** A free stream's reader: any byte or end from the node means the stream can no longer be used. */
class Parked implements StreamReader {
  readonly timer: NodeJS.Timeout;

  constructor(
    readonly pool: NodeStreams,
    readonly stream: TunnelStream,
    keepAliveMs: number,
  ) {
    this.timer = setTimeout(() => pool.drop(this, true), keepAliveMs);
  }

  data(): boolean {
    // A response nobody asked for: the stream is out of step.
    this.pool.drop(this, false);
    return true;
  }

  end(): void {
    this.pool.drop(this, true);
  }

  error(): void {
    this.pool.drop(this, false);
  }
}

/** The reader of a stream on its way out: whatever still comes is dropped. */
const DISCARD: StreamReader = { data: () => true, end() {}, error() {} };

export class NodeStreams {
  readonly node: Id;
  readonly #o: NodeStreamsOptions;
  /** Free kept-alive streams, most recently given back last. */
  #free: Parked[] = [];
  #waiters: Waiter[] = [];
  /** openStream calls in flight, withdrawn newest first when they are not needed any more. */
  #opening: AbortController[] = [];
  /** Streams handed out and not given back yet. */
  #active = 0;

  constructor(options: NodeStreamsOptions) {
    this.#o = options;
    this.node = options.node;
  }

  /** A stream for `taker`: a free one now, or the first to come free or be opened. */
  acquire(address: StreamAddress, taker: StreamTaker): void {
    const parked = this.#free.pop();
    if (parked) {
      clearTimeout(parked.timer);
      parked.stream.setReader(null);
      this.#active++;
      this.#o.counters.reused++;
      return taker.take(null, parked.stream, true);
    }
    if (this.#waiters.length >= this.#o.maxWaiting)
      return this.#busy(taker, 'too many requests waiting');
    this.#o.counters.waited++;
    const waiter: Waiter = {
      taker,
      timer: setTimeout(() => this.#expire(waiter), this.#o.waitMs),
    };
    this.#waiters.push(waiter);
    if (this.#opening.length < this.#waiters.length) this.#open(address);
  }

  /**
   * Gives a stream back once its exchange is over: `reusable` when request and response both ended
   * cleanly and the node keeps the connection; otherwise the stream is ended (or aborted).
   */
  release(stream: TunnelStream, reusable: boolean): void {
    this.#active--;
    if (reusable && !stream.settled && !stream.remoteEnded && !stream.destroyed)
      this.#give(stream, true);
    else this.#close(stream, reusable);
    this.#maybeEmpty();
  }

  /** A stream taken for good (a WebSocket): it leaves the pool's count and is never given back. */
  detach(): void {
    this.#active--;
    this.#maybeEmpty();
  }

  /** Closes every free stream and fails every waiter (the ingress is closing). */
  close(): void {
    for (const parked of this.#free.splice(0)) {
      clearTimeout(parked.timer);
      this.#close(parked.stream, false);
    }
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.taker.take(new TunnelError('SERVER_STOPPED', 'ingress closed'));
    }
    for (const controller of this.#opening.splice(0)) controller.abort();
  }

  get idle(): boolean {
    return (
      this.#free.length === 0 &&
      this.#waiters.length === 0 &&
      this.#opening.length === 0 &&
      this.#active === 0
    );
  }

  /** A parked stream ended, failed, spoke out of turn or idled out: it leaves the free list. */
  drop(parked: Parked, clean: boolean): void {
    const at = this.#free.indexOf(parked);
    if (at >= 0) this.#free.splice(at, 1);
    clearTimeout(parked.timer);
    this.#close(parked.stream, clean);
    this.#maybeEmpty();
  }

  #open(address: StreamAddress): void {
    const controller = new AbortController();
    this.#opening.push(controller);
    const done = () => {
      const at = this.#opening.indexOf(controller);
      if (at >= 0) this.#opening.splice(at, 1);
    };
    this.#o.tunnel
      .openStream(this.node, { ...address, allowHalfOpen: true }, controller.signal)
      .then(
        (stream) => {
          done();
          this.#o.counters.opened++;
          this.#active++;
          this.#give(stream, false);
        },
        (error: Error) => {
          done();
          // A waiter left without an open of its own gets the error (the session is gone, say).
          if (!(error instanceof TunnelError && error.code === 'ABORTED'))
            if (this.#waiters.length > this.#opening.length) this.#fail(this.#waiters[0], error);
          this.#maybeEmpty();
        },
      );
  }

  /** A stream for the first waiter, or onto the free list. `stream` counts as active here. */
  #give(stream: TunnelStream, reused: boolean): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      // Opens beyond the requests still waiting are not needed: withdraw the newest.
      while (this.#opening.length > this.#waiters.length) this.#opening.pop()!.abort();
      if (reused) this.#o.counters.reused++;
      waiter.taker.take(null, stream, reused);
      return;
    }
    this.#active--;
    if (this.#o.keepAliveMs <= 0) return this.#close(stream, true);
    const parked = new Parked(this, stream, this.#o.keepAliveMs);
    stream.setReader(parked);
    this.#free.push(parked);
  }

  /** Ends a stream (DISCONNECT, the node's side closes its upstream connection) or aborts it. */
  #close(stream: TunnelStream, clean: boolean): void {
    stream.setReader(DISCARD);
    if (clean && !stream.settled) stream.end();
    else stream.destroy();
  }

  #expire(waiter: Waiter): void {
    this.#fail(
      waiter,
      new TunnelError('BUSY', `no tunnel stream to the node came free within ${this.#o.waitMs} ms`),
    );
  }

  #fail(waiter: Waiter, error: Error): void {
    const at = this.#waiters.indexOf(waiter);
    if (at < 0) return;
    this.#waiters.splice(at, 1);
    clearTimeout(waiter.timer);
    while (this.#opening.length > this.#waiters.length) this.#opening.pop()!.abort();
    if (error instanceof TunnelError && error.code === 'BUSY') this.#o.counters.busy++;
    waiter.taker.take(error);
    this.#maybeEmpty();
  }

  #busy(taker: StreamTaker, why: string): void {
    this.#o.counters.busy++;
    taker.take(new TunnelError('BUSY', why));
  }

  #maybeEmpty(): void {
    if (this.idle) this.#o.empty(this);
  }
}
