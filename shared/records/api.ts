/** The edge <-> origin contract: registry API paths, relay-ingress headers, wire shapes. */

export const API_PREFIX = '/api/v1';

/** Registry API routes (relative to the super node's origin). */
export const registryPaths = {
  health: `${API_PREFIX}/health`,
  registrar: `${API_PREFIX}/registrar`,
  /** GET: {@link ResolveResponse}; 404 for an unknown name. */
  resolve: (name: string) => `${API_PREFIX}/names/${encodeURIComponent(name)}`,
  available: (name: string) => `${API_PREFIX}/names/${encodeURIComponent(name)}/available`,
} as const;

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
} as const;

/** JSON error body used by every HTTP surface of the project. */
export interface ErrorBody {
  error: { code: string; message: string };
}
