/**
 * Route record: a short-lived lease signed by the node's own key, saying how to reach it now.
 * An expired record means "offline"; the name stays bound.
 */
import { err, ok, type Result, SharedError } from '../errors.ts';
import { Id } from '../id.ts';
import type { KeyPair } from '../keys.ts';
import { type VerifiedBinding, verifyBinding } from './binding.ts';
import { signJws, type VerifiedJws, verifyJws } from './jws.ts';
import { NAME_PATTERN } from './names.ts';

export const ROUTE_TYP = 'pc2-route';
/** Longest lease a route record may carry. */
export const MAX_LEASE_MS = 24 * 60 * 60 * 1000;
export const MAX_RELAYS = 8;

export type RouteMode = 'direct' | 'relay';

/**
 * Who terminates visitors' TLS. Absent (every record before private names, and the default): the
 * gateway, with the zone's certificate. `'node'`: the node itself, with its own certificate for
 * `<name>.<zone>`: a private name. Gateways then pass the TLS connection through by SNI, untouched
 * (docs/zone.md, "Private names"), and never forward plaintext HTTP to it.
 */
export type RouteTls = 'node';

export interface RouteRecord {
  v: 1;
  name: string;
  /** The node's id (Base58); the JWS signer and the name's owner. */
  node: string;
  mode: RouteMode;
  /** Direct mode only: the node's public http(s) origin. */
  endpoint?: string;
  /** Super node ids that hold the node's tunnels, in preference order. */
  relays: string[];
  /** `'node'`: the node terminates TLS itself (a private name). Absent: the gateway does. */
  tls?: RouteTls;
  seq: number;
  /** Issued-at and expires-at, ms since the epoch. */
  iat: number;
  exp: number;
  /** The node asks to be listed, by name, on the zone's network map (`pc2 node --list-on-map`). */
  listed?: boolean;
}

export interface VerifiedRoute {
  route: RouteRecord;
  node: Id;
  relays: Id[];
  jws: string;
}

export function signRoute(route: Omit<RouteRecord, 'v' | 'node'>, node: KeyPair): Promise<string> {
  const { tls, ...rest } = route;
  // Left out rather than undefined, so records of gateway-terminated names stay as they were.
  const payload: RouteRecord = { v: 1, ...rest, ...(tls ? { tls } : {}), node: node.id.toString() };
  return signJws(payload, node, ROUTE_TYP);
}

function invalid(message: string): Result<never> {
  return err(new SharedError('INVALID_RECORD', `route record: ${message}`));
}

/** Checks signature and shape (not expiry, not ownership). Never throws. */
export async function verifyRoute(jws: unknown): Promise<Result<VerifiedRoute>> {
  return checkRoute(await verifyJws<RouteRecord>(jws, ROUTE_TYP), jws);
}

/** The shape checks of {@link verifyRoute}, for a JWS whose signature was checked elsewhere (or not yet: readUnverified). */
export function checkRoute(
  verified: Result<VerifiedJws<RouteRecord>>,
  jws: unknown,
): Result<VerifiedRoute> {
  if (!verified.ok) return verified;
  const { payload: r, signer } = verified.value;
  if (!r || typeof r !== 'object' || r.v !== 1) return invalid('unknown version');
  if (typeof r.name !== 'string' || !NAME_PATTERN.test(r.name)) return invalid('bad name');
  if (r.node !== signer.toString()) return invalid('node is not the signer');
  if (r.mode !== 'direct' && r.mode !== 'relay') return invalid('mode is direct or relay');
  if (r.tls !== undefined && r.tls !== 'node') return invalid('tls is "node" when present');
  if (!Number.isSafeInteger(r.seq) || r.seq < 0) return invalid('bad seq');
  if (!Number.isSafeInteger(r.iat) || !Number.isSafeInteger(r.exp) || r.exp <= r.iat)
    return invalid('bad iat/exp');
  if (r.exp - r.iat > MAX_LEASE_MS) return invalid('lease longer than 24 h');
  if (r.listed !== undefined && typeof r.listed !== 'boolean')
    return invalid('listed is a boolean');
  if (!Array.isArray(r.relays) || r.relays.length > MAX_RELAYS)
    return invalid(`relays is a list of at most ${MAX_RELAYS} ids`);
  const relays: Id[] = [];
  for (const relay of r.relays) {
    try {
      relays.push(Id.parse(relay));
    } catch {
      return invalid('bad relay id');
    }
  }
  if (r.mode === 'direct') {
    if (
      typeof r.endpoint !== 'string' ||
      !/^https?:\/\//.test(r.endpoint) ||
      !URL.canParse(r.endpoint)
    ) {
      return invalid('direct mode needs an http(s) endpoint');
    }
    // The gateway passes TLS through to the endpoint: it must be the node's TLS port.
    if (r.tls === 'node' && !r.endpoint.startsWith('https://'))
      return invalid('a node that terminates TLS has an https endpoint');
  } else if (r.endpoint !== undefined || relays.length === 0) {
    return invalid('relay mode has relays and no endpoint');
  }
  return ok({ route: r, node: signer, relays, jws: jws as string });
}

export type Resolution =
  | { state: 'online'; binding: VerifiedBinding; route: VerifiedRoute }
  | { state: 'offline'; binding: VerifiedBinding; reason: 'no-route' | 'expired' };

/**
 * What the edge trusts: the binding signed by a trusted registrar, the route signed by the bound
 * owner for the same name, and not expired at `now`. A route that fails verification is an error,
 * not "offline": somebody is serving a bad record.
 */
export async function verifyResolution(
  input: { name: string; binding: unknown; route?: unknown },
  trustedRegistrars: readonly Id[],
  now: number,
): Promise<Result<Resolution>> {
  const binding = await verifyBinding(input.binding, trustedRegistrars);
  if (!binding.ok) return binding;
  if (binding.value.binding.name !== input.name) return invalid('binding is for another name');
  if (input.route === undefined || input.route === null)
    return ok({ state: 'offline', binding: binding.value, reason: 'no-route' });
  const route = await verifyRoute(input.route);
  if (!route.ok) return route;
  if (route.value.route.name !== input.name) return invalid('route is for another name');
  if (!route.value.node.equals(binding.value.owner)) {
    return err(new SharedError('WRONG_SIGNER', 'route is not signed by the name owner'));
  }
  if (route.value.route.exp <= now)
    return ok({ state: 'offline', binding: binding.value, reason: 'expired' });
  return ok({ state: 'online', binding: binding.value, route: route.value });
}
