/** The one failover rule every forwarding path of the edge (HTTP, WebSocket; Node.js, Workers, Deno) follows. */
import { INGRESS_HEADERS, NODE_ERROR_HEADER } from '../shared/records/api.ts';
import { EdgeError } from './errors.ts';

export const RELAY_ERROR_HEADER = INGRESS_HEADERS.relayError;
export { NODE_ERROR_HEADER };

/**
 * Whether a target's answer is the node's agent saying its app is not answering: then no other
 * target can do better (they all lead to the same app), and the edge answers with its own page.
 */
export function nodeError(
  status: number,
  value: string | null | undefined,
  name: string,
): EdgeError | null {
  if (status !== 502 || value !== 'APP_NOT_ANSWERING') return null;
  return new EdgeError('APP_NOT_ANSWERING', `"${name}" is online but its app is not answering`);
}

/**
 * Whether a target's answer means "try the next target": always when the relay itself failed (it
 * marks its own errors: no tunnel to the node, ...), which is never the node's answer; otherwise a
 * 502/503 while another target is left. The node's upstream's own 502/503 on the last target passes.
 */
export function tryNextTarget(
  status: number,
  relayError: string | null | undefined,
  isLast: boolean,
): boolean {
  if (relayError) return true;
  return !isLast && (status === 502 || status === 503);
}

/**
 * Methods a request may be repeated with on the next target after the first one gave no answer in
 * time: a silent target may still be working on it, so only idempotent ones (RFC 9110, 9.2.2).
 */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * The response-header bound of one attempt, ms (0: none). Idempotent requests get the edge's
 * `responseTimeoutMs` and move on to the next target when it passes; others get `fallbackMs`, so a
 * slow POST is not cut short nor sent twice.
 */
export function responseBoundMs(method: string, responseTimeoutMs: number, fallbackMs = 0): number {
  return IDEMPOTENT.has(method.toUpperCase()) ? responseTimeoutMs : fallbackMs;
}

/**
 * Targets (super nodes, direct endpoints) that failed or stayed silent recently, by URL. The edge
 * tries them last for a while, so after a super node hangs only the first request waits out the
 * bound; the order within each group is the configured (or the route record's) one.
 */
export class TargetHealth {
  readonly #failedUntil = new Map<string, number>();
  readonly #now: () => number;
  readonly #forMs: number;

  constructor(now: () => number, forMs = 30_000) {
    this.#now = now;
    this.#forMs = forMs;
  }

  failed(url: string): void {
    if (this.#failedUntil.size >= 10_000) this.#failedUntil.clear();
    this.#failedUntil.set(url, this.#now() + this.#forMs);
  }

  answered(url: string): void {
    if (this.#failedUntil.size > 0) this.#failedUntil.delete(url);
  }

  #failing(url: string, now: number): boolean {
    const until = this.#failedUntil.get(url);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#failedUntil.delete(url);
    return false;
  }

  /** `items` with the recently failed ones moved to the end; the same array when none failed. */
  order<T extends { url: string }>(items: readonly T[]): readonly T[] {
    if (this.#failedUntil.size === 0 || items.length < 2) return items;
    const now = this.#now();
    const failing = items.filter((t) => this.#failing(t.url, now));
    if (failing.length === 0 || failing.length === items.length) return items;
    return [...items.filter((t) => !failing.includes(t)), ...failing];
  }
}
