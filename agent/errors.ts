/** The one error class of agent/ (the node agent, its registry client and its tunnel client), with stable codes. */
import type { RegistryApiErrorCode } from '../shared/records/api.ts';

export type AgentErrorCode =
  | 'INVALID_OPTIONS'
  /** No super node answered at start. */
  | 'NO_SUPERNODE'
  /** The name belongs to another key (or is held after its owner left). */
  | 'NAME_TAKEN'
  | 'CLAIM_FAILED'
  /** A registry answered with one of its own codes (`status` holds the HTTP status)... */
  | RegistryApiErrorCode
  /** ...or did not answer, or not with JSON. */
  | 'NETWORK'
  | 'BAD_RESPONSE'
  /** A recovery phrase that is not 24 valid BIP39 words. */
  | 'INVALID_PHRASE'
  /** The tunnel server refused our AUTH (signature, keys): fatal, retrying cannot help. */
  | 'AUTH_FAILED'
  /** The tunnel server's access policy refused this device/user: fatal. */
  | 'FORBIDDEN'
  /** The tunnel server speaks another protocol version: fatal. */
  | 'VERSION'
  | 'PROTOCOL'
  /** The tunnel server is at a limit (sessions, or the session's connections): not fatal. */
  | 'LIMIT'
  | 'CONNECTION_LOST'
  | 'REMOTE_ERROR'
  | 'STOPPED'
  /** A private name's certificate could not be obtained at start (ACME order failed). */
  | 'CERTIFICATE_FAILED';

const FATAL: ReadonlySet<AgentErrorCode> = new Set(['AUTH_FAILED', 'FORBIDDEN', 'VERSION']);

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  /** HTTP status of a registry's answer; 0 when there was none. */
  readonly status: number;
  /** Retrying cannot help until the configuration changes. */
  readonly fatal: boolean;

  constructor(
    code: AgentErrorCode,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.status = options.status ?? 0;
    this.fatal = FATAL.has(code);
  }
}
