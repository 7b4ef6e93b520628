/** The one error class of the Active Proxy server, with stable codes. */
export type ProxyErrorCode =
  | 'INVALID_OPTIONS'
  | 'NO_SESSION'
  | 'SESSION_CLOSED'
  | 'QUEUE_FULL'
  | 'QUEUE_TIMEOUT'
  | 'UPSTREAM_REFUSED'
  | 'CONNECTION_LOST'
  | 'REMOTE_ERROR'
  | 'SERVER_STOPPED'
  | 'NOT_STARTED';

export class ProxyError extends Error {
  readonly code: ProxyErrorCode;

  constructor(code: ProxyErrorCode, message: string) {
    super(message);
    this.name = 'ProxyError';
    this.code = code;
  }
}
