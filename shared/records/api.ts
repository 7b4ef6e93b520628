/** The edge <-> origin contract: registry API paths, relay-ingress headers, wire shapes. */

export const API_PREFIX = '/api/v1';

/** Registry API routes (relative to the super node's origin). */
export const registryPaths = {
  health: `${API_PREFIX}/health`,
  registrar: `${API_PREFIX}/registrar`,
  /** GET: {@link ResolveResponse}; 404 for an unknown name. */
  resolve: (name: string) => `${API_PREFIX}/names/${encodeURIComponent(name)}`,
  available: (name: string) => `${API_PREFIX}/names/${encodeURIComponent(name)}/available`,
  /** GET: {@link OwnerNamesResponse}, the names bound to a key now. */
  ownerNames: (id: string) => `${API_PREFIX}/owners/${encodeURIComponent(id)}/names`,
} as const;

export interface OwnerNamesResponse {
  owner: string;
  /** Sorted; released names are not listed. */
  names: string[];
}

/** What resolving a name returns: only what the edge needs to route, both parts signed. */
export interface ResolveResponse {
  name: string;
  /** Name binding JWS (signed by a registrar). */
  binding: string;
  /** Current route record JWS (signed by the owner), or null when none was published. */
  route: string | null;
}

/** Headers the edge adds to a relay-ingress request; the ingress strips them before the node. */
export const INGRESS_HEADERS = {
  /** Base58 id of the target node. */
  nodeId: 'x-pc2-node-id',
  /** Edge token JWT. */
  edgeToken: 'x-pc2-edge-token',
  /**
   * Set by the ingress on errors of its own (no tunnel, bad token, tunnel broke): tells the edge the
   * relay failed, as opposed to the node's app answering 502/503 itself. Never passed to browsers.
   */
  relayError: 'x-pc2-relay-error',
} as const;

/**
 * The Upgrade token of a raw TLS channel to the relay ingress: a private name's visitor connection,
 * passed through by a gateway (docs/zone.md, "Private names"). The request carries the node id and
 * an edge token like any relay request; after the ingress's 101 the connection carries the visitor's
 * TLS bytes both ways and nothing else: the ingress parses no HTTP on it.
 */
export const TLS_CHANNEL_UPGRADE = 'pc2-tls/1';

/** Where a name's owner publishes its `_acme-challenge` values (docs/zone.md): PUT `{challenge: <JWS>}`. */
export const zoneChallengePath = (name: string) =>
  `${API_PREFIX}/zone/challenges/${encodeURIComponent(name)}`;

/**
 * What a node's agent says about its own app, on a response it makes itself (relayed or direct):
 * header `x-pc2-node-error` with one of these codes. The edge renders its own page for it and never
 * passes the header to browsers.
 */
export const NODE_ERROR_HEADER = 'x-pc2-node-error';
export const NODE_ERRORS = {
  /** The node is online, but its app (the agent's upstream) did not answer: status 502. */
  APP_NOT_ANSWERING: 502,
} as const;
export type NodeErrorCode = keyof typeof NODE_ERRORS;

/** JSON error body used by every HTTP surface of the project. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** The registry API's error codes (ErrorBody.error.code) and the HTTP status of each. Stable. */
export const REGISTRY_API_ERRORS = {
  BAD_REQUEST: 400,
  INVALID_NAME: 400,
  UNAUTHENTICATED: 401,
  INVALID_SIGNATURE: 401,
  CLOCK_SKEW: 401,
  NOT_OWNER: 403,
  RESERVED_NAME: 403,
  NOT_FOUND: 404,
  NO_PENDING_TRANSFER: 404,
  NAME_TAKEN: 409,
  NAME_HELD: 409,
  REPLAYED: 409,
  STALE_SEQ: 409,
  INVALID_RECORD: 422,
  INVALID_ENDPOINT: 422,
  WRONG_NAME: 422,
  WRONG_REGISTRAR: 422,
  BODY_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
} as const;

export type RegistryApiErrorCode = keyof typeof REGISTRY_API_ERRORS;

/** Registry write and replication routes (relative to the super node's origin). */
export const registryOpPaths = {
  /** POST {request: JWS op=claim} -> 201/200 {@link ClaimResponse}. */
  claim: (name: string) => `${API_PREFIX}/names/${encodeURIComponent(name)}/claim`,
  /** PUT {route: route record JWS} -> 200 {@link PublishRouteResponse}. */
  route: (name: string) => `${API_PREFIX}/names/${encodeURIComponent(name)}/route`,
  /** POST {request: JWS op=release} -> 200 {name, released: true}. */
  release: (name: string) => `${API_PREFIX}/names/${encodeURIComponent(name)}/release`,
  /** POST {request: JWS op=transfer, to} -> 202 {@link TransferOfferResponse}. */
  transfer: (name: string) => `${API_PREFIX}/names/${encodeURIComponent(name)}/transfer`,
  /** POST {request: JWS op=accept-transfer, from} -> 200 {@link ClaimResponse}. */
  acceptTransfer: (name: string) => `${API_PREFIX}/names/${encodeURIComponent(name)}/accept`,
  /** Peer registrars only (Authorization: PC2-Peer <JWS>). */
  replicationPush: `${API_PREFIX}/replication/push`,
  replicationChanges: `${API_PREFIX}/replication/changes`,
} as const;

export interface ClaimResponse {
  name: string;
  /** Name binding JWS signed by the registrar. */
  binding: string;
}

export interface PublishRouteResponse {
  name: string;
  seq: number;
  exp: number;
}

export interface TransferOfferResponse {
  name: string;
  to: string;
  /** The offer lapses at this time (ms since the epoch) unless the new key accepts it. */
  expiresAt: number;
}

export interface AvailabilityResponse {
  name: string;
  available: boolean;
  /** Why not: invalid, reserved, taken, held (bound, lease expired, still in the hold period). */
  reason?: 'invalid' | 'reserved' | 'taken' | 'held';
}

export interface RegistrarResponse {
  id: string;
  did: string;
  /** Registrar ids whose bindings this super node accepts (itself included). */
  trusted: string[];
}

export interface HealthResponse {
  ok: true;
  registrar: string;
  time: number;
  /**
   * Present when the super node found damaged records in its log at its last start: how much, and
   * which peers have since sent every name they hold (the lost records' names among them).
   */
  damage?: {
    ranges: { offset: number; bytes: number }[];
    bytes: number;
    detectedAt: number;
    recoveredFrom: string[];
  };
}

/** GET: what an agent learns about a super node: its id and where its other services are. */
export const supernodeInfoPath = `${API_PREFIX}/supernode`;
/**
 * POST {request: JWS op=probe, name, endpoint}, signed by the owner of `name` at this super node:
 * the super node connects back to the endpoint the owner is about to publish (docs/registry.md).
 */
export const probePath = `${API_PREFIX}/probe`;

export interface SuperNodeInfo {
  id: string;
  did: string;
  activeProxy: { port: number };
  /** Its Boson DHT node (UDP, same host), or null when it runs none. */
  dht: { port: number } | null;
  /** Where a name is served, e.g. `https://{name}.ela.city`. */
  publicUrlTemplate: string;
}

export interface ProbeResponse {
  reachable: boolean;
  /** HTTP status the endpoint answered with, when it answered. */
  status?: number;
  error?: string;
}

/** PUT {value}: a node's signed DID document value, stored in the DHT by the super node. GET: resolve. */
export const dhtValuePath = (id: string) => `${API_PREFIX}/dht/values/${encodeURIComponent(id)}`;
/** GET: a node's route record found through the DHT (for nodes this registry does not know). */
export const nodeRoutePath = (id: string) => `${API_PREFIX}/nodes/${encodeURIComponent(id)}/route`;

export interface DhtValueBody {
  /** Base64url of the CBOR wire fields of a signed mutable value. */
  value: string;
}

/** Service types a node's DID document (Card) lists. */
export const CARD_SERVICES = {
  /** endpoint: the node's public URL, e.g. https://alice.ela.city */
  node: 'PC2Node',
  /** endpoint: the node's current route record JWS. */
  route: 'PC2Route',
  /** endpoint: tcp://host:port of a super node's Active Proxy. */
  activeProxy: 'BosonActiveProxy',
  /** endpoint: a super node's registry API origin. */
  registry: 'PC2Registry',
} as const;
