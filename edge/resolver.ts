/**
 * Name -> verified route, through the super nodes' registry API with failover, cached. A record is
 * used only after verifyResolution accepted it against the configured registrar keys.
 */
import { registryPaths, type ResolveResponse } from '../shared/records/api.ts';
import { type VerifiedRoute, verifyResolution } from '../shared/records/route.ts';
import type { ParsedEdgeConfig } from './config.ts';
import { EdgeError } from './errors.ts';
import type { TargetHealth } from './failover.ts';
import { ExpiringLru } from './lru.ts';

export type RouteState =
  | { kind: 'online'; name: string; route: VerifiedRoute }
  | { kind: 'offline'; name: string; reason: 'no-route' | 'expired' }
  | { kind: 'unknown'; name: string };

/** Registry answers larger than this are refused: a resolve response is two small JWS strings. */
const MAX_RESOLVE_BYTES = 64 * 1024;

export class RouteResolver {
  readonly #config: ParsedEdgeConfig;
  readonly #cache: ExpiringLru<string, RouteState>;
  readonly #inFlight = new Map<string, Promise<RouteState>>();
  /** Route cache hits, misses (a registry look-up started) and joins of a look-up in flight. */
  readonly stats = { hits: 0, misses: 0, joined: 0 };
  readonly #health: TargetHealth | undefined;

  constructor(config: ParsedEdgeConfig, health?: TargetHealth) {
    this.#config = config;
    this.#health = health;
    this.#cache = new ExpiringLru({ maxEntries: config.cache.maxEntries, now: config.now });
  }

  /** Throws EdgeError UNVERIFIED_ROUTE or REGISTRY_UNAVAILABLE when no super node gave a usable answer. */
  resolve(name: string): Promise<RouteState> {
    const cached = this.#cache.get(name);
    if (cached) {
      this.stats.hits++;
      return Promise.resolve(cached);
    }
    let pending = this.#inFlight.get(name);
    if (pending) this.stats.joined++;
    else {
      this.stats.misses++;
      pending = this.#lookUp(name).finally(() => this.#inFlight.delete(name));
      this.#inFlight.set(name, pending);
    }
    return pending;
  }

  /** Drops a cached answer, e.g. when every relay of a cached route failed. */
  forget(name: string): void {
    this.#cache.delete(name);
  }

  async #lookUp(name: string): Promise<RouteState> {
    let unverified: string | undefined;
    const failures: string[] = [];
    const superNodes = this.#health?.order(this.#config.superNodes) ?? this.#config.superNodes;
    for (const superNode of superNodes) {
      const answer = await this.#ask(superNode.url, name);
      if (answer.kind === 'failed') {
        failures.push(`${superNode.url}: ${answer.reason}`);
        if (answer.silent) this.#health?.failed(superNode.url);
        continue;
      }
      if (answer.kind === 'unknown') return this.#remember({ kind: 'unknown', name });
      const now = this.#config.now();
      const verified = await verifyResolution(
        { name, binding: answer.body.binding, route: answer.body.route },
        this.#config.registrars,
        now,
      );
      if (!verified.ok) {
        // Another super node may hold a good record; a bad one from this one must not win.
        unverified = `${verified.error.code}: ${verified.error.message}`;
        failures.push(`${superNode.url}: ${unverified}`);
        continue;
      }
      const v = verified.value;
      const state: RouteState =
        v.state === 'online'
          ? { kind: 'online', name, route: v.route }
          : { kind: 'offline', name, reason: v.reason };
      return this.#remember(state);
    }
    if (unverified)
      throw new EdgeError(
        'UNVERIFIED_ROUTE',
        `no verifiable route for "${name}": ${failures.join('; ')}`,
      );
    throw new EdgeError(
      'REGISTRY_UNAVAILABLE',
      `no super node answered for "${name}": ${failures.join('; ')}`,
    );
  }

  #remember(state: RouteState): RouteState {
    const now = this.#config.now();
    const { ttlMs, negativeTtlMs } = this.#config.cache;
    const expiresAt =
      state.kind === 'online' ? Math.min(now + ttlMs, state.route.route.exp) : now + negativeTtlMs;
    this.#cache.set(state.name, state, expiresAt);
    return state;
  }

  async #ask(
    origin: string,
    name: string,
  ): Promise<
    | { kind: 'found'; body: ResolveResponse }
    | { kind: 'unknown' }
    | { kind: 'failed'; reason: string; silent?: true }
  > {
    let res: Response;
    try {
      res = await this.#config.fetch(origin + registryPaths.resolve(name), {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.#config.resolveTimeoutMs),
      });
    } catch (e) {
      // No answer at all (refused, or silent past the bound): tried last for a while.
      return { kind: 'failed', reason: (e as Error).message, silent: true };
    }
    try {
      if (res.status === 404) return { kind: 'unknown' };
      if (res.status !== 200) return { kind: 'failed', reason: `HTTP ${res.status}` };
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > MAX_RESOLVE_BYTES) return { kind: 'failed', reason: 'answer too large' };
      const text = await res.text();
      if (text.length > MAX_RESOLVE_BYTES) return { kind: 'failed', reason: 'answer too large' };
      const body = JSON.parse(text) as ResolveResponse;
      if (
        !body ||
        typeof body !== 'object' ||
        body.name !== name ||
        typeof body.binding !== 'string'
      ) {
        return { kind: 'failed', reason: 'answer is not a ResolveResponse for this name' };
      }
      return { kind: 'found', body };
    } catch (e) {
      return { kind: 'failed', reason: `unreadable answer: ${(e as Error).message}` };
    } finally {
      if (!res.bodyUsed) await res.body?.cancel().catch(() => {});
    }
  }
}
