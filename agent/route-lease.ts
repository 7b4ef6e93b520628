/**
 * The node's lease on its route: one signed route record published at every super node that
 * answered, renewed at half the lease, tried again every `retryMs` while no super node takes it
 * (so one that restarts gets it back as soon as it answers), and withdrawn on stop (a record whose
 * lease ends at once). Publishes are coalesced: one in flight, at most one queued.
 */
import type { Logger } from '../shared/logger.ts';
import type { RegistryState, TunnelState } from './agent-status.ts';
import type { PublishRouteInput, RegistryClient } from './registry-client.ts';

/** A super node as the lease sees it (the agent's link); its registry state is kept up to date here. */
export interface LeaseTarget {
  url: string;
  id: string | null;
  client: RegistryClient;
  registry: RegistryState;
  tunnel: TunnelState;
  detail?: string;
}

export interface RouteLeaseOptions {
  leaseMs: number;
  retryMs: number;
  clock: { now(): number };
  logger: Logger;
  /** The route to sign now, or why there is none (e.g. no tunnel is up). */
  route(ttlMs: number): PublishRouteInput | string;
  targets(): LeaseTarget[];
  /** After a super node took a record (the agent stores its DID document then). */
  published(jws: string): void;
  changed(): void;
}

const WITHDRAW_LEASE_MS = 2000;
const WITHDRAW_WAIT_MS = 3000;

export class RouteLease {
  readonly #o: RouteLeaseOptions;
  publishedAt: number | null = null;
  expiresAt: number | null = null;
  error: string | undefined;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> = Promise.resolve();
  #queued = false;
  #stopped = false;

  constructor(options: RouteLeaseOptions) {
    this.#o = options;
  }

  /** Publishes soon (after the one in flight). */
  schedule(): void {
    if (this.#stopped || this.#queued) return;
    this.#queued = true;
    this.#running = this.#running.then(() => {
      this.#queued = false;
      return this.#publish().catch((e: Error) => {
        this.error = e.message;
        this.#renewIn(this.#o.retryMs);
      });
    });
  }

  /** Publishes now and waits for it. */
  publish(): Promise<void> {
    this.schedule();
    return this.#running;
  }

  #renewIn(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.schedule(), ms);
    this.#timer.unref();
  }

  async #publish(): Promise<void> {
    if (this.#stopped) return;
    const route = this.#o.route(this.#o.leaseMs);
    if (typeof route === 'string') {
      this.error = route;
      return this.#o.changed();
    }
    const targets = this.#o.targets();
    // One signed record, the same at every super node.
    const jws = await targets[0].client.signRouteRecord(route);
    const results = await Promise.allSettled(
      targets.map((t) => t.client.publishSignedRoute(route.name, jws)),
    );
    if (this.#stopped) return;
    results.forEach((r, i) => {
      targets[i].registry = r.status === 'fulfilled' ? 'up' : 'down';
      if (r.status === 'rejected' && targets[i].tunnel !== 'up')
        targets[i].detail = (r.reason as Error).message;
    });
    const accepted = results.find((r) => r.status === 'fulfilled');
    if (accepted) {
      this.publishedAt = this.#o.clock.now();
      this.expiresAt = accepted.value.exp;
      this.error = undefined;
      this.#renewIn(this.#o.leaseMs / 2);
      this.#o.published(jws);
    } else {
      this.error = results
        .map((r, i) => `${targets[i].url}: ${(r as PromiseRejectedResult).reason?.message}`)
        .join('; ');
      this.#o.logger.warn('no super node accepted the route', { errors: this.error });
      this.#renewIn(this.#o.retryMs);
    }
    this.#o.changed();
  }

  /** Stops renewing; withdraws the route if one was published (best effort, a few seconds at most). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running.catch(() => {});
    if (!this.publishedAt) return;
    const route = this.#o.route(WITHDRAW_LEASE_MS);
    const targets = this.#o.targets();
    if (typeof route === 'string' || !targets.length) return;
    try {
      const jws = await targets[0].client.signRouteRecord(route);
      const sent = Promise.allSettled(
        targets.map((t) => t.client.publishSignedRoute(route.name, jws)),
      );
      await Promise.race([sent, new Promise((r) => setTimeout(r, WITHDRAW_WAIT_MS).unref())]);
    } catch {
      // The lease runs out anyway.
    }
  }
}
