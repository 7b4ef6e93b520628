/**
 * Edge tokens, cached per (node, super node) until shortly before they expire, so signing is not
 * done per request.
 */
import type { Id } from '../shared/id.ts';
import type { KeyPair } from '../shared/keys.ts';
import { EDGE_TOKEN_TTL_S, signEdgeToken } from '../shared/records/edge-token.ts';

export interface EdgeTokenCacheOptions {
  edgeKey: KeyPair;
  now: () => number;
  /** A cached token is replaced this long before it expires, ms. Default 15 000. */
  refreshBeforeMs?: number;
  /** Most tokens held. Default 10 000. */
  maxEntries?: number;
}

export class EdgeTokenCache {
  readonly #options: Required<EdgeTokenCacheOptions>;
  readonly #tokens = new Map<string, { token: Promise<string>; renewAt: number }>();

  constructor(options: EdgeTokenCacheOptions) {
    this.#options = { refreshBeforeMs: 15_000, maxEntries: 10_000, ...options };
  }

  get(node: Id, superNode: Id): Promise<string> {
    const key = `${node}/${superNode}`;
    const now = this.#options.now();
    const cached = this.#tokens.get(key);
    if (cached && cached.renewAt > now) return cached.token;
    const token = signEdgeToken(this.#options.edgeKey, node, superNode, now);
    // JWT times are whole seconds: count from the second the token says it was issued.
    const renewAt =
      Math.floor(now / 1000) * 1000 + EDGE_TOKEN_TTL_S * 1000 - this.#options.refreshBeforeMs;
    this.#tokens.delete(key);
    this.#tokens.set(key, { token, renewAt });
    token.catch(() => this.#tokens.delete(key));
    while (this.#tokens.size > this.#options.maxEntries)
      this.#tokens.delete(this.#tokens.keys().next().value as string);
    return token;
  }
}
