/**
 * The edge's own counters, plain numbers kept by every runtime (Web APIs only) and read by the
 * Node.js gateway's metrics at scrape time: targets that failed, requests moved on to the next target
 * (failovers), requests no target took, per route kind. The route cache counts its own hits
 * (resolver.ts).
 */
import type { EdgeRoute, ForwardRoute } from './app.ts';

/** What a request was routed to, as the metrics label it. */
export type RouteKind = 'direct' | 'relayed' | 'registry' | 'landing' | 'map' | 'unrouted';
export type ForwardKind = 'direct' | 'relayed' | 'registry';

const zero = (): Record<ForwardKind, number> => ({ direct: 0, relayed: 0, registry: 0 });

export class EdgeStats {
  /** Target attempts that failed (connection error, or a refusal that sent the request on). */
  readonly targetFailures = zero();
  /** Attempts on a second or later target after one failed. */
  readonly failovers = zero();
  /** Requests every target failed (the client got UPSTREAM_UNAVAILABLE or REGISTRY_UNAVAILABLE). */
  readonly unavailable = zero();
}

export function routeKind(route: EdgeRoute): RouteKind {
  if (route.kind === 'landing' || route.kind === 'registry' || route.kind === 'map')
    return route.kind;
  return route.targets[0]?.ingress ? 'relayed' : 'direct';
}

export function forwardKind(route: ForwardRoute): ForwardKind {
  return route.kind === 'registry' ? 'registry' : route.targets[0]?.ingress ? 'relayed' : 'direct';
}
