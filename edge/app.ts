/**
 * The edge gateway as one Hono app, shared by the Workers, Deno and Node adapters. Web APIs only.
 * The leftmost label under the zone names a node; the apex serves a landing page and the registry API.
 */
import { Hono } from 'hono';
import { API_PREFIX, INGRESS_HEADERS } from '../shared/records/api.ts';
import { NAME_PATTERN, nameFromHost } from '../shared/records/names.ts';
import { type EdgeConfig, type ParsedEdgeConfig, parseEdgeConfig } from './config.ts';
import { EdgeError } from './errors.ts';
import { isWebSocketUpgrade, upstreamRequestHeaders } from './headers.ts';
import { errorResponse, landingPage } from './pages.ts';
import { proxyHttp, type UpstreamCandidate } from './forward.ts';
import { RouteResolver } from './resolver.ts';
import { EdgeTokenCache } from './tokens.ts';

/** What an adapter tells the app about the connection (passed as Hono's env). */
export interface EdgeBindings {
  /** The client's address, as the adapter knows it; becomes X-Forwarded-For. */
  clientIp?: string;
}

/** Where a request goes: upstreams in order of preference, or the apex landing page. */
export type UpstreamPlan =
  | { kind: 'landing' }
  | { kind: 'registry'; candidates: UpstreamCandidate[] }
  | { kind: 'node'; name: string; candidates: UpstreamCandidate[] };

/** One upstream origin of a route; relayed ones carry the ingress headers for the relay. */
export interface UpstreamTarget {
  /** e.g. `http://127.0.0.1:8080` (no path). */
  origin: string;
  /** For error messages: which upstream this is. */
  label: string;
  ingress?: { nodeId: string; edgeToken: string };
}

/** Where a request goes, before headers are built: see `Edge.route`. */
export type UpstreamRoute =
  | { kind: 'landing' }
  | { kind: 'registry'; upstreams: readonly UpstreamTarget[] }
  | { kind: 'node'; name: string; upstreams: readonly UpstreamTarget[] };

/** Runtime hooks an adapter may give: how to bridge a WebSocket upgrade to the first willing upstream. */
export interface EdgeRuntime {
  webSocket?: (request: Request, candidates: UpstreamCandidate[]) => Promise<Response>;
  /**
   * Whether upstream requests follow the client request's AbortSignal. Default true. The Node adapter
   * turns it off: it stops upstream bodies itself when the client goes, and building the signal
   * costs a full Request per request there.
   */
  abortWithClient?: boolean;
}

export class Edge {
  readonly config: ParsedEdgeConfig;
  readonly resolver: RouteResolver;
  readonly tokens: EdgeTokenCache;
  readonly app: Hono<{ Bindings: EdgeBindings }>;
  readonly #registries: readonly UpstreamTarget[];
  /** Parsed origins of direct routes, per verified route (the resolver hands out the same object while cached). */
  readonly #directOrigins = new WeakMap<object, UpstreamTarget[]>();

  constructor(config: EdgeConfig, runtime: EdgeRuntime = {}) {
    this.config = parseEdgeConfig(config);
    this.resolver = new RouteResolver(this.config);
    this.tokens = new EdgeTokenCache({ edgeKey: this.config.edgeKey, now: this.config.now });
    this.#registries = this.config.superNodes.map((s) => ({ origin: s.url, label: `registry ${s.url}` }));
    this.app = this.#buildApp(runtime);
  }

  /** Resolves where a request goes. Throws EdgeError (malformed host, unknown name, offline, ...). */
  async plan(request: Request, bindings: EdgeBindings = {}): Promise<UpstreamPlan> {
    const url = new URL(request.url);
    const route = await this.route(url);
    if (route.kind === 'landing') return route;
    const headers = upstreamRequestHeaders(request.headers, {
      clientIp: bindings.clientIp,
      host: url.host,
      proto: url.protocol.slice(0, -1),
    });
    const target = url.pathname + url.search;
    const candidates = route.upstreams.map((u): UpstreamCandidate => {
      if (!u.ingress) return { url: u.origin + target, headers, label: u.label };
      const relayHeaders = new Headers(headers);
      relayHeaders.set(INGRESS_HEADERS.nodeId, u.ingress.nodeId);
      relayHeaders.set(INGRESS_HEADERS.edgeToken, u.ingress.edgeToken);
      return { url: u.origin + target, headers: relayHeaders, label: u.label };
    });
    return route.kind === 'registry' ? { kind: 'registry', candidates } : { kind: 'node', name: route.name, candidates };
  }

  /**
   * Where a request for `url` goes, as upstream origins in order, before any header work (the Node
   * adapter builds its header lists itself). Throws EdgeError like `plan`.
   */
  async route(url: URL): Promise<UpstreamRoute> {
    const name = nameFromHost(url.hostname, this.config.zone);
    if (name === null || (name !== '' && !NAME_PATTERN.test(name))) {
      throw new EdgeError('MALFORMED_HOST', `${url.hostname} is not <name>.${this.config.zone}`);
    }
    if (name === '') {
      if (url.pathname === API_PREFIX || url.pathname.startsWith(API_PREFIX + '/')) {
        return { kind: 'registry', upstreams: this.#registries };
      }
      if (url.pathname === '/') return { kind: 'landing' };
      throw new EdgeError('NOT_FOUND', `nothing at ${url.pathname} on the apex`);
    }
    const state = await this.resolver.resolve(name);
    if (state.kind === 'unknown') throw new EdgeError('UNKNOWN_NAME', `no node is registered as "${name}"`);
    if (state.kind === 'offline') throw new EdgeError('NODE_OFFLINE', `"${name}" is offline (${state.reason})`);
    const { route, node, relays } = state.route;
    if (route.mode === 'direct') {
      let direct = this.#directOrigins.get(state.route);
      if (!direct) {
        const origin = new URL(route.endpoint as string).origin;
        direct = [{ origin, label: `direct ${origin}` }];
        this.#directOrigins.set(state.route, direct);
      }
      return { kind: 'node', name, upstreams: direct };
    }
    const upstreams: UpstreamTarget[] = [];
    for (const relay of relays) {
      const superNode = this.config.superNodeById.get(relay.toString());
      if (!superNode) continue;
      const edgeToken = await this.tokens.get(node, superNode.id);
      upstreams.push({ origin: superNode.url, label: `relay ${superNode.url}`, ingress: { nodeId: node.toString(), edgeToken } });
    }
    if (upstreams.length === 0) throw new EdgeError('NODE_OFFLINE', `none of the relays of "${name}" is a configured super node`);
    return { kind: 'node', name, upstreams };
  }

  #buildApp(runtime: EdgeRuntime): Hono<{ Bindings: EdgeBindings }> {
    const app = new Hono<{ Bindings: EdgeBindings }>();
    const abort = runtime.abortWithClient !== false;
    // One catch-all route: every path on a user's subdomain belongs to the node.
    app.all('*', async (c) => {
      const request = c.req.raw;
      const plan = await this.plan(request, c.env ?? {});
      if (plan.kind === 'landing') return landingPage(this.config.zone);
      if (plan.kind === 'registry') {
        return proxyHttp(request, plan.candidates, this.config.fetch, () => new EdgeError('REGISTRY_UNAVAILABLE', 'no registry answered'), abort);
      }
      const offline = () => new EdgeError('UPSTREAM_UNAVAILABLE', `every upstream of "${plan.name}" is down`);
      if (isWebSocketUpgrade(request.headers)) {
        if (!runtime.webSocket) throw new EdgeError('UPSTREAM_UNAVAILABLE', 'WebSockets are not bridged by this runtime adapter');
        return runtime.webSocket(request, plan.candidates);
      }
      return proxyHttp(request, plan.candidates, this.config.fetch, offline, abort);
    });
    app.onError((error, c) => {
      const edgeError = error instanceof EdgeError ? error : new EdgeError('INTERNAL', 'unexpected gateway failure', { cause: error });
      const url = new URL(c.req.url);
      const json = url.pathname.startsWith(API_PREFIX + '/') && nameFromHost(url.hostname, this.config.zone) === '';
      return errorResponse(edgeError, url.host, json);
    });
    return app;
  }
}

export function createEdge(config: EdgeConfig, runtime?: EdgeRuntime): Edge {
  return new Edge(config, runtime);
}

/** The edge as a Hono app: `app.fetch(request, { clientIp })`. */
export function createEdgeApp(config: EdgeConfig, runtime?: EdgeRuntime): Hono<{ Bindings: EdgeBindings }> {
  return new Edge(config, runtime).app;
}
