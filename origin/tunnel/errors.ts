/** The one error class of the tunnel server (and of the ingress in front of it), with stable codes. */
export type TunnelErrorCode =
  | 'INVALID_OPTIONS'
  | 'NO_SESSION'
  | 'SESSION_CLOSED'
  | 'QUEUE_FULL'
  | 'QUEUE_TIMEOUT'
  /** openStream's signal withdrew the wait. */
  | 'ABORTED'
  | 'UPSTREAM_REFUSED'
  | 'CONNECTION_LOST'
  | 'REMOTE_ERROR'
  | 'SERVER_STOPPED'
  /** A raw TLS stream for a node whose tunnel client does not take them (shared/tunnel/tls-streams.ts). */
  | 'NO_TLS_STREAMS'
  /** The node's app answered the ingress with malformed HTTP (origin/ingress/response-head.ts). */
  | 'BAD_RESPONSE'
  /** No tunnel stream came free for a relayed request within the ingress's wait bound. */
  | 'BUSY'
  | 'NOT_STARTED';

export class TunnelError extends Error {
  readonly code: TunnelErrorCode;

  constructor(code: TunnelErrorCode, message: string) {
    super(message);
    this.name = 'TunnelError';
    this.code = code;
  }
}
