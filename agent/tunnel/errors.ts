/** The one error class of the Active Proxy client, with stable codes. */
export type AgentProxyErrorCode =
  | 'INVALID_OPTIONS'
  /** The server refused our AUTH (signature, keys): fatal, retrying cannot help. */
  | 'AUTH_FAILED'
  /** The server's access policy refused this device/user: fatal. */
  | 'FORBIDDEN'
  /** The server speaks another protocol version: fatal. */
  | 'VERSION'
  | 'PROTOCOL'
  | 'CONNECTION_LOST'
  | 'REMOTE_ERROR'
  | 'STOPPED';

export class AgentProxyError extends Error {
  readonly code: AgentProxyErrorCode;
  readonly fatal: boolean;

  constructor(code: AgentProxyErrorCode, message: string) {
    super(message);
    this.name = 'AgentProxyError';
    this.code = code;
    this.fatal = code === 'AUTH_FAILED' || code === 'FORBIDDEN' || code === 'VERSION';
  }
}
