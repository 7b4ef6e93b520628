/**
 * The one error class of edge/. Codes are stable; `statusOf` is the single place that maps them to
 * HTTP statuses, and `errorPage` the single place that renders them for a browser.
 */
export type EdgeErrorCode =
  | 'INVALID_CONFIG'
  | 'MALFORMED_HOST'
  | 'UNKNOWN_NAME'
  | 'NODE_OFFLINE'
  | 'UNVERIFIED_ROUTE'
  | 'REGISTRY_UNAVAILABLE'
  | 'UPSTREAM_UNAVAILABLE'
  /** The node's agent answered that its app does not (x-pc2-node-error: APP_NOT_ANSWERING). */
  | 'APP_NOT_ANSWERING'
  | 'NOT_FOUND'
  | 'PRIVATE_NAME'
  | 'BODY_TOO_LARGE'
  | 'INTERNAL';

export class EdgeError extends Error {
  readonly code: EdgeErrorCode;

  constructor(code: EdgeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EdgeError';
    this.code = code;
  }
}

const STATUS: Record<EdgeErrorCode, number> = {
  INVALID_CONFIG: 500,
  MALFORMED_HOST: 400,
  UNKNOWN_NAME: 404,
  NOT_FOUND: 404,
  BODY_TOO_LARGE: 413,
  NODE_OFFLINE: 503,
  UPSTREAM_UNAVAILABLE: 503,
  APP_NOT_ANSWERING: 502,
  UNVERIFIED_ROUTE: 502,
  REGISTRY_UNAVAILABLE: 502,
  // 421 Misdirected Request: a browser that reused another name's connection (HTTP/2 coalescing
  // under the wildcard certificate) opens a new one, whose SNI then routes it through.
  PRIVATE_NAME: 421,
  INTERNAL: 500,
};

export function statusOf(code: EdgeErrorCode): number {
  return STATUS[code];
}
