/**
 * The edge gateway as one Hono app, shared by the Workers, Deno and Node.js runtimes. Web APIs only.
 * The leftmost label under the zone names a node; the apex serves a landing page and the registry API.
 */
import { Hono } from 'hono';
import { checkEndpoint } from '../shared/endpoint.ts';
import { API_PREFIX } from '../shared/records/api.ts';
import { NAME_PATTERN, nameFromHost } from '../shared/records/names.ts';
import type { VerifiedRoute } from '../shared/records/route.ts';
import { type EdgeConfig, type ParsedEdgeConfig, parseEdgeConfig } from './config.ts';
import { EdgeError } from './errors.ts';
import { TargetHealth } from './failover.ts';
import { forward } from './forward.ts';
import { forwardedRequestHeaders, isWebSocketUpgrade } from './headers.ts';
import { NetworkMapSource } from './network/map.ts';
import { type NetworkAssets, networkFile, networkPage } from './network/page.ts';
import { errorResponse, landingPage } from './pages.ts';
import { RouteResolver } from './resolver.ts';
import { EdgeStats, forwardKind, type RouteKind, routeKind } from './stats.ts';
import { EdgeTokenCache } from './tokens.ts';

/** What a runtime tells the app about the connection (passed as Hono's env). */
export interface EdgeBindings {
  /** The client's address, as the runtime knows it; becomes X-Forwarded-For. */
  clientIp?: string;
  /** Set by the app once it routed the request (for the runtime's metrics). */
  routeKind?: RouteKind;
}

/** One place a request can be forwarded to: a direct node's endpoint, or a super node (registry or relay ingress). */
export interface Target {
  /** URL origin, e.g. `http://127.0.0.1:8080` (no path). */
  url: string;
  /** For error messages: which target this is. */
  label: string;
  /** For a relay: what the super node's ingress needs to pick the node's tunnel. */
  ingress?: { nodeId: string; edgeToken: string };
  /** A direct node's endpoint: reached with `directFetch`, which refuses non-public addresses. */
  direct?: true;
}

/**
 * Where a TLS connection to a private name goes, passed through untouched: the node's own TLS port,
 * or the relays' ingresses (a raw TLS channel each, with the node id and an edge token).
 */
export type PassthroughRoute =
  | { kind: 'direct'; name: string; host: string; port: number }
  | { kind: 'relay'; name: string; targets: readonly Target[] };

/** Where a request goes: the targets to try in order, the apex landing page, or the network map (`file`: the page, `network.json`, or one of its files). */
export type EdgeRoute =
  | { kind: 'landing' }
  | { kind: 'map'; file: string }
  | { kind: 'registry'; targets: readonly Target[] }
  | { kind: 'node'; name: string; targets: readonly Target[] };

export type ForwardRoute = Exclude<EdgeRoute, { kind: 'landing' } | { kind: 'map' }>;
export type NodeRoute = Extract<EdgeRoute, { kind: 'node' }>;

/** What a runtime may add to the app. */
export interface EdgeRuntime {
  /** Bridges a WebSocket upgrade to the first of the route's targets that takes it. */
  webSocket?: (request: Request, route: NodeRoute, headers: Headers) => Promise<Response>;
  /**
   * Whether forwarded requests follow the client request's AbortSignal. Default true. The Node.js
   * runtime turns it off: it stops target bodies itself when the client goes, and building the
   * signal costs a full Request per request there.
   */
  abortWithClient?: boolean;
  /** The network map's files (uPlot, its script and style); without them /network/<file> is 404. */
  assets?: NetworkAssets;
}

export class Edge {
  readonly config: ParsedEdgeConfig;
  readonly resolver: RouteResolver;
  readonly tokens: EdgeTokenCache;
  /** Target failures, failovers and give-ups (the route cache counts its hits: resolver.stats). */
  readonly stats = new EdgeStats();
  /** The network map's data, merged from the super nodes' reports. */
  readonly network: NetworkMapSource;
  /** Targets that failed or stayed silent lately: tried last (failover.ts). */
  readonly health: TargetHealth;
  readonly app: Hono<{ Bindings: EdgeBindings }>;
  readonly #registries: readonly Target[];
  /** The direct target of each verified route record (the resolver hands out the same object while cached). */
  readonly #directTargets = new WeakMap<object, Target[]>();

  constructor(config: EdgeConfig, runtime: EdgeRuntime = {}) {
    this.config = parseEdgeConfig(config);
    this.health = new TargetHealth(this.config.now);
    this.resolver = new RouteResolver(this.config, this.health);
    this.tokens = new EdgeTokenCache({ edgeKey: this.config.edgeKey, now: this.config.now });
    this.network = new NetworkMapSource(this.config);
    this.#registries = this.config.superNodes.map((s) => ({
      url: s.url,
      label: `registry ${s.url}`,
    }));
    this.app = this.#buildApp(runtime);
  }

  /** Where a request for `url` goes. Throws EdgeError (malformed host, unknown name, offline, ...). */
  async route(url: URL): Promise<EdgeRoute> {
    const name = nameFromHost(url.hostname, this.config.zone);
    if (name === null || (name !== '' && !NAME_PATTERN.test(name))) {
      throw new EdgeError('MALFORMED_HOST', `${url.hostname} is not <name>.${this.config.zone}`);
    }
    if (name === '') {
      if (url.pathname === API_PREFIX || url.pathname.startsWith(API_PREFIX + '/')) {
        return { kind: 'registry', targets: this.health.order(this.#registries) };
      }
      if (url.pathname === '/') return { kind: 'landing' };
      if (url.pathname === '/network' || url.pathname === '/network.json')
        return { kind: 'map', file: url.pathname.slice(1) };
      if (url.pathname.startsWith('/network/'))
        return { kind: 'map', file: url.pathname.slice('/network/'.length) };
      throw new EdgeError('NOT_FOUND', `nothing at ${url.pathname} on the apex`);
    }
    const state = await this.resolver.resolve(name);
    if (state.kind === 'unknown')
      throw new EdgeError('UNKNOWN_NAME', `no node is registered as "${name}"`);
    if (state.kind === 'offline')
      throw new EdgeError('NODE_OFFLINE', `"${name}" is offline (${state.reason})`);
    const { route } = state.route;
    // Its plaintext is not the gateway's to see: only an SNI passthrough reaches it (passthrough()).
    if (route.tls === 'node')
      throw new EdgeError(
        'PRIVATE_NAME',
        `"${name}" terminates TLS itself: only a connection whose SNI names it reaches it`,
      );
    if (route.mode === 'direct') {
      let direct = this.#directTargets.get(state.route);
      if (!direct) {
        // The registry checked it too, but the edge trusts only what it checks itself.
        const endpoint = checkEndpoint(route.endpoint, this.config.developerMode);
        if (!endpoint.ok)
          throw new EdgeError('UPSTREAM_UNAVAILABLE', `"${name}": ${endpoint.reason}`);
        const origin = endpoint.url.origin;
        direct = [{ url: origin, label: `direct ${origin}`, direct: true }];
        this.#directTargets.set(state.route, direct);
      }
      return { kind: 'node', name, targets: direct };
    }
    return { kind: 'node', name, targets: await this.#relayTargets(name, state.route) };
  }

  /**
   * Where a TLS connection whose ClientHello named `serverName` goes when it names a private name
   * that is online; null otherwise: the gateway terminates that connection itself (and answers with
   * its pages, an unknown or offline name included). Never throws.
   */
  async passthrough(serverName: string | null): Promise<PassthroughRoute | null> {
    const name = serverName === null ? null : nameFromHost(serverName, this.config.zone);
    if (!name || !NAME_PATTERN.test(name)) return null;
    try {
      const state = await this.resolver.resolve(name);
      if (state.kind !== 'online' || state.route.route.tls !== 'node') return null;
      const { route } = state.route;
      if (route.mode === 'direct') {
        const url = new URL(route.endpoint as string);
        const host = url.hostname.replace(/^\[|\]$/g, '');
        return { kind: 'direct', name, host, port: Number(url.port || 443) };
      }
      return { kind: 'relay', name, targets: await this.#relayTargets(name, state.route) };
    } catch {
      return null;
    }
  }

  /** The route's relays that are configured super nodes, in order, each with its edge token. */
  async #relayTargets(name: string, verified: VerifiedRoute): Promise<readonly Target[]> {
    const targets: Target[] = [];
    for (const relay of verified.relays) {
      const superNode = this.config.superNodeById.get(relay.toString());
      if (!superNode) continue;
      const edgeToken = await this.tokens.get(verified.node, superNode.id);
      targets.push({
        url: superNode.url,
        label: `relay ${superNode.url}`,
        ingress: { nodeId: verified.node.toString(), edgeToken },
      });
    }
    if (targets.length === 0)
      throw new EdgeError(
        'NODE_OFFLINE',
        `none of the relays of "${name}" is a configured super node`,
      );
    return this.health.order(targets);
  }

  async #map(file: string, url: URL, assets: NetworkAssets | undefined): Promise<Response> {
    if (file === 'network') return networkPage(this.config.zone);
    if (file === 'network.json') {
      const map = await this.network.get(url.origin);
      return new Response(JSON.stringify(map), {
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      });
    }
    const response = assets ? networkFile(assets, file) : null;
    if (!response) throw new EdgeError('NOT_FOUND', `nothing at ${url.pathname} on the apex`);
    return response;
  }

  #buildApp(runtime: EdgeRuntime): Hono<{ Bindings: EdgeBindings }> {
    const app = new Hono<{ Bindings: EdgeBindings }>();
    const options = {
      fetch: this.config.fetch,
      directFetch: this.config.directFetch,
      responseTimeoutMs: this.config.responseTimeoutMs,
      health: this.health,
      abortWithClient: runtime.abortWithClient !== false,
      stats: this.stats,
    };
    // One catch-all route: every path on a user's subdomain belongs to the node.
    app.all('*', async (c) => {
      const request = c.req.raw;
      // RFC 9112 3.2: a request with more than one Host is refused (runtimes join them with ", ").
      if (request.headers.get('host')?.includes(','))
        throw new EdgeError('MALFORMED_HOST', 'more than one Host header');
      const url = new URL(request.url);
      const route = await this.route(url);
      if (c.env) c.env.routeKind = routeKind(route);
      if (route.kind === 'landing') return landingPage(this.config.zone);
      if (route.kind === 'map') return this.#map(route.file, url, runtime.assets);
      const headers = forwardedRequestHeaders(request.headers, {
        clientIp: c.env?.clientIp,
        host: url.host,
        proto: url.protocol.slice(0, -1),
      });
      if (route.kind === 'node' && isWebSocketUpgrade(request.headers)) {
        if (!runtime.webSocket)
          throw new EdgeError('UPSTREAM_UNAVAILABLE', 'WebSockets are not bridged by this runtime');
        return runtime.webSocket(request, route, headers);
      }
      try {
        return await forward(request, route, headers, options);
      } catch (e) {
        // Every target failed: the cached route is stale (the node moved, or went), ask again next time.
        if (route.kind === 'node' && e instanceof EdgeError && e.code === 'UPSTREAM_UNAVAILABLE')
          this.resolver.forget(route.name);
        throw e;
      }
    });
    app.onError((error, c) => {
      const edgeError =
        error instanceof EdgeError
          ? error
          : new EdgeError('INTERNAL', 'unexpected gateway failure', { cause: error });
      const url = new URL(c.req.url);
      const json =
        url.pathname.startsWith(API_PREFIX + '/') &&
        nameFromHost(url.hostname, this.config.zone) === '';
      return errorResponse(edgeError, url.host, json);
    });
    return app;
  }
}

/** forwardKind, for runtimes that count their own forwarding (the Node.js fast path, upgrades). */
export { forwardKind };

export function createEdge(config: EdgeConfig, runtime?: EdgeRuntime): Edge {
  return new Edge(config, runtime);
}

/** The edge as a Hono app: `app.fetch(request, { clientIp })`. */
export function createEdgeApp(
  config: EdgeConfig,
  runtime?: EdgeRuntime,
): Hono<{ Bindings: EdgeBindings }> {
  return new Edge(config, runtime).app;
}
